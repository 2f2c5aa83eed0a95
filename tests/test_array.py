"""`mx.array` construction and the Python protocol of arrays, against real MLX.

Construction cases are written once as functions of the library module `m` (and NumPy),
then run with mlxpy and with MLX: both must give the same dtype, shape and exact values,
or raise the same exception type. Sweeps collect every mismatch before failing, so one
run shows them all.
"""
import array as pyarray
import copy
import math
import pickle
import sys
import warnings

import ml_dtypes
import numpy as np
import pytest

import mlxpy.core as mx
from oracle import mlx, needs_mlx, to_numpy, DTYPE_NAMES, dtype_name

nan, inf = float("nan"), float("inf")


def outcome(fn):
    """('ok', result) or ('raise', exception type name)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", fn()
    except Exception as e:  # noqa: BLE001 - compared by type
        return "raise", f"{type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''}"


def exact(ours, theirs):
    """Same dtype name, shape and values (bit-exact up to NaN payloads)."""
    assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), \
        f"dtype {dtype_name(ours.dtype)} != mlx {dtype_name(theirs.dtype)}"
    assert tuple(ours.shape) == tuple(theirs.shape), f"shape {ours.shape} != mlx {theirs.shape}"
    a, b = to_numpy(ours), to_numpy(theirs)
    np.testing.assert_array_equal(a, b)


def compare(label, fn, problems):
    """Run `fn(mx)` and `fn(mlx)`; record any difference in `problems`."""
    o_kind, o = outcome(lambda: fn(mx))
    t_kind, t = outcome(lambda: fn(mlx))
    if o_kind == "raise" or t_kind == "raise":
        if o_kind != t_kind or o.split(":")[0] != t.split(":")[0]:
            problems.append(f"{label}: ours {o if o_kind == 'raise' else 'ok'} / "
                            f"mlx {t if t_kind == 'raise' else 'ok'}")
        return
    try:
        exact(o, t)
    except AssertionError as e:
        problems.append(f"{label}: {str(e).strip()[:400]}")


def report(problems):
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:40])


def dt(m, name):
    return None if name is None else getattr(m, name)


pytestmark = needs_mlx

# -- Python scalars --------------------------------------------------------------------

SCALARS = [True, False, 0, 3, -7, 2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1, 2 ** 40,
           2 ** 63 - 1, -2 ** 63, 2 ** 53 + 1, 16777217, 2 ** 60 + 2 ** 36 + 1, 300, -1,
           0.0, -0.0, 1.5, -2.5, 3.7, -3.7, 0.1, 255.5, 65504.0, 65520.0, 1e5, 1e10, -1e10,
           3e38, 1e300, 1e-50, nan, inf, -inf, 1 + 2 ** -11 + 2 ** -40, 1 + 2 ** -8 + 2 ** -40,
           16777217.0, 1 + 2j, -0.5j, 0.1 + 0.2j, complex(nan, 1), 2 + 0j]
# Float -> int conversions the C standard leaves undefined (NaN, inf, out of range) are
# platform-specific; MLX and NumPy agree on x86 except for these unsigned targets.
UNDEFINED_UNSIGNED = {"uint32", "uint64"}


def _undefined_cast(v, name):
    if name not in UNDEFINED_UNSIGNED or isinstance(v, (bool, int)):
        return False
    x = v.real if isinstance(v, complex) else v
    return not (0 <= x < 2 ** 32)


def test_python_scalars_infer_like_mlx():
    problems = []
    for v in SCALARS + [2 ** 63, 2 ** 64, -2 ** 63 - 1, 2 ** 70]:
        compare(f"array({v!r})", lambda m: m.array(v), problems)
    report(problems)


def test_python_scalars_with_every_dtype():
    problems = []
    for v in SCALARS + [2 ** 63, 2 ** 64 - 1]:
        for name in DTYPE_NAMES:
            if _undefined_cast(v, name):
                continue
            compare(f"array({v!r}, {name})", lambda m: m.array(v, dtype=dt(m, name)), problems)
    report(problems)


def test_scalar_subclasses_and_numpy_scalars():
    class MyInt(int):
        pass

    class MyFloat(float):
        pass

    problems = []
    for v in [MyInt(3), MyFloat(2.5), np.float64(1.5), np.complex128(1j), np.int64(5),
              np.int8(-3), np.uint64(2 ** 64 - 1), np.float16(1.5), np.float32(0.1),
              np.bool_(True), np.uint8(200)]:
        compare(f"array({type(v).__name__})", lambda m: m.array(v), problems)
        compare(f"array({type(v).__name__}, float16)",
                lambda m: m.array(v, dtype=m.float16), problems)
    report(problems)


# -- nested lists ----------------------------------------------------------------------

LISTS = [
    [1, 2, 3], [True, False], [True, 2], [True, 2.0], [1, 2.5], [1, 1j], [True, 1.5, 2, 1j],
    [[1, 2], [3, 4]], [(1, 2), [3, 4]], ([1, 2], [3, 4]), ((1, 2), (3, 4)),
    [], (), [[]], [[], []], [[[]]], [[[], []], [[], []]],
    [2 ** 31, 1], [1, 2 ** 40], [2 ** 63 - 1, -2 ** 63], [-1, 300], [2 ** 40], [2 ** 31],
    [2 ** 32 - 1], [-2 ** 31], [-2 ** 31 - 1], [2 ** 53 + 1], [2 ** 53 + 1, 0.5],
    [2 ** 60 + 2 ** 36 + 1], [2 ** 60 + 2 ** 36 + 1, 0.5], [16777217], [16777217.0],
    [2 ** 40, True], [2 ** 40, 1.5], [True, -1], [True, 2 ** 40],
    [1.5, -2.5, 3.7, -3.7, 300.5, 255.5, -1.5, 0.5, 7e4, -4e4, 3e5, -3e5],
    [nan, inf, -inf, 0.0, -0.0], [0.1, 1e-8, 65504.0, 65520.0, 1e5, 1e300, 1e-50],
    [1 + 2 ** -11 + 2 ** -40], [1 + 2 ** -8 + 2 ** -40], [0.1 + 0.2j, 2], [1 + 2j, -3j],
    [[1.5, 2], [3, 4]], [[[1], [2]], [[3], [4]]], [[0, 1], [2, 3]] * 3,
]
LIST_ERRORS = [
    [[1, 2], [3]], [[1, 2], 3], [1, [2, 3]], [[1, 2], [3, [4]]], [[[1], [2]], [[3], [4, 5]]],
    [[1], [2], 3], [1, 2, [3]], [[1, [2]], [3, 4]], [[], 1], [1, []], [[], [1]], [[1], []],
    ["a"], [None], [1, "a"], ["a", [1]], [[1], ["a"]], [None, 1], [1, None],
    [[1, 2], [3, None]], [[1, 2], "a"], [[1], 2.5], [1, 2 ** 63], [2 ** 70, 1.5],
    [2 ** 70, 1j], [-2 ** 63 - 1], [np.int64(3), 2], [np.int8(3)], [np.float32(1.5)],
    [np.bool_(True)], [np.array([1, 2]), np.array([3, 4])], [range(2)], [{1: 2}],
]


def test_lists_infer_like_mlx():
    problems = []
    for v in LISTS + LIST_ERRORS:
        compare(f"array({v!r})", lambda m: m.array(v), problems)
    report(problems)


def test_lists_with_every_dtype():
    problems = []
    for v in LISTS:
        for name in DTYPE_NAMES:
            flat = [x for x in np.array(v, dtype=object).ravel().tolist()] if v else []
            if any(_undefined_cast(x, name) for x in flat if not isinstance(x, list)):
                continue
            compare(f"array({v!r}, {name})", lambda m: m.array(v, dtype=dt(m, name)), problems)
    report(problems)


def test_integer_lists_range_rules():
    # MLX reads the ints of an integer list as uint64, uint32, int64 or int32 depending
    # on the target dtype, and raises for ints that do not fit that reader.
    problems = []
    for v in [[-1], [2 ** 31], [2 ** 32 - 1], [2 ** 32], [2 ** 40], [-2 ** 31], [-2 ** 31 - 1],
              [-2 ** 63], [2 ** 63 - 1], [True, 2], [True, -1], [True, 2 ** 40], [2 ** 64 - 1]]:
        for name in DTYPE_NAMES:
            compare(f"array({v!r}, {name})", lambda m: m.array(v, dtype=dt(m, name)), problems)
    report(problems)


def test_large_list_is_fast_and_right():
    import time
    rows = [[float(i * 7 + j) for j in range(100)] for i in range(2000)]
    t0 = time.perf_counter()
    a = mx.array(rows)
    elapsed = time.perf_counter() - t0
    assert a.shape == (2000, 100) and a.dtype is mx.float32
    np.testing.assert_array_equal(np.array(a), np.array(rows, dtype=np.float32))
    # A loose bound (the machine may be busy): it catches a per-element slow path gone
    # quadratic, not small regressions.
    assert elapsed < 2.0, f"building a 2000x100 array from lists took {elapsed:.2f}s"


def test_list_subclasses():
    class MyList(list):
        pass

    problems = []
    compare("MyList", lambda m: m.array(MyList([1, 2])), problems)
    compare("[MyList]", lambda m: m.array([MyList([1, 2]), [3, 4]]), problems)
    report(problems)


# -- lists holding arrays ---------------------------------------------------------------

ARRAY_LISTS = [
    lambda m: [m.array([1, 2]), m.array([3, 4])],
    lambda m: [m.array([1, 2]), m.array([3.0, 4])],
    lambda m: [m.array([1, 2]), [3, 4]],
    lambda m: [[1, 2], m.array([3, 4])],
    lambda m: [m.array(1), 2],
    lambda m: [m.array(1), 2.5],
    lambda m: [1, m.array(2, dtype=m.int8)],
    lambda m: [1.5, m.array(2, dtype=m.int8)],
    lambda m: [m.array(1, dtype=m.int8), 2],
    lambda m: [m.array(1, dtype=m.int8), m.array(2, dtype=m.uint8)],
    lambda m: [m.array(1, dtype=m.float16), 2.5],
    lambda m: [m.array(1, dtype=m.float16), 1],
    lambda m: [m.array(1, dtype=m.float16), True],
    lambda m: [m.array(1, dtype=m.int64), True],
    lambda m: [m.array(True), 1],
    lambda m: [m.array(True), True],
    lambda m: [m.array(1, dtype=m.uint8), 300],
    lambda m: [m.array(1, dtype=m.uint8), -1],
    lambda m: [m.array(1, dtype=m.uint8), True],
    lambda m: [m.array(1, dtype=m.int32), 2 ** 40],
    lambda m: [m.array(1, dtype=m.uint32), 3],
    lambda m: [m.array(1, dtype=m.uint64), 3],
    lambda m: [m.array(1, dtype=m.uint64), m.array(1, dtype=m.int8)],
    lambda m: [m.array(1, dtype=m.float64), 1j],
    lambda m: [m.array(1.5, dtype=m.float64), 0.1],
    lambda m: [m.array(1.5, dtype=m.bfloat16), 3],
    lambda m: [m.array(1.5, dtype=m.bfloat16), 3.5],
    lambda m: [m.array(1, dtype=m.complex64), 2 ** 40],
    lambda m: [m.array([]), []],
    lambda m: [[], m.array([])],
    lambda m: [m.zeros((2, 0)), m.zeros((2, 0))],
    lambda m: [[m.array(1), 2], [3, m.array(4)]],
    lambda m: [[m.array(1), 2], [3, m.array(4.5)]],
    lambda m: [m.array([1, 2])],
    lambda m: (m.array([1, 2]),),
    lambda m: [m.array([[1, 2], [3, 4]]).T, m.array([[1, 2], [3, 4]])],
    lambda m: [m.array([[1, 2], [3, 4]]), [[5, 6], [7, 8]]],
    # errors
    lambda m: [m.array([1, 2]), m.array([3])],
    lambda m: [m.array([1, 2]), 3],
    lambda m: [3, m.array([1, 2])],
    lambda m: [m.array(1), [2]],
    lambda m: [m.array([1, 2]), []],
    lambda m: [[1], m.array([[1]])],
    lambda m: [m.array([[1]]), [1]],
    lambda m: [m.array([1]), [[1]]],
    lambda m: [[[1]], m.array([1])],
]
ARRAY_LISTS_WITH_DTYPE = [
    (lambda m: [m.array([1, 2]), m.array([3.0, 4])], "int8"),
    (lambda m: [m.array([1.5, 2]), 3], "int32"),
    (lambda m: [m.array(1.5), 3], "int32"),
    (lambda m: [m.array(1), 2 ** 40], "int32"),
    (lambda m: [m.array(1), -1], "uint64"),
    (lambda m: [m.array(1.5), 2], "int32"),
    (lambda m: [m.array(2 ** 40), 2], "int32"),
    (lambda m: [m.array(1), 2.5], "int32"),
    (lambda m: [m.array(1), 16777217.0], "int64"),
    (lambda m: [m.array(1, dtype=m.int64), 2 ** 60 + 2 ** 36 + 1], "float32"),
    (lambda m: [m.array(2.5), True], "int32"),
    (lambda m: [m.array([1, 2]), m.array([3, 4])], "float32"),
    (lambda m: [[m.array(1), 2], [3, m.array(4.5)]], "bfloat16"),
    (lambda m: [m.array(3.9e9)], "uint32"),
]


def test_lists_of_arrays_like_mlx():
    problems = []
    for i, f in enumerate(ARRAY_LISTS):
        compare(f"array-list case {i}", lambda m: m.array(f(m)), problems)
    for i, (f, name) in enumerate(ARRAY_LISTS_WITH_DTYPE):
        compare(f"array-list case {i} dtype={name}",
                lambda m: m.array(f(m), dtype=dt(m, name)), problems)
    report(problems)


def test_list_of_arrays_is_lazy():
    from mlxpy.core.graph import topo_sort
    x = mx.array(2.0) * 3
    y = mx.array([x, 2 * x, 1.5], dtype=mx.float16)
    assert x._node.data is None, "building the list array evaluated its elements"
    assert any(n is x._node for n in topo_sort([y._node])), "the list array depends on x"
    assert y.dtype is mx.float16 and y.tolist() == [6.0, 12.0, 1.5]


def test_list_of_arrays_under_transforms():
    from mlxpy.core.primitives.base import TransformError
    try:
        _, g = mx.vjp(lambda t: mx.array([t, 2 * t, 5.0]), [mx.array(1.0)],
                      [mx.array([1.0, 1.0, 1.0])])
        v = mx.vmap(lambda t: mx.array([t, 2.0]))(mx.array([1.0, 3.0]))
    except TransformError as e:
        pytest.xfail(f"transform rules of the ops behind stack are pending: {e}")
    assert g[0].item() == 3.0
    assert v.tolist() == [[1.0, 2.0], [3.0, 2.0]]


# -- NumPy data ------------------------------------------------------------------------

NUMPY_VALUES = {
    "bool": [True, False, True],
    "int8": [0, 1, -1, 127, -128, 5], "int16": [0, -1, 32767, -32768, 300],
    "int32": [0, -1, 2 ** 31 - 1, -2 ** 31, 70000], "int64": [0, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 40],
    "uint8": [0, 1, 255, 200], "uint16": [0, 65535, 300], "uint32": [0, 2 ** 32 - 1, 2 ** 31],
    "uint64": [0, 2 ** 64 - 1, 2 ** 63 + 5, 5],
    "float16": [0.0, -0.0, 1.5, -2.5, 65504.0, nan, inf, -inf, 1e-7, 300.5],
    "float32": [0.0, -1.5, 3.7, 1e30, -1e-30, nan, inf, -inf, 255.5, 7e4],
    "float64": [0.1, -3.7, 1e300, 1e-50, nan, inf, 65520.0, 1 + 2 ** -11 + 2 ** -40, 2 ** 53 + 1],
    "complex64": [1 + 2j, -0.5j, 0j, complex(nan, 0), 3.5 - 1j],
    "complex128": [0.1 + 0.2j, 1e300 + 1j, -2.5 + 0j, 2j, 255.5 - 3j, 1e-50 + 0j],
}


def _numpy_source(name):
    vals = NUMPY_VALUES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array(vals, dtype=np.dtype(name))


def test_numpy_arrays_of_every_dtype():
    problems = []
    for src in NUMPY_VALUES:
        h = _numpy_source(src)
        for shape in [h.shape, (1,) + h.shape]:
            compare(f"array(np {src} {shape})", lambda m: m.array(h.reshape(shape)), problems)
        compare(f"array(np {src} 0-d)", lambda m: m.array(h[1]), problems)
        compare(f"array(np {src} 0-d array)", lambda m: m.array(np.array(h[1])), problems)
        compare(f"array(np {src} empty)", lambda m: m.array(h[:0].reshape(0, 2, 0)), problems)
        for name in DTYPE_NAMES:
            if name in UNDEFINED_UNSIGNED and h.dtype.kind in "fc":
                real = h.real.astype(np.float64)
                sub = h[np.isfinite(real) & (real >= 0) & (real < 2 ** 32)]
            else:
                sub = h
            compare(f"array(np {src}, dtype={name})",
                    lambda m: m.array(sub, dtype=dt(m, name)), problems)
    report(problems)


def test_numpy_bfloat16_and_layouts():
    problems = []
    bf = np.array([1.5, -2.0, 3.140625, nan, inf], dtype=np.float32).astype(ml_dtypes.bfloat16)
    compare("np bfloat16", lambda m: m.array(bf), problems)
    for name in DTYPE_NAMES:
        if name in UNDEFINED_UNSIGNED:
            continue
        compare(f"np bfloat16 -> {name}", lambda m: m.array(bf, dtype=dt(m, name)), problems)
    base = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    for label, h in [("transposed", base.T), ("fortran", np.asfortranarray(base)),
                     ("strided", base[:, ::2, 1:]), ("column", base[:, 1, 2]),
                     ("view uint32", np.array([1, 2], dtype=np.int32).view(np.uint32))]:
        compare(f"np {label}", lambda m: m.array(h), problems)
        compare(f"np {label} -> int16", lambda m: m.array(h, dtype=m.int16), problems)
    compare("masked", lambda m: m.array(np.ma.masked_array([1, 2], mask=[0, 1])), problems)
    report(problems)


def test_numpy_dtypes_mlx_refuses():
    problems = []
    for h in [np.array(["a"]), np.array("a"), np.array([1], dtype=object),
              np.array([1.0], dtype=np.longdouble), np.array(["2020-01-01"], dtype="datetime64[D]"),
              np.zeros(2, dtype=[("a", np.int32)]), np.zeros(2, ml_dtypes.float8_e4m3fn)]:
        compare(f"np {h.dtype}", lambda m: m.array(h), problems)
    report(problems)


def test_numpy_source_is_copied():
    h = np.array([1.0, 2.0], dtype=np.float32)
    a = mx.array(h)
    h[0] = 100
    assert a.tolist() == [1.0, 2.0]
    h = np.array([1 + 0j, 2], dtype=np.complex64)
    a = mx.array(h, dtype=mx.float32)   # a real-part view would alias h
    h[0] = 100
    assert a.tolist() == [1.0, 2.0]


def test_big_endian_numpy_data_is_read():
    # MLX refuses non-native byte order; mlxpy converts it (docs/differences.md).
    a = mx.array(np.array([1, 258], dtype=">i4"))
    assert a.dtype is mx.int32 and a.tolist() == [1, 258]


def test_buffer_protocol_objects():
    problems = []
    for label, v in [("bytes", b"ab"), ("empty bytes", b""), ("bytearray", bytearray(b"xyz")),
                     ("memoryview int", memoryview(b"abcd").cast("i")),
                     ("array d", pyarray.array("d", [1.5, 2])), ("array b", pyarray.array("b", [1, -2])),
                     ("array Q", pyarray.array("Q", [1, 2 ** 64 - 1]))]:
        compare(label, lambda m: m.array(v), problems)
        compare(label + " float16", lambda m: m.array(v, dtype=m.float16), problems)
    report(problems)


def test_dlpack_and_array_interface_objects():
    class DL:
        def __dlpack__(self, **kwargs):
            return np.arange(3.0).__dlpack__(**kwargs)

        def __dlpack_device__(self):
            return (1, 0)

    class BareDL:
        def __dlpack__(self, **kwargs):
            return np.arange(3.0).__dlpack__(**kwargs)

    problems = []
    compare("dlpack", lambda m: m.array(DL()), problems)
    compare("bare dlpack", lambda m: m.array(BareDL()), problems)
    compare("dlpack int8", lambda m: m.array(DL(), dtype=m.int8), problems)
    report(problems)

    class ArrayLike:
        def __array__(self, dtype=None, copy=None):
            return np.arange(3.0)

    # MLX refuses objects that only have __array__; mlxpy reads them (docs/differences.md).
    a = mx.array(ArrayLike())
    assert a.dtype is mx.float32 and a.tolist() == [0.0, 1.0, 2.0]


def test_invalid_values_and_dtypes():
    problems = []
    for label, f in [("str", lambda m: m.array("a")), ("None", lambda m: m.array(None)),
                     ("object", lambda m: m.array(object())), ("range", lambda m: m.array(range(3))),
                     ("iter", lambda m: m.array(iter([1, 2]))), ("dict", lambda m: m.array({1: 2})),
                     ("no args", lambda m: m.array()), ("two args", lambda m: m.array(1, 2)),
                     ("dtype str", lambda m: m.array(1, dtype="float32")),
                     ("dtype np", lambda m: m.array(1, dtype=np.float32)),
                     ("positional dtype", lambda m: m.array(1, m.float16)),
                     ("val keyword", lambda m: m.array(val=[1, 2])),
                     ("dtype None", lambda m: m.array([1, 2], dtype=None))]:
        compare(label, f, problems)
    report(problems)


# -- arrays as input -------------------------------------------------------------------

def test_array_from_array():
    problems = []
    for name in DTYPE_NAMES:
        for target in [None] + DTYPE_NAMES:
            if target in UNDEFINED_UNSIGNED and name in ("float16", "bfloat16", "float32",
                                                         "float64", "complex64"):
                continue
            compare(f"array(array {name}, {target})",
                    lambda m: m.array(m.array(_numpy_source("int8"), dtype=getattr(m, name)),
                                      dtype=dt(m, target)), problems)
    report(problems)
    a = mx.array([1.0, 2.0]) * 2
    b = mx.array(a)
    assert b is not a and b._node is a._node, "mx.array(x) shares x's node"
    c = mx.array(a, dtype=mx.int32)
    assert a._node.data is None, "a dtype change stays lazy"
    assert c.tolist() == [2, 4]


# -- descriptors -----------------------------------------------------------------------

def test_descriptors():
    problems = []
    for name in DTYPE_NAMES:
        for shape in [(), (0,), (3,), (2, 0, 3), (2, 3, 4)]:
            a = mx.zeros(shape, dtype=getattr(mx, name))
            b = mlx.zeros(shape, dtype=getattr(mlx, name))
            got = (a.shape, a.ndim, a.size, a.nbytes, a.itemsize, dtype_name(a.dtype))
            want = (b.shape, b.ndim, b.size, b.nbytes, b.itemsize, dtype_name(b.dtype))
            if got != want:
                problems.append(f"{name}{shape}: {got} != {want}")
            if type(a.shape) is not tuple:
                problems.append(f"{name}{shape}: shape is a {type(a.shape)}")
    report(problems)


# -- conversion to Python --------------------------------------------------------------

def _pair(values, name):
    h = _numpy_source(values) if isinstance(values, str) else values
    return mx.array(h, dtype=getattr(mx, name)), mlx.array(h, dtype=getattr(mlx, name))


def test_item_and_tolist():
    problems = []
    for name in DTYPE_NAMES:
        src = "complex64" if name == "complex64" else ("float32" if name.startswith(("float", "bfloat")) else "int8")
        for shape in [(), (1,), (1, 1), (2, 3), (0,), (2, 0), (0, 2), (5,)]:
            h = np.resize(_numpy_source(src), shape) if shape else _numpy_source(src)[3]
            a, b = _pair(np.asarray(h), name)
            for what in ("item", "tolist"):
                o_kind, o = outcome(getattr(a, what))
                t_kind, t = outcome(getattr(b, what))
                if o_kind != t_kind or (o_kind == "raise" and o.split(":")[0] != t.split(":")[0]):
                    problems.append(f"{what} {name}{shape}: ours {o} / mlx {t}")
                elif o_kind == "ok":
                    same = repr(o) == repr(t) or (
                        isinstance(o, float) and math.isnan(o) and math.isnan(t))
                    if not same or _types(o) != _types(t):
                        problems.append(f"{what} {name}{shape}: ours {o!r} / mlx {t!r}")
    report(problems)


def _types(x):
    if isinstance(x, list):
        return [_types(y) for y in x]
    return type(x).__name__


def test_scalar_conversions():
    problems = []
    cases = [("0-d", lambda m: m.array(2.7)), ("neg", lambda m: m.array(-2.7)),
             ("1-elem", lambda m: m.array([3])), ("1x1", lambda m: m.array([[0.0]])),
             ("two", lambda m: m.array([3, 4])), ("empty", lambda m: m.array([])),
             ("complex", lambda m: m.array(1 + 2j)), ("zero complex", lambda m: m.array(0j)),
             ("nan", lambda m: m.array(nan)), ("inf", lambda m: m.array(inf)),
             ("bool", lambda m: m.array(True)), ("bf16", lambda m: m.array(2.5, dtype=m.bfloat16)),
             ("f16", lambda m: m.array(-1.5, dtype=m.float16)),
             ("uint64", lambda m: m.array(3, dtype=m.uint64)), ("int", lambda m: m.array(7)),
             ("float int", lambda m: m.array(3.0)), ("uint8", lambda m: m.array(3, dtype=m.uint8))]
    for label, f in cases:
        for conv in (bool, int, float, complex, operator_index, len, list_of):
            o_kind, o = outcome(lambda: conv(f(mx)))
            t_kind, t = outcome(lambda: conv(f(mlx)))
            if o_kind != t_kind or (o_kind == "raise" and o.split(":")[0] != t.split(":")[0]):
                problems.append(f"{conv.__name__}({label}): ours {o} / mlx {t}")
            elif o_kind == "ok" and conv is not list_of and (repr(o) != repr(t) or type(o) != type(t)):
                problems.append(f"{conv.__name__}({label}): ours {o!r} / mlx {t!r}")
    report(problems)


def operator_index(x):
    return [10, 11, 12, 13, 14, 15, 16, 17, 18][x]


def list_of(x):
    return [y.tolist() for y in x]


def test_iteration_yields_rows():
    a = mx.array([[1, 2], [3, 4], [5, 6]])
    rows = list(a)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    assert all(isinstance(r, mx.array) and r.dtype is mx.int32 for r in rows)
    assert list(mx.zeros((0, 2))) == []
    assert [x.item() for x in mx.array([1.5, 2.5])] == [1.5, 2.5]
    with pytest.raises(TypeError):
        iter(mx.array(3))
    with pytest.raises(TypeError):
        len(mx.array(3))


def test_format_and_repr():
    problems = []
    for label, f, spec in [("0-d float", lambda m: m.array(1.5), ".2f"),
                           ("0-d empty spec", lambda m: m.array(2.0), ""),
                           ("0-d int", lambda m: m.array(3), "5"),
                           ("0-d int d", lambda m: m.array(3), "d"),
                           ("0-d bool", lambda m: m.array(True), ""),
                           ("0-d bf16", lambda m: m.array(1.5, dtype=m.bfloat16), ".3f"),
                           ("0-d complex", lambda m: m.array(1 + 2j), ".1f"),
                           ("1-d no spec", lambda m: m.array([1.5, 2]), ""),
                           ("1-d spec", lambda m: m.array([1.5]), ".2f"),
                           ("2-d spec", lambda m: m.array([[3]]), "d"),
                           ("empty spec", lambda m: m.zeros((0,)), "d")]:
        o_kind, o = outcome(lambda: format(f(mx), spec))
        t_kind, t = outcome(lambda: format(f(mlx), spec))
        if o_kind != t_kind or (o_kind == "ok" and o != t) or \
                (o_kind == "raise" and o.split(":")[0] != t.split(":")[0]):
            problems.append(f"format {label}: ours {o!r} / mlx {t!r}")
    for f in [lambda m: m.array([1.5, nan]), lambda m: m.array(3), lambda m: m.zeros((2, 0)),
              lambda m: m.array([[1, 2], [3, 4]], dtype=m.int8), lambda m: m.array([1j, 2])]:
        if repr(f(mx)) != repr(f(mlx)) or str(f(mx)) != str(f(mlx)):
            problems.append(f"repr: ours {f(mx)!r} / mlx {f(mlx)!r}")
    assert f"{mx.array([1, 2])}" == "array([1, 2], dtype=int32)"
    report(problems)


def test_hash_is_identity():
    a = mx.array([1, 2])
    b = mx.array([1, 2])
    assert hash(a) != hash(b)
    assert hash(a) == hash(a)
    assert {a: 1, b: 2}[a] == 1


# -- NumPy interop ---------------------------------------------------------------------

def test_numpy_conversion_values_and_dtypes():
    problems = []
    for name in DTYPE_NAMES:
        src = "complex64" if name == "complex64" else ("float32" if name.startswith(("float", "bfloat")) else "int8")
        a, b = _pair(src, name)
        for label, conv in [("np.array", np.array), ("np.asarray", np.asarray),
                            ("float64", lambda x: np.array(x, dtype=np.float64)),
                            ("copy=True", lambda x: np.array(x, copy=True))]:
            if name == "bfloat16":
                continue  # MLX cannot hand bfloat16 to NumPy; see the test below
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # complex -> float64 drops imaginary parts
                o, t = conv(a), conv(b)
            if o.dtype != t.dtype or o.shape != t.shape or not np.array_equal(o, t, equal_nan=o.dtype.kind in "fc"):
                problems.append(f"{label} {name}: ours {o!r} / mlx {t!r}")
    report(problems)
    # mlxpy hands bfloat16 over as ml_dtypes.bfloat16 (MLX raises; docs/differences.md).
    h = np.array(mx.array([1.5, -2.0], dtype=mx.bfloat16))
    assert h.dtype == ml_dtypes.bfloat16 and h.astype(np.float32).tolist() == [1.5, -2.0]


@pytest.mark.usefixtures("on_cpu")
def test_numpy_copy_semantics():
    a = mx.array([1.0, 2.0]) + 0
    h = np.array(a)
    assert h.flags.writeable
    h[0] = 100
    assert a.tolist() == [1.0, 2.0], "np.array(x) must copy"
    v = np.asarray(a)
    assert not v.flags.writeable, "a shared view must be read-only"
    with pytest.raises(ValueError):
        v[0] = 5
    assert np.shares_memory(v, a._data())
    w = np.array(a, copy=False)
    assert not w.flags.writeable
    assert np.asarray(a, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError):
        np.asarray(a, dtype=np.float64, copy=False)
    c = a.__array__(copy=True)
    c[1] = 7
    assert a.tolist() == [1.0, 2.0]
    assert np.array(mx.array(3.5)).shape == ()


def test_bytes_and_namespace():
    problems = []
    for f in [lambda m: m.array([1, 2], dtype=m.int16), lambda m: m.array(1.5, dtype=m.bfloat16),
              lambda m: m.array([[1, 2], [3, 4]], dtype=m.int8).T, lambda m: m.array([1j]),
              lambda m: m.zeros((0,))]:
        if bytes(f(mx)) != bytes(f(mlx)):
            problems.append(f"bytes: ours {bytes(f(mx))!r} / mlx {bytes(f(mlx))!r}")
    report(problems)
    assert mx.array(1).__array_namespace__() is mx


def test_buffer_protocol_export():
    a = mx.array([1, 2, 3], dtype=mx.int16)
    if sys.version_info >= (3, 12):
        m = memoryview(a)
        assert m.format == "h" and m.tolist() == [1, 2, 3] and m.readonly
    else:
        # Python 3.11 cannot let a pure-Python class export a buffer (PEP 688 is 3.12).
        with pytest.raises(TypeError):
            memoryview(a)
    assert memoryview(np.array(a)).tolist() == [1, 2, 3]


# -- pickling and copies ---------------------------------------------------------------

def test_pickle_and_copy_round_trips():
    for name in DTYPE_NAMES:
        for shape in [(), (0,), (2, 3)]:
            src = "complex64" if name == "complex64" else "float32"
            h = np.resize(_numpy_source(src), shape) if shape else _numpy_source(src)[2]
            a = mx.array(np.asarray(h), dtype=getattr(mx, name))
            lazy = a + 0 if name != "bool_" else a
            for copier in (lambda x: pickle.loads(pickle.dumps(x)),
                           lambda x: pickle.loads(pickle.dumps(x, protocol=2)),
                           copy.copy, copy.deepcopy):
                b = copier(lazy)
                assert isinstance(b, mx.array) and b is not lazy
                assert b.dtype is lazy.dtype and b.shape == lazy.shape
                np.testing.assert_array_equal(to_numpy(b), to_numpy(lazy))
    t = {"w": [mx.array([1.0, 2.0])], "b": mx.array(3, dtype=mx.int8)}
    t2 = copy.deepcopy(t)
    assert t2["w"][0].tolist() == [1.0, 2.0] and t2["b"].dtype is mx.int8


# -- DLPack ----------------------------------------------------------------------------

@pytest.mark.usefixtures("on_cpu")
def test_dlpack_round_trips():
    problems = []
    for name in DTYPE_NAMES:
        if name == "bfloat16":
            continue  # NumPy's DLPack has no bfloat16
        src = "complex64" if name == "complex64" else ("float32" if name.startswith("float") else "int8")
        a, b = _pair(src, name)
        o, t = np.from_dlpack(a), np.from_dlpack(b)
        if o.dtype != t.dtype or not np.array_equal(o, t, equal_nan=o.dtype.kind in "fc"):
            problems.append(f"np.from_dlpack {name}: ours {o!r} / mlx {t!r}")
        if a.__dlpack_device__() != b.__dlpack_device__():
            problems.append(f"__dlpack_device__ {name}")
    report(problems)
    x = np.from_dlpack(mx.array([[1, 2], [3, 4]]).T)
    assert x.tolist() == [[1, 3], [2, 4]]
    assert not x.flags.writeable, "a DLPack 1.0 consumer sees the shared buffer read-only"
    assert np.from_dlpack(mx.array(2.5)).shape == ()
    assert np.from_dlpack(mx.array([1, 2]), copy=True).flags.writeable


def test_from_dlpack_like_mlx():
    problems = []
    for label, f in [
            ("f64", lambda m: m.from_dlpack(np.array([1.5, 2]))),
            ("f32", lambda m: m.from_dlpack(np.array([1.5, 2], dtype=np.float32))),
            ("f16", lambda m: m.from_dlpack(np.array([1.5], dtype=np.float16))),
            ("c128", lambda m: m.from_dlpack(np.array([1 + 1j]))),
            ("u64", lambda m: m.from_dlpack(np.array([1, 2 ** 64 - 1], dtype=np.uint64))),
            ("bool", lambda m: m.from_dlpack(np.array([True]))),
            ("int64", lambda m: m.from_dlpack(np.array([1, 2]))),
            ("0-d", lambda m: m.from_dlpack(np.array(3.0))),
            ("transposed", lambda m: m.from_dlpack(np.arange(6.0).reshape(2, 3).T)),
            ("strided", lambda m: m.from_dlpack(np.arange(6.0).reshape(2, 3)[:, ::2])),
            ("own array", lambda m: m.from_dlpack(m.array([1, 2]))),
            ("own bfloat16", lambda m: m.from_dlpack(m.array([1, 2], dtype=m.bfloat16))),
            ("copy=True", lambda m: m.from_dlpack(np.array([1, 2]), copy=True)),
            ("copy=False", lambda m: m.from_dlpack(np.array([1, 2]), copy=False)),
            ("copy=False own", lambda m: m.from_dlpack(m.array([1, 2]), copy=False)),
            ("copy=1", lambda m: m.from_dlpack(np.array([1, 2]), copy=1)),
            ("list", lambda m: m.from_dlpack([1, 2])),
            ("x=", lambda m: m.from_dlpack(x=np.array([1.0]))),
            ("str array", lambda m: m.from_dlpack(np.array(["a"])))]:
        compare(f"from_dlpack {label}", f, problems)
    report(problems)
    h = np.array([1.0, 2.0], dtype=np.float32)
    a = mx.from_dlpack(h)
    h[0] = 100
    assert a.tolist() == [1.0, 2.0], "from_dlpack copies"


def test_doctests():
    import doctest
    import mlxpy.core.convert
    for name in ("mlxpy.core.convert", "mlxpy.core.array"):
        result = doctest.testmod(sys.modules[name], optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0, name
