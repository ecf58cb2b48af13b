"""Land-use-right certificates: sections, layout, field values."""
