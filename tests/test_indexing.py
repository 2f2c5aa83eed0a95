"""Indexing against real MLX (and NumPy): x[key], x[key] = v, x.at[key], take, put, slice.

Index arrays are written here as NumPy arrays and handed to each library as its own
array type (MLX rejects NumPy arrays as indices; mlxpy accepts them, tested apart).
Cases where MLX reads or writes out of bounds, or crashes, are checked against
mlxpy's documented behaviour only.
"""
import doctest

import numpy as np
import pytest

import mlxpy.core as mx
from oracle import mlx, needs_mlx, assert_same, raises_like, to_mlx

pytestmark = needs_mlx

I = np.int32


def conv(key, lib):
    """`key` with its NumPy arrays turned into `lib` arrays."""
    if isinstance(key, tuple):
        return tuple(conv(k, lib) for k in key)
    if isinstance(key, np.ndarray):
        return lib.array(key)
    return key


def host(shape, dtype=np.int32):
    return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape) - 3


def both(h):
    return mx.array(h), mlx.array(h)


# -- reading ------------------------------------------------------------------------------

BASIC_KEYS = [
    0, -1, 1, (0, 1), (-1, -2, -3), (1, 2, 3), slice(None), slice(1, None),
    slice(None, None, -1), slice(-100, 100), slice(100, None), slice(None, None, 2),
    slice(5, -10, -1), slice(-1, None, -2), (slice(None), 1), (slice(None), -1, slice(None)),
    (Ellipsis, 1), (1, Ellipsis), (Ellipsis,), (None,), (None, 0, None, slice(None, None, -2)),
    (Ellipsis, None), (), (slice(1, -1), slice(None), slice(3, 0, -2)), (0, slice(None), -1),
    (slice(None), slice(None), slice(None)), (Ellipsis, slice(1, 3), None),
    (np.int64(1), slice(np.int32(0), np.int64(2))), (slice(0, 0),), (slice(2, 1),),
]

ADVANCED_KEYS = [
    np.array([0, 1, 1], I), np.array([[0], [1]], I), [0, 1], [[1, 0], [0, 1]],
    (np.array([0, 1], I), slice(None), np.array([1, 2], I)),
    (slice(None), np.array([0, 2], I), np.array([1, 3], I)),
    (slice(None), 1, np.array([1, 2], I)),
    (1, slice(None), np.array([1, 2], I)),
    (np.array([[0], [1]], I), np.array([0, 1, 2], I)),
    (np.array([0, 1], I), None, np.array([1, 2], I)),
    (None, np.array([0, 1], I), np.array([1, 2], I)),
    (np.array([0, 1], I), Ellipsis, np.array([1, 2], I)),
    (np.array(1, I),), (np.array(1, I), np.array(2, I)), (slice(None), np.array(2, I)),
    (slice(None, None, -1), np.array([0, 2], I)), np.array([-1, 0, -2], I),
    np.array([], I), np.array([1, 0], np.uint8), np.array([1], np.int64),
    np.array([1, 0], np.uint64), np.array([-1], np.int8),
    ([0, 1], [1, 2]), (0, [1, 2], slice(1, 3)), (slice(None), [[2, 1], [0, 0]], None),
    (np.array([[1]], I), slice(None), slice(None, None, -1), None),
    (Ellipsis, np.array([3, -4], I)), (np.array([0, 1], I), 2, 3),
]


@pytest.mark.parametrize("key", BASIC_KEYS + ADVANCED_KEYS, ids=repr)
def test_getitem_matches_mlx_and_numpy(key):
    h = host((2, 3, 4))
    x, y = both(h)
    ours = x[conv(key, mx)]
    assert_same(ours, y[conv(key, mlx)])
    np.testing.assert_array_equal(np.array(ours), h[key])


def random_key(rng, shape):
    """A random in-range key of ints, slices, None, ... and int32 index arrays."""
    entries, axis = [], 0
    for _ in range(rng.integers(0, len(shape) + 2)):
        r = rng.random()
        if r < 0.15:
            entries.append(None)
            continue
        if axis == len(shape):
            break
        d = shape[axis]
        if r < 0.45:
            entries.append(int(rng.integers(-d, d)))
        elif r < 0.75:
            bound = lambda: None if rng.random() < 0.3 else int(rng.integers(-d - 2, d + 2))
            step = [None, 1, 2, -1, -2, 3][rng.integers(0, 6)]
            entries.append(slice(bound(), bound(), step) if rng.random() < 0.8 else slice(None))
        else:
            index_shape = tuple(rng.integers(1, 3, size=rng.integers(0, 3)))
            entries.append(rng.integers(-d, d, size=index_shape).astype(I))
        axis += 1
    if rng.random() < 0.3:
        full = [i for i, e in enumerate(entries) if isinstance(e, slice) and e == slice(None)]
        if full and axis == len(shape):
            entries[full[0]] = Ellipsis
        else:
            entries.append(Ellipsis)
    return tuple(entries)


def test_random_keys_read_like_mlx_and_numpy_and_write_like_numpy():
    rng = np.random.default_rng(7)
    for _ in range(300):
        shape = tuple(int(d) for d in rng.integers(1, 5, size=rng.integers(1, 5)))
        h = host(shape)
        key = random_key(rng, shape)
        want = h[key]
        x = mx.array(h)
        got = x[conv(key, mx)]
        np.testing.assert_array_equal(np.array(got), want, err_msg=repr(key))
        if want.size or not any(isinstance(k, np.ndarray) for k in key):
            # (MLX can crash gathering into an empty result.)
            assert_same(got, mlx.array(h)[conv(key, mlx)])
        # MLX's own writes through keys mixing ints, arrays and None disagree with its
        # reads (and NumPy) at times; mlxpy writes where it reads.
        v = rng.integers(100, 200, size=want.shape).astype(I)
        x[conv(key, mx)] = mx.array(v)
        h[key] = v
        np.testing.assert_array_equal(np.array(x), h, err_msg=repr(key))


def test_getitem_four_dims_index_placement():
    h = host((2, 3, 4, 5))
    x, y = both(h)
    i, j = np.array([0, 1], I), np.array([1, 2], I)
    for key in [(slice(None), i, slice(None), j), (np.array([[0], [1]], I), slice(1, None), j, 2),
                (None, slice(None), i, j, None), (i, i, i, i), (slice(None), slice(None), i)]:
        assert_same(x[conv(key, mx)], y[conv(key, mlx)])


@pytest.mark.parametrize("dtype", ["bool_", "uint8", "uint16", "uint32", "uint64", "int8",
                                   "int16", "int32", "int64", "float16", "bfloat16",
                                   "float32", "float64", "complex64"])
def test_getitem_keeps_every_dtype(dtype):
    h = np.random.default_rng(0).normal(size=(3, 4)) * 5
    x = mx.array(h).astype(getattr(mx, dtype))
    y = to_mlx(x)
    for key in [1, (slice(None), -1), (slice(None, None, -1), 2), np.array([2, 0], I),
                (np.array([0, 2], I), np.array([1, 1], I)), (1, 2)]:
        assert_same(x[conv(key, mx)], y[conv(key, mlx)])


def test_getitem_special_values_and_empty_arrays():
    h = np.array([[np.nan, np.inf, -np.inf], [0.0, -0.0, 1.5]], np.float32)
    x, y = both(h)
    for key in [(slice(None), 0), (1, slice(None, None, -1)), np.array([1, 0, 1], I)]:
        assert_same(x[conv(key, mx)], y[conv(key, mlx)])
    e = np.zeros((0, 3), np.float32)
    x, y = both(e)
    for key in [slice(None), (slice(None), 1), (slice(1, None),), (Ellipsis, None),
                (slice(None), np.array([0, 2], I))]:
        assert_same(x[conv(key, mx)], y[conv(key, mlx)])


def test_getitem_scalar_array():
    x, y = both(np.array(3.5, np.float32))
    for key in [None, Ellipsis, (), (None, Ellipsis, None)]:
        assert_same(x[key], y[key])
    for key in [0, slice(None), (0,)]:
        raises_like(lambda: x[key], lambda: y[key])
    raises_like(lambda: x[mx.array(0)], lambda: y[mlx.array(0)])


def test_getitem_errors_match_mlx():
    x, y = both(host((3, 4)))
    bad = [
        (0, 0, 0), (Ellipsis, Ellipsis), (0, Ellipsis, 0, 0), 1.0, "a", True, (0, True),
        ((0, 1),), {}, [], [1.0], (slice(None), [0.5]),
        slice(1.0, None), slice(True, None), (slice(None, 2.0),), [slice(0, 1)],
    ]
    for key in bad:
        raises_like(lambda: x[key], lambda: y[key])
    for k_ours, k_theirs in [(mx.array([True, False, True]), mlx.array([True, False, True])),
                             (mx.array([1.0]), mlx.array([1.0])),
                             (mx.array([[0, 1]]) > 0, mlx.array([[0, 1]]) > 0),
                             ((slice(mx.array(1), None),), (slice(mlx.array(1), None),)),
                             ((mx.array([0, 1]), mx.array([0, 1, 2])),
                              (mlx.array([0, 1]), mlx.array([0, 1, 2])))]:
        raises_like(lambda: x[k_ours], lambda: y[k_theirs])
    # MLX reads an out-of-range first-axis int unchecked and rejects a later one.
    raises_like(lambda: x[0, 10], lambda: y[0, 10])
    for key in [3, -4, (0, 4), (slice(None), -5), 2 ** 40]:
        with pytest.raises(ValueError, match="out of bounds"):
            x[key]
    with pytest.raises(ValueError, match="step cannot be zero"):
        x[::0]
    with pytest.raises(ValueError, match="Boolean"):
        x[np.array([True, False, True])]


def test_getitem_numpy_index_arrays_work_like_mx_arrays():
    h = host((3, 4))
    x = mx.array(h)
    for key in [np.array([2, 0]), (slice(None), np.array([[1], [-1]], np.int64)),
                (np.array([0, 1], np.uint8), np.array([1, 2]))]:
        np.testing.assert_array_equal(np.array(x[key]), h[key])


def test_out_of_range_index_arrays_clamp_on_read():
    x = mx.array(host((3, 4)))
    np.testing.assert_array_equal(np.array(x[mx.array([5, -7])]), host((3, 4))[[2, 0]])
    np.testing.assert_array_equal(np.array(mx.take(x, mx.array([100]), axis=1)),
                                  host((3, 4))[:, [3]])


@pytest.mark.usefixtures("on_cpu")
def test_basic_slices_are_views_and_fast_path_builds_one_node():
    x = mx.array(host((4, 5), np.float32))
    data = x._data()
    lazy = x * 1.0
    for key in [1, (slice(None), 2), (slice(None, None, -2), -1), (None, Ellipsis, 1)]:
        y = lazy[key]
        assert y._node.inputs == [lazy._node]
        assert type(y._node.prim).__name__ == "Slice"
        y = x[key]
        assert np.shares_memory(y._data(), data)
    # Fast-path reads of an evaluated, detached array are views made at once: nothing
    # is left for evaluation to do, and no buffer is allocated.
    for key in [1, (slice(None), 2)]:
        y = x[key]
        assert y._node.prim is None and y._node.data is not None and y._node.nbytes == 0
        assert np.shares_memory(y._node.data, data)
    z = x[1, 2]
    assert z.shape == () and isinstance(z._data(), np.ndarray)


def test_iteration_uses_getitem():
    h = host((3, 2))
    x, y = both(h)
    for a, b in zip(x, y):
        assert_same(a, b)


# -- writing --------------------------------------------------------------------------

SET_CASES = [
    (1, 7), (1, 7.9), (1, -7.9), (-1, np.array([1, 2, 3, 4], I)),
    (1, np.array([1.5, 2.5, 3.5, 4.5], np.float32)), (slice(None), np.array([1, 2, 3, 4], I)),
    (0, np.array([[1, 2, 3, 4]], I)), (0, np.array([[[1, 2, 3, 4]]], I)),
    (np.array([0, 0, 1], I), np.array([[1], [2], [3]], I)),
    ((slice(None), slice(None, None, 2)), np.array([9, 8], I)),
    (slice(None, None, -1), np.array([[1], [2], [3]], I)), (Ellipsis, 5), (None, 5),
    (np.array(1, I), 5), ([0, 2], 5), ((np.array([0, 2], I), slice(None, None, -1)),
                                       np.array([1, 2, 3, 4], I)),
    (np.array([0, 2], I), np.array([[[1], [2]]], I)), ((1, 2), -1), ((-1, -1), 8),
    ((slice(None), 1), np.array([5, 6, 7], I)), ((np.array([2, 0], I), np.array([3, 1], I)), 0),
    (np.array([], I), 5), ((slice(None), [1, 1, 3]), np.array([[1, 2, 3]], I)),
    (np.array([-1], I), 9), (slice(5, None), np.array([1, 2, 3, 4], I)), (True, 3), (False, 3),
    (1, True), (1, np.float32(2.5)), (1, mx.float64),
]


@pytest.mark.parametrize("key,value", SET_CASES, ids=repr)
def test_setitem_matches_mlx(key, value):
    if value is mx.float64:
        vo, vt = mx.array(2.7, dtype=mx.float64), mlx.array(2.7, dtype=mlx.float64)
    else:
        vo, vt = conv(value, mx), conv(value, mlx)
    x, y = both(host((3, 4)))
    x[conv(key, mx)] = vo
    y[conv(key, mlx)] = vt
    assert_same(x, y)


@pytest.mark.parametrize("dtype", ["bool_", "uint8", "int8", "int64", "float16", "bfloat16",
                                   "float32", "float64", "complex64"])
def test_setitem_casts_value_to_the_array_dtype(dtype):
    for value in [1, 2.5, -1.5, True, 1 + 2j]:
        if dtype in ("uint8",) and value == -1.5:
            continue  # C casts of negative floats to unsigned differ across platforms
        x = mx.zeros((2, 3)).astype(getattr(mx, dtype))
        y = to_mlx(x)
        x[0] = value
        y[0] = value
        assert_same(x, y)
        vo = mx.array([1.5, -2.0, 3.0], dtype=mx.float32)
        x[1] = vo
        y[1] = to_mlx(vo)
        assert_same(x, y)


def test_setitem_errors_match_mlx():
    x, y = both(host((3, 4)))
    for key, value in [(0, np.array([1, 2, 3], I)), (0, np.array([[1, 2, 3, 4]] * 2, I)),
                       ((slice(None), 1), np.array([[1], [2], [3]], I)),
                       (slice(5, None), np.array([[1, 2, 3, 4]] * 2, I)),
                       ((0, 0, 0), 1), (0, [1, 2, 3, 4]), (0, "a"), (0, None),
                       (0, 2 ** 31), (Ellipsis, np.ones((2, 4), I)), (None, "a")]:
        raises_like(lambda: x.__setitem__(conv(key, mx), conv(value, mx)),
                    lambda: y.__setitem__(conv(key, mlx), conv(value, mlx)))
    u, v = both(np.array([1, 2], np.uint8))
    for value in [-1, 300]:
        raises_like(lambda: u.__setitem__(0, value), lambda: v.__setitem__(0, value))
    assert_same(x, y)  # failed updates leave the arrays as they were


@pytest.mark.parametrize("dtype", ["uint8", "int32", "float16", "float32", "bool_"])
def test_setitem_of_the_whole_array_takes_the_value_dtype_like_mlx(dtype):
    values = [0, 5, 2.5, 1j, True, np.array([1.5, 2, 3, 4], np.float32),
              np.array([[1, 2, 3, 4]], I), np.array([1, 2, 3, 4], np.float64)]
    for key in [Ellipsis, None, (), slice(None), (None, Ellipsis)]:
        for value in values:
            x = mx.zeros((3, 4)).astype(getattr(mx, dtype))
            y = to_mlx(x)
            if isinstance(value, np.ndarray) and value.dtype == np.float64:
                vo, vt = mx.array(value, dtype=mx.float64), mlx.array(value, dtype=mlx.float64)
            else:
                vo, vt = conv(value, mx), conv(value, mlx)
            x[key] = vo
            y[key] = vt
            assert_same(x, y)


def test_setitem_out_of_range_int_is_ignored_like_mlx():
    x, y = both(host((3, 4)))
    for key in [5, (0, 5), -7]:
        x[key] = 1
        if key != -7:  # MLX writes out of bounds there
            y[key] = 1
    assert_same(x, y)


def test_setitem_out_of_range_index_array_is_dropped():
    x = mx.zeros((3,), dtype=mx.int32)
    x[mx.array([0, 7, -9, -1])] = mx.array([1, 2, 3, 4])
    np.testing.assert_array_equal(np.array(x), [1, 0, 4])


def test_setitem_rebinds_the_handle_and_keeps_older_graph_nodes():
    x = mx.array([1.0, 2.0, 3.0])
    alias = x
    before = x * 1
    x[1] = 10
    assert alias is x
    np.testing.assert_array_equal(np.array(alias), [1, 10, 3])
    np.testing.assert_array_equal(np.array(before), [1, 2, 3])
    view = x[0:2]
    x[0] = -1
    np.testing.assert_array_equal(np.array(view), [1, 10])


def test_repeated_setitem_keeps_the_last_and_inplace_add_does_not_accumulate():
    x, y = both(np.zeros(3, np.float32))
    i = np.array([0, 0, 0], I)
    x[mx.array(i)] = mx.array([1.0, 2.0, 3.0])
    y[mlx.array(i)] = mlx.array([1.0, 2.0, 3.0])
    assert_same(x, y)
    x[mx.array([1, 1])] += 1
    y[mlx.array([1, 1])] += 1
    assert_same(x, y)


MASK_CASES = [
    ((3, 4), lambda h: h > 5, 0), ((3, 4), lambda h: h > 5, np.arange(1, 7, dtype=I)),
    ((3, 4), lambda h: h > 5, np.arange(10, dtype=I)),
    ((3, 4), lambda h: np.array([True, False, True]), np.array([1, 2, 3, 4], I)),
    ((3, 4), lambda h: np.array([True, False, True]), np.array([[1], [2], [3]], I)),
    ((3, 4), lambda h: np.array([True, False, True]), np.array([[1] * 4, [2] * 4], I)),
    ((3, 4), lambda h: np.array([True, False, True]), np.array([1], I)),
    ((3, 4), lambda h: np.array(True), 1), ((3, 4), lambda h: np.array(False), 1),
    ((3, 4), lambda h: h > 5, 2.5), ((3, 4), lambda h: np.array([False] * 3), 7),
    ((2, 3, 4), lambda h: np.array([[True, False, True], [False, False, True]]),
     np.arange(12, dtype=I).reshape(3, 4)),
    ((2, 3, 4), lambda h: np.array([True, False]), np.array([[1, 2, 3, 4]], I)),
    ((2, 3, 4), lambda h: np.array([True, False]), np.array([[[1, 2, 3, 4]]], I)),
]


@pytest.mark.parametrize("shape,mask,value", MASK_CASES)
def test_masked_setitem_matches_mlx(shape, mask, value):
    h = host(shape)
    m = mask(h)
    x, y = both(h)
    x[mx.array(m)] = conv(value, mx)
    y[mlx.array(m)] = conv(value, mlx)
    assert_same(x, y)


def test_masked_setitem_accepts_lists_numpy_and_python_bools():
    for key in [[True, False, True], np.array([True, False, True]), True]:
        x, y = both(host((3, 4)))
        x[key] = 5
        y[key] = 5
        assert_same(x, y)


def test_masked_setitem_errors():
    x, y = both(host((3, 4)))
    for m, value in [(np.array([True, False]), 1), (np.ones((3, 1), bool), 7),
                     (np.ones((3, 4), bool), np.ones((3, 4), I)),
                     (np.ones((3, 4), bool), np.ones((3, 1), I)),
                     (np.array([True, False, True]), np.ones((2, 1, 4), I)),
                     (np.array([True, False]), np.ones((1, 1, 1, 1), I))]:
        raises_like(lambda: x.__setitem__(mx.array(m), conv(value, mx)),
                    lambda: y.__setitem__(mlx.array(m), conv(value, mlx)))
    # Too few values for the selected positions: known only once the mask is computed.
    x[mx.array([True, False, True])] = mx.array([[1, 2, 3, 4]])
    with pytest.raises(RuntimeError, match="masked_scatter"):
        mx.eval(x)


# -- x.at[...] -------------------------------------------------------------------------------

AT_KEYS = [np.array([0, 1, 0, 1, 0], I), 0, (slice(None), 1), np.array([[2, 2], [0, 2]], I),
           (np.array([0, 0], I), np.array([1, 1], I)), (np.array([0, 0], I), slice(1, 3)),
           [0, 0], Ellipsis, None, (Ellipsis, np.array([-1, -1], I))]
AT_MODES = ["add", "subtract", "multiply", "divide", "maximum", "minimum"]


@pytest.mark.parametrize("mode", AT_MODES)
@pytest.mark.parametrize("key", AT_KEYS, ids=repr)
def test_at_updates_accumulate_like_mlx(mode, key):
    h = np.random.default_rng(1).uniform(-3, 3, size=(3, 4)).astype(np.float32)
    x, y = both(h)
    v = np.random.default_rng(2).uniform(0.5, 2, size=(1,)).astype(np.float32)
    for value_o, value_t in [(2.0, 2.0), (mx.array(v), mlx.array(v)), (-1, -1)]:
        ours = getattr(x.at[conv(key, mx)], mode)(value_o)
        assert_same(ours, getattr(y.at[conv(key, mlx)], mode)(value_t), rtol=1e-5)
    assert_same(x, y)  # at[] returns a new array


@pytest.mark.parametrize("dtype", ["int32", "uint8", "int64", "float16", "bfloat16",
                                   "complex64", "bool_"])
def test_at_dtypes(dtype):
    x = mx.array(np.arange(1, 7).reshape(2, 3) * 2).astype(getattr(mx, dtype))
    y = to_mlx(x)
    idx = np.array([0, 1, 0, 0], I)
    modes = ["add", "multiply", "maximum", "minimum"]
    if dtype != "bool_":
        modes += ["subtract", "divide"]
    for mode in modes:
        for value in [1, 2, True]:
            ours = getattr(x.at[mx.array(idx)], mode)(value)
            assert_same(ours, getattr(y.at[mlx.array(idx)], mode)(value))
    vals = mx.array([[1.5, 2.5, 3.5]] * 4)
    assert_same(x.at[mx.array(idx)].add(vals.astype(x.dtype)),
                y.at[mlx.array(idx)].add(to_mlx(vals).astype(y.dtype)))


def test_at_integer_divide_multiplies_by_the_integer_reciprocal_like_mlx():
    x, y = both(np.full(5, 8, I))
    d = np.array([2, 0, -1, 1, -2], I)
    assert_same(x.at[mx.array(np.arange(5, dtype=I))].divide(mx.array(d)),
                y.at[mlx.array(np.arange(5, dtype=I))].divide(mlx.array(d)))


def test_at_errors_and_no_ops():
    x, y = both(host((3, 4)))
    for f in [lambda a, lib: a.at.add(1), lambda a, lib: a.at[0].add(lib.array([1, 2, 3])),
              lambda a, lib: a.at[0].add([1, 2, 3, 4]), lambda a, lib: a.at[0].add(None),
              lambda a, lib: a.at[0, 0, 0].add(1),
              lambda a, lib: lib.array([1, 2], dtype=lib.uint8).at[0].add(300),
              lambda a, lib: lib.array([True]).at[0].subtract(True)]:
        raises_like(lambda: f(x, mx), lambda: f(y, mlx))
    assert_same(x.at[5].add(1), y.at[5].add(1))
    assert_same(x.at[mx.array([], dtype=mx.int32)].add(1),
                y.at[mlx.array([], dtype=mlx.int32)].add(1))
    np.testing.assert_array_equal(np.array(x.at[mx.array([9, 0])].add(1)),
                                  np.array(y.at[mlx.array([0])].add(1)))
    with pytest.raises(ValueError, match="Boolean"):
        x.at[mx.array([True, False, True])].add(1)
    assert_same(x.at[0].add(value=1), y.at[0].add(value=1))


# -- take / take_along_axis / put_along_axis -------------------------------------------------

TAKE_CASES = [
    (np.array([0, 5, 11], I), None), (5, None), (-1, None), (1, 1), (-1, 0), (True, 1),
    (np.array([[0, 2], [1, 1]], I), 1), (np.array([0, 2], I), -2), (np.array([-1], I), 0),
    (np.array([-1, -4], I), 1), (np.array(1, I), 1), (np.array(1, I), None),
    (np.array([], I), 1), (np.array([1], np.uint64), 1), (np.array([2, 0], np.int8), 0),
]


@pytest.mark.parametrize("indices,axis", TAKE_CASES, ids=repr)
def test_take_matches_mlx(indices, axis):
    x, y = both(host((3, 4)))
    if type(indices) is int and indices < 0:
        # MLX's int path slices [i, i + 1) and so fails for negative i; mlxpy wraps it.
        np.testing.assert_array_equal(np.array(mx.take(x, indices, axis=axis)),
                                      np.take(host((3, 4)), indices, axis=axis))
        return
    assert_same(mx.take(x, conv(indices, mx), axis=axis),
                mlx.take(y, conv(indices, mlx), axis=axis))
    assert_same(mx.take(x, indices=conv(indices, mx), axis=axis),
                mlx.take(y, indices=conv(indices, mlx), axis=axis))


def test_take_scalar_and_empty_inputs():
    x, y = both(np.array(3, I))
    assert_same(mx.take(x, mx.array([0, 0])), mlx.take(y, mlx.array([0, 0])))
    x, y = both(np.zeros((0, 3), np.float32))
    assert_same(mx.take(x, mx.array([0]), axis=1), mlx.take(y, mlx.array([0]), axis=1))


def test_take_errors_match_mlx():
    x, y = both(host((3, 4)))
    for idx, kw in [([0, 2], {"axis": 0}), (1.0, {}), (np.int64(1), {"axis": 1})]:
        raises_like(lambda: mx.take(x, idx, **kw), lambda: mlx.take(y, idx, **kw))
    raises_like(lambda: mx.take(x, np.array([0, 2]), axis=0),
                lambda: mlx.take(y, np.array([0, 2]), axis=0))
    for idx, kw in [(np.array([0.0], np.float32), {"axis": 0}),
                    (np.array([True]), {"axis": 0}), (np.array([0], I), {"axis": 2}),
                    (np.array([0], I), {"axis": -3}), (1, {"axis": 1.0}),
                    (100, {"axis": 0})]:
        raises_like(lambda: mx.take(x, conv(idx, mx), **kw),
                    lambda: mlx.take(y, conv(idx, mlx), **kw))
    raises_like(lambda: mx.take([1, 2, 3], mx.array([1])),
                lambda: mlx.take([1, 2, 3], mlx.array([1])))
    s, t = both(np.array(3, I))
    raises_like(lambda: mx.take(s, mx.array([0]), axis=0),
                lambda: mlx.take(t, mlx.array([0]), axis=0))
    e, f = both(np.zeros((3, 0), np.float32))
    raises_like(lambda: mx.take(e, mx.array([0]), axis=1),
                lambda: mlx.take(f, mlx.array([0]), axis=1))


TAKE_ALONG_CASES = [
    ((3, 4), np.array([[0], [1], [2]], I), 1), ((3, 4), np.array([[0], [1], [2]], I), -1),
    ((3, 4), np.array([[0]], I), 1), ((3, 4), np.array([0, 11, 5], I), None),
    ((3, 4), np.array([[-1]], I), 1), ((1, 2), np.array([[0], [1], [0]], I), 1),
    ((1, 2), np.array([[0, 1, 1, 0]], I), 1), ((3, 4), np.array([[0, 1, 2, 0]], I), -2),
    ((2, 3, 4), np.array([[[1, 0, 1, 0]], [[2, 2, 2, 2]]], I), 1),
    ((3, 4), np.array([[1]], np.uint8), 1), ((3, 4), np.array([[1]], np.int64), 0),
    ((), np.array([0], I), None), ((3, 4), np.zeros((3, 0), I), 1),
]


@pytest.mark.parametrize("shape,indices,axis", TAKE_ALONG_CASES)
def test_take_along_axis_matches_mlx(shape, indices, axis):
    x, y = both(host(shape, np.float32))
    assert_same(mx.take_along_axis(x, mx.array(indices), axis=axis),
                mlx.take_along_axis(y, mlx.array(indices), axis=axis))


def test_take_along_axis_default_axis_and_errors():
    x, y = both(host((3, 4)))
    i = np.array([[0], [1], [2]], I)
    assert_same(mx.take_along_axis(x, mx.array(i)), mlx.take_along_axis(y, mlx.array(i)))
    for idx, axis in [(np.array([[0, 1]], I), 0), (np.array([0, 1], I), 1),
                      (np.array([[0], [1]], I), 1), (np.array([[0]], I), 2),
                      (np.array(0, I), None), (np.array([[0, 1]], I), None)]:
        raises_like(lambda: mx.take_along_axis(x, mx.array(idx), axis=axis),
                    lambda: mlx.take_along_axis(y, mlx.array(idx), axis=axis))
    raises_like(lambda: mx.take_along_axis(x, [[0]], axis=1),
                lambda: mlx.take_along_axis(y, [[0]], axis=1))
    s, t = both(np.array(3, I))
    raises_like(lambda: mx.take_along_axis(s, mx.array(0), axis=-1),
                lambda: mlx.take_along_axis(t, mlx.array(0), axis=-1))
    with pytest.raises(ValueError, match="integral"):
        mx.take_along_axis(x, mx.array([[0.0]]), axis=1)


PUT_ALONG_CASES = [
    (np.array([[0], [1], [2]], I), np.array([[-1], [-2], [-3]], I), 1),
    (np.array([[0], [1], [2]], I), np.array(-1, I), 1),
    (np.array([[0], [1], [2]], I), np.array(2.5, np.float32), 1),
    (np.array([0, 11], I), np.array([-1, -2], I), None),
    (np.array([[0]], I), np.array([[-1], [-2], [-3]], I), 1),
    (np.array([[0], [1], [2]], I), np.array([[-1, -2]], I), 1),
    (np.array([[0]], I), np.array([[-1, -2, -3, -4]], I), 0),
    (np.array([[0]], I), np.array([[[-1]]], I), 0),
    (np.array([[0]], I), np.array([[[-1]]], I), 1),
    (np.array([[-1], [-4], [3]], I), np.array([[7]], I), 1),
    (np.array([[0, 2, 1, 1]], I), np.array([5], I), 0),
]


@pytest.mark.parametrize("indices,values,axis", PUT_ALONG_CASES)
def test_put_along_axis_matches_mlx(indices, values, axis):
    x, y = both(host((3, 4)))
    assert_same(mx.put_along_axis(x, mx.array(indices), mx.array(values), axis=axis),
                mlx.put_along_axis(y, mlx.array(indices), mlx.array(values), axis=axis))


def test_put_along_axis_3d_default_axis_and_repeats():
    x, y = both(host((2, 3, 4)))
    i, v = np.array([[[1]], [[2]]], I), np.array([[[100, 200, 300, 400]]], I)
    assert_same(mx.put_along_axis(x, mx.array(i), mx.array(v), axis=1),
                mlx.put_along_axis(y, mlx.array(i), mlx.array(v), axis=1))
    i, v = np.array([0, 23], I), np.array([7, 8], I)
    assert_same(mx.put_along_axis(x, mx.array(i), mx.array(v)),
                mlx.put_along_axis(y, mlx.array(i), mlx.array(v)))
    z, w = both(np.zeros(3, np.float32))
    i, v = np.array([0, 0], I), np.array([1.0, 2.0], np.float32)
    assert_same(mx.put_along_axis(z, mx.array(i), mx.array(v), axis=0),
                mlx.put_along_axis(w, mlx.array(i), mlx.array(v), axis=0))


def test_put_along_axis_errors_and_out_of_range():
    x, y = both(host((3, 4)))
    for idx, val, axis in [(np.array([[0], [1], [2], [0]], I), np.array(-1, I), 1),
                           (np.array([0], I), np.array(-5, I), 1),
                           (np.array([[0]], I), np.array(-5, I), 2),
                           (np.array([[0], [1], [2]], I), np.array([[1], [2], [3], [4]], I), 1),
                           (np.array([[0, 1]], I), np.array([1, 2], I), None),
                           (np.array([[0, 2]], I), np.array([5], I), 0)]:
        raises_like(lambda: mx.put_along_axis(x, mx.array(idx), mx.array(val), axis=axis),
                    lambda: mlx.put_along_axis(y, mlx.array(idx), mlx.array(val), axis=axis))
    for val in [-1, 2.5, [[1]], np.array([[1]])]:
        raises_like(lambda: mx.put_along_axis(x, mx.array([[0]]), val, axis=1),
                    lambda: mlx.put_along_axis(y, mlx.array([[0]]), val, axis=1))
    with pytest.raises(ValueError, match="integral"):
        mx.put_along_axis(x, mx.array([[0.0]]), mx.array(1), axis=1)
    out = mx.put_along_axis(x, mx.array([[9], [0], [-9]]), mx.array(-5), axis=1)
    want = host((3, 4))
    want[1, 0] = -5
    np.testing.assert_array_equal(np.array(out), want)


# -- slice / slice_update ---------------------------------------------------------------------

SLICE_CASES = [
    (np.array(1, I), (0,), (1, 2)), (np.array([1, 2], I), (0, 1), (2, 2)),
    (np.array([1], I), (-1,), (3, 2)), (np.array([1], I), (0,), (0, 2)),
    (np.array([1], np.uint32), (0,), (1, 2)), (np.array([0, 0], I), (1, 0), (3, 4)),
    (np.array([2, 1], np.int64), (1, 0), (1, 1)),
]


@pytest.mark.parametrize("start,axes,size", SLICE_CASES)
def test_slice_matches_mlx(start, axes, size):
    x, y = both(host((3, 4)))
    assert_same(mx.slice(x, mx.array(start), axes, size),
                mlx.slice(y, mlx.array(start), axes, size))
    kw = {"axes": list(axes), "slice_size": list(size)}
    assert_same(mx.slice(x, start_indices=mx.array(start), **kw),
                mlx.slice(y, start_indices=mlx.array(start), **kw))


def test_slice_errors_and_clamping():
    x, y = both(host((3, 4)))
    for start, axes, size in [(1, (0,), (1, 2)), ([1, 2], (0, 1), (2, 2)),
                              (np.array([0, 0], I), (0, 1), (4, 2)),
                              (np.array([0, 0], I), (0, 1), (1,)),
                              (np.array([1], I), (2,), (3, 2)),
                              (np.array([1.0], np.float32), (0,), (1, 2)),
                              (np.array([1, 2], I), (0,), (1, 2)),
                              (np.array([[1]], I), (0,), (1, 2)),
                              (np.array([1, 1], I), (0, 0), (1, 2)),
                              (np.array([1], I), 0, (1, 2)), (np.array(0, I), (0, 1), (1, 1))]:
        raises_like(lambda: mx.slice(x, conv(start, mx), axes, size),
                    lambda: mlx.slice(y, conv(start, mlx), axes, size))
    with pytest.raises(ValueError):
        mx.slice(x, mx.array([0]), (0,), (-1, 2))
    # Starts that would leave the array are clamped so that the window fits.
    got = mx.slice(x, mx.array([2, 3]), (0, 1), (2, 2))
    np.testing.assert_array_equal(np.array(got), host((3, 4))[1:3, 2:4])
    got = mx.slice(x, mx.array([-5, 1]), (0, 1), (1, 1))
    np.testing.assert_array_equal(np.array(got), host((3, 4))[0:1, 1:2])


SLICE_UPDATE_CASES = [
    (np.array([[-1, -2]], I), np.array([1, 1], I), (0, 1)),
    (np.array([-1, -2], I), np.array([1, 1], I), (0, 1)),
    (np.array(-1, I), np.array([1, 1], I), (0, 1)),
    (np.array([[1.5, 2.5]], np.float32), np.array([1, 1], I), (0, 1)),
    (np.array([[-1, -2, -3, -4]], I), np.array([2], I), (0,)),
    (np.array([[-1], [-2], [-3]], I), np.array([2], I), (1,)),
    (np.array([[-1], [-2]], I), np.array([2], I), (-1,)),
    (np.array([[-1, -2]], I), np.array([2, 2], I), (0, 1)),
    (np.zeros((0, 2), I), np.array([1, 1], I), (0, 1)),
]


@pytest.mark.parametrize("update,start,axes", SLICE_UPDATE_CASES)
def test_slice_update_matches_mlx(update, start, axes):
    x, y = both(host((3, 4)))
    assert_same(mx.slice_update(x, mx.array(update), mx.array(start), axes),
                mlx.slice_update(y, mlx.array(update), mlx.array(start), axes))


def test_slice_update_errors_and_clamping():
    x, y = both(host((3, 4)))
    u = np.array([[-1, -2]], I)
    for update, start, axes in [(-1, np.array([1, 1], I), (0, 1)), (u, [1, 1], (0, 1)),
                                (u, 1, (0,)), (np.zeros((4, 4), I), np.array([0, 0], I), (0, 1)),
                                (u, np.array([1.0, 1.0], np.float32), (0, 1)),
                                (u, np.array([1], I), (0, 1))]:
        raises_like(lambda: mx.slice_update(x, conv(update, mx), conv(start, mx), axes),
                    lambda: mlx.slice_update(y, conv(update, mlx), conv(start, mlx), axes))
    with pytest.raises(ValueError):
        mx.slice_update(x, mx.zeros((1, 1, 2), dtype=mx.int32), mx.array([0, 0]), (0, 1))
    got = mx.slice_update(x, mx.array(u), mx.array([1, 3]), (0, 1))
    want = host((3, 4))
    want[1, 2:4] = u
    np.testing.assert_array_equal(np.array(got), want)
    got = mx.slice_update(x, mx.array(u), mx.array([-1, 0]), (0, 1))
    want = host((3, 4))
    want[0, 0:2] = u
    np.testing.assert_array_equal(np.array(got), want)


# -- primitives ----------------------------------------------------------------------------

def test_primitive_params_are_frozen_and_hashable():
    from mlxpy.core.primitives import indexing as P
    a = P.Slice((1, slice(None), slice(3, 0, -1), None))
    b = P.Slice((1, slice(None), slice(3, 0, -1), None))
    assert a == b and hash(a) == hash(b)
    assert a != P.Slice((1,))
    assert P.Scatter((P.ARRAY, 0), "add") == P.Scatter((P.ARRAY, 0), "add")
    assert P.Scatter((P.ARRAY, 0), "add") != P.Scatter((P.ARRAY, 0), "maximum")
    assert hash(P.Gather((P.ARRAY, slice(1, 3, 1)))) == hash(P.Gather((P.ARRAY, slice(1, 3, 1))))
    assert P.Take(None) != P.Take(0)
    assert P.DynamicSlice((0,), (1, 2)).params() == ((0,), (1, 2))
    with pytest.raises(ValueError):
        P.Scatter((P.ARRAY,), "divide")


def test_slice_bounds_describe_the_strided_window():
    from mlxpy.core.primitives import indexing as P
    p = P.Slice((1, None, slice(3, None, -2)))
    assert p.bounds((4, 5, 6)) == ((1, 3, 0), (2, -1, 6), (1, -2, 1))


def test_graph_builders_for_each_primitive():
    x = mx.array(host((3, 4), np.float32))
    i = mx.array([0, 2])
    names = {
        "Slice": x[1:, ::2], "Gather": x[i, 1:], "Take": mx.take(x, i, axis=1),
        "TakeAlongAxis": mx.take_along_axis(x, mx.array([[1], [0], [2]]), axis=1),
        "PutAlongAxis": mx.put_along_axis(x, mx.array([[1]]), mx.array(0.0), axis=1),
        "Scatter": x.at[i].add(1.0), "SliceUpdate": mx.array(x), "MaskedScatter": mx.array(x),
        "DynamicSlice": mx.slice(x, mx.array([1]), (1,), (3, 2)),
        "DynamicSliceUpdate": mx.slice_update(x, mx.array([1.0]), mx.array([0]), (0,)),
    }
    names["SliceUpdate"][0] = 1.0
    names["MaskedScatter"][mx.array([True, False, True])] = 2.0
    for name, out in names.items():
        assert type(out._node.prim).__name__ == name
        shape, dtype = out._node.shape, out._node.dtype
        mx.eval(out)
        assert out._node.data.shape == shape and out._node.data.dtype == dtype.np


def test_docstrings_run():
    from mlxpy.core.ops import indexing
    result = doctest.testmod(indexing, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0
