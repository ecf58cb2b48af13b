"""Coordinates and plane geometry for place searches."""
