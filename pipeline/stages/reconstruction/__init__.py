"""3D: scanner clouds (scans/) and photogrammetry."""
