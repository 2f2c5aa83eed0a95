"""Transforms of the shape ops against real MLX.

vjp / jvp / grad / vmap (in_axes, out_axes, nested, vmap of grad) of reshape and its
relatives, transpose, broadcasting, concatenate / stack, split, pad (every mode),
diagonal and diag, compared on values, dtypes and shapes; then shapeless compile of
the reshapes. Where mlxpy differs from MLX on purpose (docs/differences.md: the
gradient of pad's constant value, vmap over that value), the tests check mlxpy
against finite differences or a Python loop instead.
"""
import numpy as np
import pytest

import mlxpy.core as mx
from oracle import assert_same, mlx, needs_mlx

pytestmark = [needs_mlx, pytest.mark.filterwarnings("ignore::RuntimeWarning")]

nan, inf = float("nan"), float("inf")

TOL = {"float16": (2e-3, 2e-3), "bfloat16": (2e-2, 2e-2), "float32": (1e-5, 1e-6),
       "complex64": (1e-5, 1e-6), "float64": (1e-12, 0)}


def both(h, dtype="float32"):
    """The same values as (mlxpy, MLX) arrays of `dtype`."""
    h = np.asarray(h)
    if dtype == "complex64":
        h = h.astype(np.complex64)
        return mx.array(h), mlx.array(h)
    if dtype == "float64":
        return mx.array(h, dtype=mx.float64), mlx.array(h, dtype=mlx.float64)
    if dtype in ("int32", "bool_"):
        h = h.astype(np.int32 if dtype == "int32" else np.bool_)
        return mx.array(h), mlx.array(h)
    h = h.astype(np.float32)
    return mx.array(h).astype(getattr(mx, dtype)), mlx.array(h).astype(getattr(mlx, dtype))


def data(shape, seed, dtype="float32"):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal(shape)
    if dtype == "complex64":
        h = h + 1j * rng.standard_normal(shape)
    return h


def outputs(r):
    return list(r) if isinstance(r, (list, tuple)) else [r]


def same(ours, theirs, dtype="float32"):
    rtol, atol = TOL.get(dtype, (1e-12, 0))
    assert_same(ours, theirs, rtol=rtol, atol=atol)


def check_all(f, shapes, dtype="float32", seed=0):
    """Outputs, vjp (random cotangents) and jvp (random tangents) of `f(module, *xs)`
    agree with MLX's, with the same dtypes and shapes."""
    pairs = [both(data(s, seed + i, dtype), dtype) for i, s in enumerate(shapes)]
    ours, theirs = [p[0] for p in pairs], [p[1] for p in pairs]
    fo = lambda *a: outputs(f(mx, *a))  # noqa: E731
    ft = lambda *a: outputs(f(mlx, *a))  # noqa: E731
    outs = fo(*ours)
    same(outs, ft(*theirs), dtype)
    cots = [both(data(o.shape, 100 + seed + k, dtype), dtype) for k, o in enumerate(outs)]
    o_vjp, g = mx.vjp(fo, ours, [c[0] for c in cots])
    t_vjp, g_ = mlx.vjp(ft, theirs, [c[1] for c in cots])
    same(o_vjp, t_vjp, dtype)
    same(g, g_, dtype)
    tans = [both(data(s, 200 + seed + i, dtype), dtype) for i, s in enumerate(shapes)]
    _, j = mx.jvp(fo, ours, [t[0] for t in tans])
    # Every op here is affine: its jvp is f(tangents) - f(0). (That is also the check
    # where MLX has no jvp: diag of a vector scatters.)
    zeros = [mx.zeros_like(x) for x in ours]
    same(j, [a - b for a, b in zip(fo(*[t[0] for t in tans]), fo(*zeros))], dtype)
    try:
        _, j_ = mlx.jvp(ft, theirs, [t[1] for t in tans])
    except RuntimeError as e:
        assert "not yet implemented" in str(e)
        return
    same(j, j_, dtype)


# -- vjp and jvp against MLX ------------------------------------------------------------

RESHAPES = [
    (lambda m, x: m.reshape(x, (4, 6)), [(2, 3, 4)]),
    (lambda m, x: x.reshape(-1), [(2, 3, 4)]),
    (lambda m, x: m.reshape(x, (3, -1, 2)), [(2, 3, 4)]),
    (lambda m, x: m.flatten(x), [(2, 3, 4)]),
    (lambda m, x: m.flatten(x, -2), [(2, 3, 4)]),
    (lambda m, x: m.flatten(x), [()]),
    (lambda m, x: m.unflatten(x, -1, (2, -1)), [(3, 4)]),
    (lambda m, x: m.squeeze(x), [(1, 3, 1, 2)]),
    (lambda m, x: m.squeeze(x, -1), [(3, 1)]),
    (lambda m, x: m.expand_dims(x, (0, 2, -1)), [(3, 2)]),
    (lambda m, x: m.atleast_3d(x), [(3,)]),
    (lambda m, x: m.reshape(x, (2, 0)), [(0, 2)]),
]
PERMUTES = [
    (lambda m, x: m.transpose(x), [(2, 3, 4)]),
    (lambda m, x: m.transpose(x, (2, 0, 1)), [(2, 3, 4)]),
    (lambda m, x: x.T, [(3, 4)]),
    (lambda m, x: m.swapaxes(x, 0, -1), [(2, 3, 4)]),
    (lambda m, x: m.moveaxis(x, -1, 1), [(2, 3, 4, 5)]),
]
BROADCASTS = [
    (lambda m, x: m.broadcast_to(x, (2, 3, 4)), [(3, 1)]),
    (lambda m, x: m.broadcast_to(x, (5,)), [()]),
    (lambda m, x: m.broadcast_to(x, (2, 0, 3)), [(1, 3)]),
    (lambda m, x, y: m.broadcast_arrays(x, y), [(2, 1, 3), (4, 1)]),
    (lambda m, x: m.repeat(x, 3, axis=-1), [(2, 3)]),
    (lambda m, x: m.repeat(x, 2), [(2, 3)]),
    (lambda m, x: m.tile(x, (2, 1, 2)), [(3, 2)]),
]
JOINS = [
    (lambda m, x, y: m.concatenate([x, y], axis=1), [(2, 3), (2, 1)]),
    (lambda m, x, y, z: m.concatenate([x, y, z], axis=-1), [(2, 2, 1), (2, 2, 3), (2, 2, 2)]),
    (lambda m, x, y: m.concatenate([x, y], axis=None), [(2, 3), (4,)]),
    (lambda m, x, y: m.concatenate([x, y, x]), [(0, 3), (2, 3)]),
    (lambda m, x, y: m.stack([x, y], axis=-1), [(2, 3), (2, 3)]),
    (lambda m, x: m.split(x, 3, axis=1), [(2, 6)]),
    (lambda m, x: m.split(x, [1, 4], axis=-1), [(2, 3, 5)]),
    (lambda m, x: m.split(x, [4, 1]), [(5, 2)]),
    (lambda m, x: m.split(x, [-1, 1, 7]), [(4,)]),
    (lambda m, x: m.split(x, [2])[1], [(4, 3)]),
]
PADS = [(lambda m, x, _w=w, _mode=mode: m.pad(x, _w, mode=_mode), [shape])
        for mode in ("constant", "edge", "reflect", "symmetric")
        for w, shape in [((1, 2), (4,)), ([(2, 0), (1, 3)], (3, 4)), (3, (2, 2)),
                         ([(0, 0), (9, 4)], (2, 3)), ((2, 3), (1, 1)),
                         ([(1, 1), (0, 0), (2, 1)], (2, 3, 4))]] + [
    (lambda m, x: m.pad(x, 2, constant_values=3.5), [(2, 3)]),
]
DIAGONALS = [
    (lambda m, x: m.diagonal(x), [(3, 4)]),
    (lambda m, x: m.diagonal(x, 2), [(3, 4)]),
    (lambda m, x: m.diagonal(x, -1, 1, 0), [(3, 4)]),
    (lambda m, x: m.diagonal(x, 1, 2, 0), [(2, 3, 4)]),
    (lambda m, x: m.diagonal(x, -2, -1, -3), [(4, 2, 3, 5)]),
    (lambda m, x: m.diagonal(x, 7), [(3, 4)]),
    (lambda m, x: m.diag(x), [(4, 3)]),
    (lambda m, x: m.diag(x, -1), [(4,)]),
    (lambda m, x: m.diag(x, 2), [(3,)]),
    (lambda m, x: m.diag(x), [(0,)]),
]
ALL_OPS = RESHAPES + PERMUTES + BROADCASTS + JOINS + PADS + DIAGONALS


@pytest.mark.parametrize("k", range(len(ALL_OPS)))
def test_vjp_jvp_match_mlx(k):
    f, shapes = ALL_OPS[k]
    check_all(f, shapes)


# A few of each kind: reshape, squeeze, transpose, broadcast_to, repeat, concatenate,
# split (sorted and taking one piece), pad in every mode, constant_values, diagonal
# of a 3-D array, diag of a vector.
DTYPE_OPS = [ALL_OPS[k] for k in (0, 8, 13, 17, 22, 26, 30, 33, 35, 44, 49, 53, 58, 62, 66)]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "complex64", "float64"])
@pytest.mark.parametrize("k", range(len(DTYPE_OPS)))
def test_dtypes_are_kept(k, dtype):
    f, shapes = DTYPE_OPS[k]
    check_all(f, shapes, dtype)


def test_integer_input_gradients_follow_mlx():
    # MLX differentiates an integer array like any other: its cotangent keeps the
    # integer dtype.
    for f in [lambda m, x: m.reshape(x, (6,)).sum(), lambda m, x: m.pad(x, 1, mode="edge").sum(),
              lambda m, x: m.diagonal(x).sum(), lambda m, x: m.concatenate([x, x]).sum()]:
        x, x_ = both(np.arange(6).reshape(2, 3), "int32")
        assert_same(mx.grad(lambda a: f(mx, a))(x), mlx.grad(lambda a: f(mlx, a))(x_))


def test_nonfinite_cotangents_stay_where_they_belong():
    # Scattering back onto a diagonal or a padded interior must not multiply by zeros
    # (nan * 0 would spread a nan over the whole gradient).
    c = [nan, inf, 2.0]
    cases = [(lambda m, x: m.diagonal(x), (3, 3), [c]),
             (lambda m, x: m.diagonal(x, 1, 1, 0), (4, 3), [c]),
             (lambda m, x: m.diag(x), (3,), [np.where(np.eye(3), 1.0, nan)]),
             (lambda m, x: m.split(x, [1, 2]), (3,), [[nan], [inf], [2.0]]),
             (lambda m, x: m.split(x, [2, 1]), (3,), [[nan, 1.0], [], [inf, 2.0]])]
    for mode in ("constant", "edge", "reflect", "symmetric"):
        cot = np.zeros((4, 5))
        cot[0, 0], cot[2, 2], cot[3, 1] = nan, inf, -inf
        cases.append((lambda m, x, _mode=mode: m.pad(x, 1, mode=_mode), (2, 3), [cot]))
    for f, shape, cots in cases:
        x, x_ = both(data(shape, 0))
        pairs = [both(np.array(c, dtype=np.float32)) for c in cots]
        _, g = mx.vjp(lambda a: outputs(f(mx, a)), [x], [p[0] for p in pairs])
        _, g_ = mlx.vjp(lambda a: outputs(f(mlx, a)), [x_], [p[1] for p in pairs])
        same(g, g_)


def test_split_pieces_used_apart_all_get_cotangents():
    # The pieces of one Split reach the output through different paths: the vjp walk
    # must run Split's rule only after every piece's cotangent has arrived.
    def f(m, a):
        p0, p1, p2 = m.split(a, [1, 3], axis=1)
        return m.concatenate([m.reshape(p2, (-1,)), m.transpose(p1).reshape(-1), m.flatten(p0)])

    x, x_ = both(data((2, 4), 0))
    c, c_ = both(data((8,), 1))
    _, g = mx.vjp(lambda a: f(mx, a), [x], [c])
    _, g_ = mlx.vjp(lambda a: f(mlx, a), [x_], [c_])
    same(g, g_)


def test_pad_fill_value_gradient():
    # MLX hands back x's gradient (the wrong shape) for the fill value; its true
    # gradient is the sum of the cotangent over the border (docs/differences.md).
    x = mx.array(data((2, 3), 0))
    g = mx.array(data((4, 6), 1))
    cval = mx.array(1.5)
    _, (gx, gc) = mx.vjp(lambda a, c: mx.pad(a, [(1, 1), (2, 1)], constant_values=c),
                         [x, cval], [g])
    border = np.ones((4, 6), bool)
    border[1:3, 2:5] = False
    np.testing.assert_allclose(np.array(gc), np.array(g)[border].sum(), rtol=1e-5)
    assert gc.shape == () and gc.dtype == mx.float32
    np.testing.assert_allclose(np.array(gx), np.array(g)[1:3, 2:5])
    # The fill value is not read by the other modes.
    assert mx.grad(lambda c: mx.pad(x, 1, mode="edge", constant_values=c).sum())(cval).item() == 0
    _, (t,) = mx.jvp(lambda c: mx.pad(x, 1, constant_values=c), [cval], [mx.array(2.0)])
    np.testing.assert_array_equal(np.array(t), np.pad(np.zeros((2, 3)), 1, constant_values=2.0))


def test_grad_of_sums_and_second_order():
    h = data((3, 4), 3)
    x, x_ = both(h)
    fs = [lambda m, a: (m.pad(a, [(2, 1), (3, 5)], mode="reflect") ** 3).sum(),
          lambda m, a: (m.pad(a, 1, mode="edge") * m.pad(a, 1, mode="symmetric")).sum(),
          lambda m, a: (m.diagonal(a, 1) ** 2).sum() + (m.diag(a[0]) ** 3).sum(),
          lambda m, a: sum((p ** 2 * (i + 1)).sum() for i, p in enumerate(m.split(a, [3, 1], 1))),
          lambda m, a: (m.concatenate([a, a.T.reshape(3, 4) ** 2], 0) ** 2).sum()]
    for f in fs:
        same(mx.grad(lambda a: f(mx, a))(x), mlx.grad(lambda a: f(mlx, a))(x_))
        # d/dx of sum(grad): the rules' own graphs differentiate again.
        same(mx.grad(lambda a: mx.grad(lambda b: f(mx, b))(a).sum())(x),
             mlx.grad(lambda a: mlx.grad(lambda b: f(mlx, b))(a).sum())(x_))


# -- vmap against MLX ---------------------------------------------------------------------

def check_vmap(f, shapes, in_axes, out_axes=0, dtype="float32"):
    pairs = [both(data(s, i), dtype) for i, s in enumerate(shapes)]
    got = mx.vmap(lambda *a: f(mx, *a), in_axes, out_axes)(*[p[0] for p in pairs])
    want = mlx.vmap(lambda *a: f(mlx, *a), in_axes, out_axes)(*[p[1] for p in pairs])
    same(outputs(got), outputs(want), dtype)


VMAPS = [
    (lambda m, x: m.reshape(x, (-1, 2)), [(4, 3, 2)], 1, 0),
    (lambda m, x: m.flatten(x, 1), [(2, 3, 4, 3)], -1, 1),
    (lambda m, x: m.squeeze(m.expand_dims(x, 2), 2), [(3, 4, 2)], 2, -1),
    (lambda m, x: m.transpose(x, (1, 2, 0)), [(2, 3, 4, 5)], 2, 1),
    (lambda m, x: m.broadcast_to(x, (2, 3, 4)), [(3, 5, 1)], 1, 0),
    (lambda m, x: m.broadcast_to(x, (4, 3)), [(5,)], 0, -1),
    (lambda m, x, y: m.concatenate([x, y], 1), [(2, 3, 3), (2, 1)], (2, None), 0),
    (lambda m, x, y: m.concatenate([y, x, y], 0), [(3, 2, 5), (1, 5)], (0, None), 1),
    (lambda m, x, y: m.concatenate([x, y]), [(2, 3, 5), (4, 5, 3)], (2, 1), 0),
    (lambda m, x, y: m.stack([x, y]), [(2, 3), (3, 2)], (1, 0), 2),
    (lambda m, x: m.split(x, [1, 3], axis=0), [(4, 5)], 1, 0),
    (lambda m, x: m.split(x, 2, axis=-1), [(4, 3, 2)], 1, [0, 1]),
    (lambda m, x: m.pad(x, [(1, 0), (2, 3)]), [(2, 5, 3)], 1, 0),
    (lambda m, x: m.pad(x, 2, mode="reflect"), [(3, 4)], -1, 0),
    (lambda m, x: m.pad(x, (1, 4), mode="symmetric"), [(3, 2, 4)], 0, 1),
    (lambda m, x: m.pad(x, 1, mode="edge"), [(3, 4)], 1, 0),
    (lambda m, x: m.diagonal(x, 1), [(3, 4, 5)], 1, 0),
    (lambda m, x: m.diagonal(x, -1, 2, 0), [(3, 4, 5, 2)], 3, -1),
    (lambda m, x: m.diag(x, 1), [(3, 4)], 1, 0),
    (lambda m, x: m.diag(x), [(3, 4)], 0, 2),
    (lambda m, x: m.repeat(x, 2, axis=0), [(3, 4)], 1, 0),
    (lambda m, x: m.tile(x, (2, 1)), [(3, 4)], 0, 1),
]


@pytest.mark.parametrize("k", range(len(VMAPS)))
def test_vmap_matches_mlx(k):
    f, shapes, in_axes, out_axes = VMAPS[k]
    check_vmap(f, shapes, in_axes, out_axes)


def test_nested_vmap_and_vmap_of_grad():
    x, x_ = both(data((2, 3, 4, 5), 0))
    y, y_ = both(data((4, 5), 1))

    def f(m, a, b):
        parts = m.split(m.concatenate([a, b], axis=0), [2, 5], axis=1)
        return m.pad(m.diagonal(parts[1] * parts[1], 0, 0, 1), (2, 1), mode="reflect")

    inner = lambda m: m.vmap(lambda a, b: f(m, a, b), in_axes=(1, None))  # noqa: E731
    same(mx.vmap(inner(mx), in_axes=(0, None), out_axes=1)(x, y),
         mlx.vmap(inner(mlx), in_axes=(0, None), out_axes=1)(x_, y_))

    def loss(m, a):
        return (m.pad(m.transpose(a).reshape(-1, 2), 1, mode="edge") ** 2).sum() + \
            (m.diag(a[0]) * m.broadcast_to(a[1:2], (a.shape[1],) * 2)).sum()

    z, z_ = both(data((4, 3, 4), 2))
    same(mx.vmap(mx.grad(lambda a: loss(mx, a)), in_axes=2)(z),
         mlx.vmap(mlx.grad(lambda a: loss(mlx, a)), in_axes=2)(z_))
    # vjp of vmap: the batched rules' graphs differentiate too.
    same(mx.grad(lambda a: mx.vmap(lambda r: loss(mx, r))(a).sum())(z),
         mlx.grad(lambda a: mlx.vmap(lambda r: loss(mlx, r))(a).sum())(z_))


def test_vmap_over_pad_fill_value():
    # MLX refuses a batched fill value; mlxpy maps it (docs/differences.md).
    x = mx.array(data((3, 2, 3), 0))
    c = mx.array([1.0, -2.0, 7.0])
    for in_axes, args in [((0, 0), (x, c)), ((None, 0), (x[0], c)),
                          ((2, 0), (mx.moveaxis(x, 0, 2), c))]:
        got = mx.vmap(lambda a, v: mx.pad(a, [(1, 0), (0, 2)], constant_values=v), in_axes)(*args)
        for b in range(3):
            a = args[0] if in_axes[0] is None else mx.take(args[0], b, axis=in_axes[0])
            np.testing.assert_array_equal(
                np.array(got[b]), np.array(mx.pad(a, [(1, 0), (0, 2)], constant_values=c[b])))
    # Modes that ignore the value give an unbatched result.
    out = mx.vmap(lambda v: mx.pad(x[0], 1, mode="edge", constant_values=v))(c)
    assert out.shape == (3, 4, 5)


def test_no_loop_fallback():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for f, shapes, in_axes, out_axes in VMAPS:
            mx.eval(mx.vmap(lambda *a: f(mx, *a), in_axes, out_axes)(
                *[mx.array(data(s, 0)) for s in shapes]))


# -- shapeless compile --------------------------------------------------------------------

SHAPELESS = [
    lambda m, x: x.reshape(-1),
    lambda m, x: m.reshape(x, (2, -1)),
    lambda m, x: m.flatten(x),
    lambda m, x: m.flatten(x, 1),
    lambda m, x: m.expand_dims(x, (0, 2)),
    lambda m, x: m.squeeze(m.expand_dims(x, 1), 1),
    lambda m, x: m.stack([x, x], axis=1),
    lambda m, x: m.concatenate([x, 2 * x], axis=1),
    lambda m, x: m.transpose(x),
    lambda m, x: m.atleast_3d(x),
    lambda m, x: m.concatenate([x, x], axis=None),
    lambda m, x: m.pad(x, 1, mode="edge"),
    lambda m, x: m.diagonal(x, 1, 0, 1),
]


@pytest.mark.parametrize("shapes", [[(2, 4), (2, 6), (4, 3), (1, 6)],
                                    [(2, 3, 4), (2, 5, 4), (3, 3, 2), (1, 6, 1)]])
@pytest.mark.parametrize("k", range(len(SHAPELESS)))
def test_shapeless_replay_recomputes_shapes(k, shapes):
    f = SHAPELESS[k]
    cf = mx.compile(lambda x: f(mx, x), shapeless=True)
    for shape in shapes:
        x, x_ = both(data(shape, 0))
        same(cf(x), f(mlx, x_))
    assert cf.trace_count == 1


def test_shapeless_replay_of_fixed_shapes_raises():
    cf = mx.compile(lambda x: mx.reshape(x, (6,)), shapeless=True)
    assert cf(mx.ones((2, 3))).shape == (6,)
    with pytest.raises(ValueError, match="reshape|compile"):
        mx.eval(cf(mx.ones((2, 5))))
    cf = mx.compile(lambda x: mx.reshape(x, (3, -1)), shapeless=True)
    assert cf(mx.ones((3, 4))).shape == (3, 4)
    with pytest.raises(ValueError, match="Cannot reshape array of size 10"):
        mx.eval(cf(mx.ones((2, 5))))
    for f in [lambda x: mx.broadcast_to(x, (3, 2, 3)), lambda x: mx.split(x, 3, axis=1)[0],
              lambda x: mx.broadcast_arrays(x, mx.zeros((3, 1, 1)))[0],
              lambda x: mx.repeat(x, 2, axis=0), lambda x: mx.unflatten(x, 1, (3, -1))]:
        cf = mx.compile(f, shapeless=True)
        mx.eval(cf(mx.ones((2, 3))))
        with pytest.raises(ValueError):
            mx.eval(cf(mx.ones((2, 5))))
