"""misc primitives."""
