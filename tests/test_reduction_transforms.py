"""Transforms of reductions, scans and sorts against real MLX.

vjp / jvp / grad / vmap (in_axes, out_axes, nested, vmap of grad) of `sum`, `prod`,
`max`, `min`, `all`, `any`, the arg-reductions, the scans, the sorts and the
composites built on them (`mean`, `var`, `std`, `logsumexp`, `softmax`, `topk`,
`median`), compared on values, dtypes and shapes. Where MLX has no rule (the jvp of
cumprod, cummax and cummin), crashes (cummax's vjp when NaN starts a scan) or differs
on purpose (docs/differences.md), the tests check mlxpy against finite differences or
against its own vjp instead.
"""
import itertools

import numpy as np
import pytest

import mlxpy.core as mx
from oracle import TOL, data, assert_same, mlx, needs_mlx

pytestmark = [needs_mlx, pytest.mark.filterwarnings("ignore::RuntimeWarning")]

nan, inf = float("nan"), float("inf")

def both(h, dtype="float32"):
    """The same values as (mlxpy, MLX) arrays of `dtype`."""
    h = np.asarray(h)
    if dtype == "complex64":
        h = h.astype(np.complex64)
        return mx.array(h), mlx.array(h)
    if dtype == "float64":
        return mx.array(h, dtype=mx.float64), mlx.array(h, dtype=mlx.float64)
    if dtype in ("int32", "bool_", "uint32"):
        h = h.astype(getattr(np, "bool_" if dtype == "bool_" else dtype))
        return mx.array(h), mlx.array(h)
    h = h.astype(np.float32)
    return mx.array(h).astype(getattr(mx, dtype)), mlx.array(h).astype(getattr(mlx, dtype))


def same(ours, theirs, dtype="float32"):
    rtol, atol = TOL.get(dtype, (1e-12, 0))
    assert_same(ours, theirs, rtol=rtol, atol=atol)


def vjp_both(f, h, cot, dtype="float32", cot_dtype=None):
    """vjp of `f(module, x)` at h with cotangent `cot`, in mlxpy and MLX."""
    x, x_ = both(h, dtype)
    c, c_ = both(cot, cot_dtype or dtype)
    outs, (g,) = mx.vjp(lambda x: f(mx, x), [x], [c])
    outs_, (g_,) = mlx.vjp(lambda x: f(mlx, x), [x_], [c_])
    return outs[0], outs_[0], g, g_


def jvp_both(f, h, tan, dtype="float32"):
    x, x_ = both(h, dtype)
    t, t_ = both(tan, dtype)
    outs, (j,) = mx.jvp(lambda x: f(mx, x), [x], [t])
    outs_, (j_,) = mlx.jvp(lambda x: f(mlx, x), [x_], [t_])
    return outs[0], outs_[0], j, j_


def check_vjp(f, h, seed=0, dtype="float32", cot=None, tol=None):
    out = f(mx, both(h, dtype)[0])
    if cot is None:
        cot = data(out.shape, 1000 + seed, dtype)
    o, o_, g, g_ = vjp_both(f, h, cot, dtype)
    if tol is None:
        same(o, o_, dtype)
        same(g, g_, dtype)
    else:
        assert_same(o, o_, rtol=tol, atol=tol)
        assert_same(g, g_, rtol=tol, atol=tol)


def check_jvp(f, h, seed=0, dtype="float32", tan=None, tol=None):
    if tan is None:
        tan = data(np.shape(h), 2000 + seed, dtype)
    o, o_, j, j_ = jvp_both(f, h, tan, dtype)
    if tol is None:
        same(o, o_, dtype)
        same(j, j_, dtype)
    else:
        assert_same(o, o_, rtol=tol, atol=tol)
        assert_same(j, j_, rtol=tol, atol=tol)


def fd_check(f, h, seed=0, eps=1e-6, tol=1e-6):
    """vjp and jvp of `f(mx, x)` in float64 against central differences and each other."""
    rng = np.random.default_rng(seed)
    x = mx.array(h, dtype=mx.float64)
    out = f(mx, x)
    u = rng.standard_normal(out.shape)
    v = rng.standard_normal(np.shape(h))
    _, (g,) = mx.vjp(lambda x: f(mx, x), [x], [mx.array(u, dtype=mx.float64)])
    _, (j,) = mx.jvp(lambda x: f(mx, x), [x], [mx.array(v, dtype=mx.float64)])
    plus = np.array(f(mx, mx.array(h + eps * v, dtype=mx.float64)))
    minus = np.array(f(mx, mx.array(h - eps * v, dtype=mx.float64)))
    fd = (plus - minus) / (2 * eps)
    finite = np.isfinite(fd)
    np.testing.assert_allclose(np.array(j)[finite], fd[finite], rtol=tol, atol=tol)
    lhs = float((np.array(g) * v).sum())
    rhs = float((u * np.array(j)).sum())
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs)), (lhs, rhs)


# -- plain reductions --------------------------------------------------------------------

REDUCE_CALLS = [(None, False), (None, True), (0, False), (1, True), (-1, False),
                ((0, 2), False), ((-1, 0), True), ((1, 2), False)]


@pytest.mark.parametrize("name", ["sum", "prod", "max", "min"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64", "complex64"])
def test_reduction_vjp_and_jvp_like_mlx(name, dtype):
    h = data((2, 3, 4), 1, dtype)
    if name == "prod" and dtype in ("float16", "bfloat16"):
        h = np.sign(h) * (0.5 + np.abs(h) % 1)  # keep products in range
    for k, (axis, keepdims) in enumerate(REDUCE_CALLS):
        def f(m, x, axis=axis, keepdims=keepdims):
            return getattr(m, name)(x, axis=axis, keepdims=keepdims)
        check_vjp(f, h, k, dtype)
        check_jvp(f, h, k, dtype)


def test_max_min_vjp_split_ties_jvp_takes_first_like_mlx():
    h = np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 0.0], [-inf, -inf, -inf, -inf]])
    for name in ("max", "min"):
        for axis, keepdims in [(None, False), (1, False), (1, True), (0, False), ((0, 1), True)]:
            def f(m, x, axis=axis, keepdims=keepdims):
                return getattr(m, name)(x, axis=axis, keepdims=keepdims)
            check_vjp(f, h, 0)
            check_jvp(f, h, 0, tan=np.arange(12.0).reshape(3, 4))
    # Three equal maxima share the cotangent in thirds, also in half precision.
    for dtype in ("float16", "bfloat16"):
        check_vjp(lambda m, x: m.max(x), np.ones(3), 0, dtype, cot=np.array(1.0))


def test_max_min_with_nan_and_inf_like_mlx():
    h = np.array([[1.0, nan, 2.0], [inf, 1.0, -inf], [nan, nan, 0.0]])
    for name in ("max", "min"):
        for axis in (None, 0, 1):
            def f(m, x, axis=axis):
                return getattr(m, name)(x, axis=axis)
            check_vjp(f, h, 0)
            check_jvp(f, h, 0)


def test_prod_with_zeros_like_mlx():
    cases = [np.array([2.0, 0.0, 3.0]), np.array([2.0, 0.0, 0.0, 3.0]),
             np.array([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0], [4.0, 5.0, 6.0]]),
             np.arange(24.0).reshape(2, 3, 4) - 5, np.zeros((2, 2))]
    for h in cases:
        for axis in [None] + list(range(h.ndim)) + ([(0, h.ndim - 1)] if h.ndim > 1 else []):
            for keepdims in (False, True):
                def f(m, x, axis=axis, keepdims=keepdims):
                    return m.prod(x, axis=axis, keepdims=keepdims)
                check_vjp(f, h, 0, cot=np.ones(f(np, h).shape))
                check_vjp(f, h, 1)
                check_jvp(f, h, 2)


def test_prod_grad_with_zero_has_no_nan():
    g = mx.vjp(lambda x: mx.prod(x), [mx.array([0.0, 0.0, 1e-30, 1e30])], [mx.array(1.0)])[1][0]
    assert not np.isnan(np.array(g)).any()


def test_integer_and_bool_reduction_cotangent_dtypes_like_mlx():
    for name, dtype in itertools.product(["sum", "prod", "max", "min"], ["int32", "bool_"]):
        if name == "prod" and dtype == "bool_":
            continue
        h = np.array([[3, 1, 2], [0, 4, 4]])
        x, x_ = both(h, dtype)
        out = getattr(mx, name)(x, axis=1)
        out_ = getattr(mlx, name)(x_, axis=1)
        c, c_ = mx.ones(out.shape, dtype=out.dtype), mlx.ones(out_.shape, dtype=out_.dtype)
        g = mx.vjp(lambda x: getattr(mx, name)(x, axis=1), [x], [c])[1][0]
        g_ = mlx.vjp(lambda x: getattr(mlx, name)(x, axis=1), [x_], [c_])[1][0]
        same(g, g_)


def test_all_any_have_zero_derivatives():
    # MLX's rules treat all/any like a sum (docs/differences.md); the derivative of a
    # boolean is zero, with MLX's shapes and dtypes.
    for name in ("all", "any"):
        for dtype in ("float32", "float16"):
            x, x_ = both(data((2, 3), 0), dtype)
            o, (g,) = mx.vjp(lambda x: getattr(mx, name)(x, axis=0), [x],
                             [mx.array([True, False, True])])
            o_, (g_,) = mlx.vjp(lambda x: getattr(mlx, name)(x, axis=0), [x_],
                                [mlx.array([True, False, True])])
            same(o[0], o_[0])
            assert g.shape == g_.shape and g.dtype == x.dtype
            assert not np.array(g).any()
            t, t_ = both(data((2, 3), 1), dtype)
            _, (j,) = mx.jvp(lambda x: getattr(mx, name)(x, axis=1, keepdims=True), [x], [t])
            _, (j_,) = mlx.jvp(lambda x: getattr(mlx, name)(x, axis=1, keepdims=True),
                               [x_], [t_])
            assert j.shape == j_.shape and j.dtype.name == str(j_.dtype).split(".")[-1]
            assert not np.array(j).any()


# -- arg-reductions and index sorts --------------------------------------------------------

ARG_CALLS = [
    ("argmax", lambda m, x: m.argmax(x)), ("argmax", lambda m, x: m.argmax(x, keepdims=True)),
    ("argmin", lambda m, x: m.argmin(x, axis=1)),
    ("argmin", lambda m, x: m.argmin(x, axis=-1, keepdims=True)),
    ("argsort", lambda m, x: m.argsort(x)), ("argsort", lambda m, x: m.argsort(x, axis=None)),
    ("argpartition", lambda m, x: m.argpartition(x, 1, axis=0)),
    ("argpartition", lambda m, x: m.argpartition(x, 3, axis=None)),
]


@pytest.mark.parametrize("dtype", ["float32", "float16", "int32"])
def test_index_ops_have_zero_derivatives_with_mlx_dtypes(dtype):
    h = data((3, 4), 0) * 10
    for name, f in ARG_CALLS:
        x, x_ = both(h, dtype)
        out, out_ = f(mx, x), f(mlx, x_)
        c, c_ = mx.ones(out.shape, dtype=out.dtype), mlx.ones(out_.shape, dtype=out_.dtype)
        g = mx.vjp(lambda x: f(mx, x), [x], [c])[1][0]
        g_ = mlx.vjp(lambda x: f(mlx, x), [x_], [c_])[1][0]
        same(g, g_)
        t, t_ = both(data((3, 4), 1), dtype)
        j = mx.jvp(lambda x: f(mx, x), [x], [t])[1][0]
        j_ = mlx.jvp(lambda x: f(mlx, x), [x_], [t_])[1][0]
        same(j, j_)


def test_argmax_of_0d_with_keepdims_vmaps():
    # MLX crashes on this call (docs/differences.md); mlxpy gives shape ().
    x = mx.array([3.0, 1.0, 2.0])
    out = mx.vmap(lambda v: mx.argmax(v, keepdims=True))(x)
    assert out.shape == (3,) and not np.array(out).any()


# -- scans ------------------------------------------------------------------------------

SCAN_CALLS = [dict(axis=1), dict(axis=-1, reverse=True), dict(axis=0, inclusive=False),
              dict(axis=2, reverse=True, inclusive=False), dict(), dict(reverse=True),
              dict(inclusive=False), dict(reverse=True, inclusive=False)]


def _exp_tolerance(name, dtype):
    if name != "logcumsumexp":
        return None
    # A bfloat16 logcumsumexp vjp goes through two scans in log space: both libraries
    # round at every step, differently, and are off the float64 result by up to ~0.1.
    # MLX's float64 exp is accurate to ~2e-7 only.
    return {"bfloat16": 0.15, "float64": 1e-6}.get(dtype)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
def test_scan_vjp_like_mlx(name, dtype):
    h = data((2, 3, 4), 3, dtype)
    if name == "cumprod":
        h = np.sign(h) * (0.5 + np.abs(h) % 1)
    tol = _exp_tolerance(name, dtype)
    for k, kw in enumerate(SCAN_CALLS):
        def f(m, x, kw=kw):
            return getattr(m, name)(x, **kw)
        check_vjp(f, h, k, dtype, tol=tol)


@pytest.mark.parametrize("name", ["cumsum", "logcumsumexp"])
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_scan_jvp_like_mlx(name, dtype):
    h = data((2, 3, 4), 4, dtype)
    tol = _exp_tolerance(name, dtype)
    for k, kw in enumerate(SCAN_CALLS):
        def f(m, x, kw=kw):
            return getattr(m, name)(x, **kw)
        check_jvp(f, h, k, dtype, tol=tol)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"])
def test_scan_derivatives_against_finite_differences(name):
    # MLX has no jvp for cumprod/cummax/cummin: check ours against finite differences
    # (skipping outputs that are -inf, the exclusive scans' identity) and the vjp.
    h = data((3, 5), 5)
    for k, kw in enumerate(SCAN_CALLS[:2] + SCAN_CALLS[4:] + [dict(axis=0, inclusive=False)]):
        fd_check(lambda m, x, kw=kw: getattr(m, name)(x, **kw), h, k)


def test_cumprod_with_zeros_like_mlx():
    rows = [[2.0, 0.0, 3.0, 0.0, 4.0], [0.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0, 0.0],
            [0.0, 0.0, 1.0, 2.0, 3.0], [1.5, -2.0, 0.5, 3.0, 1.0]]
    h = np.array(rows)
    for reverse, inclusive in itertools.product([False, True], repeat=2):
        for axis in (0, 1, None):
            def f(m, x, kw=dict(axis=axis, reverse=reverse, inclusive=inclusive)):
                return m.cumprod(x, **kw)
            check_vjp(f, h, 0, cot=np.ones(f(mx, mx.array(h)).shape))
            check_vjp(f, h, 1)


def test_cumprod_jvp_with_zeros_is_the_transpose_of_the_vjp():
    h = np.array([[2.0, 0.0, 3.0, 0.0, 4.0], [0.0, 2.0, 3.0, 4.0, 5.0], [1.5, -2.0, 0.5, 3.0, 0.0]])
    x = mx.array(h, dtype=mx.float64)
    for reverse, inclusive in itertools.product([False, True], repeat=2):
        def f(x):
            return mx.cumprod(x, axis=1, reverse=reverse, inclusive=inclusive)
        eye = np.eye(h.size).reshape((h.size,) + h.shape)
        jac_rows = np.stack([np.array(mx.vjp(f, [x], [mx.array(e, dtype=mx.float64)])[1][0])
                             for e in eye])
        jac_cols = np.stack([np.array(mx.jvp(f, [x], [mx.array(e, dtype=mx.float64)])[1][0])
                             for e in eye])
        np.testing.assert_allclose(jac_rows.reshape(h.size, h.size),
                                   jac_cols.reshape(h.size, h.size).T, rtol=1e-12)
        # And it is the true Jacobian: products are polynomials, smooth at zeros.
        fd_check(lambda m, x: m.cumprod(x, axis=1, reverse=reverse, inclusive=inclusive), h)


def test_cummax_cummin_ties_like_mlx():
    rows = [[1.0, 3.0, 3.0, 2.0], [2.0, 2.0, 2.0, 2.0], [0.0, 1.0, 0.0, 1.0],
            [-inf, -inf, 3.0, 5.0]]
    h = np.array(rows)
    for name in ("cummax", "cummin"):
        for reverse, inclusive in itertools.product([False, True], repeat=2):
            def f(m, x, kw=dict(axis=1, reverse=reverse, inclusive=inclusive)):
                return getattr(m, name)(x, **kw)
            check_vjp(f, h, 0, cot=np.array([[1.0, 10.0, 100.0, 1000.0]] * 4))
            check_vjp(f, -h if name == "cummin" else h, 1)
    # Integer scans keep integer cotangents.
    check_vjp(lambda m, x: m.cummax(x, reverse=True), np.array([2, 2, 1, 3]), 0, "int32",
              cot=np.array([1, 10, 100, 1000]))


def test_cummax_with_nan():
    # Where MLX gives an answer the gradient goes to the latest element equal to the
    # running maximum (NaN equals nothing); where MLX crashes (NaN first), the outputs
    # that copy no element get no gradient.
    c = mx.array([1.0, 10.0, 100.0, 1000.0])
    cases = [([1.0, 2.0, nan, 0.0], {}, [1, 1110, 0, 0]),
             ([1.0, 2.0, nan, 0.0], dict(reverse=True), [0, 0, 0, 1111]),
             ([1.0, 2.0, nan, 0.0], dict(inclusive=False), [10, 1100, 0, 0]),
             ([1.0, 2.0, nan, 0.0], dict(reverse=True, inclusive=False), [0, 0, 0, 111]),
             ([3.0, 1.0, nan, nan], {}, [1111, 0, 0, 0]),
             ([3.0, 1.0, nan, nan], dict(reverse=True), [0, 0, 0, 0]),
             ([nan, 1.0, 2.0, 3.0], {}, [0, 0, 0, 0])]
    for h, kw, want in cases:
        g = mx.vjp(lambda x: mx.cummax(x, **kw), [mx.array(h)], [c])[1][0]
        np.testing.assert_array_equal(np.array(g), want)
        if not np.isnan(h[0]) and (kw.get("reverse") is None or not np.isnan(h[-1])):
            # The cases MLX survives.
            g_ = mlx.vjp(lambda x: mlx.cummax(x, **kw), [mlx.array(h)],
                         [mlx.array([1.0, 10.0, 100.0, 1000.0])])[1][0]
            same(g, g_)


def test_logcumsumexp_edge_values_like_mlx():
    rows = [[-inf, 3.0, -inf, 2.0], [1.0, inf, 2.0, 0.0], [1000.0, 1000.0, -1000.0, 0.0],
            [-inf, -inf, -inf, -inf], [1.0, 3.0, 3.0, 2.0]]
    h = np.array(rows)
    cots = np.array([[1.0, -10.0, 0.0, 1000.0]] * 5)
    tans = np.array([[1.0, -2.0, 3.0, 0.0], [5.0, 2.0, -3.0, 1.0], [1.0, 2.0, 3.0, 4.0],
                     [1.0, 1.0, 1.0, 1.0], [1.0, nan, -inf, 3.0]])
    for reverse, inclusive in itertools.product([False, True], repeat=2):
        def f(m, x, kw=dict(axis=1, reverse=reverse, inclusive=inclusive)):
            return m.logcumsumexp(x, **kw)
        check_vjp(f, h, 0, cot=cots)
        check_vjp(f, h, 0, cot=np.ones_like(h))
        check_jvp(f, h, 0, tan=tans)


def test_complex_scans_conjugate_like_multiply():
    # MLX leaves the conjugate out of cumprod's and logcumsumexp's vjps (while prod
    # and multiply have it: docs/differences.md). mlxpy's vjp is g * conj(f'(z)).
    h = np.array([1 + 1j, 2 - 1j, 0.5 + 2j]).astype(np.complex64)
    z = mx.array(h)
    jac_cumprod = np.array([[1, 0, 0], [h[1], h[0], 0], [h[1] * h[2], h[0] * h[2], h[0] * h[1]]])
    e = np.exp(h)
    s = np.cumsum(e)
    jac_lcse = np.array([[e[j] / s[i] if j <= i else 0 for j in range(3)] for i in range(3)])
    g = np.array([1 + 0.5j, -1j, 2.0]).astype(np.complex64)
    t = np.array([0.5 - 1j, 1.0, 1j]).astype(np.complex64)
    for op, jac in [(mx.cumprod, jac_cumprod), (mx.logcumsumexp, jac_lcse)]:
        got = np.array(mx.vjp(op, [z], [mx.array(g)])[1][0])
        np.testing.assert_allclose(got, g @ jac.conj(), rtol=1e-5, atol=1e-6)
        got = np.array(mx.jvp(op, [z], [mx.array(t)])[1][0])
        np.testing.assert_allclose(got, jac @ t, rtol=1e-5, atol=1e-6)
    # prod and sum agree with MLX.
    for name in ("prod", "sum", "max"):
        check_vjp(lambda m, x: getattr(m, name)(x), h, 0, "complex64")


# -- sorts ------------------------------------------------------------------------------

SORT_CALLS = [dict(), dict(axis=0), dict(axis=1), dict(axis=None)]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64", "complex64"])
def test_sort_vjp_and_jvp_like_mlx(dtype):
    h = data((2, 3, 4), 6, dtype)
    for k, kw in enumerate(SORT_CALLS):
        def f(m, x, kw=kw):
            return m.sort(x, **kw)
        check_vjp(f, h, k, dtype)
        check_jvp(f, h, k, dtype)


def test_sort_with_ties_and_nan_follows_the_stable_order_like_mlx():
    h = np.array([[3.0, 1.0, 3.0, 2.0, 1.0], [nan, 0.0, nan, -0.0, 0.0]])
    for kw in (dict(), dict(axis=None), dict(axis=0)):
        def f(m, x, kw=kw):
            return m.sort(x, **kw)
        check_vjp(f, h, 0)
        check_jvp(f, h, 0)


def test_partition_vjp_and_jvp_like_mlx():
    # The two sides of a partition are in no particular order (MLX's and NumPy's
    # differ), so compare what is determined: the kth element's derivatives, and
    # the gradient when each side gets one cotangent value.
    h = data((3, 7), 7)
    for kth, axis in [(2, -1), (0, 0), (-1, 1), (10, None)]:
        x, x_ = both(h)
        out = mx.partition(x, kth, axis=axis)
        ax = 0 if axis is None else axis % out.ndim
        n = out.shape[ax]
        k = kth % n
        shape = [1] * out.ndim
        shape[ax] = n
        side = np.where(np.arange(n) < k, 1.5, np.where(np.arange(n) == k, -2.0, 0.25))
        cot = np.broadcast_to(side.reshape(shape), out.shape)
        _, _, g, g_ = vjp_both(lambda m, x: m.partition(x, kth, axis=axis), h, cot)
        same(g, g_)
        _, _, j, j_ = jvp_both(lambda m, x: m.partition(x, kth, axis=axis), h, data(h.shape, 8))
        idx = (slice(None),) * ax + (k,)
        same(j[idx], j_[idx])
        # Each output's tangent is the tangent of the input element it holds (the
        # values are distinct: match them by rank).
        flat = np.array(x).reshape(-1) if axis is None else np.array(x)
        t = np.array(both(data(h.shape, 8))[0])
        t = t.reshape(-1) if axis is None else t
        rank_out = np.argsort(np.argsort(np.array(out), axis=ax), axis=ax)
        holds = np.take_along_axis(np.argsort(flat, axis=ax), rank_out, ax)
        np.testing.assert_array_equal(np.array(j), np.take_along_axis(t, holds, ax))


def test_partition_with_ties_pairs_outputs_with_equal_inputs():
    # NumPy's partition and argpartition may arrange tied inputs differently: the
    # rules must follow the partition's own output.
    rng = np.random.default_rng(0)
    for trial in range(30):
        n = int(rng.integers(2, 20))
        h = rng.integers(0, 4, size=(2, n)).astype(np.float64)
        kth = int(rng.integers(0, n))
        x = mx.array(h, dtype=mx.float64)
        c = rng.standard_normal(h.shape)
        (out,), (g,) = mx.vjp(lambda x: mx.partition(x, kth, axis=1), [x],
                              [mx.array(c, dtype=mx.float64)])
        (_,), (j,) = mx.jvp(lambda x: mx.partition(x, kth, axis=1), [x],
                            [mx.array(c, dtype=mx.float64)])
        out, g, j = np.array(out), np.array(g), np.array(j)
        for r in range(2):
            for v in np.unique(h[r]):
                assert np.isclose(g[r][h[r] == v].sum(), c[r][out[r] == v].sum())
                assert np.isclose(j[r][out[r] == v].sum(), c[r][h[r] == v].sum())


# -- composites ---------------------------------------------------------------------------

COMPOSITES = [
    ("mean", lambda m, x: m.mean(x, axis=1)),
    ("mean", lambda m, x: m.mean(x, axis=(0, 2), keepdims=True)),
    ("var", lambda m, x: m.var(x)),
    ("var", lambda m, x: m.var(x, axis=-1, ddof=1)),
    ("std", lambda m, x: m.std(x, axis=0, keepdims=True)),
    ("logsumexp", lambda m, x: m.logsumexp(x)),
    ("logsumexp", lambda m, x: m.logsumexp(x, axis=(1, 2), keepdims=True)),
    ("softmax", lambda m, x: m.softmax(x, axis=-1)),
    ("softmax", lambda m, x: m.softmax(x, axis=(0, 1))),
    ("softmax", lambda m, x: m.softmax(x, axis=1, precise=True)),
    ("topk", lambda m, x: m.sort(m.topk(x, 2, axis=-1), axis=-1)),
    ("topk", lambda m, x: m.sort(m.topk(x, 3, axis=None))),
    ("median", lambda m, x: m.median(x, axis=1)),
    ("median", lambda m, x: m.median(x)),
    ("median", lambda m, x: m.median(x, axis=(0, 2), keepdims=True)),
]


@pytest.mark.parametrize("k", range(len(COMPOSITES)), ids=[c[0] for c in COMPOSITES])
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_grad_through_composites_like_mlx(k, dtype):
    _, f = COMPOSITES[k]
    h = data((2, 3, 4), 9, dtype)
    x, x_ = both(h, dtype)
    w = data(f(mx, x).shape, 10)
    wm, wm_ = both(w, dtype)
    g = mx.grad(lambda x: (f(mx, x) * wm).sum())(x)
    g_ = mlx.grad(lambda x: (f(mlx, x) * wm_).sum())(x_)
    same(g, g_, dtype)
    check_jvp(f, h, k, dtype)


def test_logsumexp_and_softmax_edge_values_like_mlx():
    h = np.array([[-inf, -inf, -inf], [inf, 1.0, 0.0], [1000.0, 1000.0, -1000.0],
                  [-inf, 0.0, 1.0]])
    for f in (lambda m, x: m.logsumexp(x, axis=1), lambda m, x: m.softmax(x, axis=1)):
        check_vjp(f, h, 0)


# -- vmap -------------------------------------------------------------------------------

VMAP_FUNCS = [
    lambda m, x: m.sum(x), lambda m, x: m.sum(x, axis=0, keepdims=True),
    lambda m, x: m.prod(x, axis=(0, 1)), lambda m, x: m.max(x, axis=-1),
    lambda m, x: m.min(x, keepdims=True), lambda m, x: m.all(x > 0, axis=1),
    lambda m, x: m.any(x > 1), lambda m, x: m.argmax(x), lambda m, x: m.argmin(x, axis=0),
    lambda m, x: m.argmax(x, axis=-1, keepdims=True),
    lambda m, x: m.cumsum(x), lambda m, x: m.cumsum(x, axis=1, reverse=True),
    lambda m, x: m.cumprod(x, axis=0, inclusive=False), lambda m, x: m.cummax(x, axis=-1),
    lambda m, x: m.cummin(x, reverse=True), lambda m, x: m.logcumsumexp(x, axis=0),
    lambda m, x: m.sort(x), lambda m, x: m.sort(x, axis=None), lambda m, x: m.sort(x, axis=0),
    lambda m, x: m.argsort(x, axis=None), lambda m, x: m.argsort(x, axis=0),
    lambda m, x: m.mean(x, axis=0), lambda m, x: m.var(x, axis=1), lambda m, x: m.std(x),
    lambda m, x: m.logsumexp(x, axis=-1), lambda m, x: m.softmax(x, axis=0),
    lambda m, x: m.median(x, axis=0), lambda m, x: m.sort(m.topk(x, 2)),
    lambda m, x: m.partition(x, 1, axis=0)[1], lambda m, x: m.sort(m.partition(x, 2)),
]


@pytest.mark.parametrize("k", range(len(VMAP_FUNCS)))
def test_vmap_like_mlx(k):
    f = VMAP_FUNCS[k]
    h = data((3, 4, 5), 11 + k)
    x, x_ = both(h)
    for in_axes, out_axes in [(0, 0), (1, 0), (2, 0), (-1, -1), (1, 1)]:
        try:
            want = mlx.vmap(lambda x: f(mlx, x), in_axes=in_axes, out_axes=out_axes)(x_)
        except IndexError:
            continue  # out_axes beyond the output's rank
        got = mx.vmap(lambda x: f(mx, x), in_axes=in_axes, out_axes=out_axes)(x)
        same(got, want)


def test_vmap_needs_no_loop_and_keeps_dtype():
    import warnings
    x = mx.array(data((3, 4, 5), 0)).astype(mx.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("sum", "prod", "max", "min", "all", "any", "argmax", "argmin",
                     "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort",
                     "argsort"):
            for axis in (None, 0, -1):
                for in_axis in (0, 1, 2):
                    out = mx.vmap(lambda v: getattr(mx, name)(v, axis=axis), in_axes=in_axis)(x)
                    want = mx.stack([getattr(mx, name)(mx.take(x, b, axis=in_axis), axis=axis)
                                     for b in range(x.shape[in_axis])])
                    assert out.dtype == want.dtype
                    np.testing.assert_array_equal(np.array(out), np.array(want))
        for name in ("partition", "argpartition"):
            for axis in (None, 0, -1):
                out = mx.vmap(lambda v: getattr(mx, name)(v, 1, axis=axis), in_axes=1)(x)
                want = mx.stack([getattr(mx, name)(x[:, b], 1, axis=axis) for b in range(4)])
                np.testing.assert_array_equal(np.array(out), np.array(want))


def test_nested_vmap_like_mlx():
    h = data((2, 3, 4, 5), 12)
    x, x_ = both(h)
    for name, kw in [("sum", dict(axis=0)), ("max", dict(keepdims=True)), ("cumsum", {}),
                     ("sort", dict(axis=None)), ("argmin", {}), ("logsumexp", dict(axis=-1)),
                     ("cumprod", dict(axis=0, reverse=True))]:
        def f(m):
            inner = m.vmap(lambda v: getattr(m, name)(v, **kw), in_axes=1)
            return m.vmap(inner, in_axes=2, out_axes=1)
        same(f(mx)(x), f(mlx)(x_))


def test_vmap_of_grad_like_mlx():
    h = data((3, 4, 5), 13)
    x, x_ = both(h)
    funcs = [lambda m, v: m.max(v), lambda m, v: m.prod(v, axis=0).sum(),
             lambda m, v: (m.cumsum(v, axis=1) * v).sum(),
             lambda m, v: (m.sort(v, axis=None) * m.arange(v.size, dtype=m.float32)).sum(),
             lambda m, v: m.logsumexp(v), lambda m, v: m.logcumsumexp(v).sum(),
             lambda m, v: (m.cummax(v, axis=0) ** 2).sum(),
             lambda m, v: (m.softmax(v, axis=-1)[0] ** 2).sum(),
             lambda m, v: m.var(v), lambda m, v: m.median(v) + m.std(v, axis=1).sum()]
    for f in funcs:
        for in_axes in (0, 1, -1):
            got = mx.vmap(mx.grad(lambda v: f(mx, v)), in_axes=in_axes)(x)
            want = mlx.vmap(mlx.grad(lambda v: f(mlx, v)), in_axes=in_axes)(x_)
            same(got, want)


def test_second_derivatives_like_mlx():
    h = data((3, 4), 14)
    x, x_ = both(h)
    funcs = [lambda m, v: m.logsumexp(v, axis=1).sum(),
             lambda m, v: (m.prod(v, axis=0) ** 2).sum(),
             lambda m, v: m.logcumsumexp(v, axis=1).sum(),
             lambda m, v: (m.softmax(v, axis=0) * v).sum(),
             lambda m, v: (m.max(v, axis=1) ** 3).sum(),
             lambda m, v: (m.sort(v) ** 3 * m.arange(4.0)).sum()]
    for f in funcs:
        got = mx.grad(lambda v: mx.grad(lambda v: f(mx, v))(v).sum())(x)
        want = mlx.grad(lambda v: mlx.grad(lambda v: f(mlx, v))(v).sum())(x_)
        same(got, want)


def test_forward_over_reverse_and_reverse_over_forward_like_mlx():
    h = data((3, 4), 15)
    x, x_ = both(h)
    t, t_ = both(data((3, 4), 16))
    funcs = [lambda m, v: m.logsumexp(v, axis=0).sum(),
             lambda m, v: (m.logcumsumexp(v, axis=1, reverse=True) ** 2).sum(),
             lambda m, v: (m.max(v, axis=(0, 1)) * m.min(v, axis=0)).sum(),
             lambda m, v: (m.sort(v, axis=None) ** 2 * m.arange(12.0)).sum(),
             lambda m, v: (m.cumsum(v, axis=0, inclusive=False) ** 2).sum(),
             lambda m, v: (m.softmax(v, axis=1) * v).sum()]
    for f in funcs:
        hvp = mx.jvp(lambda v: mx.grad(lambda v: f(mx, v))(v), [x], [t])[1][0]
        hvp_ = mlx.jvp(lambda v: mlx.grad(lambda v: f(mlx, v))(v), [x_], [t_])[1][0]
        same(hvp, hvp_)
        rof = mx.grad(lambda v: mx.jvp(lambda v: f(mx, v), [v], [t])[1][0])(x)
        try:
            rof_ = mlx.grad(lambda v: mlx.jvp(lambda v: f(mlx, v), [v], [t_])[1][0])(x_)
        except ValueError:
            # MLX's max/sort jvps gather with argmax/argsort indices, and its gathers
            # refuse a vjp towards indices; mlxpy's index ops have zero derivatives.
            rof_ = mlx.jvp(lambda v: mlx.grad(lambda v: f(mlx, v))(v), [x_], [t_])[1][0]
        same(rof, rof_)


def test_higher_order_derivatives_of_scans_against_finite_differences():
    # MLX has no jvp for these scans (nor for prod's vjp, made of cumprods); check the
    # second derivatives numerically.
    h = data((2, 5), 17)
    for name, kw in [("prod", dict(axis=1)), ("prod", dict(axis=(0, 1))),
                     ("cumprod", dict(axis=1)), ("cumprod", dict(reverse=True, inclusive=False)),
                     ("cummax", dict(axis=1)), ("cummin", dict(axis=0, reverse=True)),
                     ("logcumsumexp", dict(axis=1, inclusive=False))]:
        def grad_of(m, v, name=name, kw=kw):
            out = getattr(m, name)(v, **kw)
            w = m.array(np.linspace(-1.0, 2.0, out.size).reshape(out.shape), dtype=m.float64)
            safe = m.where(m.isinf(out), 0.0, out)
            return m.grad(lambda v: (m.where(m.isinf(out), 0.0, getattr(m, name)(v, **kw))
                                     ** 2 * w).sum())(v) + 0 * safe.sum()
        fd_check(grad_of, h, 3, tol=1e-5)
