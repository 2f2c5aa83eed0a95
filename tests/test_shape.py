"""Shape ops against real MLX: values, dtypes, shapes and exception types."""
import doctest
import itertools

import numpy as np
import pytest

import mlxpy.core as mx
from mlxpy.core.ops import shape as shape_ops
from mlxpy.core.primitives import shape as P
from tests.oracle import assert_same, mlx, needs_mlx

pytestmark = needs_mlx

SMALL_DTYPES = ["bool_", "uint8", "int32", "int64", "float16", "bfloat16", "float32",
                "complex64"]


def _data(shape, dtype="int32"):
    """The same values as (mlxpy array, MLX array); distinct elements where the dtype allows."""
    h = (np.arange(int(np.prod(shape))) % 97 - 20).reshape(shape).astype(np.float32)
    if dtype == "bool_":
        h = h % 3 == 0
    elif dtype.startswith("u"):
        h = h + 20
    ours = mx.array(h).astype(getattr(mx, dtype))
    theirs = mlx.array(h).astype(getattr(mlx, dtype))
    return ours, theirs


def compare(f, *shapes, dtype="int32", **kw):
    """Run `f(module, *arrays)` on both libraries: equal results, or the same exception type."""
    pairs = [_data(s, dtype) for s in shapes]
    ours_in = [p[0] for p in pairs]
    theirs_in = [p[1] for p in pairs]
    try:
        theirs = f(mlx, *theirs_in)
    except Exception as e:  # noqa: BLE001 - the type is what we compare
        with pytest.raises(Exception) as info:
            f(mx, *ours_in)
        # MLX's binding answers some wrong argument types with RuntimeError
        # (std::bad_cast); we raise TypeError there.
        expected = "TypeError" if "bad_cast" in str(e) else type(e).__name__
        assert type(info.value).__name__ == expected, \
            f"raised {type(info.value).__name__} ({info.value}); " \
            f"MLX raised {type(e).__name__} ({e})"
        assert str(info.value).startswith("[") or type(info.value) is TypeError, info.value
        return None
    ours = f(mx, *ours_in)
    assert_same(ours, theirs, **kw)
    return ours


# -- reshape family ---------------------------------------------------------------------

@pytest.mark.parametrize("target", [(4, 6), (4, -1), (-1,), (24,), (2, 3, 4), (1, 24, 1),
                                    (-1, 2, 2), (-1, -1), (5, -1), (5, 5), (-2, 12), (),
                                    [6, 4], (2, 3, -1, 1)])
def test_reshape(target):
    compare(lambda m, a: m.reshape(a, target), (2, 3, 4))
    compare(lambda m, a: a.reshape(target), (2, 3, 4))


def test_reshape_forms_and_dtypes():
    for d in SMALL_DTYPES:
        compare(lambda m, a: m.reshape(a, (3, 2)), (2, 3), dtype=d)
        compare(lambda m, a: a.reshape(-1), (2, 3), dtype=d)
    compare(lambda m, a: a.reshape(3, 2), (2, 3))
    compare(lambda m, a: a.reshape([3, 2]), (2, 3))
    compare(lambda m, a: m.reshape(a, shape=(6,)), (2, 3))
    compare(lambda m, a: m.reshape(a, ()), (1, 1))
    compare(lambda m, a: m.reshape(a, (1, 1, 1)), ())
    compare(lambda m, a: m.reshape(a, (-1,)), (0, 3))
    compare(lambda m, a: m.reshape(a, (0, -1)), (0, 3))
    compare(lambda m, a: m.reshape(a, (3, 0, 2)), (0, 3))
    compare(lambda m, a: m.reshape(a, 6), (2, 3))            # an int is not a shape
    compare(lambda m, a: m.reshape(a, (2.0, 3)), (2, 3))
    compare(lambda m, a: m.reshape(a.tolist(), (3, 2)), (2, 3))
    compare(lambda m, a: m.reshape(a, m.array([3, 2])), (2, 3))


def test_reshape_of_transposed_values():
    compare(lambda m, a: m.reshape(m.transpose(a), (4, 6)), (2, 3, 4), dtype="float32")


@pytest.mark.parametrize("shape", [(2, 3, 4), (), (5,), (2, 0, 3)])
def test_flatten(shape):
    for start, end in itertools.product(range(-5, 6), repeat=2):
        compare(lambda m, a: m.flatten(a, start, end), shape)
    compare(lambda m, a: a.flatten(), shape)
    compare(lambda m, a: a.flatten(1), shape)
    compare(lambda m, a: a.flatten(start_axis=0, end_axis=1), shape)
    compare(lambda m, a: m.flatten(a, 1.0), shape)


@pytest.mark.parametrize("axis,shape", [
    (1, (3, 1)), (-1, (2, -1)), (-1, (-1, 2)), (-1, (-1, -1)), (-1, (3, -1)), (-1, (3, 2)),
    (-1, ()), (3, (4,)), (-4, (2,)), (0, (2, 1, 1)), (0, (-1, 1, 1)), (0, (-2, -1)),
    (2, (4,)), (2, (1, 4, 1)), (0, 2),
])
def test_unflatten(axis, shape):
    compare(lambda m, a: m.unflatten(a, axis, shape), (2, 3, 4))


def test_unflatten_scalar_and_empty():
    compare(lambda m, a: m.unflatten(a, 0, (1,)), ())
    compare(lambda m, a: m.unflatten(a, 1, (0, 5)), (2, 0))
    compare(lambda m, a: m.unflatten(a, 1, (5, 0)), (2, 0))
    # MLX crashes on (0, -1) (a division by zero); we raise.
    with pytest.raises(ValueError):
        mx.unflatten(mx.zeros((2, 0)), 1, (0, -1))
    assert not hasattr(mlx.array, "unflatten") and not hasattr(mx.array, "unflatten")


@pytest.mark.parametrize("axis", [None, 0, -2, 2, (0, 2), [0, -2], (0, 0), (0, -4), 1, 4,
                                  -5, (), (3,)])
def test_squeeze(axis):
    compare(lambda m, a: m.squeeze(a, axis), (1, 3, 1, 4))
    compare(lambda m, a: a.squeeze(axis), (1, 3, 1, 4))


def test_squeeze_edges():
    compare(lambda m, a: m.squeeze(a), ())
    compare(lambda m, a: m.squeeze(a, 0), ())
    compare(lambda m, a: m.squeeze(a), (0, 1))
    compare(lambda m, a: m.squeeze(a), (1, 1))
    compare(lambda m, a: a.squeeze(axis=0), (1, 2))
    compare(lambda m, a: m.squeeze(a, 0.0), (1, 2))


@pytest.mark.parametrize("axis", [0, 1, 2, 3, -1, -3, -4, (0, 1), (0, -1), (0, 4), (0, 5),
                                  (0, 0), (0, -4), (-1, -5), (), [1, 3], (3, 0)])
def test_expand_dims(axis):
    compare(lambda m, a: m.expand_dims(a, axis), (2, 3))


def test_expand_dims_scalar_and_errors():
    for axis in (0, -1, 1, (0, 1), (-1, 0)):
        compare(lambda m, a: m.expand_dims(a, axis), ())
    compare(lambda m, a: m.expand_dims(a, None), (2,))
    compare(lambda m, a: m.expand_dims(3.0, 0), (2,))
    assert not hasattr(mx.array, "expand_dims")


# -- permutations -----------------------------------------------------------------------

def test_transpose_all_permutations():
    for perm in itertools.permutations(range(3)):
        compare(lambda m, a: m.transpose(a, perm), (2, 3, 4), dtype="float32")
        neg = tuple(p - 3 for p in perm)
        compare(lambda m, a: m.transpose(a, neg), (2, 3, 4))
        compare(lambda m, a: a.transpose(*perm), (2, 3, 4))
        compare(lambda m, a: a.transpose(perm), (2, 3, 4))
        compare(lambda m, a: a.transpose(list(perm)), (2, 3, 4))


@pytest.mark.parametrize("axes", [None, (0, 1), (0, 1, 1), (0, 1, -1), (0, 1, 3), (0, 1, -4),
                                  (0, 1, 2, 3), (2, 1, 0)])
def test_transpose_axes(axes):
    compare(lambda m, a: m.transpose(a, axes), (2, 3, 4))
    compare(lambda m, a: m.transpose(a, axes=axes), (2, 3, 4))


def test_transpose_T_mT():
    for shape in [(), (3,), (2, 3), (2, 3, 4), (1, 0, 2)]:
        compare(lambda m, a: m.transpose(a), shape)
        compare(lambda m, a: a.transpose(), shape)
        compare(lambda m, a: a.T, shape)
        compare(lambda m, a: a.mT, shape)
    for d in SMALL_DTYPES:
        compare(lambda m, a: a.T, (2, 3), dtype=d)


def test_swapaxes_moveaxis():
    for i, j in itertools.product(range(-4, 4), repeat=2):
        compare(lambda m, a: m.swapaxes(a, i, j), (2, 3, 4))
        compare(lambda m, a: m.moveaxis(a, i, j), (2, 3, 4))
    compare(lambda m, a: a.swapaxes(0, 1), (2, 3, 4))
    compare(lambda m, a: a.swapaxes(axis1=2, axis2=0), (2, 3, 4))
    compare(lambda m, a: a.moveaxis(0, -1), (2, 3, 4))
    compare(lambda m, a: a.moveaxis(source=2, destination=0), (2, 3, 4))
    compare(lambda m, a: m.moveaxis(a, (0, 1), (1, 0)), (2, 3, 4))
    compare(lambda m, a: m.swapaxes(a, 0, 0), ())


# -- broadcasting -----------------------------------------------------------------------

@pytest.mark.parametrize("src,dst", [
    ((3, 1), (2, 3, 4)), ((3, 1), (3,)), ((3, 1), (2, 4)), ((3, 1), (3, 0)),
    ((3, 0), (3, 1)), ((3, 1), (3, -1)), ((3, 1), ()), ((), ()), ((), (2, 2)), ((1,), (0,)),
    ((2, 3), (2, 3)), ((4,), (2, 3, 4)), ((1, 1), (5, 1, 1)),
])
def test_broadcast_to(src, dst):
    for d in ("int32", "float16", "bool_"):
        compare(lambda m, a: m.broadcast_to(a, dst), src, dtype=d)


def test_broadcast_to_scalars_and_errors():
    for v in (2, True, 2 ** 40, 1.5, 1j, np.float64(2.0), np.array([1, 2])):
        assert_same(mx.broadcast_to(v, (2, 2)), mlx.broadcast_to(v, (2, 2)))
    compare(lambda m, a: m.broadcast_to(a, 3), (3,))


def test_broadcast_arrays():
    compare(lambda m, a, b: m.broadcast_arrays(a, b), (2, 1), (3,))
    compare(lambda m, a, b, c: m.broadcast_arrays(a, b, c), (2, 1, 1), (3, 1), (4,))
    compare(lambda m, a, b: m.broadcast_arrays(a, b), (2, 3), (4,))
    compare(lambda m, a: m.broadcast_arrays(a), (2, 3))
    compare(lambda m, a, b: m.broadcast_arrays(a, b), (0, 1), (1, 5))
    assert mx.broadcast_arrays() == [] == mlx.broadcast_arrays()
    assert isinstance(mx.broadcast_arrays(mx.zeros(2), mx.zeros(2)), list)
    x = mx.array([1, 2], dtype=mx.int8)
    y = mx.array([[1.5], [2.5]])
    bx, by = mx.broadcast_arrays(x, y)
    assert (bx.dtype, by.dtype, bx.shape) == (mx.int8, mx.float32, (2, 2))


# -- joining ----------------------------------------------------------------------------

@pytest.mark.parametrize("da,db", list(itertools.product(SMALL_DTYPES + ["uint32", "int8"],
                                                         repeat=2)))
def test_concatenate_promotes(da, db):
    a, ma = _data((2, 3), da)
    b, mb = _data((1, 3), db)
    assert_same(mx.concatenate([a, b]), mlx.concatenate([ma, mb]))
    assert_same(mx.concatenate([b, a], axis=0), mlx.concatenate([mb, ma], axis=0))
    c, mc = _data((2, 3), db)
    assert_same(mx.stack([a, c], axis=1), mlx.stack([ma, mc], axis=1))


@pytest.mark.parametrize("axis", [0, 1, -1, -2, 2, -3, None])
def test_concatenate_axes(axis):
    compare(lambda m, a, b: m.concatenate([a, b], axis), (2, 3), (2, 3))
    compare(lambda m, a, b: m.concatenate((a, b), axis=axis), (2, 3), (4, 3))
    compare(lambda m, a, b: m.concat([a, b], axis=axis), (2, 3), (2, 1))
    compare(lambda m, a, b, c: m.concatenate([a, b, c], axis), (2, 3), (0, 3), (1, 3))
    compare(lambda m, a, b: m.concatenate([a, b], axis), (2, 3), (3,))
    compare(lambda m, a, b: m.concatenate([a, b], axis), (2, 3), (3, 2))


def test_concatenate_edges():
    compare(lambda m, a: m.concatenate([a]), (2, 3))
    compare(lambda m: m.concatenate([]))
    compare(lambda m, a, b: m.concatenate([a, b]), (), ())
    compare(lambda m, a, b: m.concatenate([a, b], None), (), ())
    compare(lambda m, a, b: m.concatenate([a, b], None), (2, 2), (3,))
    compare(lambda m, a: m.concatenate([a, [1, 2]]), (2,))
    compare(lambda m, a: m.concatenate([a, 1]), (2,))
    compare(lambda m, a, b: m.concatenate([a, b], 5), (2, 3), (3,))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3, 3, -4, None])
def test_stack(axis):
    compare(lambda m, a, b: m.stack([a, b], axis), (2, 3), (2, 3))
    compare(lambda m, a, b, c: m.stack((a, b, c), axis=axis), (2, 3), (2, 3), (2, 3),
            dtype="float16")
    compare(lambda m, a, b: m.stack([a, b], axis), (2, 3), (3, 2))


def test_stack_edges():
    compare(lambda m: m.stack([]))
    compare(lambda m, a, b: m.stack([a, b]), (), ())
    compare(lambda m, a, b: m.stack([a, b], -1), (), ())
    compare(lambda m, a, b: m.stack([a, b], 1), (), ())
    compare(lambda m, a: m.stack([a]), (0, 2))
    compare(lambda m, a: m.stack(a), (2, 3))        # an array reads as its rows
    compare(lambda m, a: m.concatenate(a), (2, 3))


# -- splitting --------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [3, 4, 0, -2, 1, 6, 7, [1, 4], [4, 1], [-1], [-10], [10],
                                  [1, 10, 2], [], (2,), [0, 0], [-10, 3], [-2, -4], [6, 6],
                                  2.0])
def test_split(spec):
    compare(lambda m, a: m.split(a, spec), (6, 2))
    compare(lambda m, a: m.split(a, spec, axis=0), (6, 2), dtype="bfloat16")
    compare(lambda m, a: a.split(spec), (6, 2))
    compare(lambda m, a: m.split(a, spec, -1), (2, 6))


def test_split_axes_and_edges():
    compare(lambda m, a: m.split(a, 2, axis=1), (6, 2))
    compare(lambda m, a: m.split(a, 2, axis=-1), (6, 2))
    compare(lambda m, a: m.split(a, 2, axis=2), (6, 2))
    compare(lambda m, a: m.split(a, 2, axis=-3), (6, 2))
    compare(lambda m, a: m.split(a, 1), ())
    compare(lambda m, a: m.split(a, 2), (0, 2))
    compare(lambda m, a: m.split(a, [1]), (0, 2))
    compare(lambda m, a: a.split([1, 2], 1), (6, 2))
    compare(lambda m, a: a.split(indices_or_sections=2, axis=1), (6, 2))
    compare(lambda m, a: m.split(a, m.array([1, 2])), (6, 2))
    compare(lambda m, a: m.split(a, np.array([1, 2])), (6, 2))
    assert isinstance(mx.split(mx.zeros(4), 2), list)


def test_split_is_one_multi_output_node():
    parts = mx.split(mx.arange(6), 3)
    nodes = [p._node for p in parts]
    assert nodes[0].siblings == tuple(nodes)
    assert isinstance(nodes[0].prim, P.Split) and nodes[0].prim.num_outputs == 3
    mx.eval(parts[1])                       # evaluating one piece fills all of them
    assert all(n.data is not None for n in nodes)
    assert [p.tolist() for p in parts] == [[0, 1], [2, 3], [4, 5]]


# -- repetition -------------------------------------------------------------------------

@pytest.mark.parametrize("repeats,axis", [(2, None), (2, 0), (2, 1), (2, -1), (0, 1), (0, None),
                                          (1, 0), (3, -2), (-1, 1), (2, 2), (2, -3),
                                          ([1, 2], 1), (2.0, None)])
def test_repeat(repeats, axis):
    compare(lambda m, a: m.repeat(a, repeats, axis), (2, 3))
    compare(lambda m, a: m.repeat(a, repeats, axis), (2, 3), dtype="complex64")


def test_repeat_edges():
    compare(lambda m, a: m.repeat(a, 3), ())
    compare(lambda m, a: m.repeat(a, 3, 0), ())
    compare(lambda m, a: m.repeat(a, 3, 0), (0, 2))
    compare(lambda m, a: m.repeat(array=a, repeats=2, axis=1), (2, 3))
    compare(lambda m, a: m.repeat(a, m.array(2), 1), (2, 3))
    assert not hasattr(mx.array, "repeat")


@pytest.mark.parametrize("reps", [2, (2, 1), (2, 1, 2), (2,), (), 0, -1, (1, -1), (1, 1),
                                  (3, 1, 1, 1), [2, 3]])
def test_tile(reps):
    compare(lambda m, a: m.tile(a, reps), (2, 3))
    compare(lambda m, a: m.tile(a, reps), ())
    compare(lambda m, a: m.tile(a, reps), (3,), dtype="bool_")


# -- padding ----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
@pytest.mark.parametrize("shape", [(2, 3), (1, 4), (3,), (5,), (1,), (2, 1, 3)])
def test_pad_modes(mode, shape):
    for width in [0, 1, 2, 3, 5, (0, 4), (3, 1), [(1, 2)]]:
        compare(lambda m, a: m.pad(a, width, mode), shape)
    compare(lambda m, a: m.pad(a, 2, mode), shape, dtype="bfloat16")
    compare(lambda m, a: m.pad(a, 1, mode=mode), shape, dtype="bool_")


@pytest.mark.parametrize("width", [1, (1, 2), (1,), [(1, 2), (0, 1)], [(1, 2)],
                                   [(1, 2), (0, 1), (1, 1)], [1, 2], [[1, 2], [3, 4]],
                                   ((1, 2), (3, 4)), [(1,), (2,)], -1, (-1, 2), (1, -2),
                                   [(0, 0), (1, -1)], (1, 2, 3), (), [], 1.5, (0, 0),
                                   [(0, 0), (0, 0)], [(1, 2), 3], np.int64(1)])
def test_pad_widths(width):
    compare(lambda m, a: m.pad(a, width), (2, 3))


@pytest.mark.filterwarnings("ignore:overflow encountered in cast")
@pytest.mark.parametrize("value", [7, 7.5, True, 1 + 2j, -1, 300, 2 ** 40, np.float64(3),
                                   np.array([3, 4])])
@pytest.mark.parametrize("dtype", ["int32", "uint8", "float16", "bool_", "float32"])
def test_pad_constant_values(value, dtype):
    compare(lambda m, a: m.pad(a, 1, constant_values=value), (2, 3), dtype=dtype)


def test_pad_constant_array_values_and_edges():
    compare(lambda m, a: m.pad(a, 2, constant_values=m.array(7.5)), (2, 3))
    compare(lambda m, a: m.pad(a, 2, constant_values=m.array(7, m.int64)), (2, 3))
    compare(lambda m, a: m.pad(a, 2, constant_values=m.array([7, 8])), (2, 3))  # first only
    compare(lambda m, a: m.pad(a, 2, constant_values=m.array([[7], [8]])), (2, 3))
    compare(lambda m, a: m.pad(a, 1, "edge", constant_values=7), (2, 3))
    compare(lambda m, a: m.pad(a, 1, constant_values=float("nan")), (2, 3), dtype="float32")
    compare(lambda m, a: m.pad(a, 1, constant_values=float("inf")), (2,), dtype="float16")
    compare(lambda m, a: m.pad(a, 1), ())
    compare(lambda m, a: m.pad(a, []), ())
    compare(lambda m, a: m.pad(a, 1, "wrap"), (2, 3))
    compare(lambda m, a: m.pad(a, 1, "foo"), (2, 3))
    compare(lambda m, a: m.pad(a, pad_width=1), (2, 3))
    compare(lambda m, a: m.pad(a, 1, "constant", [7]), (2, 3))


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_empty(mode):
    compare(lambda m, a: m.pad(a, 1, mode), (0, 2), dtype="float32")
    compare(lambda m, a: m.pad(a, [(0, 0), (1, 1)], mode), (0, 2))
    compare(lambda m, a: m.pad(a, [(1, 1), (0, 0)], mode), (2, 0))


# -- diagonals --------------------------------------------------------------------------

@pytest.mark.parametrize("k", [0, 1, -1, 2, 3, 4, -2, -3, -4, 10, -10])
def test_diag(k):
    compare(lambda m, a: m.diag(a, k), (3, 4))
    compare(lambda m, a: m.diag(a, k=k), (3,), dtype="float16")
    compare(lambda m, a: a.diag(k), (4, 3))
    compare(lambda m, a: m.diag(a, k), (0,))
    compare(lambda m, a: m.diag(a, k), (0, 3))


def test_diag_errors_and_methods():
    compare(lambda m, a: m.diag(a), ())
    compare(lambda m, a: m.diag(a), (2, 2, 2))
    compare(lambda m, a: m.diag(a, 1.0), (2, 2))
    compare(lambda m, a: a.diag(k=1), (3,))
    compare(lambda m, a: a.diag(), (3,), dtype="bool_")


def test_diagonal():
    for offset in range(-5, 6):
        for a1, a2 in itertools.product(range(-4, 4), repeat=2):
            compare(lambda m, a: m.diagonal(a, offset, a1, a2), (2, 3, 4))
    compare(lambda m, a: m.diagonal(a), (3,))
    compare(lambda m, a: m.diagonal(a), ())
    compare(lambda m, a: m.diagonal(a), (0, 3))
    compare(lambda m, a: a.diagonal(1, 1, 2), (2, 3, 4))
    compare(lambda m, a: a.diagonal(offset=1, axis1=1, axis2=2), (2, 3, 4))
    compare(lambda m, a: m.diagonal(a=a, offset=-1), (3, 3), dtype="complex64")


@pytest.mark.parametrize("axis", [None, 0, 1, -1, -2, (0, 1), (0, 0), [1, -1], 2, -3, (),
                                  (0, 2)])
def test_flip(axis):
    compare(lambda m, a: m.flip(a, axis), (2, 3))
    compare(lambda m, a: m.flip(a, axis=axis), (2, 3, 4), dtype="float16")
    compare(lambda m, a: m.flip(a, axis), (0, 3))


def test_flip_edges():
    compare(lambda m, a: m.flip(a), ())
    compare(lambda m, a: m.flip(a, 0), ())
    compare(lambda m, a: m.flip(a.tolist()), (2,))
    assert not hasattr(mx.array, "flip")


# -- at least N-D -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
def test_atleast(name):
    for shape in [(), (3,), (2, 3), (2, 3, 4), (2, 3, 4, 5), (0,)]:
        compare(lambda m, a: getattr(m, name)(a), shape)
    compare(lambda m, a, b: getattr(m, name)(a, b), (3,), ())
    assert getattr(mx, name)() == [] == getattr(mlx, name)()
    assert isinstance(getattr(mx, name)(mx.zeros(2), mx.zeros(2)), list)
    assert isinstance(getattr(mx, name)(mx.zeros(2)), mx.array)


# -- engine properties ------------------------------------------------------------------

def test_views_and_laziness():
    x = mx.arange(24, dtype=mx.float32)
    mx.eval(x)
    base = x._node.data
    outs = [x.reshape(2, 3, 4), mx.transpose(x.reshape(4, 6)), mx.broadcast_to(x, (3, 24)),
            mx.diagonal(x.reshape(4, 6)), mx.expand_dims(x, 0), mx.squeeze(x.reshape(1, 24))]
    assert all(o._node.data is None for o in outs)           # nothing computed yet
    mx.eval(*outs)
    for o in outs:
        assert np.shares_memory(o._node.data, base), type(o._node.prim).__name__
    mx.eval(mx.split(x, 4))
    assert np.array_equal(np.array(x), np.arange(24, dtype=np.float32))   # input untouched


def test_identity_ops_reuse_the_node():
    x = mx.zeros((2, 3))
    assert mx.reshape(x, (2, 3))._node is x._node
    assert mx.transpose(x, (0, 1))._node is x._node
    assert mx.broadcast_to(x, (2, 3))._node is x._node


def test_primitive_params_are_hashable():
    prims = [P.Reshape((2, 3)), P.Transpose((1, 0)), P.Broadcast((2, 3)), P.Concatenate(0),
             P.Split((1, 2), 0), P.Pad((1,), (2,), "edge"), P.Diagonal(0, 0, 1), P.Diag(1)]
    for p in prims:
        assert hash(p) == hash(type(p)(*p.params())) and p == type(p)(*p.params())
    assert P.Reshape((2, 3)) != P.Reshape((3, 2))


def test_stream_keyword():
    x = mx.zeros((2, 3))
    assert mx.reshape(x, (3, 2), stream=mx.cpu).shape == (3, 2)
    assert x.transpose(stream=mx.cpu).shape == (3, 2)
    assert mx.pad(x, 1, stream=mx.cpu).shape == (4, 5)
    assert mx.diagonal(x, 0, 0, 1, mx.cpu).shape == (2,)


def test_method_names_match_mlx():
    for name in ["reshape", "flatten", "squeeze", "transpose", "swapaxes", "moveaxis", "split",
                 "diag", "diagonal", "T", "mT"]:
        assert hasattr(mx.array, name) and hasattr(mlx.array, name)


def test_doctests():
    result = doctest.testmod(shape_ops, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted > 20
