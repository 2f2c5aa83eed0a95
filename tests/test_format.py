"""format_array must reproduce real MLX's repr exactly; MLX is the oracle."""
import time

import numpy as np
import pytest

mx = pytest.importorskip("mlx.core")
ml_dtypes = pytest.importorskip("ml_dtypes")

from mlxpy.core._format import format_array  # noqa: E402

INT_DTYPES = ["uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64"]
FLOAT_DTYPES = ["float16", "bfloat16", "float32", "float64"]
ALL_DTYPES = ["bool"] + INT_DTYPES + FLOAT_DTYPES + ["complex64"]

SHAPES = [
    (),
    (0,),
    (3,),
    (0, 3),
    (3, 0),
    (2, 0, 3),
    (2, 3, 0),
    (2, 3),
    (2, 3, 4),
    (2, 2, 2, 2),
    (1, 1, 1, 1, 1),
    (6,),
    (7,),
    (1, 7),
    (7, 0),
    (2000,),
    (2, 1000),
    (1001, 3),
    (3, 4, 1000),
    (50, 50),
    (7, 7, 7),
    (8, 2, 2, 8),
    (6, 6, 6, 6),
]

FLOAT_EDGES = [
    0.0, -0.0, np.nan, -np.nan, np.inf, -np.inf, 1e-5, 123456789.0, 0.1, 1 / 3,
    -2.5, 1.5, 100.25, 2e-9, 3e10, 1e-45, 1e-38, 3.4e38, 1e300, 5e-324,
    65504.0, 2.0**24 + 1, 1e16, -1e-7, 1e6, 999999.5, 0.000123456789,
]


def _float_values(n, rng):
    edges = np.array(FLOAT_EDGES, dtype=np.float64)
    rand = rng.standard_normal(n) * 10.0 ** rng.integers(-12, 12, n)
    vals = np.where(rng.random(n) < 0.4, edges[rng.integers(0, len(edges), n)], rand)
    vals[: min(n, len(edges))] = edges[: min(n, len(edges))]
    return rng.permutation(vals)


def make_data(dtype_name, shape, seed=0):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape, dtype=np.int64))
    if dtype_name == "bool":
        return (rng.random(n) < 0.5).reshape(shape)
    if dtype_name in INT_DTYPES:
        info = np.iinfo(dtype_name)
        edges = np.array([info.min, info.max, 0, 1, info.max - 1, info.min + 1], dtype=dtype_name)
        vals = rng.integers(info.min, info.max, n, dtype=dtype_name, endpoint=True)
        # Mix in short numbers so widths differ within a row.
        small = rng.random(n) < 0.3
        vals[small] = vals[small] % 100
        k = min(n, len(edges))
        vals[:k] = edges[:k]
        return rng.permutation(vals).reshape(shape)
    with np.errstate(over="ignore", under="ignore"):
        if dtype_name == "complex64":
            # Assign the parts directly: arithmetic like 1j * inf would
            # turn the real part into nan.
            vals = np.empty(n, dtype=np.complex64)
            vals.real = _float_values(n, rng)
            vals.imag = rng.permutation(_float_values(n, rng))
            return vals.reshape(shape)
        vals = _float_values(n, rng)
        if dtype_name == "bfloat16":
            return vals.astype(np.float32).reshape(shape)
        return vals.astype(dtype_name).reshape(shape)


def oracle(np_data, dtype_name):
    if dtype_name == "bfloat16":
        return mx.array(np_data).astype(mx.bfloat16)
    if dtype_name == "float64":
        return mx.array(np_data, dtype=mx.float64)
    return mx.array(np_data)


def ours_input(np_data, dtype_name):
    if dtype_name == "bfloat16":
        return np_data.astype(ml_dtypes.bfloat16)
    return np_data


def check(np_data, dtype_name, **kw):
    if dtype_name == "bfloat16":
        # MLX's astype to bfloat16 drops the sign of NaN while ml_dtypes keeps
        # it, so give both sides positive NaNs (signed NaN is tested by bits).
        np_data = np.where(np.isnan(np_data), np.float32(np.nan), np_data).astype(np.float32)
    expected_arr = oracle(np_data, dtype_name)
    assert str(expected_arr.dtype) == "mlx.core." + dtype_name
    expected = repr(expected_arr)
    assert str(expected_arr) == expected
    got = format_array(ours_input(np_data, dtype_name), dtype_name, **kw)
    assert got == expected


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)) or "scalar")
@pytest.mark.parametrize("dtype_name", ALL_DTYPES)
def test_sweep(dtype_name, shape):
    check(make_data(dtype_name, shape), dtype_name)


@pytest.mark.parametrize("dtype_name", FLOAT_DTYPES)
@pytest.mark.parametrize("value", FLOAT_EDGES, ids=repr)
def test_float_scalar_edges(dtype_name, value):
    with np.errstate(over="ignore", under="ignore"):
        np_dtype = np.float32 if dtype_name == "bfloat16" else dtype_name
        check(np.array(value, dtype=np_dtype), dtype_name)


@pytest.mark.parametrize("dtype_name", INT_DTYPES)
def test_int_extremes(dtype_name):
    info = np.iinfo(dtype_name)
    check(np.array([info.min, -1 if info.min else 0, 0, info.max], dtype=dtype_name), dtype_name)
    check(np.array(info.max, dtype=dtype_name), dtype_name)
    check(np.array(info.min, dtype=dtype_name), dtype_name)


def test_complex_parts():
    parts = [0.0, -0.0, 1.0, -1.0, np.nan, -np.nan, np.inf, -np.inf, 2.5e-9, 1e10]
    vals = np.array([complex(r, i) for r in parts for i in parts], dtype=np.complex64)
    vals.imag = np.array([i for r in parts for i in parts], dtype=np.float32)
    vals.real = np.array([r for r in parts for i in parts], dtype=np.float32)
    for chunk in np.split(vals, 20):
        check(chunk, "complex64")
    check(vals.reshape(10, 10), "complex64")
    check(np.array(1 + 2j, dtype=np.complex64), "complex64")


def test_bfloat16_signed_nan_bits():
    bits = np.array([0xFFC0, 0x7FC0, 0xFF81, 0x8000, 0x3EAB], dtype=np.uint16)
    expected = repr(mx.array(bits).view(mx.bfloat16))
    assert format_array(bits.view(ml_dtypes.bfloat16), "bfloat16") == expected


@pytest.mark.parametrize(
    "make, dtype_name, expected",
    [
        (lambda: np.array([1, 2, 3], np.int32), "int32", "array([1, 2, 3], dtype=int32)"),
        (lambda: np.array(-1.0, np.float32), "float32", "array(-1, dtype=float32)"),
        (lambda: np.array([1.5, 2, 3], np.float32), "float32", "array([1.5, 2, 3], dtype=float32)"),
        (
            lambda: np.array([[1.123456789, 2e-9], [3e10, 4]], np.float32),
            "float32",
            "array([[1.12346, 2e-09],\n       [3e+10, 4]], dtype=float32)",
        ),
        (lambda: np.array([True, False]), "bool", "array([True, False], dtype=bool)"),
        (lambda: np.array([1 + 2j, 3 - 4j], np.complex64), "complex64", "array([1+2j, 3-4j], dtype=complex64)"),
        (lambda: np.array(np.nan, np.float32), "float32", "array(nan, dtype=float32)"),
        (lambda: np.array([np.inf, -1], np.float32), "float32", "array([inf, -1], dtype=float32)"),
        (lambda: np.zeros((0, 3), np.float32), "float32", "array([], dtype=float32)"),
        (lambda: np.zeros((2, 0), np.float32), "float32", "array([[],\n       []], dtype=float32)"),
        (
            lambda: np.arange(2000, dtype=np.int32).reshape(2, 1000),
            "int32",
            "array([[0, 1, 2, ..., 997, 998, 999],\n"
            "       [1000, 1001, 1002, ..., 1997, 1998, 1999]], dtype=int32)",
        ),
    ],
)
def test_known_strings(make, dtype_name, expected):
    data = make()
    assert format_array(data, dtype_name) == expected
    check(data, dtype_name)


@pytest.mark.parametrize("precision", [0, 1, 2, 3, 10, 20, -3])
@pytest.mark.parametrize("dtype_name", ["float32", "float16", "bfloat16", "float64", "complex64", "int32", "bool"])
def test_precision_option(dtype_name, precision):
    data = make_data(dtype_name, (3, 7), seed=precision + 10)
    if dtype_name in ("float32", "float64"):
        data.flat[:6] = [0.125, 0.375, 2.5, -0.0, -np.nan, 1e20]
    old = mx.get_printoptions().precision
    mx.set_printoptions(precision=precision)
    try:
        check(data, dtype_name, precision=precision)
        check(np.asarray(data[0, 0]), dtype_name, precision=precision)
    finally:
        mx.set_printoptions(precision=old)


def test_random_float_formatting():
    # Many magnitudes, so %g's switch between fixed and exponent form and
    # its rounding are exercised well beyond the hand-picked edges.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((400, 6)) * 10.0 ** rng.integers(-40, 39, (400, 6))
    with np.errstate(over="ignore", under="ignore"):
        for row in x.astype(np.float32):
            check(row, "float32")
    y = rng.standard_normal((400, 6)) * 10.0 ** rng.integers(-300, 300, (400, 6))
    for row in y:
        check(row, "float64")


def _best_time(fn, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


@pytest.mark.parametrize("shape", [(1000,), (2000, 2000), (6, 6, 6, 6), (10, 10, 10)])
def test_speed(shape):
    data = np.random.default_rng(0).random(shape).astype(np.float32)
    assert _best_time(lambda: format_array(data, "float32")) < 0.01
