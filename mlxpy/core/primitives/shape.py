"""shape primitives."""
