"""Transforms of matmul, addmm and the random primitives against real MLX.

vjp / jvp / grad / vmap (in_axes, out_axes, nested, vmap of grad) of `matmul`, `addmm`
and every `mx.random` distribution, compared on values, dtypes and shapes. Where MLX
has no rule (RandomBits' and SVD's derivatives) or a wrong one (addmm's jvp ignores
alpha and beta), the tests say so and check mlxpy against finite differences instead.
"""
import itertools
import warnings

import numpy as np
import pytest

import mlxpy.core as mx
from mlxpy.core.primitives._rules import apply
from mlxpy.core.primitives.random import COVARIANCE_ROOT_DERIVATIVE, CovarianceRoot
from oracle import TOL, data, assert_same, mlx, needs_mlx

pytestmark = [needs_mlx, pytest.mark.filterwarnings("ignore::RuntimeWarning")]

nan, inf = float("nan"), float("inf")

def both(h, dtype="float32"):
    """The same values as (mlxpy, MLX) arrays of `dtype`."""
    if dtype == "complex64":
        h = h.astype(np.complex64)
        return mx.array(h), mlx.array(h)
    if dtype == "float64":
        return mx.array(h, dtype=mx.float64), mlx.array(h, dtype=mlx.float64)
    h = h.astype(np.float32)
    return mx.array(h).astype(getattr(mx, dtype)), mlx.array(h).astype(getattr(mlx, dtype))


def same(ours, theirs, dtype="float32"):
    rtol, atol = TOL[dtype]
    assert_same(ours, theirs, rtol=rtol, atol=atol)


# -- matmul -----------------------------------------------------------------------------

MATMUL_SHAPES = [((3, 4), (4, 5)), ((4,), (4,)), ((4,), (4, 5)), ((3, 4), (4,)),
                 ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                 ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((1, 3, 4), (2, 4, 2)),
                 ((2, 3, 4), (2, 4, 5)), ((1, 1), (1, 1)), ((2, 0, 3), (3, 4)),
                 ((3, 0), (2, 0, 4)), ((0,), (2, 0, 3))]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "complex64", "float64"])
def test_matmul_vjp_and_jvp_like_mlx(dtype):
    for i, (sa, sb) in enumerate(MATMUL_SHAPES):
        (a, a_), (b, b_) = both(data(sa, i, dtype), dtype), both(data(sb, 50 + i, dtype), dtype)
        out_shape = mx.matmul(a, b).shape
        g, g_ = both(data(out_shape, 100 + i, dtype), dtype)
        ta, ta_ = both(data(sa, 200 + i, dtype), dtype)
        tb, tb_ = both(data(sb, 300 + i, dtype), dtype)
        outs, vjps = mx.vjp(mx.matmul, [a, b], [g])
        outs_, vjps_ = mlx.vjp(mlx.matmul, [a_, b_], [g_])
        same(outs[0], outs_[0], dtype)
        same(vjps, vjps_, dtype)
        _, jvps = mx.jvp(mx.matmul, [a, b], [ta, tb])
        _, jvps_ = mlx.jvp(mlx.matmul, [a_, b_], [ta_, tb_])
        same(jvps, jvps_, dtype)
        # One operand at a time: the rule gets argnums of length one.
        _, (da,) = mx.vjp(lambda x: mx.matmul(x, b), [a], [g])
        _, (db,) = mx.vjp(lambda y: mx.matmul(a, y), [b], [g])
        same(da, vjps_[0], dtype)
        same(db, vjps_[1], dtype)


def test_matmul_vjp_special_values_like_mlx():
    a = np.array([[1.0, inf], [nan, 0.0], [0.0, -0.0]])
    b = np.array([[0.0, 1.0, -inf], [2.0, nan, 1.0]])
    (ma, ma_), (mb, mb_) = both(a), both(b)
    g, g_ = both(np.array([[0.0, 1.0, 2.0], [1.0, 0.0, inf], [-1.0, 1.0, 0.0]]))
    _, vjps = mx.vjp(mx.matmul, [ma, mb], [g])
    _, vjps_ = mlx.vjp(mlx.matmul, [ma_, mb_], [g_])
    same(vjps, vjps_)


def test_matmul_same_operand_twice():
    h = data((3, 3), 1)
    x, x_ = both(h)
    same(mx.grad(lambda x: mx.matmul(x, x).sum())(x),
         mlx.grad(lambda x: mlx.matmul(x, x).sum())(x_))
    same(mx.grad(lambda v: v @ v)(mx.array(h[0].astype(np.float32))),
         mlx.grad(lambda v: v @ v)(mlx.array(h[0].astype(np.float32))))


def test_matmul_grad_and_second_order_like_mlx():
    (x, x_), (w, w_) = both(data((2, 3, 4), 1)), both(data((4, 5), 2))

    def loss(m, w, x):
        return m.tanh(m.matmul(x, w)).sum()

    same(mx.grad(lambda w: loss(mx, w, x))(w), mlx.grad(lambda w: loss(mlx, w, x_))(w_))
    same(mx.grad(lambda x: loss(mx, w, x))(x), mlx.grad(lambda x: loss(mlx, w_, x))(x_))
    # grad of grad: the derivative graph itself goes through matmul's rules again.
    g2 = mx.grad(lambda w: mx.grad(lambda w: loss(mx, w, x))(w).sum())(w)
    g2_ = mlx.grad(lambda w: mlx.grad(lambda w: loss(mlx, w, x_))(w).sum())(w_)
    same(g2, g2_)
    # jvp of vjp.
    t, t_ = both(data((4, 5), 3))
    h = mx.jvp(lambda w: mx.grad(lambda w: loss(mx, w, x))(w), [w], [t])[1]
    h_ = mlx.jvp(lambda w: mlx.grad(lambda w: loss(mlx, w, x_))(w), [w_], [t_])[1]
    same(h, h_)


def _axes_choices(ndim):
    return [None] + list(range(ndim + 1))


def _stack_along(hs, axis):
    return np.stack(hs, axis=axis)


def test_matmul_vmap_every_axis_combination_like_mlx():
    B = 3
    for i, (sa, sb) in enumerate(MATMUL_SHAPES[:10]):
        for ax_a, ax_b in itertools.product(_axes_choices(len(sa)), _axes_choices(len(sb))):
            if ax_a is None and ax_b is None:
                continue
            ha = data(sa, i) if ax_a is None else _stack_along(
                [data(sa, 10 * i + k) for k in range(B)], ax_a)
            hb = data(sb, 99 + i) if ax_b is None else _stack_along(
                [data(sb, 99 + 10 * i + k) for k in range(B)], ax_b)
            (a, a_), (b, b_) = both(ha), both(hb)
            got = mx.vmap(mx.matmul, in_axes=(ax_a, ax_b))(a, b)
            want = mlx.vmap(mlx.matmul, in_axes=(ax_a, ax_b))(a_, b_)
            same(got, want)


def test_matmul_vmap_out_axes_nested_and_of_grad():
    (a, a_), (b, b_) = both(data((2, 3, 4, 5), 1)), both(data((3, 5, 2), 2))
    f = mx.vmap(mx.matmul, in_axes=(1, 0), out_axes=-1)
    f_ = mlx.vmap(mlx.matmul, in_axes=(1, 0), out_axes=-1)
    same(f(a, b), f_(a_, b_))
    nested = mx.vmap(mx.vmap(mx.matmul, in_axes=(0, None)), in_axes=(1, 0), out_axes=1)
    nested_ = mlx.vmap(mlx.vmap(mlx.matmul, in_axes=(0, None)), in_axes=(1, 0), out_axes=1)
    same(nested(a, b), nested_(a_, b_))

    def loss(m, w, x):
        return m.sin(m.matmul(x, w)).sum()

    (xs, xs_), (w, w_) = both(data((4, 2, 5), 3)), both(data((5, 3), 4))
    per_example = mx.vmap(mx.grad(lambda w, x: loss(mx, w, x)), in_axes=(None, 0))(w, xs)
    per_example_ = mlx.vmap(mlx.grad(lambda w, x: loss(mlx, w, x)), in_axes=(None, 0))(w_, xs_)
    same(per_example, per_example_)
    # grad of vmap, and batched weights with an unbatched input.
    ws, ws_ = both(data((4, 5, 3), 5))
    x, x_ = both(data((2, 5), 6))
    same(mx.grad(lambda ws: mx.vmap(lambda w: loss(mx, w, x))(ws).sum())(ws),
         mlx.grad(lambda ws: mlx.vmap(lambda w: loss(mlx, w, x_))(ws).sum())(ws_))
    same(mx.vmap(mx.grad(lambda w, x: loss(mx, w, x)), in_axes=(2, None))(
             mx.moveaxis(ws, 0, 2), x),
         mlx.vmap(mlx.grad(lambda w, x: loss(mlx, w, x)), in_axes=(2, None))(
             mlx.moveaxis(ws_, 0, 2), x_))


def test_matmul_vmap_keeps_dtype_and_needs_no_loop():
    a = mx.ones((3, 2, 4), dtype=mx.float16)
    b = mx.ones((4, 3), dtype=mx.float16)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the loop fallback warns
        out = mx.vmap(mx.matmul, in_axes=(0, None))(a, b)
        out2 = mx.vmap(mx.matmul, in_axes=(2, 1))(mx.ones((2, 4, 3), mx.bfloat16),
                                                    mx.ones((4, 3), mx.bfloat16))
    assert out.dtype is mx.float16 and out.shape == (3, 2, 3)
    assert out2.dtype is mx.bfloat16 and out2.shape == (3, 2)


# -- addmm ------------------------------------------------------------------------------

ADDMM_SHAPES = [((3, 5), (3, 4), (4, 5)), ((5,), (2, 3, 4), (4, 5)), ((), (4,), (4,)),
                ((1,), (3, 4), (4,)), ((2, 1), (4,), (2, 4, 3)),
                ((2, 1, 5), (2, 3, 4), (1, 4, 5)), ((1, 2), (3, 4), (4, 2))]
SCALES = [(1.0, 1.0), (2.0, 0.5), (-1.5, 0.0), (0.0, 3.0)]


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_addmm_vjp_like_mlx(dtype):
    for i, (sc, sa, sb) in enumerate(ADDMM_SHAPES):
        for alpha, beta in SCALES:
            (c, c_), (a, a_), (b, b_) = (both(data(s, 10 * i + k), dtype)
                                         for k, s in enumerate((sc, sa, sb)))
            out_shape = mx.addmm(c, a, b).shape
            g, g_ = both(data(out_shape, 7 + i), dtype)
            f = lambda c, a, b: mx.addmm(c, a, b, alpha=alpha, beta=beta)  # noqa: E731
            f_ = lambda c, a, b: mlx.addmm(c, a, b, alpha=alpha, beta=beta)  # noqa: E731
            outs, vjps = mx.vjp(f, [c, a, b], [g])
            outs_, vjps_ = mlx.vjp(f_, [c_, a_, b_], [g_])
            same(outs[0], outs_[0], dtype)
            same(vjps, vjps_, dtype)


def test_addmm_jvp_respects_alpha_and_beta():
    # MLX 0.32's AddMM jvp ignores alpha and beta (it returns ta @ b + a @ tb + tc);
    # mlxpy's is the true derivative: with alpha = beta = 1 the two agree.
    for i, (sc, sa, sb) in enumerate(ADDMM_SHAPES):
        (c, c_), (a, a_), (b, b_) = (both(data(s, 10 * i + k)) for k, s in enumerate((sc, sa, sb)))
        (tc, tc_), (ta, ta_), (tb, tb_) = (both(data(s, 90 + 10 * i + k))
                                           for k, s in enumerate((sc, sa, sb)))
        _, jvps = mx.jvp(mx.addmm, [c, a, b], [tc, ta, tb])
        _, jvps_ = mlx.jvp(mlx.addmm, [c_, a_, b_], [tc_, ta_, tb_])
        same(jvps, jvps_)
        for alpha, beta in SCALES[1:]:
            _, (t,) = mx.jvp(lambda c, a, b: mx.addmm(c, a, b, alpha=alpha, beta=beta),
                             [c, a, b], [tc, ta, tb])
            want = alpha * (np.matmul(np.array(ta), np.array(b)) +
                            np.matmul(np.array(a), np.array(tb))) + beta * np.array(tc)
            np.testing.assert_allclose(np.array(t), np.broadcast_to(want, t.shape), rtol=1e-5,
                                       atol=1e-5)
        # One tangent at a time (c's alone must still have the output's shape).
        _, (t_c,) = mx.jvp(lambda c: mx.addmm(c, a, b, beta=2.0), [c], [tc])
        assert t_c.shape == mx.addmm(c, a, b).shape
        np.testing.assert_allclose(np.array(t_c), np.broadcast_to(2 * np.array(tc), t_c.shape))


def test_addmm_zero_scales_follow_mlx():
    # alpha == 0 skips the product in the value, but its gradient still multiplies the
    # scaled cotangent by the other operand, so nan/inf there come through, as in MLX.
    c = np.array([[1.0, 2.0], [3.0, 4.0]])
    a = np.array([[1.0, inf], [0.0, 1.0]])
    b = np.array([[1.0, 2.0], [nan, 1.0]])
    (mc, mc_), (ma, ma_), (mb, mb_) = both(c), both(a), both(b)
    for alpha, beta, cc, cc_ in [(0.0, 2.0, mc, mc_), (1.5, 0.0, mc * inf, mc_ * inf)]:
        f = lambda c, a, b: mx.addmm(c, a, b, alpha=alpha, beta=beta).sum()  # noqa: E731
        f_ = lambda c, a, b: mlx.addmm(c, a, b, alpha=alpha, beta=beta).sum()  # noqa: E731
        same(mx.grad(f, argnums=(0, 1, 2))(cc, ma, mb),
             mlx.grad(f_, argnums=(0, 1, 2))(cc_, ma_, mb_))


def test_addmm_vmap_every_axis_combination():
    B = 3
    for i, (sc, sa, sb) in enumerate(ADDMM_SHAPES):
        shapes = (sc, sa, sb)
        for axes in itertools.product(*(_axes_choices(len(s)) for s in shapes)):
            if all(ax is None for ax in axes):
                continue
            hs = [data(s, 10 * i + k) if ax is None else
                  _stack_along([data(s, 100 * i + 10 * k + j) for j in range(B)], ax)
                  for k, (s, ax) in enumerate(zip(shapes, axes))]
            args = [both(h) for h in hs]
            f = lambda c, a, b: mx.addmm(c, a, b, alpha=2.0, beta=-0.5)  # noqa: E731
            f_ = lambda c, a, b: mlx.addmm(c, a, b, alpha=2.0, beta=-0.5)  # noqa: E731
            got = mx.vmap(f, in_axes=axes)(*[x for x, _ in args])
            # MLX's own AddMM batching only moves batch axes to the front, so it raises
            # ("input c must broadcast to the output shape") for many of these: its
            # per-example loop is the reference.
            want = mlx.stack([f_(*[x_ if ax is None else mlx.take(x_, j, axis=ax)
                                   for (_, x_), ax in zip(args, axes)]) for j in range(B)])
            same(got, want)


def test_addmm_vmap_keeps_gemm_semantics():
    # A batched zero-alpha addmm still skips the product (no nan from a or b).
    a = mx.array(np.full((2, 2, 3), nan, np.float32))
    c = mx.ones((2,))
    out = mx.vmap(lambda a: mx.addmm(c, a, a, alpha=0.0), in_axes=2)(a)
    assert np.array_equal(np.array(out), np.ones((3, 2, 2)))


# -- random -----------------------------------------------------------------------------

LOGITS = np.array([[0.1, 1.0, -0.5], [2.0, 0.0, 0.3]], np.float32)
COV = np.array([[2.0, 0.3], [0.3, 1.0]], np.float32)


def distributions(m):
    """Draws of every `mx.random` distribution from one key (MLX: on the CPU)."""
    extra = {"stream": m.cpu} if m is mlx else {}
    logits = m.array(LOGITS)
    return {
        "split": lambda k: m.random.split(k, 3),
        "uniform": lambda k: m.random.uniform(-2.0, 3.0, shape=(3,), key=k),
        "uniform_f16": lambda k: m.random.uniform(shape=(3,), dtype=m.float16, key=k),
        "normal": lambda k: m.random.normal((2, 3), key=k),
        "normal_c64": lambda k: m.random.normal((2,), dtype=m.complex64, key=k),
        "randint": lambda k: m.random.randint(0, 10, (3,), key=k),
        "bernoulli": lambda k: m.random.bernoulli(0.3, (5,), key=k),
        "truncated_normal": lambda k: m.random.truncated_normal(-1, 1, (3,), key=k),
        "gumbel": lambda k: m.random.gumbel((3,), key=k),
        "laplace": lambda k: m.random.laplace((3,), key=k),
        "categorical": lambda k: m.random.categorical(logits, key=k),
        "categorical_n": lambda k: m.random.categorical(logits, num_samples=3, key=k),
        "categorical_one": lambda k: m.random.categorical(logits[0], shape=(4,), key=k),
        "permutation": lambda k: m.random.permutation(5, key=k),
        "permutation_x": lambda k: m.random.permutation(m.arange(6).reshape(3, 2), key=k),
        "multivariate_normal": lambda k: m.random.multivariate_normal(
            m.zeros((2,)), m.array(COV), key=k, **extra),
    }


def exact(ours, theirs):
    """Bit for bit: same dtype, shape and values."""
    assert_same(ours, theirs, rtol=0, atol=0)


@pytest.mark.parametrize("name", list(distributions(mx)))
def test_vmap_over_keys_like_mlx(name):
    f, f_ = distributions(mx)[name], distributions(mlx)[name]
    keys = mx.random.split(mx.random.key(7), 4)
    keys_ = mlx.random.split(mlx.random.key(7), 4)
    exact(keys, keys_)
    # The words are bit for bit MLX's; floats made from them through transcendental
    # functions (erfinv, log) may differ in the last bit, as without vmap.
    check = exact if name in ("split", "uniform", "uniform_f16", "randint", "bernoulli",
                              "categorical", "categorical_n", "categorical_one",
                              "permutation", "permutation_x") else same
    check(mx.vmap(f)(keys), mlx.vmap(f_)(keys_))
    # Keys along the last axis (the key words first), and the output's axis moved.
    check(mx.vmap(f, in_axes=1)(mx.swapaxes(keys, 0, 1)),
          mlx.vmap(f_, in_axes=1)(mlx.swapaxes(keys_, 0, 1)))
    check(mx.vmap(f, out_axes=-1)(keys), mlx.vmap(f_, out_axes=-1)(keys_))
    # Nested: a (2, 3) grid of keys.
    grid = mx.reshape(mx.random.split(mx.random.key(3), 6), (2, 3, 2))
    grid_ = mlx.reshape(mlx.random.split(mlx.random.key(3), 6), (2, 3, 2))
    check(mx.vmap(mx.vmap(f))(grid), mlx.vmap(mlx.vmap(f_))(grid_))
    check(mx.vmap(mx.vmap(f), in_axes=1)(grid), mlx.vmap(mlx.vmap(f_), in_axes=1)(grid_))


def test_random_bits_vmap_matches_per_key_draws():
    # mx.random.bits has no MLX counterpart in Python; per key it must be the plain draw.
    keys = mx.random.split(mx.random.key(11), 5)
    for width, shape in [(4, (3,)), (2, (3,)), (1, (5,)), (1, (2, 3)), (4, ())]:
        f = lambda k: mx.random.bits(shape, width=width, key=k)  # noqa: E731
        loop = mx.stack([f(keys[i]) for i in range(5)])
        assert np.array_equal(np.array(mx.vmap(f)(keys)), np.array(loop))
        assert np.array_equal(np.array(mx.vmap(f, in_axes=1, out_axes=-1)(mx.swapaxes(keys, 0, 1))),
                              np.moveaxis(np.array(loop), 0, -1))


def test_vmap_over_bounds_like_mlx():
    k, k_ = mx.random.key(5), mlx.random.key(5)
    lo, lo_ = both(np.array([[-1.0, 0.0, 2.0], [0.5, -3.0, 1.0]]))
    hi, hi_ = lo + 2.5, lo_ + 2.5
    cases = [
        (lambda m, k: lambda lo, hi: m.random.uniform(lo, hi, shape=(3,), key=k), (0, 0)),
        (lambda m, k: lambda lo, hi: m.random.uniform(lo, hi, shape=(2,), key=k), (1, 1)),
        (lambda m, k: lambda lo, hi: m.random.uniform(lo, 5.0, shape=(3,), key=k), (0, None)),
        (lambda m, k: lambda lo, hi: m.random.normal((3,), loc=lo, scale=hi, key=k), (0, 0)),
        (lambda m, k: lambda lo, hi: m.random.randint(lo, hi + 5, (3,), key=k), (0, 0)),
        (lambda m, k: lambda lo, hi: m.random.truncated_normal(lo, hi, (3,), key=k), (0, 0)),
        (lambda m, k: lambda lo, hi: m.random.categorical(lo * hi, key=k), (1, 1)),
        (lambda m, k: lambda lo, hi: m.random.bernoulli(m.sigmoid(lo), key=k), (0, None)),
        (lambda m, k: lambda lo, hi: m.random.multivariate_normal(
            lo[:2], m.array(COV), key=k, **({"stream": m.cpu} if m is mlx else {})), (1, None)),
    ]
    for make, axes in cases:
        got = mx.vmap(make(mx, k), in_axes=axes)(lo, hi)
        want = mlx.vmap(make(mlx, k_), in_axes=axes)(lo_, hi_)
        # erfinv (normal, truncated_normal) may differ in the last bit, as without vmap.
        (same if got.dtype.kind == "f" else exact)(got, want)


def test_vmap_over_keys_and_bounds_together_like_mlx():
    keys = mx.random.split(mx.random.key(9), 2)
    keys_ = mlx.random.split(mlx.random.key(9), 2)
    lo, lo_ = both(np.array([[-1.0, 0.0, 2.0], [0.5, -3.0, 1.0]]))
    f = lambda k, lo: mx.random.uniform(lo, lo + 1.0, shape=(3,), key=k)  # noqa: E731
    f_ = lambda k, lo: mlx.random.uniform(lo, lo + 1.0, shape=(3,), key=k)  # noqa: E731
    exact(mx.vmap(f)(keys, lo), mlx.vmap(f_)(keys_, lo_))
    exact(mx.vmap(f, in_axes=(1, 1))(keys.T, lo.T), mlx.vmap(f_, in_axes=(1, 1))(keys_.T, lo_.T))


def test_grad_through_distributions_like_mlx():
    k, k_ = mx.random.key(0), mlx.random.key(0)
    x, x_ = both(np.array([0.5, 0.1, 0.2]))
    fs = [
        lambda m, k: lambda x: m.random.uniform(low=x, high=2.0, shape=(3,), key=k).sum(),
        lambda m, k: lambda x: m.random.uniform(low=0.0, high=m.exp(x), shape=(3,), key=k).sum(),
        lambda m, k: lambda x: (m.random.normal((3,), loc=x, scale=m.exp(x), key=k) ** 2).sum(),
        lambda m, k: lambda x: m.random.truncated_normal(x - 1, x + 1, (3,), key=k).sum(),
    ]
    for make in fs:
        same(mx.grad(make(mx, k))(x), mlx.grad(make(mlx, k_))(x_))
        # vmap(grad) over keys too.
        keys = mx.random.split(k, 3)
        keys_ = mlx.random.split(k_, 3)
        same(mx.vmap(lambda k: mx.grad(make(mx, k))(x))(keys),
             mlx.vmap(lambda k: mlx.grad(make(mlx, k))(x_))(keys_))


def test_key_gets_a_zero_gradient():
    # MLX raises "[Primitive::vjp] Not implemented for RandomBits" here; the bits are
    # piecewise constant in the key, so mlxpy gives the zero gradient instead.
    key = mx.random.key(0)
    with pytest.raises(ValueError):
        mlx.grad(lambda k: mlx.random.uniform(shape=(3,), key=k).sum())(mlx.random.key(0))
    g = mx.grad(lambda k: mx.random.uniform(shape=(3,), key=k).sum())(key)
    assert g.dtype is mx.uint32 and g.shape == (2,) and not np.array(g).any()
    _, (t,) = mx.jvp(lambda k: mx.random.uniform(shape=(3,), key=k), [key], [key])
    assert t.shape == (3,) and not np.array(t).any()


# -- the covariance square root (multivariate_normal) ------------------------------------

def _root(c):
    return apply(CovarianceRoot(), [c])


def _finite_difference(f, x, t, eps=1e-6):
    return (np.array(f(mx.array(x + eps * t, dtype=mx.float64))) -
            np.array(f(mx.array(x - eps * t, dtype=mx.float64)))) / (2 * eps)


@pytest.mark.parametrize("cov", [
    np.array([[2.0, 0.3], [0.3, 1.0]]),
    np.eye(3),  # repeated singular values: the formula has no 1/(s_i - s_j)
    np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 0.3], [0.2, 0.0, 3.0]]),  # not symmetric
    np.diag([4.0, 1e-2, 1.0]),
])
def test_covariance_root_derivative_against_finite_differences(cov):
    rng = np.random.default_rng(0)
    t = rng.standard_normal(cov.shape)
    u = rng.standard_normal(cov.shape)
    c = mx.array(cov, dtype=mx.float64)
    _, (jvp,) = mx.jvp(_root, [c], [mx.array(t, dtype=mx.float64)])
    np.testing.assert_allclose(np.array(jvp), _finite_difference(_root, cov, t), rtol=1e-6,
                               atol=1e-6)
    _, (vjp,) = mx.vjp(_root, [c], [mx.array(u, dtype=mx.float64)])
    np.testing.assert_allclose((np.array(vjp) * t).sum(), (u * np.array(jvp)).sum(), rtol=1e-10)
    # Symmetric PD: the root is the principal square root, R R = cov.
    if np.allclose(cov, cov.T):
        r = np.array(_root(c))
        np.testing.assert_allclose(r @ r, cov, atol=1e-12)


def test_multivariate_normal_grad_and_vmap_over_cov():
    k, k_ = mx.random.key(0), mlx.random.key(0)
    cov = np.array([[2.0, 0.5], [0.5, 1.0]], np.float32)
    mean, mean_ = both(np.zeros(2))
    c, c_ = both(cov)
    draw = lambda m, c, **kw: m.random.multivariate_normal(  # noqa: E731
        mean if m is mx else mean_, c, key=k if m is mx else k_, **kw)
    # MLX cannot differentiate through its SVD; mlxpy can (the derivative of U sqrt(S) V^T).
    with pytest.raises(ValueError):
        mlx.grad(lambda c: draw(mlx, c, stream=mlx.cpu).sum())(c_)
    g = mx.grad(lambda c: draw(mx, c).sum())(c)
    assert g.dtype is mx.float32 and g.shape == (2, 2)
    t = np.array([[0.3, -0.1], [0.2, 0.4]])
    fd = (np.array(draw(mx, mx.array((cov + 1e-3 * t).astype(np.float32)))) -
          np.array(draw(mx, mx.array((cov - 1e-3 * t).astype(np.float32))))).sum() / 2e-3
    np.testing.assert_allclose((np.array(g) * t).sum(), fd, rtol=2e-2)
    # Gradient w.r.t. the mean goes through ordinary ops, as in MLX.
    same(mx.grad(lambda m: mx.random.multivariate_normal(m, c, key=k).sum())(mean),
         mlx.grad(lambda m: mlx.random.multivariate_normal(m, c_, key=k_,
                                                           stream=mlx.cpu).sum())(mean_))
    # vmap over a batch of covariances (and over its last axis).
    covs = np.stack([cov, 2 * cov, cov + np.eye(2, dtype=np.float32)])
    cs, cs_ = both(covs)
    same(mx.vmap(lambda c: draw(mx, c))(cs), mlx.vmap(lambda c: draw(mlx, c, stream=mlx.cpu))(cs_))
    same(mx.vmap(lambda c: draw(mx, c), in_axes=2)(mx.moveaxis(cs, 0, 2)),
         mlx.vmap(lambda c: draw(mlx, c, stream=mlx.cpu), in_axes=2)(mlx.moveaxis(cs_, 0, 2)))
    # vmap of grad over covariances equals the loop.
    per = mx.vmap(mx.grad(lambda c: draw(mx, c).sum()))(cs)
    loop = np.stack([np.array(mx.grad(lambda c: draw(mx, c).sum())(cs[i])) for i in range(3)])
    np.testing.assert_allclose(np.array(per), loop, rtol=1e-5, atol=1e-6)


def test_covariance_root_second_derivative_raises_clearly():
    c = mx.array(COV.astype(np.float64), dtype=mx.float64)
    with pytest.raises(ValueError, match="CovarianceRootDerivative"):
        mx.grad(lambda c: mx.grad(lambda c: _root(c).sum())(c).sum())(c)
    with pytest.raises(ValueError, match="CovarianceRootDerivative"):
        mx.jvp(lambda c: mx.grad(lambda c: _root(c).sum())(c), [c], [c])
    # Linear in the perturbation: derivatives through that argument still work.
    x = mx.array(np.ones((2, 2)), dtype=mx.float64)
    _, (t,) = mx.jvp(lambda x: apply(COVARIANCE_ROOT_DERIVATIVE, [c, x]), [x], [x])
    np.testing.assert_allclose(np.array(t), np.array(apply(COVARIANCE_ROOT_DERIVATIVE, [c, x])))
