"""linalg_basic primitives."""
