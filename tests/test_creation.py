"""Creation ops against real MLX: values (exactly, where MLX's arithmetic is reproducible),
dtypes, shapes and exception types."""
import doctest
import itertools
import math

import numpy as np
import pytest

import mlxpy.core as mx
from mlxpy.core.ops import creation as creation_ops
from mlxpy.core.primitives import creation as P
from tests.oracle import DTYPE_NAMES, assert_same, mlx, needs_mlx

pytestmark = needs_mlx

INF = float("inf")
NAN = float("nan")


def _dt(lib, name):
    return None if name is None else getattr(lib, name)


def compare(f, exact=False, **kw):
    """`f(module)` on both libraries: equal results, or the same exception type."""
    try:
        theirs = f(mlx)
    except Exception as e:  # noqa: BLE001 - the type is what we compare
        with pytest.raises(Exception) as info:
            f(mx)
        # MLX's binding answers some wrong argument types with RuntimeError
        # (std::bad_cast); we raise TypeError there.
        expected = "TypeError" if "bad_cast" in str(e) else type(e).__name__
        assert type(info.value).__name__ == expected, \
            f"raised {type(info.value).__name__} ({info.value}); " \
            f"MLX raised {type(e).__name__} ({e})"
        return None
    ours = f(mx)
    if exact:
        kw.setdefault("rtol", 0)
        kw.setdefault("atol", 0)
    assert_same(ours, theirs, **kw)
    return ours


# -- full, zeros, ones ------------------------------------------------------------------

FILL_VALUES = [True, False, 7, -1, 0, 300, 2 ** 31, 2 ** 40, -(2 ** 40), 7.5, -7.7, 1e10,
               INF, NAN, 1 + 2j, np.float64(2.5), np.int64(3), np.bool_(True), np.float32(1.5),
               np.array(2, np.int16), np.array([1.5, 2.0, 3.0])]
FILL_DTYPES = [None, "bool_", "uint8", "uint32", "uint64", "int8", "int32", "int64", "float16",
               "bfloat16", "float32", "float64", "complex64"]


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")
@pytest.mark.parametrize("dtype", FILL_DTYPES)
def test_full_scalar_typing(dtype):
    """MLX's weak typing of the fill value against `dtype`, value by value."""
    for v in FILL_VALUES:
        if isinstance(v, float) and not math.isfinite(v) and dtype and \
                dtype[0] in "ubi":
            continue  # float inf/nan never meet an int dtype (floats keep float32)
        compare(lambda m: m.full((2, 3), v, _dt(m, dtype)), exact=True)


def test_full_array_values():
    data = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
    for shape in [(2, 3), (4, 2, 3), (2, 3, 1), (3,), (0, 3)]:
        for d in ["int32", "float16", "float32"]:
            compare(lambda m: m.full(shape, m.array(data[0]).astype(getattr(m, d))),
                    exact=True)
            compare(lambda m: m.full(shape, m.array(data).astype(getattr(m, d))), exact=True)
    # MLX ignores `dtype` for an array value.
    compare(lambda m: m.full((2, 3), m.array([1, 2, 3]), m.float16), exact=True)
    compare(lambda m: m.full((2, 3), m.array([[1], [2]])), exact=True)
    compare(lambda m: m.full((3,), m.array([[1], [2]])))
    compare(lambda m: m.full((2, 3), m.array([1, 2])))


@pytest.mark.parametrize("shape", [3, (), [], (0, 3), (2, 3), [2, 3], (1, 1, 1, 1), True,
                                   (True, 2), (-1, 3), -1, (np.int64(2), 3), np.array([2, 3]),
                                   None, "a", (2, None)])
def test_full_shapes(shape):
    compare(lambda m: m.full(shape, 1), exact=True)
    compare(lambda m: m.zeros(shape), exact=True)
    compare(lambda m: m.ones(shape, m.int8), exact=True)


def test_full_errors():
    compare(lambda m: m.full((2, 3), None))
    compare(lambda m: m.full((2, 3), "a"))
    compare(lambda m: m.full((2, 3), [1, 2, 3]))
    compare(lambda m: m.full((2, 3), 1, "float32"))
    compare(lambda m: m.full((2, 3), 1, np.float32))
    compare(lambda m: m.full(shape=(2, 3), vals=1, dtype=m.int8), exact=True)
    compare(lambda m: m.full((2, 3), 1, None), exact=True)
    compare(lambda m: m.full((2 ** 31,), 1))


@pytest.mark.parametrize("dtype", DTYPE_NAMES + [None])
def test_zeros_ones_dtypes(dtype):
    compare(lambda m: m.zeros((2, 3), _dt(m, dtype)), exact=True)
    compare(lambda m: m.ones((2, 3), dtype=_dt(m, dtype)), exact=True)
    compare(lambda m: m.zeros(0, _dt(m, dtype)), exact=True)
    compare(lambda m: m.empty((2,), _dt(m, dtype)), exact=True)


def test_zeros_ones_defaults_and_errors():
    compare(lambda m: m.zeros(3), exact=True)
    compare(lambda m: m.ones((2,)), exact=True)
    compare(lambda m: m.zeros(shape=(2,)), exact=True)
    compare(lambda m: m.ones((2,), "f"))
    compare(lambda m: m.zeros((2, -1)))
    compare(lambda m: m.zeros(mx.array([2, 3]) if m is mx else mlx.array([2, 3])), exact=True)
    assert mx.empty is mx.zeros and mx.empty_like is mx.zeros_like


def test_like_ops():
    for d in ["bool_", "uint8", "int32", "float16", "bfloat16", "float32", "complex64"]:
        for shape in [(), (3,), (2, 0), (2, 3)]:
            src = {lib: lib.zeros(shape, getattr(lib, d)) for lib in (mx, mlx)}
            compare(lambda m: m.zeros_like(src[m]), exact=True)
            compare(lambda m: m.ones_like(src[m]), exact=True)
            compare(lambda m: m.ones_like(src[m], m.float16), exact=True)
            compare(lambda m: m.zeros_like(src[m], dtype=m.int8), exact=True)
            compare(lambda m: m.empty_like(src[m]), exact=True)
    compare(lambda m: m.zeros_like(np.ones(2)))
    compare(lambda m: m.zeros_like(1.0))
    compare(lambda m: m.zeros_like([1.0]))
    compare(lambda m: m.ones_like(m.zeros(2), "float32"))


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
@pytest.mark.parametrize("value", [7, 7.5, 1 + 1j, True, 2 ** 40, -1, 1e4, np.float64(2.5),
                                   "array", "array_mismatch", "array_float"])
@pytest.mark.parametrize("src", ["int32", "bool_", "uint8", "float16", "float32"])
def test_full_like(value, src):
    def fill(m):
        a = m.arange(6).reshape(2, 3).astype(getattr(m, src))
        if value == "array":
            return m.full_like(a, m.array([1, 2, 3]))
        if value == "array_float":
            return m.full_like(a, m.array([1.5, 2, 3]), m.float16)
        if value == "array_mismatch":
            return m.full_like(a, m.array([1, 2]))
        return m.full_like(a, value)
    compare(fill, exact=True)
    compare(lambda m: m.full_like(m.zeros((2,), getattr(m, src)), 3, dtype=m.float16),
            exact=True)


# -- arange -----------------------------------------------------------------------------

ARANGE_CALLS = [
    ((5,), {}), ((5.0,), {}), ((2, 5), {}), ((2, 5, 2), {}), ((5, 2, -1), {}), ((5, 2), {}),
    ((0, 1, 0.1), {}), ((0, 1, 0.3), {}), ((0, -1, -0.25), {}), ((0.5,), {}), ((-0.5,), {}),
    ((-5,), {}), ((0, 0), {}), ((3, 3, -1), {}),
    ((0, 20, 0.7), {}), ((0.1, 100, 0.1), {}), ((1e8, 1e8 + 10, 1), {}), ((-3.3, 17.1, 1.3), {}),
    ((2 ** 31 + 5, 2 ** 31 + 8), {}), ((-(2 ** 31) - 1, -(2 ** 31) + 2), {}),
    ((0, 2 ** 33, 2 ** 31), {}), ((0, 3, 2 ** 31), {}), ((0, 3, 2 ** 31 - 1), {}),
    ((), {"stop": 5}), ((), {"start": 1, "stop": 5}), ((1,), {"stop": 5}),
    ((), {"step": 2, "stop": 5}), ((1, 5), {"step": 2}), ((5,), {"step": 2}),
    ((5,), {"dtype": "int32", "step": 2}), ((2, None), {}), ((2, None, 2), {}),
    ((2.5, None, 1), {}), ((0, 5, None), {}), ((5, 2, "int32"), {}), ((5, 2, "float32"), {}),
    ((1, 2, 3, "int32"), {}), ((1, 2, 1, None), {}), ((5,), {"dtype": "float16", "stop": 3}),
    ((True, 3), {}), ((0, 3, True), {}), ((0.0, 3, True), {}),
    # errors
    ((), {}), ((1, 2, 3, 4), {}), ((), {"start": 5}), ((None, 5), {}), ((True,), {}),
    (("a",), {}), ((np.int64(3),), {}), ((np.float32(3),), {}), ((np.float64(3),), {}),
    ((0, 5, 0), {}), ((0, 5, 0.0), {}), ((1, 4, -0.0), {}), ((0, INF), {}), ((0, NAN), {}),
    ((NAN,), {}), ((-INF, 0, INF), {}), ((0, 5, INF), {}), ((0, -5, INF), {}),
    ((0, 5, -INF), {}), ((5, 0, -INF), {}), ((2 ** 40,), {}), ((0, 3, 1e-300), {}),
    ((1, 5, 1), {"stop": 3}), ((1,), {"bogus": 3}),
]


def _call_arange(m, args, kwargs):
    args = tuple(getattr(m, a) if isinstance(a, str) and hasattr(m, a) else a for a in args)
    kwargs = {k: getattr(m, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    return m.arange(*args, **kwargs)


@pytest.mark.parametrize("args,kwargs", ARANGE_CALLS)
def test_arange_forms(args, kwargs):
    compare(lambda m: _call_arange(m, args, kwargs), exact=True)


@pytest.mark.parametrize("dtype", [d for d in DTYPE_NAMES if d != "bool_"])
def test_arange_dtypes(dtype):
    """Every dtype, with the running-sum rounding and integer truncation of MLX."""
    for args in [(5,), (0, 1, 0.1), (0, 1, 0.3), (0, 5, 1.5), (0.5, 5, 1), (0, 5, 0.5),
                 (-3.7, 5, 2.2), (-0.5, 3, 1), (0, 1, 0.25), (10, -3, -0.7), (0, 5, INF),
                 (-1, 5, 1), (5, -1, -1), (0, 300), (0, 3000, 1.5), (1, 2, 0.001)]:
        if dtype.startswith("u") and args in [(-3.7, 5, 2.2), (10, -3, -0.7), (-1, 5, 1)]:
            continue  # a negative float to unsigned int is undefined behaviour in C
        compare(lambda m: m.arange(*args, dtype=getattr(m, dtype)), exact=True)
    compare(lambda m: m.arange(5, dtype=m.bool_))


def test_arange_float16_saturates_like_mlx():
    """float16 accumulation stalls at 2048 (2048 + 1 rounds back): MLX's loop does the same."""
    compare(lambda m: m.arange(0, 5000, 1, m.float16), exact=True)
    compare(lambda m: m.arange(0, 1000, 1, m.int8), exact=True)


def test_arange_keyword_errors():
    compare(lambda m: m.arange(0, 3, 1, dtype="int32"))
    compare(lambda m: m.arange(m.array(3)))
    compare(lambda m: m.arange(1, 5, stream=m.cpu), exact=True)


# -- linspace ---------------------------------------------------------------------------

LINSPACE_CASES = [
    (0, 1, 5), (0, 1, 50), (0, 1, 1), (0, 1, 0), (0, 1, 2), (1, 0, 5), (0.1, 0.7, 7),
    (-3.3, 17.1, 13), (0, 10, 4), (-1, 10, 4), (0, INF, 3), (0, NAN, 3), (0, 1e30, 3),
    (0, 1e40, 3), (2.7, 1, 1), (0, 2 ** 40, 3), (True, 2, 3), (-5, -5, 4), (1e-8, 1e-7, 9),
]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # inf * 0 and float32 overflow, as in MLX
@pytest.mark.parametrize("start,stop,num", LINSPACE_CASES)
@pytest.mark.parametrize("dtype", [None, "float32", "float64", "float16", "bfloat16", "int32",
                                   "uint8", "bool_", "complex64", "int64"])
def test_linspace(start, stop, num, dtype):
    if dtype in ("int32", "uint8", "int64") and (start, stop) in (
            (0, INF), (0, NAN), (0, 1e40), (0, 1e30), (0, 2 ** 40)):
        return  # nan/inf/huge float to int is undefined behaviour in C
    if dtype == "uint8" and (start < 0 or stop < 0 or stop > 255):
        return
    kw = {} if dtype is None else {"dtype": _dt(mlx, dtype)}
    theirs = mlx.linspace(start, stop, num, **kw)
    kw = {} if dtype is None else {"dtype": _dt(mx, dtype)}
    ours = mx.linspace(start, stop, num, **kw)
    assert_same(ours, theirs, rtol=0, atol=0)
    for endpoint in (True, False):
        compare(lambda m: m.linspace(start, stop, num, endpoint,
                                     **({} if dtype is None else {"dtype": _dt(m, dtype)})),
                exact=True)


def test_linspace_errors_and_forms():
    compare(lambda m: m.linspace(0, 1, -1))
    compare(lambda m: m.linspace(0, 1, 4.0))
    compare(lambda m: m.linspace(0, 1, None))
    compare(lambda m: m.linspace(1j, 2, 3))
    compare(lambda m: m.linspace(0, 1, 2 ** 40))
    compare(lambda m: m.linspace(0, 1, np.int64(3)), exact=True)
    compare(lambda m: m.linspace(0, 1, True), exact=True)
    compare(lambda m: m.linspace(np.float32(0), 1, 3), exact=True)
    compare(lambda m: m.linspace(m.array(0), 1, 3), exact=True)
    compare(lambda m: m.linspace(0, 1, 3, dtype=None), exact=True)
    compare(lambda m: m.linspace(0, 1, 5, False), exact=True)
    compare(lambda m: m.linspace(0, 1, 3, True, m.float32, m.cpu), exact=True)
    compare(lambda m: m.linspace(start=0, stop=2, num=3, endpoint=False), exact=True)


# -- eye, identity, tri, tril, triu -----------------------------------------------------

@pytest.mark.parametrize("n,m_,k", list(itertools.product([0, 1, 3], [None, 0, 2, 4],
                                                          [0, 1, -1, 3, -5])))
def test_eye_tri(n, m_, k):
    compare(lambda m: m.eye(n, m_, k), exact=True)
    compare(lambda m: m.tri(n, m_, k), exact=True)
    compare(lambda m: m.eye(n, m_, k, m.int32), exact=True)
    compare(lambda m: m.tri(n, m_, k, m.bool_), exact=True)


@pytest.mark.parametrize("dtype", DTYPE_NAMES + [None])
def test_eye_identity_tri_dtypes(dtype):
    compare(lambda m: m.eye(3, dtype=_dt(m, dtype)), exact=True)
    compare(lambda m: m.identity(2, _dt(m, dtype)), exact=True)
    compare(lambda m: m.tri(2, 3, dtype=_dt(m, dtype)), exact=True)


def test_eye_tri_errors():
    for f in [lambda m: m.eye(-1), lambda m: m.eye(2, -1), lambda m: m.eye(2.0),
              lambda m: m.eye(np.int64(2)), lambda m: m.eye(n=2, m=3, k=1),
              lambda m: m.identity(0), lambda m: m.identity(-2), lambda m: m.tri(-1),
              lambda m: m.tri(-1, 2), lambda m: m.tri(2, -1), lambda m: m.tri(2, k=1.0),
              lambda m: m.identity(2, None), lambda m: m.eye(2, None, 0, None)]:
        compare(f, exact=True)


@pytest.mark.parametrize("k", [0, 1, -1, 2, -3, 5, -5])
@pytest.mark.parametrize("shape", [(3, 4), (4, 3), (2, 3, 4), (0, 3), (1, 1)])
def test_tril_triu(k, shape):
    for d in ["int32", "bool_", "float16", "complex64"]:
        src = {lib: (lib.arange(int(np.prod(shape))).reshape(shape) % 5).astype(getattr(lib, d))
               for lib in (mx, mlx)}
        compare(lambda m: m.tril(src[m], k), exact=True)
        compare(lambda m: m.triu(src[m], k=k), exact=True)


def test_tril_triu_errors():
    for name in ("tril", "triu"):
        compare(lambda m: getattr(m, name)(m.arange(3)))
        compare(lambda m: getattr(m, name)(m.array(1)))
        compare(lambda m: getattr(m, name)(np.ones((2, 2))))
        compare(lambda m: getattr(m, name)(m.ones((2, 2)), k=1.0))


# -- engine properties ------------------------------------------------------------------

def test_creation_is_lazy_and_params_hashable():
    xs = [mx.zeros((2, 3)), mx.arange(5), mx.eye(3), mx.tri(3), mx.full((2,), 1.5)]
    assert all(x._node.data is None for x in xs)
    prims = [P.Full((2,)), P.Arange(0, 0.5, 4, mx.float32), P.Eye(2, 3, 1, mx.int32),
             P.Tri(2, 2, 0, mx.bool_)]
    for p in prims:
        assert p == type(p)(*p.params()) and hash(p) == hash(type(p)(*p.params()))


def test_doctests():
    result = doctest.testmod(creation_ops, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 12
