"""mx.random: key-based pseudo-random numbers (filled in by the random work)."""
