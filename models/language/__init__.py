"""Vietnamese text: NFC, tone placement, folding, legacy TCVN3/VNI encodings."""
