"""Reductions, softmax and scans against real MLX: values, dtypes, shapes and errors."""
import doctest
import warnings

import numpy as np
import pytest

import mlxpy.core as mx
from oracle import mlx, needs_mlx, to_mlx, assert_same, raises_like, dtype_name, DTYPE_NAMES

pytestmark = needs_mlx

FLOAT_NAMES = ["float16", "bfloat16", "float32", "float64"]


def sample(shape, dtype_name, seed=0, ties=False):
    """Values for `dtype_name` (negatives where the dtype allows), as an mlxpy array."""
    rng = np.random.default_rng(seed)
    d = getattr(mx, dtype_name)
    if d.kind == "b":
        v = rng.random(shape) > 0.5
    elif d.kind == "u":
        v = rng.integers(0, 6, shape)
    elif d.kind == "i" or ties:
        v = rng.integers(-5, 6, shape)
    elif d.kind == "c":
        v = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    else:
        v = np.round(rng.standard_normal(shape) * 3, 2)
    return mx.array(np.asarray(v)).astype(d)


def specials(dtype_name):
    """A 2-D float array with nan, +-inf, -0 and ordinary values (rows differ)."""
    nan, inf = float("nan"), float("inf")
    v = np.array([[1.0, nan, -2.0, 3.0],
                  [inf, 1.0, -inf, 0.5],
                  [-inf, -inf, -inf, -inf],
                  [-0.0, 0.0, 2.0, 2.0],
                  [inf, inf, 1.0, -1.0]])
    return mx.array(v).astype(getattr(mx, dtype_name))


# MLX's float64 exp and log are only about float32-accurate (relative errors near
# 2e-7), where NumPy's are exact to the last bit.
TRANSCENDENTAL = {"logsumexp", "softmax", "logcumsumexp", "std"}


def tol_for(name, dtype):
    return {"rtol": 1e-6, "atol": 1e-9} if dtype == "float64" and name in TRANSCENDENTAL else {}


def compare(fn_ours, fn_theirs, empty=False, **tol):
    """Same result as the oracle, or the same exception type.

    Empty inputs never reach MLX's evaluation: MLX 0.32's CPU reductions of empty
    arrays hang now and then. Errors come before evaluation, shapes and dtypes too;
    the values of empty inputs' reductions are checked in `test_empty_inputs`.
    """
    try:
        theirs = fn_theirs()
    except Exception:  # noqa: BLE001 - the oracle raised: we must raise the same type
        raises_like(fn_ours, fn_theirs)
        return
    ours = fn_ours()
    if empty or theirs.size == 0:
        assert dtype_name(ours.dtype) == dtype_name(theirs.dtype)
        assert tuple(ours.shape) == tuple(theirs.shape)
        return np.asarray(ours)
    mlx.eval(theirs)
    assert_same(ours, theirs, **tol)


REDUCE_CASES = [
    ((), None), ((), ()), ((5,), None), ((5,), 0), ((5,), -1), ((5,), ()),
    ((3, 4), None), ((3, 4), 0), ((3, 4), -1), ((3, 4), (0, 1)), ((3, 4), [-1, 0]),
    ((2, 3, 4), (0, 2)), ((2, 3, 4), 1), ((2, 3, 4), (-1,)), ((2, 3, 4), []),
    ((0,), None), ((2, 0, 3), 0), ((2, 0, 3), 1), ((2, 0, 3), (0, 2)), ((3, 0), 0),
]
REDUCTIONS = ["sum", "prod", "max", "min", "mean", "var", "std", "all", "any", "logsumexp"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_reduction_sweep(name, dtype):
    if name == "logsumexp" and dtype == "complex64":
        pytest.skip("complex logsumexp: covered separately")
    ours_fn, theirs_fn = getattr(mx, name), getattr(mlx, name)
    for seed, (shape, axis) in enumerate(REDUCE_CASES):
        x = sample(shape, dtype, seed)
        y = to_mlx(x)
        if name == "logsumexp" and dtype in ("bool_", "uint8", "uint16", "uint32", "uint64"):
            # Off its last-axis path MLX computes x - max(x) in bool or unsigned
            # arithmetic (wrong values); ours is the float32 logsumexp of the values.
            y = y.astype(mlx.float32)
        for keepdims in (False, True):
            compare(lambda: ours_fn(x, axis=axis, keepdims=keepdims),
                    lambda: theirs_fn(y, axis=axis, keepdims=keepdims), empty=0 in shape,
                    **tol_for(name, dtype))


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min", "mean", "var", "std", "all",
                                  "any", "logsumexp"])
@pytest.mark.parametrize("dtype", FLOAT_NAMES)
def test_reduction_special_values(name, dtype):
    x = specials(dtype)
    y = to_mlx(x)
    for axis in (None, 0, 1, -1):
        compare(lambda: getattr(mx, name)(x, axis=axis),
                lambda: getattr(mlx, name)(y, axis=axis), **tol_for(name, dtype))


def test_empty_inputs():
    """Reductions of empty arrays: MLX's shapes, dtypes and errors (from the oracle,
    unevaluated) and its values (sum 0, prod 1, all True, any False, mean and var nan),
    which NumPy shares."""
    cases = [((0,), None), ((0,), 0), ((2, 0, 3), 0), ((2, 0, 3), 1), ((2, 0, 3), (0, 2)),
             ((3, 0), 0), ((3, 0), 1), ((3, 0), None)]
    reference = {"sum": np.sum, "prod": np.prod, "all": np.all, "any": np.any,
                 "mean": np.mean, "var": np.var, "std": np.std}
    for dtype in ("bool_", "uint8", "int16", "int64", "float16", "float32", "complex64"):
        for shape, axis in cases:
            x = mx.zeros(shape, dtype=getattr(mx, dtype))
            y = to_mlx(x)
            h = np.zeros(shape, dtype=np.float64)
            ax = tuple(axis) if isinstance(axis, list) else axis
            for name in REDUCTIONS + ["argmax", "argmin"]:
                for keepdims in (False, True):
                    got = compare(lambda: getattr(mx, name)(x, axis=axis, keepdims=keepdims),
                                  lambda: getattr(mlx, name)(y, axis=axis, keepdims=keepdims),
                                  empty=True)
                    if got is not None and name in reference:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore", RuntimeWarning)
                            want = reference[name](h, axis=ax, keepdims=keepdims)
                        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "uint8", "uint16", "uint32",
                                   "int64", "uint64", "bool_"])
def test_integer_sums_accumulate_and_wrap(dtype):
    d = getattr(mx, dtype)
    hi = 1 if dtype == "bool_" else int(np.iinfo(d.np).max)
    x = mx.array(np.full((2, 3), hi, dtype=d.np))
    y = to_mlx(x)
    for name in ("sum", "prod", "mean"):
        for axis in (None, 0, 1):
            compare(lambda: getattr(mx, name)(x, axis=axis),
                    lambda: getattr(mlx, name)(y, axis=axis))


def test_half_precision_sum_accumulates_in_float32():
    for dtype in ("float16", "bfloat16"):
        x = mx.full((3000,), 0.1).astype(getattr(mx, dtype))
        y = to_mlx(x)
        assert_same(mx.sum(x), mlx.sum(y))
        assert_same(mx.mean(x), mlx.mean(y))
    x = mx.array([60000.0, 60000.0, -60000.0]).astype(mx.float16)
    assert_same(mx.sum(x), mlx.sum(to_mlx(x)))
    x = mx.array([300.0, 300.0, 1 / 300]).astype(mx.float16)
    assert_same(mx.prod(x), mlx.prod(to_mlx(x)))
    # The mean scales by 1/N: N = 70000 overflows float16 but 1/N does not.
    x = mx.full((70000,), 0.5, dtype=mx.float16)
    assert_same(mx.mean(x), mlx.mean(to_mlx(x)))


def test_var_std_ddof_and_correction():
    x = mx.array([[1.0, 2.0, 4.0], [1.0, 1.0, 1.0]])
    y = to_mlx(x)
    for ddof in (-1, 0, 1, 2, 3, 5):
        for axis in (None, 0, 1):
            assert_same(mx.var(x, axis=axis, ddof=ddof), mlx.var(y, axis=axis, ddof=ddof))
            assert_same(mx.std(x, axis, True, ddof), mlx.std(y, axis, True, ddof))
    assert_same(x.var(correction=1), y.var(correction=1))
    assert_same(x.var(ddof=1, correction=0), y.var(ddof=1, correction=0))
    assert_same(mx.std(x, correction=2), mlx.std(y, correction=2))
    # Two passes: a large offset does not cancel the variance away.
    z = mx.array([1e6 + 1, 1e6 + 2, 1e6 + 3])
    assert_same(mx.var(z), mlx.var(to_mlx(z)))
    raises_like(lambda: mx.var(x, ddof=1.5), lambda: mlx.var(y, ddof=1.5))


def test_argreductions():
    cases = [((), None), ((7,), None), ((7,), 0), ((3, 4), None), ((3, 4), 0), ((3, 4), -1),
             ((2, 3, 4), 1), ((2, 3, 4), -3), ((3, 4), 2), ((3, 4), -3), ((0,), None),
             ((2, 0), 0), ((2, 0), 1)]
    for dtype in DTYPE_NAMES:
        for seed, (shape, axis) in enumerate(cases):
            x = sample(shape, dtype, seed, ties=True)
            y = to_mlx(x)
            for name in ("argmax", "argmin"):
                for keepdims in (False, True):
                    if shape == () and keepdims:
                        continue  # MLX crashes (std::vector max_size); we give shape ()
                    compare(lambda: getattr(mx, name)(x, axis=axis, keepdims=keepdims),
                            lambda: getattr(mlx, name)(y, axis=axis, keepdims=keepdims),
                            empty=0 in shape)
    for dtype in FLOAT_NAMES:
        x = specials(dtype)
        y = to_mlx(x)
        for axis in (None, 0, 1):
            assert_same(mx.argmax(x, axis), mlx.argmax(y, axis))
            assert_same(mx.argmin(x, axis), mlx.argmin(y, axis))
    assert mx.argmax(mx.array(3.0), keepdims=True).shape == ()
    raises_like(lambda: mx.argmax(x, axis=(0,)), lambda: mlx.argmax(y, axis=(0,)))


def test_logsumexp_infinities_and_stability():
    inf, nan = float("inf"), float("nan")
    rows = [[-inf, -inf], [inf, 1.0], [inf, -inf], [inf, inf], [nan, 1.0], [1000.0, 1000.0],
            [-1000.0, -1001.0]]
    x = mx.array(rows)
    y = to_mlx(x)
    for keepdims in (False, True):
        assert_same(mx.logsumexp(x, axis=1, keepdims=keepdims),
                    mlx.logsumexp(y, axis=1, keepdims=keepdims))
    assert_same(mx.logsumexp(mx.array([1.0, 2.0]), axis=()),
                mlx.logsumexp(mlx.array([1.0, 2.0]), axis=()))
    c = mx.array([1 + 1j, 2 + 0j, 3 - 0.5j])
    assert_same(mx.logsumexp(c), mlx.logsumexp(to_mlx(c)))


SOFTMAX_CASES = [((5,), None), ((5,), -1), ((3, 4), -1), ((3, 4), 1), ((3, 4), 0),
                 ((3, 4), None), ((3, 4), (0, 1)), ((2, 3, 4), (0, 2)), ((3, 4), ()),
                 ((), None), ((0, 3), 0), ((3, 4), 2), ((3, 4), (1, -1))]


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_softmax(dtype):
    for seed, (shape, axis) in enumerate(SOFTMAX_CASES):
        x = sample(shape, dtype, seed)
        y = to_mlx(x)
        last_only = axis == -1 or (axis is not None and axis == len(shape) - 1) or \
            (axis is None and len(shape) == 1)
        if x.dtype.kind not in "fc" and not last_only:
            # MLX casts the result back to the integer dtype here (all zeros); we give
            # float32 as on its last-axis path, so compare with a float32 input.
            y = y.astype(mlx.float32)
        for precise in (False, True):
            compare(lambda: mx.softmax(x, axis, precise=precise),
                    lambda: mlx.softmax(y, axis, precise=precise), empty=0 in shape,
                    **tol_for("softmax", dtype))
    assert mx.softmax(mx.array([[1, 2], [3, 4]])).dtype is mx.float32


def test_softmax_special_values():
    for dtype in FLOAT_NAMES:
        x = specials(dtype)
        y = to_mlx(x)
        for axis in (None, 0, 1):
            assert_same(mx.softmax(x, axis=axis), mlx.softmax(y, axis=axis),
                        **tol_for("softmax", dtype))


SCANS = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"]
SCAN_CASES = [((), None), ((6,), None), ((6,), 0), ((6,), -1), ((3, 4), None), ((3, 4), 0),
              ((3, 4), 1), ((2, 3, 4), -2), ((0,), None), ((2, 0), 1), ((2, 0), 0),
              ((6,), 1), ((3, 4), -3), ((), 0)]


@pytest.mark.parametrize("name", SCANS)
@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_scan_sweep(name, dtype):
    if name == "logcumsumexp" and dtype == "complex64":
        pytest.skip("complex logcumsumexp: covered separately")
    ours_fn, theirs_fn = getattr(mx, name), getattr(mlx, name)
    for seed, (shape, axis) in enumerate(SCAN_CASES):
        x = sample(shape, dtype, seed)
        y = to_mlx(x)
        for reverse in (False, True):
            for inclusive in (True, False):
                compare(lambda: ours_fn(x, axis, reverse=reverse, inclusive=inclusive),
                        lambda: theirs_fn(y, axis, reverse=reverse, inclusive=inclusive),
                        empty=0 in shape, **tol_for(name, dtype))


@pytest.mark.parametrize("name", SCANS)
def test_scan_special_values(name):
    for dtype in FLOAT_NAMES:
        x = specials(dtype)
        y = to_mlx(x)
        half = dtype in ("float16", "bfloat16")
        if half and name in ("cummax", "cummin"):
            # MLX's half-precision cummax/cummin garble values after a NaN
            # ([nan, 1, -inf] gives [nan, 0, 0]); ours propagate NaN as in float32.
            y = y.astype(mlx.float32)
        for axis in (0, 1):
            for reverse in (False, True):
                theirs = getattr(mlx, name)(y, axis, reverse=reverse)
                assert_same(getattr(mx, name)(x, axis, reverse=reverse),
                            theirs.astype(getattr(mlx, dtype)), **tol_for(name, dtype))


def test_scan_dtype_argument_and_overflow():
    x = mx.array([200, 100, 50], dtype=mx.uint8)
    y = to_mlx(x)
    assert_same(mx.cumsum(x), mlx.cumsum(y))  # wraps in uint8
    for d in ("int32", "float64", "bool_", "complex64", "float16"):
        assert_same(mx.cumsum(x, dtype=getattr(mx, d)), mlx.cumsum(y, dtype=getattr(mlx, d)))
        assert_same(mx.cumprod(x, dtype=getattr(mx, d)), mlx.cumprod(y, dtype=getattr(mlx, d)))
    # float16 scans accumulate in float16, as MLX's do.
    h = mx.full((3000,), 0.1, dtype=mx.float16)
    assert_same(mx.cumsum(h), mlx.cumsum(to_mlx(h)))
    b = mx.full((3000,), 0.1, dtype=mx.bfloat16)
    assert_same(mx.cumsum(b), mlx.cumsum(to_mlx(b)))
    raises_like(lambda: mx.cumsum(x, dtype=1), lambda: mlx.cumsum(y, dtype=1))
    raises_like(lambda: mx.cumsum(x, axis=(0,)), lambda: mlx.cumsum(y, axis=(0,)))


def test_complex_logcumsumexp():
    c = mx.array([[1 + 1j, 2 - 0.5j, 0.3 + 0.2j], [-1 + 0j, 0.5j, 2 + 2j]])
    for axis in (None, 0, 1):
        for reverse in (False, True):
            assert_same(mx.logcumsumexp(c, axis, reverse=reverse),
                        mlx.logcumsumexp(to_mlx(c), axis, reverse=reverse), atol=1e-5)


def test_argument_errors():
    x = mx.array([[1.0, 2.0], [3.0, 4.0]])
    y = to_mlx(x)
    bad = [
        ("sum", dict(axis=2)), ("sum", dict(axis=-3)), ("sum", dict(axis=(0, 0))),
        ("sum", dict(axis=(1, -1))), ("sum", dict(axis=1.0)), ("sum", dict(axis="a")),
        ("max", dict(axis=(0, 5))), ("mean", dict(axis=[0, -2])), ("all", dict(axis=3)),
        ("argmax", dict(axis=2)), ("argmin", dict(axis=1.5)), ("logsumexp", dict(axis=(0, 0))),
        ("softmax", dict(axis=(1, 1))), ("cumsum", dict(axis=2)), ("cummax", dict(axis=-3)),
        ("logcumsumexp", dict(axis=2.0)), ("var", dict(axis=4)),
    ]
    for name, kwargs in bad:
        raises_like(lambda: getattr(mx, name)(x, **kwargs), lambda: getattr(mlx, name)(y, **kwargs))
    for name in REDUCTIONS + SCANS + ["argmax", "argmin", "softmax"]:
        raises_like(lambda: getattr(mx, name)([1, 2]), lambda: getattr(mlx, name)([1, 2]))
        raises_like(lambda: getattr(mx, name)(3.0), lambda: getattr(mlx, name)(3.0))
    e = raises_like(lambda: mx.max(mx.zeros((3, 0)), axis=1),
                    lambda: mlx.max(mlx.zeros((3, 0)), axis=1))
    assert str(e).startswith("[max]")
    e = raises_like(lambda: mx.argmin(mx.zeros((0, 3)), axis=1),
                    lambda: mlx.argmin(mlx.zeros((0, 3)), axis=1))
    assert str(e).startswith("[argmin]")
    e = raises_like(lambda: mx.logsumexp(mx.zeros((3, 0)), axis=0),
                    lambda: mlx.logsumexp(mlx.zeros((3, 0)), axis=0))
    assert str(e).startswith("[logsumexp]")


def test_numpy_integer_axes():
    x = sample((2, 3, 4), "float32")
    y = to_mlx(x)
    assert_same(mx.sum(x, axis=np.int64(1)), mlx.sum(y, axis=np.int64(1)))
    assert_same(mx.max(x, axis=[np.int32(0), 2]), mlx.max(y, axis=[np.int32(0), 2]))
    assert_same(mx.mean(x, axis=range(2)), mlx.mean(y, axis=range(2)))
    assert_same(mx.cumsum(x, axis=np.int64(-1)), mlx.cumsum(y, axis=np.int64(-1)))
    assert_same(mx.argmax(x, np.int64(2)), mlx.argmax(y, np.int64(2)))


def test_methods_match_functions():
    x = sample((3, 4), "float32")
    y = to_mlx(x)
    for name in REDUCTIONS:
        assert_same(getattr(x, name)(), getattr(y, name)())
        assert_same(getattr(x, name)(1, True), getattr(y, name)(1, True))
        assert_same(getattr(x, name)(axis=(0, 1), keepdims=False),
                    getattr(y, name)(axis=(0, 1), keepdims=False))
    for name in ("argmax", "argmin"):
        assert_same(getattr(x, name)(), getattr(y, name)())
        assert_same(getattr(x, name)(0, True), getattr(y, name)(0, True))
    for name in SCANS:
        assert_same(getattr(x, name)(), getattr(y, name)())
        assert_same(getattr(x, name)(0, reverse=True, inclusive=False),
                    getattr(y, name)(0, reverse=True, inclusive=False))
    assert_same(x.var(0, False, 1), y.var(0, False, 1))
    assert_same(x.std(correction=1), y.std(correction=1))


def test_lazy_graph_and_streams():
    x = sample((4, 5), "float32")
    y = to_mlx(x)
    out = mx.softmax(x * 2, axis=0, stream=mx.cpu)
    assert out.shape == (4, 5) and out.dtype is mx.float32
    assert_same(out, mlx.softmax(y * 2, axis=0))
    assert_same(mx.sum(x, stream=mx.cpu), mlx.sum(y))
    # An op result can feed another before anything is evaluated.
    z = mx.cumsum(mx.max(x, axis=1, keepdims=True), axis=0, reverse=True)
    assert_same(z, mlx.cumsum(mlx.max(y, axis=1, keepdims=True), axis=0, reverse=True))


def test_primitive_params_are_frozen_and_hashable():
    from mlxpy.core.primitives import reduction as P
    assert P.Sum((0, 1), True) == P.Sum((0, 1), True)
    assert hash(P.Sum((0, 1), True)) == hash(P.Sum((0, 1), True))
    assert P.Sum((0,), False) != P.Prod((0,), False)
    assert P.CumSum(0, True, False).params() == (0, True, False)
    assert P.ArgMax(None, True) != P.ArgMax(0, True)


def test_docstrings_run():
    from mlxpy.core.ops import reduction
    result = doctest.testmod(reduction, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0
