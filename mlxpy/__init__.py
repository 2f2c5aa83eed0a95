"""mlxpy: MLX's Python API on NumPy (CPU) and CuPy (NVIDIA GPUs).

>>> import mlxpy.core as mx
>>> mx.grad(mx.sin)(mx.array(0.0))  # doctest: +SKIP
"""
__version__ = "0.1.0"
