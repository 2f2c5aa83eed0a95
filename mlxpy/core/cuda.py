"""mx.cuda: whether an NVIDIA GPU is usable through CuPy."""
from .device import _cuda_usable


def is_available():
    """True when CuPy imports and a CUDA device is present."""
    return _cuda_usable()
