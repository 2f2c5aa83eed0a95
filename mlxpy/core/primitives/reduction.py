"""reduction primitives."""
