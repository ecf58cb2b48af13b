"""Inspection per media family: images, PDF, 3D models and point clouds."""
