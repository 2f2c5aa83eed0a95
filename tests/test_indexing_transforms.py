"""Transforms of indexing against real MLX.

vjp / jvp / grad / vmap (in_axes, out_axes, nested, vmap of grad) of ``x[key]``,
``x[key] = v``, ``x.at[key].<op>(v)``, take, take_along_axis, put_along_axis and the
dynamic slices, compared on values, dtypes and shapes. Where MLX has no rule (the
jvp of scatters, the vjp of multiply scatters, vmap over dynamic starts), raises
(derivatives with respect to indices) or differs on purpose (docs/differences.md:
repeated "set" indices, ties of maximum / minimum, out-of-range indices), the tests
check mlxpy against finite differences, its own vjp, or a Python loop instead.
"""
import warnings

import numpy as np
import pytest

import mlxpy.core as mx
from oracle import TOL, data, assert_same, mlx, needs_mlx

# A vmap falling back to its Python loop warns: every rule here must make that moot.
pytestmark = [needs_mlx, pytest.mark.filterwarnings("error::RuntimeWarning")]

def both(h, dtype="float32"):
    """The same values as (mlxpy, MLX) arrays of `dtype` (ints and bools keep theirs)."""
    h = np.asarray(h)
    if h.dtype.kind in "biu":
        return mx.array(h), mlx.array(h)
    if dtype == "complex64":
        h = h.astype(np.complex64)
        return mx.array(h), mlx.array(h)
    if dtype == "float64":
        return mx.array(h, dtype=mx.float64), mlx.array(h, dtype=mlx.float64)
    h = h.astype(np.float32)
    return mx.array(h).astype(getattr(mx, dtype)), mlx.array(h).astype(getattr(mlx, dtype))


def same(ours, theirs, dtype="float32"):
    rtol, atol = TOL.get(dtype, (1e-12, 0))
    assert_same(ours, theirs, rtol=rtol, atol=atol)


def idx(*values):
    return np.array(values, dtype=np.int32)


def run_both(transform, f, hosts, extra, dtype):
    """transform(fn, arrays, extra arrays) on mlxpy and on MLX; `f(m, *arrays)`."""
    ours = [both(h, dtype)[0] for h in hosts]
    theirs = [both(h, dtype)[1] for h in hosts]
    ex = [both(h, dtype)[0] for h in extra]
    ex_ = [both(h, dtype)[1] for h in extra]
    return (getattr(mx, transform)(lambda *a: f(mx, *a), ours, ex),
            getattr(mlx, transform)(lambda *a: f(mlx, *a), theirs, ex_))


def check_vjp(f, hosts, seed=0, dtype="float32"):
    """vjp of f(m, *hosts) with respect to every argument, like MLX's."""
    out = f(mx, *[both(h, dtype)[0] for h in hosts])
    cot = data(out.shape, 1000 + seed, dtype)
    (o, g), (o_, g_) = run_both("vjp", f, hosts, [cot], dtype)
    same(o[0], o_[0], dtype)
    for a, b in zip(g, g_):
        same(a, b, dtype)


def check_jvp(f, hosts, seed=0, dtype="float32"):
    tans = [data(np.shape(h), 2000 + seed + k, dtype) for k, h in enumerate(hosts)]
    (o, j), (o_, j_) = run_both("jvp", f, hosts, tans, dtype)
    same(o[0], o_[0], dtype)
    same(j[0], j_[0], dtype)


def fd_check(f, hosts, seed=0, eps=1e-6, tol=1e-6):
    """vjp and jvp of f(mx, *hosts) in float64 against central differences and each
    other (for functions MLX cannot differentiate, or differentiates otherwise)."""
    rng = np.random.default_rng(seed)
    xs = [mx.array(h, dtype=mx.float64) for h in hosts]
    out = f(mx, *xs)
    u = rng.standard_normal(out.shape)
    vs = [rng.standard_normal(np.shape(h)) for h in hosts]
    _, gs = mx.vjp(lambda *a: f(mx, *a), xs, [mx.array(u, dtype=mx.float64)])
    _, (j,) = mx.jvp(lambda *a: f(mx, *a), xs, [mx.array(v, dtype=mx.float64) for v in vs])
    plus = np.array(f(mx, *[mx.array(h + eps * v, dtype=mx.float64) for h, v in zip(hosts, vs)]))
    minus = np.array(f(mx, *[mx.array(h - eps * v, dtype=mx.float64) for h, v in zip(hosts, vs)]))
    np.testing.assert_allclose(np.array(j), (plus - minus) / (2 * eps), rtol=tol, atol=tol)
    lhs = sum(float((np.array(g) * v).sum()) for g, v in zip(gs, vs))
    rhs = float((u * np.array(j)).sum())
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, abs(lhs)), (lhs, rhs)


def setitem(m, x, key, v):
    y = x * 1
    y[key] = v
    return y


# -- reads: slices, gathers, take, take_along_axis, dynamic slices ------------------------

def _reads():
    i3, i5 = idx(0, 2, 2, 1, 0), idx(4, 1, 4)
    return [
        ("slice", lambda m, x: x[1, ::-2], (3, 4)),
        ("slice-none", lambda m, x: x[None, :, 2], (3, 4)),
        ("slice-steps", lambda m, x: x[::2, None, 1:3], (5, 4, 3)),
        ("gather-repeats", lambda m, x: x[m.array(i3)], (3, 4)),
        ("gather-columns", lambda m, x: x[:, m.array(idx(3, 3, 0))], (3, 4)),
        ("gather-split", lambda m, x: x[m.array(idx(0, 2)), 1:, m.array(idx(4, 4))], (3, 4, 5)),
        ("gather-broadcast", lambda m, x: x[:, m.array(idx(1, 1, 3)).reshape(3, 1),
                                            m.array(i5)], (2, 4, 5)),
        ("gather-int-array", lambda m, x: x[1, :, m.array(i5)], (3, 4, 5)),
        ("gather-none", lambda m, x: x[m.array(idx(2, 0)), None, 0], (3, 4, 5)),
        ("take-axis", lambda m, x: m.take(x, m.array(idx(3, 0, 3)), axis=1), (3, 4)),
        ("take-flat", lambda m, x: m.take(x, m.array(idx(11, 0, 11, 5))), (3, 4)),
        ("take-last", lambda m, x: m.take(x, m.array(idx(1, 1)).reshape(2, 1), axis=-1),
         (2, 3, 4)),
        ("take-along", lambda m, x: m.take_along_axis(
            x, m.array(idx(0, 0, 3, 1, 2, 2)).reshape(3, 2), axis=1), (3, 4)),
        ("take-along-bcast", lambda m, x: m.take_along_axis(
            x, m.array(idx(1, 0, 3, 3)).reshape(1, 2, 2), axis=-1), (3, 1, 4)),
        ("dynamic-slice", lambda m, x: m.slice(x, m.array(idx(1, 2)), (0, 1), (2, 2)), (3, 4)),
        ("dynamic-slice-axis", lambda m, x: m.slice(x, m.array(1), (2,), (2, 3, 2)), (2, 3, 4)),
    ]


READS = _reads()


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "complex64"])
@pytest.mark.parametrize("name,f,shape", READS, ids=[r[0] for r in READS])
def test_reads_vjp_and_jvp_like_mlx(name, f, shape, dtype):
    h = data(shape, 1, dtype)
    check_vjp(f, [h], 0, dtype)
    check_jvp(f, [h], 0, dtype)


def test_repeated_indices_accumulate_and_grad_keeps_dtype():
    for dtype in ("float16", "bfloat16", "float32"):
        x, x_ = both(np.arange(12.0).reshape(3, 4), dtype)
        w, w_ = both(np.arange(20.0).reshape(5, 4), dtype)

        def loss(m, x, w):
            return (x[m.array(idx(0, 2, 2, 1, 2))] * w).astype(m.float32).sum()
        same(mx.grad(lambda x: loss(mx, x, w))(x), mlx.grad(lambda x: loss(mlx, x, w_))(x_),
             dtype)


def test_second_derivatives_of_reads_like_mlx():
    h = data((4, 3), 2)
    i = idx(1, 1, 3)

    def f(m, x):
        inner = m.grad(lambda y: (y[m.array(i)] ** 3).sum())
        return (inner(x) ** 2).sum()
    same(mx.grad(lambda x: f(mx, x))(both(h)[0]), mlx.grad(lambda x: f(mlx, x))(both(h)[1]))


# -- writes: x[key] = v, x.at[key].<op>(v), put_along_axis, dynamic slice_update, masks --

def _writes():
    # Index arrays here never repeat a position: MLX and mlxpy then agree on everything.
    return [
        ("set-slice", lambda m, x, v: setitem(m, x, (slice(1, None), slice(None, None, 2)), v),
         (3, 4), (2, 2)),
        ("set-slice-bcast", lambda m, x, v: setitem(m, x, (slice(None), 1), v), (3, 4), ()),
        ("set-slice-none", lambda m, x, v: setitem(m, x, (None, 0), v), (3, 4), (4,)),
        ("set-array", lambda m, x, v: setitem(m, x, m.array(idx(2, 0)), v), (3, 4), (2, 4)),
        ("add-repeats", lambda m, x, v: x.at[m.array(idx(1, 1, 2))].add(v), (3, 4), (3, 4)),
        ("subtract-bcast", lambda m, x, v: x.at[:, m.array(idx(3, 0, 3))].subtract(v),
         (3, 4), (3,)),
        ("add-basic", lambda m, x, v: x.at[1:, 2].add(v), (3, 4), (2,)),
        ("maximum", lambda m, x, v: x.at[m.array(idx(0, 2))].maximum(v), (3, 4), (2, 4)),
        ("minimum-repeats", lambda m, x, v: x.at[m.array(idx(1, 1))].minimum(v), (3, 4), (2, 4)),
        ("put-along", lambda m, x, v: m.put_along_axis(
            x, m.array(idx(3, 0, 2)).reshape(3, 1), v, axis=1), (3, 4), (3, 1)),
        ("put-along-flat", lambda m, x, v: m.put_along_axis(x, m.array(idx(7, 0, 11)), v),
         (3, 4), (3,)),
        ("slice-update", lambda m, x, v: m.slice_update(x, v, m.array(idx(1, 1)), (0, 1)),
         (3, 4), (2, 2)),
        ("slice-update-rank", lambda m, x, v: m.slice_update(x, v, m.array(2), (1,)),
         (2, 4, 3), (2, 3)),
        # The update broadcasts over the leading axes it lacks, except along `axes`.
        ("slice-update-lead", lambda m, x, v: m.slice_update(x, v, m.array(idx(1, 1)), (0, 2)),
         (2, 3, 4), (2,)),
        ("mask-fill", lambda m, x, v: setitem(m, x, m.array([True, False, True]), v),
         (3, 4), (4,)),
        ("mask-sequence", lambda m, x, v: setitem(m, x, m.array([[True, False], [True, True]]), v),
         (2, 2, 3), (4, 1)),
    ]


WRITES = _writes()


@pytest.mark.parametrize("dtype", ["float32", "float16", "complex64"])
@pytest.mark.parametrize("name,f,xs,vs", WRITES, ids=[w[0] for w in WRITES])
def test_writes_vjp_like_mlx(name, f, xs, vs, dtype):
    if dtype == "complex64" and name.startswith(("maximum", "minimum")):
        pytest.skip("complex maximum compares lexicographically; covered in float")
    hosts = [data(xs, 3, dtype), data(vs, 4, dtype)]
    check_vjp(f, hosts, 0, dtype)


@pytest.mark.parametrize("name,f,xs,vs", WRITES, ids=[w[0] for w in WRITES])
def test_writes_jvp(name, f, xs, vs):
    hosts = [data(xs, 3), data(vs, 4)]
    if name.startswith(("set-slice", "slice-update", "mask", "put")):
        check_jvp(f, hosts)  # MLX has these; its scatters have no jvp
    fd_check(f, hosts)


def test_scatter_jvp_and_vjp_where_mlx_has_none():
    hosts = [data((4, 3), 5), data((5, 3), 6)]
    i = idx(2, 0, 2, 3, 2)
    for op in ("add", "subtract", "multiply", "divide", "maximum", "minimum"):
        fd_check(lambda m, x, v: getattr(x.at[m.array(i)], op)(v), hosts)
    # An index array next to a slice (MLX's vjp fails: "Cannot reshape array").
    for v_shape in ((2,), (2, 2)):
        fd_check(lambda m, x, v: setitem(m, x, (m.array(idx(2, 0)), slice(1, 3)), v),
                 [data((3, 4), 1), data(v_shape, 2)])
    fd_check(lambda m, x, v: x.at[m.array(idx(2, 2)), 1:].multiply(v),
             [data((3, 4), 1), data((3,), 2)])


def test_set_with_repeated_indices_credits_the_update_that_stays():
    # MLX credits every repeat (values grad [2, 2, 3]); the last write is what stays.
    x = mx.array([1.0, 5.0, 3.0, 2.0])
    w = mx.array([1.0, 2.0, 3.0, 4.0])

    def f(x, v):
        return (setitem(mx, x, mx.array(idx(1, 1, 2)), v) * w).sum()
    gx, gv = mx.grad(f, argnums=(0, 1))(x, mx.array([4.0, 7.0, 6.0]))
    assert gx.tolist() == [1, 0, 0, 4] and gv.tolist() == [0, 2, 3]
    fd_check(lambda m, x, v: setitem(m, x, m.array(idx(1, 1, 2, 1)), v),
             [data((4, 2), 1), data((4, 2), 2)])
    fd_check(lambda m, x, v: m.put_along_axis(x, m.array(idx(0, 0, 2, 0)).reshape(1, 4), v,
                                              axis=1), [data((2, 3), 1), data((2, 4), 2)])
    # One broadcast value written twice at one position still counts once.
    _, gv = mx.grad(f, argnums=(0, 1))(x, mx.array(9.0))
    assert gv.item() == 5.0


def test_maximum_and_minimum_split_ties():
    # MLX gives the whole cotangent to each tied input (x grad [1, 2, 3, 4], values
    # [2, 2, 0]); mlxpy splits it as its max reduction does.
    x = mx.array([1.0, 5.0, 3.0, 2.0])
    w = mx.array([1.0, 2.0, 3.0, 4.0])
    i = mx.array(idx(1, 1, 2))
    gx, gv = mx.grad(lambda x, v: (x.at[i].maximum(v) * w).sum(), argnums=(0, 1))(
        x, mx.array([5.0, 5.0, 1.0]))
    np.testing.assert_allclose(np.array(gx), [1, 2 / 3, 3, 4])
    np.testing.assert_allclose(np.array(gv), [2 / 3, 2 / 3, 0])
    # Without ties MLX and mlxpy agree.
    x_, w_, i_ = mlx.array(np.array(x)), mlx.array(np.array(w)), mlx.array(idx(1, 1, 2))
    for op, v in (("maximum", [4.0, 7.0, 6.0]), ("minimum", [4.0, 7.0, 6.0])):
        ours = mx.grad(lambda x, v: (getattr(x.at[i], op)(v) * w).sum(), argnums=(0, 1))(
            x, mx.array(v))
        theirs = mlx.grad(lambda x, v: (getattr(x.at[i_], op)(v) * w_).sum(), argnums=(0, 1))(
            x_, mlx.array(v))
        same(ours, theirs)
    # A broadcast value tied with itself at a repeated index: the true derivative.
    fd_check(lambda m, x, v: x.at[m.array(idx(0, 0, 2))].minimum(v),
             [data((3, 2), 1) + 5, data((2,), 2)])


def test_multiply_scatter_derivatives_are_exact_at_zeros():
    x = mx.array([2.0, 3.0, 4.0])
    i = mx.array(idx(0, 0, 1, 1))
    for v, gx_want, gv_want in [
            ([0.0, 5.0, 4.0, 2.0], [0, 8, 1], [10, 0, 6, 12]),
            ([0.0, 0.0, 1.0, 2.0], [0, 2, 1], [0, 0, 6, 3])]:
        gx, gv = mx.grad(lambda x, v: x.at[i].multiply(v).sum(), argnums=(0, 1))(
            x, mx.array(v))
        assert gx.tolist() == gx_want and gv.tolist() == gv_want
    fd_check(lambda m, x, v: x.at[m.array(idx(0, 0, 2))].multiply(v),
             [data((3, 2), 1), data((3, 2), 2)])
    # MLX has no vjp for it.
    with pytest.raises(RuntimeError):
        mlx.grad(lambda x: x.at[mlx.array(idx(0))].multiply(2.0).sum())(mlx.array([1.0]))


def test_index_mask_and_start_derivatives_are_zero():
    # MLX raises "Cannot calculate VJP with respect to indices" even for x[argmax(x)].
    x = mx.array([1.0, 3.0, 2.0])
    assert mx.grad(lambda x: x[mx.argmax(x)])(x).tolist() == [0, 1, 0]
    _, (gx, gi) = mx.vjp(lambda x, i: x[i], [x, mx.array(idx(1, 1))], [mx.ones((2,))])
    assert gx.tolist() == [0, 2, 0] and gi.dtype == mx.int32 and gi.tolist() == [0, 0]
    _, (t,) = mx.jvp(lambda x, i: mx.take(x, i), [x, mx.array(idx(2))], [x, mx.array(idx(5))])
    assert t.tolist() == [2]
    _, (gs,) = mx.vjp(lambda s: mx.slice(x, s, (0,), (2,)), [mx.array(idx(1))], [mx.ones((2,))])
    assert gs.tolist() == [0]


def test_out_of_range_indices_clamp_reads_and_drop_writes():
    # Reads clamp (so the gradient lands on the element read), writes drop (so the
    # dropped update gets none); MLX reads and writes out of bounds there.
    x = mx.array([1.0, 2.0, 3.0])
    g = mx.grad(lambda x: (x[mx.array(idx(5, -7, 1))] * mx.array([1.0, 10.0, 100.0])).sum())(x)
    assert g.tolist() == [10, 100, 1]
    g = mx.grad(lambda x: mx.take(x, mx.array(idx(9, 0))).sum())(x)
    assert g.tolist() == [1, 0, 1]
    gx, gv = mx.grad(lambda x, v: (x.at[mx.array(idx(0, 3, -4))].add(v) * x).sum(),
                     argnums=(0, 1))(x, mx.array([1.0, 2.0, 3.0]))
    assert gv.tolist() == [1, 0, 0]
    for mode in ("set", "maximum", "multiply"):
        def f(m, x, v, mode=mode):
            key = m.array(idx(0, 3, 2))
            return setitem(m, x, key, v) if mode == "set" else getattr(x.at[key], mode)(v)
        fd_check(f, [data((3,), 1), data((3,), 2)])
    fd_check(lambda m, x, v: m.put_along_axis(x, m.array(idx(4, 0)).reshape(1, 2), v, axis=1),
             [data((2, 3), 1), data((2, 2), 2)])


def test_dynamic_slices_clamp_their_starts_in_derivatives_too():
    x = mx.arange(5.0)
    g = mx.grad(lambda x: (mx.slice(x, mx.array(idx(4)), (0,), (2,)) *
                           mx.array([1.0, 10.0])).sum())(x)
    assert g.tolist() == [0, 0, 0, 1, 10]
    fd_check(lambda m, x, u: m.slice_update(x, u, m.array(idx(3, -2)), (0, 1)),
             [data((3, 4), 1), data((2, 2), 2)])


# -- vmap --------------------------------------------------------------------------------

def vmap_both(f, hosts, in_axes, out_axes=0, dtype="float32"):
    ours = mx.vmap(lambda *a: f(mx, *a), in_axes=in_axes, out_axes=out_axes)(
        *[both(h, dtype)[0] for h in hosts])
    theirs = mlx.vmap(lambda *a: f(mlx, *a), in_axes=in_axes, out_axes=out_axes)(
        *[both(h, dtype)[1] for h in hosts])
    same(ours, theirs, dtype)


def rand_idx(shape, n, seed):
    return np.random.default_rng(seed).integers(0, n, size=shape).astype(np.int32)


def batched_shape(shape, axis, size):
    """`shape` with a batch axis of `size` inserted where in_axes `axis` reads it."""
    if axis is None:
        return tuple(shape)
    shape = list(shape)
    shape.insert(axis if axis >= 0 else len(shape) + 1 + axis, size)
    return tuple(shape)


@pytest.mark.parametrize("in_axes,out_axes", [((0, None), 0), ((None, 0), 1), ((0, 0), 0),
                                               ((2, 1), -1), ((-1, None), 1), ((1, -1), 2)])
def test_vmap_of_gathers_like_mlx(in_axes, out_axes):
    for k, (f, x_shape, i_shape, n) in enumerate([
            (lambda m, x, i: x[i], (5, 4), (2, 2), 5),
            (lambda m, x, i: x[:, i], (4, 5), (2, 2), 5),
            (lambda m, x, i: x[i, 1:, i], (5, 4, 5), (2, 2), 5),
            (lambda m, x, i: x[None, 2, i], (3, 5), (2, 2), 5),
            (lambda m, x, i: m.take(x, i, axis=1), (4, 5), (2, 2), 5),
            (lambda m, x, i: m.take(x, i), (4, 5), (2, 2), 20)]):
        hosts = [data(batched_shape(x_shape, in_axes[0], 3), k),
                 rand_idx(batched_shape(i_shape, in_axes[1], 3), n, k)]
        vmap_both(f, hosts, in_axes, out_axes)


@pytest.mark.parametrize("in_axes", [(None, 0, 0), (0, 0, 0), (1, None, 1), (None, 0, None),
                                     (0, None, None), (2, 1, 2)])
def test_vmap_of_scatter_add_embedding_gradients_like_mlx(in_axes):
    # x.at[idx].add(v) per example: how embedding gradients are built.
    B, V, D, N = 3, 6, 4, 5
    shapes = [[V, D], [N], [N, D]]
    for s, a in zip(shapes, in_axes):
        if a is not None:
            s.insert(a, B)
    hosts = [data(shapes[0], 1), rand_idx(shapes[1], V, 2), data(shapes[2], 3)]
    vmap_both(lambda m, x, i, v: x.at[i].add(v), hosts, in_axes)
    vmap_both(lambda m, x, i, v: x.at[i].maximum(v), hosts, in_axes)


def test_vmap_of_grad_of_embedding_lookup_like_mlx():
    B, V, D = 4, 7, 3
    W = data((V, D), 1)
    ids = rand_idx((B, 5), V, 2)
    t = data((B, 5, D), 3)

    def per_example(m):
        return m.vmap(m.grad(lambda w, i, t: ((w[i] - t) ** 2).sum()), in_axes=(None, 0, 0))
    ours = per_example(mx)(both(W)[0], mx.array(ids), both(t)[0])
    theirs = per_example(mlx)(both(W)[1], mlx.array(ids), both(t)[1])
    same(ours, theirs)
    # vmap of vjp of a scatter: both arguments' gradients, per example.
    x, v = data((B, 5, 2), 4), data((B, 3, 2), 5)
    i = rand_idx((B, 3), 5, 6)

    def grads(m):
        f = m.grad(lambda x, i, v: (x.at[i].add(v) ** 2).sum(), argnums=(0, 2))
        return m.vmap(f, in_axes=(0, 0, 0))
    same(grads(mx)(both(x)[0], mx.array(i), both(v)[0]),
         grads(mlx)(both(x)[1], mlx.array(i), both(v)[1]))


def test_vmap_of_setitem_and_slices_like_mlx():
    B = 3
    x = data((B, 3, 4), 1)
    vmap_both(lambda m, x: x[1, ::-2], [x], 0)
    vmap_both(lambda m, x: x[None, :, 2], [x], 2, 1)
    vmap_both(lambda m, x, v: setitem(m, x, (slice(1, None), slice(None, None, 2)), v),
              [x, data((2, 2, B), 2)], (0, 2))
    vmap_both(lambda m, x, v: setitem(m, x, (slice(None), 1), v), [x, data((B,), 2)], (1, 0))
    # Distinct indices per example (MLX credits repeats differently, see above).
    perm = np.stack([np.random.default_rng(s).permutation(3)[:2] for s in range(B)])
    perm = perm.astype(np.int32)
    vmap_both(lambda m, x, i, v: setitem(m, x, i, v), [x, perm, data((B, 2, 4), 3)], (0, 0, 0))
    vmap_both(lambda m, x, i, v: setitem(m, x, (slice(None), i), v),
              [data((3, B, 4), 4), perm.T.copy(), data((3, 2), 3)], (1, 1, None), 2)
    vmap_both(lambda m, x, s: m.slice(x, s, (1,), (3, 2)), [x, idx(2)], (0, None))
    vmap_both(lambda m, x, u: m.slice_update(x, u, m.array(idx(1)), (1,)),
              [x, data((B, 2), 5)], (0, 0))


def test_vmap_along_axis_ops_like_mlx():
    B = 3
    x = data((B, 3, 4), 1)
    i = rand_idx((B, 3, 2), 4, 2)
    vmap_both(lambda m, x, i: m.take_along_axis(x, i, axis=1), [x, i], (0, 0))
    vmap_both(lambda m, x, i: m.take_along_axis(x, i, axis=0), [x, rand_idx((2, 4), 3, 3)],
              (0, None))
    # One index per row: no repeats, so MLX's put agrees.
    j = rand_idx((B, 3, 1), 4, 4)
    vmap_both(lambda m, x, i, v: m.put_along_axis(x, i, v, axis=1),
              [x, j, data((B, 3, 1), 5)], (0, 0, 0))
    vmap_both(lambda m, x, i, v: m.put_along_axis(x, i, v, axis=-1),
              [data((3, 4, B), 6), j, data((3, 1), 5)], (2, 0, None))


def test_vmap_of_masked_scatter_like_mlx():
    B = 3
    x = data((B, 3, 4), 1)
    mask = np.random.default_rng(2).random((B, 3)) > 0.4
    vmap_both(lambda m, x, k: setitem(m, x, k, 2.0), [x, mask], (0, 0))
    vmap_both(lambda m, x, k, v: setitem(m, x, k, v), [x, mask, data((B, 4), 3)], (0, 0, 0))
    vmap_both(lambda m, x, k, v: setitem(m, x, k, v), [x, mask, data((3, 4), 3)], (0, 0, None))
    vmap_both(lambda m, x, k, v: setitem(m, x, k, v), [x, mask[0], data((3, 4, B), 3)],
              (0, None, 2))


def test_vmap_of_masked_scatter_keeps_its_value_count_check():
    mask = mx.array([[True, True, False], [True, True, True]])

    def f(x, k, v):
        return setitem(mx, x, k, v)
    out = mx.vmap(f)(mx.zeros((2, 3)), mask, mx.array([[1.0, 2.0, 0.0], [3.0, 4.0, 5.0]]))
    assert out.tolist() == [[1, 2, 0], [3, 4, 5]]
    with pytest.raises(RuntimeError, match="masked_scatter"):
        mx.eval(mx.vmap(f)(mx.zeros((2, 3)), mask, mx.array([[1.0, 2.0], [3.0, 4.0]])))
    # Sequential values under vmap, and their gradient.
    x, v = mx.array(data((2, 3), 1)), mx.array(data((2, 3), 2))
    g = mx.vmap(mx.grad(lambda x, k, v: (f(x, k, v) ** 2).sum(), argnums=2))(x, mask, v)
    want = np.where(np.array([[1, 1, 0], [1, 1, 1]]), 2 * np.array(v), 0)
    np.testing.assert_allclose(np.array(g), want, rtol=1e-6)


def loop(f, args, in_axes):
    size = next(a.shape[ax] for a, ax in zip(args, in_axes) if ax is not None)
    return mx.stack([f(*[a if ax is None else mx.take(a, b, axis=ax)
                         for a, ax in zip(args, in_axes)]) for b in range(size)])


def test_vmap_over_dynamic_starts_where_mlx_has_none():
    x = mx.array(data((3, 4, 5), 1))
    starts = mx.array(rand_idx((3, 2), 5, 2))
    u = mx.array(data((3, 2, 2), 3))
    cases = [
        (lambda x, s: mx.slice(x, s, (0, 2), (2, 4, 2)), [x, starts], (None, 0)),
        (lambda x, s: mx.slice(x, s, (1, 0), (2, 3)), [x, starts], (0, 0)),
        (lambda x, s: mx.slice(x, s, (2, 1), (1, 2, 3)),
         [mx.array(data((2, 4, 3, 5), 4)), starts], (2, 0)),
        (lambda x, u, s: mx.slice_update(x, u, s, (0, 1)), [x, u, starts], (0, 0, 0)),
        (lambda x, u, s: mx.slice_update(x, u, s, (1, 0)), [x[0], u[0], starts], (None, None, 0)),
        (lambda x, u, s: mx.slice_update(x, u, s, (0, 1)), [x, u[0], starts.T], (0, None, 1)),
    ]
    for f, args, axes in cases:
        assert_same(mx.vmap(f, in_axes=axes)(*args), loop(f, args, axes))
    with pytest.raises(ValueError, match="start indices"):
        mlx.vmap(lambda s: mlx.slice(mlx.zeros((3, 4)), s, (0,), (2, 4)))(
            mlx.array(idx(0, 1)).reshape(2, 1))


def test_nested_vmap_and_vmap_of_jvp():
    x = mx.array(data((2, 3, 5, 4), 1))
    i = mx.array(rand_idx((3, 6, 2), 5, 2))
    f = mx.vmap(mx.vmap(lambda x, i: x[i], in_axes=(0, 1)), in_axes=(1, 0))
    got = f(x, i)
    for b in range(3):
        for c in range(2):
            assert_same(got[b, c], x[c, b][i[b, :, c]])
    x_, i_ = mlx.array(np.array(x)), mlx.array(np.array(i))
    same(got, mlx.vmap(mlx.vmap(lambda x, i: x[i], in_axes=(0, 1)), in_axes=(1, 0))(x_, i_))
    # Per-example jvp of an add scatter (MLX has no scatter jvp): against the loop.
    v = mx.array(data((3, 6, 4), 3))
    t = mx.array(data((3, 6, 4), 4))

    def jv(v, i, t):
        return mx.jvp(lambda v: mx.zeros((5, 4)).at[i].add(v), [v], [t])[1][0]
    assert_same(mx.vmap(jv)(v, i[..., 0], t), loop(jv, [v, i[..., 0], t], (0, 0, 0)))


def test_vmap_rules_never_fall_back_to_the_loop():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = mx.zeros((3, 4, 5))
        i = mx.array(rand_idx((3, 2), 4, 1))
        mx.eval(mx.vmap(lambda x, i: x[:, i].sum() + x.at[:, i].add(1.0).sum())(x, i))
        mx.eval(mx.vmap(mx.grad(lambda x, i: (x[i] ** 2).sum()))(x, i))


def test_integer_arrays_pass_cotangents_like_mlx():
    h = np.array([[1, 5, 3], [7, 2, 2]], dtype=np.int32)
    for f in [lambda m, x: x[m.array(idx(1, 1, 0))],
              lambda m, x: x[:, 1:],
              lambda m, x: x.at[m.array(idx(0, 0))].add(m.array([1, 2, 3])),
              lambda m, x: x.at[m.array(idx(1, 1))].maximum(m.array([[4, 4, 2], [1, 9, 2]])),
              lambda m, x: setitem(m, x, (slice(None), m.array(idx(2, 0))), 9),
              lambda m, x: m.take_along_axis(x, m.array(idx(2, 2, 0)).reshape(1, 3), axis=1)]:
        out = f(mx, mx.array(h))
        cot = np.arange(np.prod(out.shape), dtype=np.int32).reshape(out.shape)
        (o, g), (o_, g_) = run_both("vjp", f, [h], [cot], "int32")
        assert_same(o[0], o_[0])
        assert_same(g[0], g_[0])
