"""Helpers for comparing mlxpy with the oracles: real MLX and NumPy.

Real MLX is only ever imported here and in tests, never by mlxpy itself.
"""
import ml_dtypes
import numpy as np
import pytest

import mlxpy.core as mx

# The suite runs on the default device: the GPU where one is usable (docs/differences.md
# lists what differs there).
ON_GPU = mx.default_device() == mx.gpu

try:
    import mlx.core as mlx
except ImportError:  # the oracle is missing: tests that need it skip
    mlx = None

needs_mlx = pytest.mark.skipif(mlx is None, reason="real MLX (mlx[cpu]) is not installed")

DTYPE_NAMES = ["bool_", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
               "int64", "float16", "bfloat16", "float32", "float64", "complex64"]


def dtype_name(d):
    """'float32' for either library's dtype."""
    return str(d).split(".")[-1]


def to_mlx(x):
    """The same values as a real-MLX array (x: NumPy array, mlxpy array or scalar)."""
    if isinstance(x, mx.array):
        h = np.array(x)
        d = getattr(mlx, "bool_" if x.dtype.name == "bool" else x.dtype.name)
        if x.dtype is mx.bfloat16:
            return mlx.array(h.astype(np.float32)).astype(mlx.bfloat16)
        return mlx.array(h, dtype=d)
    if isinstance(x, np.ndarray):
        if x.dtype == ml_dtypes.bfloat16:
            return mlx.array(x.astype(np.float32)).astype(mlx.bfloat16)
        if x.dtype == np.float64:
            return mlx.array(x, dtype=mlx.float64)
        return mlx.array(x)
    return x


def to_numpy(x):
    """Values of an mlxpy or MLX array as NumPy (bfloat16 widened to float32)."""
    if mlx is not None and isinstance(x, mlx.array):
        if x.dtype == mlx.bfloat16:
            x = x.astype(mlx.float32)
        return np.array(x)
    h = np.array(x)
    if h.dtype == ml_dtypes.bfloat16:
        h = h.astype(np.float32)
    return h


def assert_same(ours, theirs, rtol=None, atol=None, check_dtype=True):
    """Same shape, dtype name and values (with a dtype-aware tolerance) as the oracle."""
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)), f"expected a sequence, got {type(ours)}"
        assert len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_same(o, t, rtol, atol, check_dtype)
        return
    if check_dtype:
        assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), \
            f"dtype {dtype_name(ours.dtype)} != oracle {dtype_name(theirs.dtype)}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"shape {ours.shape} != oracle {theirs.shape}"
    a = to_numpy(ours)
    b = to_numpy(theirs)
    name = dtype_name(theirs.dtype)
    if rtol is None:
        rtol = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 2e-5, "complex64": 2e-5}.get(name, 1e-12)
    if atol is None:
        atol = {"float16": 2e-3, "bfloat16": 2e-2, "float32": 1e-6, "complex64": 1e-6}.get(name, 0)
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b)


def raises_like(fn_ours, fn_theirs):
    """Both calls raise, and with the same exception type; returns our exception."""
    their_exc = None
    try:
        fn_theirs()
    except Exception as e:  # noqa: BLE001 - we compare the type
        their_exc = e
    assert their_exc is not None, "the oracle did not raise"
    with pytest.raises(Exception) as info:
        fn_ours()
    assert type(info.value).__name__ == type(their_exc).__name__ or \
        isinstance(info.value, type(their_exc)), \
        f"raised {type(info.value).__name__} ({info.value}), MLX raised {type(their_exc).__name__} ({their_exc})"
    return info.value


# Tolerances (rtol, atol) for derivative values: half-precision products round
# differently once sums of broadcast cotangents enter.
TOL = {"float16": (1e-2, 1e-2), "bfloat16": (5e-2, 5e-2), "float32": (1e-5, 1e-5),
       "complex64": (1e-5, 1e-5), "float64": (1e-12, 1e-12)}


def data(shape, seed, dtype="float32"):
    """Seeded standard-normal test values (complex when dtype is complex64)."""
    rng = np.random.default_rng(seed)
    h = rng.standard_normal(shape)
    if dtype == "complex64":
        h = h + 1j * rng.standard_normal(shape)
    return h


def sample_domain(shape, domain, rng):
    """Float64 test values from a named domain: "real", "pos" (0.5..2), "unit"
    (-0.8..0.8), "gt1" (1.2..3), "nonzero" (|x| in 0.5..2), "complex" (unit square);
    also "int" (small int32), "bool", and ("index", n) for int32 indices below n."""
    if isinstance(domain, tuple) and domain[0] == "index":
        return rng.integers(0, domain[1], size=shape).astype(np.int32)
    if domain == "real":
        return rng.normal(size=shape)
    if domain == "pos":
        return rng.uniform(0.5, 2.0, size=shape)
    if domain == "unit":
        return rng.uniform(-0.8, 0.8, size=shape)
    if domain == "gt1":
        return rng.uniform(1.2, 3.0, size=shape)
    if domain == "nonzero":
        return rng.choice([-1, 1], size=shape) * rng.uniform(0.5, 2.0, size=shape)
    if domain == "complex":
        return rng.uniform(-1, 1, size=shape) + 1j * rng.uniform(-1, 1, size=shape)
    if domain == "int":
        return rng.integers(-5, 6, size=shape).astype(np.int32)
    if domain == "bool":
        return rng.random(size=shape) > 0.5
    raise ValueError(domain)
