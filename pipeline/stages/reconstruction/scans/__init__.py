"""The scanner path of 3D reconstruction: partial scans in, a registered, measured web model out.

Pure stages, each a module: `io` (read every accepted format into a `Geometry`, in metres),
`clean` (outliers, density, normals), `register` (FPFH + RANSAC, ICP, pose graph), `surface`
(Poisson or ball pivoting, levels of detail), `export` (GLB, preview PNG, metrics) and
`reconstruct` (the whole path, timed stage by stage). Open3D aborts the process on some
degenerate input, so every function validates what it hands to Open3D first.
"""
