"""Shared test configuration."""

import os

# headless rendering: choose the EGL window before vtk is imported anywhere
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
os.environ.setdefault("MPLBACKEND", "Agg")

from slurm_cluster import slurm_cluster  # noqa: E402,F401  (session-scoped SLURM cluster on localhost)
