"""sort ops."""
