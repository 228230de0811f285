"""Shared test configuration."""

import os

# headless rendering: choose the EGL window before vtk is imported anywhere
os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
os.environ.setdefault("MPLBACKEND", "Agg")
