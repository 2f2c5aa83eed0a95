"""misc ops."""
