"""Convolutions against real MLX: values, shapes and dtypes of every public op, gradients
(MLX's where its own are right, finite differences elsewhere), forward mode, batching,
second derivatives, blocked evaluation, and MLX's errors."""
import itertools

import numpy as np
import pytest

import mlxpy.core as mx
from mlxpy.core.primitives import conv as conv_prim
from oracle import assert_same, mlx, needs_mlx, raises_like, to_mlx

pytestmark = needs_mlx

RNG = np.random.default_rng(1234)


def normal(shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def both(h):
    """The same values as an mlxpy array and a real-MLX array."""
    return mx.array(h), to_mlx(h)


def reference_conv(x, w, stride, padding_lo, padding_hi, kernel_dilation, input_dilation,
                   groups, flip):
    """conv_general by its definition, one kernel tap at a time, in float64 NumPy: crop
    the input by negative padding (as MLX does), dilate it, pad it with zeros (also past
    the end, where the last window overhangs), and sum tap times input slice."""
    nd = x.ndim - 2
    x = x[(slice(None),) + tuple(slice(max(0, -lo), x.shape[1 + i] + min(0, hi))
                                 for i, (lo, hi) in enumerate(zip(padding_lo, padding_hi)))]
    lo = [max(0, p) for p in padding_lo]
    hi = [max(0, p) for p in padding_hi]
    dilated = [(s - 1) * d + 1 for s, d in zip(x.shape[1:-1], input_dilation)]
    spans = [(k - 1) * d + 1 for k, d in zip(w.shape[1:-1], kernel_dilation)]
    out_sp = [int((dilated[i] + lo[i] + hi[i] - spans[i]) / stride[i]) + 1 for i in range(nd)]
    size = [max(dilated[i] + lo[i] + hi[i], (out_sp[i] - 1) * stride[i] + spans[i])
            for i in range(nd)]
    buf = np.zeros((x.shape[0], *size, x.shape[-1]))
    buf[(slice(None),) + tuple(slice(lo[i], lo[i] + dilated[i], input_dilation[i])
                               for i in range(nd))] = x
    if flip:
        w = w[(slice(None),) + (slice(None, None, -1),) * nd]
    o, cg = w.shape[0], w.shape[-1]
    og = o // groups
    out = np.zeros((x.shape[0], *out_sp, o))
    for tap in np.ndindex(*w.shape[1:-1]):
        patch = buf[(slice(None),) + tuple(
            slice(tap[i] * kernel_dilation[i],
                  tap[i] * kernel_dilation[i] + (out_sp[i] - 1) * stride[i] + 1, stride[i])
            for i in range(nd))]
        for g in range(groups):
            out[..., g * og:(g + 1) * og] += (patch[..., g * cg:(g + 1) * cg]
                                              @ w[(slice(g * og, (g + 1) * og),) + tap].T)
    return out


def general_arguments(nd, kw):
    """conv_general keyword arguments as per-axis lists for reference_conv."""
    def per_axis(v, default):
        v = default if v is None else v
        return [v] * nd if isinstance(v, int) else (list(v) * nd if len(v) == 1 else list(v))
    padding = kw.get("padding", 0)
    if isinstance(padding, tuple) and len(padding) == 2 and isinstance(padding[0], list):
        lo, hi = per_axis(padding[0], 0), per_axis(padding[1], 0)
    else:
        lo = hi = per_axis(padding, 0)
    return (per_axis(kw.get("stride"), 1), lo, hi, per_axis(kw.get("kernel_dilation"), 1),
            per_axis(kw.get("input_dilation"), 1), kw.get("groups", 1), kw.get("flip", False))


def test_overhanging_last_window_reads_zeros():
    """Where the padded input is shorter than the last window by less than a stride, MLX
    still gives that output (reading past its buffer: its values are unreliable there);
    mlxpy reads zeros."""
    for xs, ws, kw in [((1, 3, 1), (1, 3, 1), dict(stride=2, padding=([1], [0]),
                                                    kernel_dilation=2)),
                       ((1, 5, 3), (2, 5, 3), dict(padding=-1, stride=3)),
                       ((2, 6, 5, 2), (2, 3, 2, 2), dict(stride=[4, 3], padding=([0, 1], [0, 0])))]:
        xh, wh = normal(xs).astype(np.float64), normal(ws).astype(np.float64)
        got = mx.conv_general(mx.array(xh, dtype=mx.float64), mx.array(wh, dtype=mx.float64),
                              **kw)
        want = reference_conv(xh, wh, *general_arguments(len(xs) - 2, kw))
        assert got.shape == want.shape
        np.testing.assert_allclose(np.array(got), want, rtol=1e-12, atol=1e-12)


# (op name, input shape, weight shape, keyword arguments)
FORWARD = [
    ("conv1d", (2, 9, 3), (4, 3, 3), {}),
    ("conv1d", (2, 9, 4), (6, 2, 2), dict(stride=2, padding=3, dilation=2, groups=2)),
    ("conv1d", (1, 7, 3), (2, 5, 3), dict(padding=-1, stride=3)),
    ("conv2d", (2, 7, 6, 3), (5, 3, 3, 3), dict(padding=1)),
    ("conv2d", (2, 7, 6, 4), (6, 3, 2, 2), dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2),
                                                groups=2)),
    ("conv2d", (1, 6, 6, 6), (6, 3, 3, 1), dict(groups=6, padding=1)),
    ("conv2d", (1, 6, 6, 2), (3, 3, 3, 2), dict(stride=[3, 2])),
    ("conv3d", (2, 4, 5, 6, 2), (3, 2, 3, 2, 2), dict(stride=(1, 2, 1), padding=(1, 0, 1),
                                                      dilation=(2, 1, 1))),
    ("conv_general", (2, 5, 6, 2), (3, 2, 3, 2),
     dict(stride=[2, 1], padding=([1, 0], [2, 3]), kernel_dilation=2, input_dilation=[2, 1])),
    ("conv_general", (2, 5, 4), (4, 3, 2), dict(groups=2, flip=True, padding=[2])),
    ("conv_general", (1, 4, 4, 4, 1), (2, 2, 2, 2, 1), dict(input_dilation=3, flip=True,
                                                            padding=([1, 0, 2], [2, 1, 0]))),
    ("conv_general", (2, 7, 7, 2), (2, 3, 3, 2), dict(padding=([-1, 1], [0, -2]))),
    ("conv_transpose1d", (2, 5, 4), (6, 3, 2), dict(stride=3, padding=1, dilation=2,
                                                    output_padding=1, groups=2)),
    ("conv_transpose2d", (2, 4, 3, 3), (2, 3, 3, 3), dict(stride=2, padding=1,
                                                          output_padding=(1, 0))),
    ("conv_transpose2d", (1, 3, 3, 2), (2, 2, 2, 2), dict(padding=1)),
    ("conv_transpose3d", (1, 3, 2, 3, 2), (2, 2, 3, 2, 2), dict(stride=(2, 1, 2),
                                                                dilation=(1, 2, 1))),
]
FORWARD_IDS = [f"{name}-{i}" for i, (name, *_ ) in enumerate(FORWARD)]


@pytest.mark.parametrize("name,xs,ws,kw", FORWARD, ids=FORWARD_IDS)
def test_forward_matches_mlx(name, xs, ws, kw):
    (x, x_), (w, w_) = both(normal(xs)), both(normal(ws))
    assert_same(getattr(mx, name)(x, w, **kw), getattr(mlx, name)(x_, w_, **kw), rtol=1e-5,
                atol=1e-5)


@pytest.mark.parametrize("xd,wd", [("float16", "float16"), ("bfloat16", "bfloat16"),
                                   ("float16", "bfloat16"),
                                   ("float32", "int32"), ("float16", "float32"),
                                   ("float32", "bool_")])
def test_result_dtypes_and_half_precision_values(xd, wd):
    xh, wh = normal((2, 6, 6, 8)), normal((3, 3, 3, 8))
    x_, w_ = mlx.array(xh).astype(getattr(mlx, xd)), mlx.array(wh).astype(getattr(mlx, wd))
    x, w = mx.array(np.array(x_.astype(mlx.float32))).astype(getattr(mx, xd)), \
        mx.array(np.array(w_.astype(mlx.float32))).astype(getattr(mx, wd))
    ours, theirs = mx.conv2d(x, w, padding=1), mlx.conv2d(x_, w_, padding=1)
    # Both accumulate half precision in float32 and round once: equal up to one rounding.
    assert_same(ours, theirs)


def test_float64_is_supported():
    """MLX builds float64 convolutions but cannot evaluate them on the CPU; mlxpy can."""
    xh, wh = RNG.standard_normal((2, 6, 5, 2)), RNG.standard_normal((3, 2, 3, 2))
    out = mx.conv2d(mx.array(xh, dtype=mx.float64), mx.array(wh, dtype=mx.float64), padding=1)
    assert out.dtype == mx.float64
    np.testing.assert_allclose(np.array(out), reference_conv(xh, wh, [1, 1], [1, 1], [1, 1],
                                                             [1, 1], [1, 1], 1, False),
                               rtol=1e-13, atol=1e-13)


def test_float32_is_computed_in_float32():
    x, w = mx.array(normal((2, 5, 3))), mx.array(normal((2, 2, 3)))
    out = conv_prim.Convolution((1,), (0,), (0,), (1,), (1,), 1, False).eval(
        np, [np.array(x), np.array(w)])
    assert out.dtype == np.float32
    assert mx.conv1d(x, w).dtype == mx.float32


# -- gradients ---------------------------------------------------------------------------

GRAD = [
    ("conv1d", (2, 8, 4), (6, 3, 2), dict(stride=2, padding=1, dilation=2, groups=2)),
    ("conv2d", (2, 6, 5, 3), (4, 3, 2, 3), dict(stride=(2, 1), padding=(1, 2))),
    ("conv2d", (2, 6, 6, 4), (4, 3, 3, 2), dict(groups=2, dilation=2, padding=2)),
    ("conv2d", (1, 5, 5, 3), (3, 3, 3, 1), dict(groups=3, stride=2)),
    ("conv3d", (1, 4, 5, 4, 2), (3, 2, 3, 2, 2), dict(stride=(2, 1, 1), padding=1)),
    ("conv_general", (2, 7, 3), (2, 3, 3), dict(flip=True, padding=([2], [1]), stride=2)),
    ("conv_general", (2, 6, 5, 4), (4, 2, 3, 2), dict(flip=True, groups=2,
                                                      kernel_dilation=[2, 1])),
    ("conv_transpose1d", (2, 5, 4), (6, 3, 4), dict(padding=1)),
    ("conv_transpose2d", (1, 4, 4, 2), (3, 3, 3, 2), dict(padding=1, dilation=2)),
]


def _loss(module, name, kw, cot):
    op = getattr(module, name)
    return lambda x, w: (op(x, w, **kw) * cot).sum()


@pytest.mark.parametrize("name,xs,ws,kw", GRAD, ids=[f"{g[0]}-{i}" for i, g in enumerate(GRAD)])
def test_grads_match_mlx(name, xs, ws, kw):
    (x, x_), (w, w_) = both(normal(xs)), both(normal(ws))
    out = getattr(mx, name)(x, w, **kw)
    c, c_ = both(normal(out.shape))
    ours = mx.grad(_loss(mx, name, kw, c), argnums=(0, 1))(x, w)
    theirs = mlx.grad(_loss(mlx, name, kw, c_), argnums=(0, 1))(x_, w_)
    assert_same(list(ours), list(theirs), rtol=1e-4, atol=1e-4)
    ours, theirs = nn_value_and_grad(mx, name, kw, x, w), nn_value_and_grad(mlx, name, kw, x_, w_)
    assert_same(list(ours), list(theirs), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_grads_match_mlx(dtype):
    x_ = mlx.array(normal((2, 6, 5, 4))).astype(getattr(mlx, dtype))
    w_ = mlx.array(normal((4, 3, 2, 2))).astype(getattr(mlx, dtype))
    x, w = (mx.array(np.array(a.astype(mlx.float32))).astype(getattr(mx, dtype))
            for a in (x_, w_))

    def loss(m):
        return lambda a, b: m.sum(m.conv2d(a, b, stride=(2, 1), padding=1, groups=2))

    ours = mx.grad(loss(mx), argnums=(0, 1))(x, w)
    theirs = mlx.grad(loss(mlx), argnums=(0, 1))(x_, w_)
    assert_same(list(ours), list(theirs))


def nn_value_and_grad(module, name, kw, x, w):
    value, (gx, gw) = module.value_and_grad(
        lambda a, b: module.tanh(getattr(module, name)(a, b, **kw)).sum(), argnums=(0, 1))(x, w)
    return value, gx, gw


def _finite_difference_check(fn, args, seed, eps=1e-6):
    """vjp and jvp of `fn` (float64) against central differences along random directions."""
    rng = np.random.default_rng(seed)
    out = fn(*args)
    cot = mx.array(rng.standard_normal(out.shape))
    tans = [mx.array(rng.standard_normal(a.shape)) for a in args]
    _, vjps = mx.vjp(fn, list(args), [cot])
    _, jvps = mx.jvp(fn, list(args), tans)
    plus = fn(*[a + eps * t for a, t in zip(args, tans)])
    minus = fn(*[a - eps * t for a, t in zip(args, tans)])
    fd = float((np.array(cot) * (np.array(plus) - np.array(minus))).sum() / (2 * eps))
    by_vjp = sum(float((np.array(g) * np.array(t)).sum()) for g, t in zip(vjps, tans))
    by_jvp = float((np.array(cot) * np.array(jvps[0])).sum())
    for got in (by_vjp, by_jvp):
        # (cuBLAS sums float64 products in another order than OpenBLAS: 2e-6, not 1e-6)
        assert abs(got - fd) <= 2e-6 * max(1.0, abs(fd)), (got, fd)
    for g, a in zip(vjps, args):
        assert g.shape == a.shape and g.dtype == a.dtype


def _sweep_configs(count, seed):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        nd = int(rng.integers(1, 4))
        groups = int(rng.choice([1, 2])) if nd < 3 else 1
        kernel = tuple(int(k) for k in rng.integers(1, 4, nd))
        kw = dict(stride=[int(v) for v in rng.integers(1, 4, nd)],
                  padding=([int(v) for v in rng.integers(-1, 3, nd)],
                           [int(v) for v in rng.integers(-1, 3, nd)]),
                  kernel_dilation=[int(v) for v in rng.integers(1, 3, nd)],
                  input_dilation=[int(v) for v in rng.integers(1, 4, nd)],
                  groups=groups, flip=bool(rng.integers(0, 2)))
        # Large enough for the kernel after any cropping.
        spatial = tuple(int(rng.integers(k * 2 + 2, k * 2 + 5)) for k in kernel)
        xs = (2,) + spatial + (groups * int(rng.integers(1, 3)),)
        ws = (groups * int(rng.integers(1, 3)),) + kernel + (xs[-1] // groups,)
        yield xs, ws, kw


@pytest.mark.parametrize("xs,ws,kw", list(_sweep_configs(12, 7)))
def test_conv_general_sweep_values_and_finite_differences(xs, ws, kw):
    """Random parameters, input dilation and cropping included: values against the
    definition and MLX (float32: MLX evaluates no float64 convolution), and derivatives
    against finite differences (MLX's own input-dilated gradients have the
    wrong shapes, so they are no oracle here)."""
    xh, wh = RNG.standard_normal(xs), RNG.standard_normal(ws)
    ours = mx.conv_general(mx.array(xh, dtype=mx.float64), mx.array(wh, dtype=mx.float64), **kw)
    np.testing.assert_allclose(np.array(ours), reference_conv(xh, wh, *general_arguments(
        len(xs) - 2, kw)), rtol=1e-12, atol=1e-12)
    theirs = mlx.conv_general(to_mlx(xh.astype(np.float32)), to_mlx(wh.astype(np.float32)), **kw)
    assert_same(ours.astype(mx.float32), theirs, rtol=1e-4, atol=1e-4)
    _finite_difference_check(lambda x, w: mx.conv_general(x, w, **kw),
                             [mx.array(xh, dtype=mx.float64), mx.array(wh, dtype=mx.float64)],
                             seed=len(xs))


def test_jvp_of_each_argument_alone():
    x, w = mx.array(normal((2, 6, 3))), mx.array(normal((4, 3, 3)))
    tx, tw = mx.array(normal((2, 6, 3))), mx.array(normal((4, 3, 3)))
    _, (dx,) = mx.jvp(lambda a: mx.conv1d(a, w, padding=1), [x], [tx])
    _, (dw,) = mx.jvp(lambda b: mx.conv1d(x, b, padding=1), [w], [tw])
    np.testing.assert_allclose(np.array(dx), np.array(mx.conv1d(tx, w, padding=1)), rtol=1e-6)
    np.testing.assert_allclose(np.array(dw), np.array(mx.conv1d(x, tw, padding=1)), rtol=1e-6)


def test_second_order_grads_match_mlx():
    (x, x_), (w, w_) = both(normal((2, 6, 5, 2))), both(normal((3, 3, 2, 2)))

    def inner(m):
        return lambda a, b: m.sum(m.sin(m.conv2d(a, b, stride=2, padding=1)))

    def outer(m):
        grad_w = m.grad(inner(m), argnums=1)
        return lambda a, b: m.sum(grad_w(a, b) ** 2)

    ours = mx.grad(outer(mx), argnums=(0, 1))(x, w)
    theirs = mlx.grad(outer(mlx), argnums=(0, 1))(x_, w_)
    assert_same(list(ours), list(theirs), rtol=1e-4, atol=1e-4)


def test_second_order_grads_through_input_dilation_match_finite_differences():
    kw = dict(stride=2, padding=([1], [0]), input_dilation=2, kernel_dilation=2, flip=True)
    x = mx.array(RNG.standard_normal((2, 5, 2)))
    w = mx.array(RNG.standard_normal((3, 2, 2)))

    def first(a, b):
        gx, gw = mx.grad(lambda p, q: mx.sum(mx.tanh(mx.conv_general(p, q, **kw))),
                         argnums=(0, 1))(a, b)
        return mx.sum(gx * gx) + mx.sum(mx.sin(gw))

    _finite_difference_check(lambda a, b: first(a, b).reshape(1), [x, w], seed=3)


# -- batching -----------------------------------------------------------------------------

@pytest.mark.parametrize("in_axes", [(0, None), (2, None), (None, 0), (None, 3), (0, 0),
                                     (3, 1), (-1, -1)])
@pytest.mark.parametrize("groups", [1, 2])
def test_vmap_matches_loop(in_axes, groups):
    B = 3
    xs, ws = (2, 6, 5, 4), (4, 3, 2, 4 // groups)
    xh = [normal(xs) for _ in range(B)]
    wh = [normal(ws) for _ in range(B)]
    kw = dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=groups)
    ax_x, ax_w = in_axes
    xb = mx.array(np.stack(xh, axis=ax_x)) if ax_x is not None else mx.array(xh[0])
    wb = mx.array(np.stack(wh, axis=ax_w)) if ax_w is not None else mx.array(wh[0])
    got = mx.vmap(lambda x, w: mx.conv2d(x, w, **kw), in_axes=in_axes)(xb, wb)
    for b in range(B):
        want = mx.conv2d(mx.array(xh[b if ax_x is not None else 0]),
                         mx.array(wh[b if ax_w is not None else 0]), **kw)
        np.testing.assert_allclose(np.array(got[b]), np.array(want), rtol=1e-5, atol=1e-5)


def test_vmap_of_conv3d_with_both_batched():
    """Batching both operands needs groups, which MLX's 3-D convolution refuses (its vmap
    raises); the primitive takes them, so mlxpy batches it."""
    x, w = mx.array(normal((2, 1, 3, 4, 3, 2))), mx.array(normal((2, 2, 2, 2, 2, 2)))
    got = mx.vmap(lambda a, b: mx.conv_transpose3d(a, b, stride=2))(x, w)
    for b in range(2):
        assert_same(got[b], to_mlx(mx.conv_transpose3d(x[b], w[b], stride=2)), rtol=1e-5,
                    atol=1e-5)
        assert_same(got[b], mlx.conv_transpose3d(to_mlx(x[b]), to_mlx(w[b]), stride=2),
                    rtol=1e-5, atol=1e-5)


def test_grad_of_vmap_and_vmap_of_grad():
    xh, wh = normal((3, 2, 6, 2)), normal((3, 2, 3, 2))
    (x, x_), (w, w_) = both(xh), both(wh)

    def per_example(m):
        return lambda a, b: m.sum(m.conv1d(a, b, padding=1) ** 2)

    # MLX cannot vmap its own conv gradient (no vmap for AsStrided): compare with a loop.
    ours = mx.vmap(mx.grad(per_example(mx), argnums=(0, 1)))(x, w)
    for b in range(3):
        theirs = mlx.grad(per_example(mlx), argnums=(0, 1))(x_[b], w_[b])
        assert_same([ours[0][b], ours[1][b]], list(theirs), rtol=1e-4, atol=1e-4)
    ours = mx.grad(lambda a, b: mx.sum(mx.vmap(per_example(mx))(a, b)), argnums=1)(x, w)
    theirs = mlx.grad(lambda a, b: mlx.sum(mlx.vmap(per_example(mlx))(a, b)), argnums=1)(x_, w_)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-4)


# -- evaluation details -------------------------------------------------------------------

@pytest.mark.parametrize("budget", [64, 2048])
def test_blocked_evaluation_equals_one_block(monkeypatch, budget):
    """Small block budgets split the batch and the kernel rows; the sum is unchanged."""
    cases = [((5, 7, 6, 4), (6, 3, 3, 4), dict(padding=1)),
             ((5, 7, 6, 4), (6, 3, 3, 2), dict(padding=1, groups=2, stride=2)),
             ((3, 9, 2), (4, 4, 2), dict(kernel_dilation=2))]
    values = [(normal(xs), normal(ws), kw) for xs, ws, kw in cases]
    want = [np.array(mx.conv_general(mx.array(xh), mx.array(wh), **kw))
            for xh, wh, kw in values]
    monkeypatch.setitem(conv_prim._BLOCK_ELEMENTS, "numpy", budget)
    monkeypatch.setattr(conv_prim, "_MIN_ROWS", 4)
    for (xh, wh, kw), expect in zip(values, want):
        got = mx.conv_general(mx.array(xh), mx.array(wh), **kw)
        np.testing.assert_allclose(np.array(got), expect, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(), dict(stride=(2, 1), padding=((1, 0), (2, 1)),
                                      kernel_dilation=(1, 2), input_dilation=(2, 1),
                                      flip=True)])
def test_operands_with_swapped_batch_and_channel_axes(monkeypatch, kw):
    """The weight-gradient rule hands eval views with batch and channel swapped, which
    take their own path; it agrees with the same values laid out in order, also in
    blocks."""
    xh, wh = normal((5, 7, 6, 3)), normal((4, 3, 2, 3))
    x_t, w_t = np.swapaxes(normal((3, 7, 6, 5)), 0, -1), np.swapaxes(normal((3, 3, 2, 4)), 0, -1)
    for xv, wv in [(xh, wh), (x_t, w_t), (x_t, wh), (xh, w_t)]:
        for budget in (1 << 20, 50):
            monkeypatch.setitem(conv_prim._BLOCK_ELEMENTS, "numpy", budget)
            stride = kw.get("stride", (1, 1))
            lo, hi = kw.get("padding", ((0, 0), (0, 0)))
            prim = conv_prim.Convolution(stride, lo, hi, kw.get("kernel_dilation", (1, 1)),
                                         kw.get("input_dilation", (1, 1)), 1,
                                         kw.get("flip", False))
            got = prim.eval(np, [xv, wv])
            want = reference_conv(xv.astype(np.float64), wv.astype(np.float64), stride, lo, hi,
                                  kw.get("kernel_dilation", (1, 1)),
                                  kw.get("input_dilation", (1, 1)), 1, kw.get("flip", False))
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert conv_prim._channels_outermost(x_t) and not conv_prim._channels_outermost(xh)


@pytest.mark.parametrize("xs,ws,kw", [
    ((2, 5, 3), (4, 3, 3), dict(padding=([2], [3]), input_dilation=2, flip=True)),
    ((2, 4, 5, 2), (3, 3, 2, 2), dict(padding=([2, -1], [1, 2]), input_dilation=[3, 1],
                                      kernel_dilation=[1, 2])),
    ((1, 3, 2, 3, 2), (2, 2, 3, 2, 2), dict(padding=([1, 2, 0], [2, 1, 1]),
                                            input_dilation=[1, 2, 2])),
    ((2, 4, 4, 3), (2, 3, 3, 3), dict(padding=2, flip=True)),
])
@pytest.mark.parametrize("path", ["im2col", "scatter"])
def test_gather_and_scatter_evaluations_agree(monkeypatch, xs, ws, kw, path):
    """Stride-1 convolutions may scatter products instead of gathering patches (chosen
    by the output's size against the input's); both give the definition's values."""
    monkeypatch.setattr(conv_prim, "_SCATTER_BELOW", 0.0 if path == "im2col" else 1e9)
    monkeypatch.setitem(conv_prim._BLOCK_ELEMENTS, "numpy", 200)
    xh, wh = RNG.standard_normal(xs), RNG.standard_normal(ws)
    got = mx.conv_general(mx.array(xh, dtype=mx.float64), mx.array(wh, dtype=mx.float64), **kw)
    want = reference_conv(xh, wh, *general_arguments(len(xs) - 2, kw))
    np.testing.assert_allclose(np.array(got), want, rtol=1e-12, atol=1e-12)


def test_compiled_conv_matches_eager():
    x, w = mx.array(normal((2, 6, 6, 3))), mx.array(normal((4, 3, 3, 3)))

    def step(a, b):
        return mx.grad(lambda p: mx.sum(mx.conv2d(a, p, padding=1) ** 2))(b)

    np.testing.assert_allclose(np.array(mx.compile(step)(x, w)), np.array(step(x, w)),
                               rtol=1e-5, atol=1e-4)


def test_empty_batch_and_zero_output_channels():
    out = mx.conv2d(mx.zeros((0, 5, 5, 2)), mx.ones((3, 2, 2, 2)))
    assert out.shape == (0, 4, 4, 3)
    out = mx.conv1d(mx.ones((2, 5, 2)), mx.ones((0, 2, 2)))
    assert out.shape == (2, 4, 0) and np.array(out).size == 0


# -- errors -------------------------------------------------------------------------------

ERRORS = [
    ("conv1d", (2, 8, 3), (4, 3, 3), dict(stride=0)),
    ("conv1d", (2, 8, 3), (4, 3, 3), dict(dilation=-1)),
    ("conv1d", (2, 8, 3), (4, 3, 3), dict(groups=3)),
    ("conv1d", (2, 8, 3), (3, 3, 2), {}),
    ("conv1d", (2, 8, 4), (3, 3, 2), dict(groups=2)),
    ("conv1d", (2, 8, 4), (4, 3, 1), dict(groups=2)),
    ("conv1d", (8, 3), (4, 3, 3), {}),
    ("conv1d", (2, 8, 3), (4, 3), {}),
    ("conv1d", (2, 4, 3), (4, 6, 3), {}),
    ("conv1d", (2, 8, 3), (4, 3, 3), dict(stride=(1,))),
    ("conv1d", (2, 8, 3), (4, 3, 3), dict(padding=1.0)),
    ("conv2d", (2, 8, 3), (4, 3, 3), {}),
    ("conv2d", (1, 5, 5, 2), (3, 2, 2, 2), dict(stride=(1, 2, 3))),
    ("conv2d", (1, 5, 5, 2), (3, 2, 2, 2), dict(padding=(1,))),
    ("conv3d", (1, 4, 4, 4, 2), (2, 2, 2, 2, 1), dict(groups=2)),
    ("conv_general", (1, 5, 5, 5, 5, 2), (2, 2, 2, 2, 2, 2), {}),
    ("conv_general", (1, 5, 5, 2), (3, 2, 2, 2), dict(padding=[1, 2, 3])),
    ("conv_general", (1, 5, 5, 2), (3, 2, 2, 2), dict(padding=([1, 2, 3], [1, 2, 3]))),
    ("conv_general", (1, 5, 5, 2), (3, 2, 2, 2), dict(padding=([1, 2], 3))),
    ("conv_general", (1, 5, 5, 2), (3, 2, 2, 2), dict(stride=[1, 2, 3])),
    ("conv_general", (1, 5, 5, 2), (3, 2, 2, 2), dict(input_dilation=0)),
    ("conv_general", (1, 5, 5, 2), (3, 2, 2, 2), dict(flip=1)),
    ("conv_general", (1, 3, 5, 1), (1, 3, 3, 1), dict(kernel_dilation=2)),
    ("conv_transpose2d", (1, 5, 5, 2), (3, 2, 2, 2), dict(padding=5)),
    ("conv_transpose2d", (1, 5, 2), (3, 2, 2, 2), {}),
    ("conv_transpose1d", (1, 5, 2), (3, 2, 2), dict(stride=0)),
    ("conv_transpose3d", (1, 3, 3, 3, 4), (4, 2, 2, 2, 2), dict(groups=2)),
]


@pytest.mark.parametrize("name,xs,ws,kw", ERRORS, ids=[f"{e[0]}-{i}" for i, e in enumerate(ERRORS)])
def test_errors_match_mlx(name, xs, ws, kw):
    (x, x_), (w, w_) = both(np.ones(xs, np.float32)), both(np.ones(ws, np.float32))
    err = raises_like(lambda: getattr(mx, name)(x, w, **kw),
                      lambda: getattr(mlx, name)(x_, w_, **kw))
    if isinstance(err, ValueError):
        assert str(err).startswith(f"[{name}]")


def test_errors_mlx_cannot_report():
    x, w = mx.ones((2, 8, 4)), mx.ones((4, 3, 2))
    # MLX dies with a floating point exception on groups=0.
    for groups in (0, -2):
        with pytest.raises(ValueError, match=r"\[conv1d\] groups"):
            mx.conv1d(x, w, groups=groups)
    with pytest.raises(TypeError, match=r"\[conv1d\]"):
        mx.conv1d(np.ones((2, 8, 4), np.float32), w)
    with pytest.raises(ValueError, match=r"\[conv2d\].*int32"):
        mx.conv2d(mx.ones((1, 3, 3, 1), dtype=mx.int32), mx.ones((1, 2, 2, 1)))


def test_integer_input_is_refused_like_mlx():
    x, w = mx.ones((1, 4, 2), dtype=mx.int32), mx.ones((1, 2, 2))
    raises_like(lambda: mx.conv1d(x, w), lambda: mlx.conv1d(to_mlx(x), to_mlx(w)))


def test_parameter_forms_like_mlx():
    """Ints, lists, NumPy ints, bools and padding pairs are read as MLX reads them."""
    (x, x_), (w, w_) = both(normal((1, 6, 7, 2))), both(normal((3, 2, 3, 2)))
    for kw in [dict(stride=np.int64(2)), dict(stride=[True, 2]), dict(padding=[(1, 2), (0, 1)]),
               dict(padding=([1], [2])), dict(padding=(1, 2)), dict(stride=[]),
               dict(padding=([], [])), dict(stride=np.array([1, 2]))]:
        assert_same(mx.conv_general(x, w, **kw), mlx.conv_general(x_, w_, **kw))
    for kw in [dict(stride=[1, 2]), dict(padding=(np.int32(1), 0)), dict(groups=True)]:
        assert_same(mx.conv2d(x, w, **kw), mlx.conv2d(x_, w_, **kw))


def test_every_conv_op_keeps_mlx_signature():
    import inspect
    import re
    for name in ["conv1d", "conv2d", "conv3d", "conv_general", "conv_transpose1d",
                 "conv_transpose2d", "conv_transpose3d"]:
        text = getattr(mlx, name).__doc__.split("\n")[0]
        while "[" in text:  # drop type parameters, whose commas are not separators
            text = re.sub(r"\[[^\[\]]*\]", "", text)
        # "name: type = default" for each of MLX's parameters.
        theirs = re.findall(r"(\w+): [^=,)]*?(?:= ([\w.]+))?(?=[,)])", text)
        ours = [(p.name, "" if p.default is p.empty else str(p.default))
                for p in inspect.signature(getattr(mx, name)).parameters.values()]
        assert ours == theirs, name


def test_stream_argument():
    x, w = mx.ones((1, 4, 1)), mx.ones((1, 2, 1))
    assert np.array(mx.conv1d(x, w, stream=mx.cpu)).tolist() == [[[2.0], [2.0], [2.0]]]


def test_all_names_are_exported():
    from mlxpy.core.ops import conv
    for name in conv.__all__:
        assert getattr(mx, name) is getattr(conv, name)


@pytest.mark.parametrize("shape_x,shape_w,kw", [
    ((2, 5, 4), (2, 2, 4), dict(stride=2)),
    ((1, 4, 4, 2), (2, 3, 3, 2), dict(padding=1)),
])
def test_transpose_is_the_adjoint_of_conv(shape_x, shape_w, kw):
    """<conv(x, w), y> == <x, conv_transpose(y, w^T)>: the transposed convolution of an
    output-shaped array, with the kernel's channel axes swapped."""
    nd = len(shape_x) - 2
    x = mx.array(RNG.standard_normal(shape_x), dtype=mx.float64)
    w = mx.array(RNG.standard_normal(shape_w), dtype=mx.float64)
    conv = getattr(mx, f"conv{nd}d")
    transpose = getattr(mx, f"conv_transpose{nd}d")
    y = conv(x, w, **kw)
    r = mx.array(RNG.standard_normal(y.shape), dtype=mx.float64)
    back = transpose(r, mx.swapaxes(w, 0, -1), **kw)
    # Trailing inputs no window reaches have no counterpart in the transposed output.
    kept = (slice(None),) + tuple(slice(0, s) for s in back.shape[1:-1])
    lhs = float(mx.sum(y * r))
    rhs = float(mx.sum(x[kept] * back))
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs))


def test_inputs_of_every_rank_product():
    """Every combination of stride and dilation for a small 1-D case agrees with MLX."""
    (x, x_), (w, w_) = both(normal((2, 11, 2))), both(normal((3, 3, 2)))
    for stride, dilation, padding in itertools.product((1, 2, 3), (1, 2, 4), (0, 1, 3)):
        assert_same(mx.conv1d(x, w, stride, padding, dilation),
                    mlx.conv1d(x_, w_, stride, padding, dilation), rtol=1e-5, atol=1e-5)


def test_doctests():
    import doctest
    from mlxpy.core.ops import conv
    result = doctest.testmod(conv, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 7 and result.failed == 0
