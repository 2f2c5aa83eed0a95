"""linalg_basic ops."""
