"""mx.metal: Apple's Metal backend, which mlxpy never has."""


def is_available():
    """Always False: mlxpy runs on NumPy and CuPy, not Metal."""
    return False
