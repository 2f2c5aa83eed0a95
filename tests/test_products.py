"""Products (inner, outer, tensordot, kron, einsum, vecdot, trace, diff,
hadamard_transform) against real MLX: values, dtypes, shapes, errors, grad and vmap."""
import numpy as np
import pytest

import mlxpy.core as mx
from oracle import assert_same, mlx, needs_mlx, raises_like, to_mlx

pytestmark = needs_mlx
RNG = np.random.default_rng(1)


def _pair(shape, dtype="float32"):
    h = RNG.normal(size=shape) * 3
    x = mx.array(h).astype(getattr(mx, dtype))
    return x, to_mlx(x)


def _typed(spec):
    return len(spec) == 2 and isinstance(spec[1], str)


def _both(fn_name, specs, *args, **kw):
    ours_in, theirs_in = zip(*[_pair(*s) if _typed(s) else _pair(s) for s in specs])
    ours = getattr(mx, fn_name)(*ours_in, *args, **kw)
    theirs = getattr(mlx, fn_name)(*theirs_in, *args, **kw)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("a,b", [((3,), (3,)), ((2, 3), (4, 3)), ((), (2, 3)), ((2, 3), ()),
                                 ((2, 2, 3), (3,)), (((3,), "float16"), ((3,), "float32"))])
def test_inner(a, b):
    _both("inner", [a, b])


@pytest.mark.parametrize("a,b", [((3,), (4,)), ((2, 3), (4,)), ((), (3,)),
                                 (((3,), "int32"), ((2,), "int32")),
                                 (((2,), "bool_"), ((3,), "bool_")),
                                 (((2,), "int8"), ((3,), "float16"))])
def test_outer(a, b):
    _both("outer", [a, b])


@pytest.mark.parametrize("a,b,axes", [((2, 3), (3, 4), 1), ((2, 3, 4), (3, 4, 5), 2),
                                      ((2, 3), (3, 4), 0), ((2, 3), (3, 4), [[1], [0]]),
                                      ((2, 3, 4), (4, 2), ((0, 2), (1, 0))),
                                      ((2, 3), (3, 4), [[-1], [0]]), ((3,), (3,), 1)])
def test_tensordot(a, b, axes):
    _both("tensordot", [a, b], axes=axes)


@pytest.mark.parametrize("a,b", [((2, 3), (3, 4)), ((3,), (2, 3)), ((), (2, 3)), ((2,), (3,)),
                                 (((2, 2), "int32"), ((3,), "int32")),
                                 (((2,), "bool_"), ((2,), "bool_")),
                                 ((2, 1, 3), (1, 2))])
def test_kron(a, b):
    _both("kron", [a, b])


@pytest.mark.parametrize("a,b,axis", [((2, 3), (2, 3), -1), ((1, 3), (2, 3), -1),
                                      ((4, 3), (4, 3), 0), (((2, 3), "int32"), ((2, 3), "int32"), 1),
                                      (((3,), "complex64"), ((3,), "complex64"), 0)])
def test_vecdot(a, b, axis):
    ours_in, theirs_in = zip(*[_pair(*s) if _typed(s) else _pair(s) for s in (a, b)])
    if ours_in[0].dtype is mx.complex64:
        ours_in = [x * (1 + 2j) for x in ours_in]
        theirs_in = [x * (1 + 2j) for x in theirs_in]
    assert_same(mx.vecdot(*ours_in, axis=axis), mlx.vecdot(*theirs_in, axis=axis),
                rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape,offset,a1,a2,dtype", [
    ((3, 3), 0, 0, 1, None), ((3, 4), 1, 0, 1, None), ((3, 4), -2, 0, 1, None),
    ((3, 4), 7, 0, 1, None), ((2, 3, 4), 0, 2, 0, None), ((2, 3, 4), 1, -1, 1, None),
    ((3, 3), 0, 1, 0, "float16")])
@pytest.mark.parametrize("src", ["float32", "int32", "uint8", "bool_", "int8"])
def test_trace(shape, offset, a1, a2, dtype, src):
    x, xm = _pair(shape, src)
    d = None if dtype is None else (getattr(mx, dtype), getattr(mlx, dtype))
    ours = mx.trace(x, offset, a1, a2, None if d is None else d[0])
    theirs = mlx.trace(xm, offset, a1, a2, None if d is None else d[1])
    assert_same(ours, theirs, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("shape,n,axis", [((5,), 1, -1), ((5,), 2, 0), ((3, 4), 1, 0),
                                          ((3, 4), 3, 1), ((3, 4), 0, 1), ((3, 4), 7, 1),
                                          ((2, 3, 4), 2, -2)])
@pytest.mark.parametrize("dtype", ["float32", "int32", "uint8", "bool_", "float16"])
def test_diff(shape, n, axis, dtype):
    x, xm = _pair(shape, dtype)
    ours, theirs = mx.diff(x, n, axis), mlx.diff(xm, n, axis)
    assert ours.shape == theirs.shape and ours.dtype.name == str(theirs.dtype).split(".")[-1]
    if 0 not in ours.shape:
        assert_same(ours, theirs)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ij,jk", [(2, 3), (3, 4)]), ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("i,i", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]), ("...ij,...jk", [(5, 2, 3), (3, 4)]),
    ("b...i,bi->b...", [(2, 3, 4, 5), (2, 5)]), ("ij,ij->ij", [(1, 3), (2, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]), ("Ij, jk -> Ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("iij,jk->ik", [(3, 3, 2), (2, 4)]),
    ("ij,kl->", [(2, 3), (4, 5)]), ("abc,cba->b", [(2, 3, 4), (4, 3, 2)]),
    ("i,i,i->i", [(3,), (3,), (3,)]), ("ijk,jk->i", [(2, 1, 4), (3, 4)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]),
]


@pytest.mark.parametrize("subscripts,shapes", EINSUMS)
def test_einsum(subscripts, shapes):
    ours_in, theirs_in = zip(*[_pair(s) for s in shapes])
    assert_same(mx.einsum(subscripts, *ours_in), mlx.einsum(subscripts, *theirs_in),
                rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("subscripts,shapes,dtypes", [
    ("i->", [(3,)], ["int32"]), ("i,j", [(3,), (2,)], ["int32", "int32"]),
    ("i,i", [(3,), (3,)], ["float16", "int32"]), ("ij->ji", [(2, 3)], ["bool_"])])
def test_einsum_dtypes(subscripts, shapes, dtypes):
    ours_in, theirs_in = zip(*[_pair(s, d) for s, d in zip(shapes, dtypes)])
    assert_same(mx.einsum(subscripts, *ours_in), mlx.einsum(subscripts, *theirs_in),
                rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("call", [
    lambda m, a, b, v: m.inner(a, b), lambda m, a, b, v: m.inner([1.0], [2.0]),
    lambda m, a, b, v: m.inner(a.astype(m.int32), a.astype(m.int32)),
    lambda m, a, b, v: m.outer(2.0, v),
    lambda m, a, b, v: m.tensordot(a, b, 2), lambda m, a, b, v: m.tensordot(a, b, -1),
    lambda m, a, b, v: m.tensordot(a, b, [[0], [0]]),
    lambda m, a, b, v: m.tensordot(a, b, [[1, 0], [0]]),
    lambda m, a, b, v: m.tensordot(a, b, [[5], [0]]),
    lambda m, a, b, v: m.kron(2.0, a), lambda m, a, b, v: m.trace(v),
    lambda m, a, b, v: m.trace(a, 0, 1, 1), lambda m, a, b, v: m.trace(a, 0, 0, 3),
    lambda m, a, b, v: m.diff(v, -1), lambda m, a, b, v: m.diff(m.array(1.0)),
    lambda m, a, b, v: m.diff(a, axis=2), lambda m, a, b, v: m.vecdot(a, v),
    lambda m, a, b, v: m.vecdot(a, b), lambda m, a, b, v: m.vecdot(a, a, axis=2),
    lambda m, a, b, v: m.einsum("ij,jk->ik", a, a),
    lambda m, a, b, v: m.einsum("ij,jk->ik", a),
    lambda m, a, b, v: m.einsum("ij->ii", a),
    lambda m, a, b, v: m.einsum("ij,jk->ik", a.astype(m.int32), b.astype(m.int32)),
    lambda m, a, b, v: m.eval(m.hadamard_transform(m.ones(3))),
    lambda m, a, b, v: m.eval(m.hadamard_transform(m.ones(4, dtype=m.float64))),
])
def test_errors(call):
    a, am = _pair((2, 3))
    b, bm = _pair((3, 4))
    v, vm = _pair((3,))
    raises_like(lambda: call(mx, a, b, v), lambda: call(mlx, am, bm, vm))


@pytest.mark.parametrize("shape", [(4,), (3, 8), (2, 16), (1,), ()])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int32", "bfloat16"])
@pytest.mark.parametrize("scale", [None, 0.5])
def test_hadamard(shape, dtype, scale):
    x, xm = _pair(shape, dtype)
    assert_same(mx.hadamard_transform(x, scale), mlx.hadamard_transform(xm, scale),
                rtol=2e-2, atol=2e-2)


GRADS = [
    ("einsum", lambda m, x, y: m.einsum("ij,jk->ik", x, y)),
    ("einsum", lambda m, x, y: m.einsum("ij,ij->i", x, x @ y @ y.T)),
    ("einsum", lambda m, x, y: m.einsum("ii->i", x @ x.T)),
    ("tensordot", lambda m, x, y: m.tensordot(x, y, 1)),
    ("inner", lambda m, x, y: m.inner(x, x)),
    ("outer", lambda m, x, y: m.outer(x, y)),
    ("kron", lambda m, x, y: m.kron(x, y)),
    ("trace", lambda m, x, y: m.trace(x @ y, 0, 0, 1) * m.trace(y, 1)),
    ("diff", lambda m, x, y: m.diff(x, 2, 0)),
    ("vecdot", lambda m, x, y: m.vecdot(x, x)),
    ("hadamard", lambda m, x, y: m.hadamard_transform(y.T)),
]


@pytest.mark.parametrize("name,f", GRADS)
def test_grad_and_vmap_against_mlx(name, f):
    x, xm = _pair((3, 4))
    y, ym = _pair((4, 8))
    w, wm = _pair(np.array(f(mx, x, y)).shape)
    ours = mx.grad(lambda a, b: (f(mx, a, b) * w).sum(), argnums=(0, 1))(x, y)
    theirs = mlx.grad(lambda a, b: (f(mlx, a, b) * wm).sum(), argnums=(0, 1))(xm, ym)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-3)
    xs, xsm = _pair((2, 3, 4))
    assert_same(mx.vmap(lambda a: f(mx, a, y))(xs), mlx.vmap(lambda a: f(mlx, a, ym))(xsm),
                rtol=1e-4, atol=1e-3)


def test_doctests():
    import doctest
    import mlxpy.core.fft as fft_module
    import mlxpy.core.ops.products as products_module
    for module in (fft_module, products_module):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, f"{module.__name__}: {result.failed} doctest failures"


@pytest.mark.parametrize("subscripts,shapes", EINSUMS + [
    ("abc,cd,de,ea->b", [(2, 3, 4), (4, 5), (5, 6), (6, 2)]),
    ("ij,jk,kl,lm->im", [(8, 2), (2, 9), (9, 3), (3, 7)])])
def test_einsum_path(subscripts, shapes):
    ours = mx.einsum_path(subscripts, *[mx.ones(s) for s in shapes])
    theirs = mlx.einsum_path(subscripts, *[mlx.ones(s) for s in shapes])
    assert ours == theirs
