"""The remaining mlx.core ops (ops/extra.py) and settings (settings.py), against MLX."""
import doctest
import sys
import threading

import numpy as np
import pytest

import mlxpy.core as mx
from tests.oracle import mlx, needs_mlx, to_mlx, assert_same

pytestmark = needs_mlx


def both(fn, *arrays):
    """fn on mlxpy arrays and on the same values in MLX."""
    return fn(mx, *arrays), fn(mlx, *[to_mlx(a) for a in arrays])


def same_error(fn, *arrays):
    with pytest.raises(Exception) as theirs:
        r = fn(mlx, *[to_mlx(a) for a in arrays])
        mlx.eval(r)
    with pytest.raises(type(theirs.value)):
        fn(mx, *arrays)


def rand(shape, dtype=mx.float32, low=-3, high=3):
    h = np.random.uniform(low, high, shape)
    if dtype in (mx.int32, mx.int64, mx.uint8, mx.int8, mx.uint32):
        h = np.round(h) + (0 if dtype not in (mx.uint8, mx.uint32) else 3)
    return mx.array(h, dtype=dtype)


# -- as_strided, view, searchsorted ---------------------------------------------------------

@pytest.mark.parametrize("shape,strides,offset,src", [
    ((3, 3), (1, 1), 0, (10,)), ((3, 3), (2, 1), 1, (10,)), ((4,), (1,), 0, (2, 5)),
    ((2, 2), None, 0, (10,)), ((3,), (-1,), 5, (10,)), ((3,), (0,), 2, (10,)),
    (None, None, 0, (2, 3)), ((2, 0, 3), (1, 1, 1), 0, (6,)), ((), (), 3, (2, 3)),
    ((2, 2, 2), (4, 2, 1), 0, (8,)),
])
@pytest.mark.parametrize("dtype", [mx.float32, mx.int32, mx.bfloat16])
def test_as_strided(shape, strides, offset, src, dtype):
    x = rand(src, dtype)
    ours, theirs = both(lambda m, a: m.as_strided(a, shape, strides, offset), x)
    if 0 in ours.shape:
        assert ours.shape == tuple(theirs.shape) and ours.dtype.name == str(theirs.dtype).split(".")[-1]
        return
    assert_same(ours, theirs)


def test_as_strided_of_transposed_input_reads_logical_order():
    x = mx.arange(10).reshape(2, 5).T
    ours, theirs = both(lambda m, a: m.as_strided(a, (4,), (1,)), x)
    assert_same(ours, theirs)


def test_as_strided_refuses_out_of_bounds_reads():
    x = mx.arange(10)
    for args in [((10,), (2,)), ((3,), (-1,), 1), ((4,), (3,), 1)]:
        with pytest.raises(ValueError, match="as_strided"):
            mx.as_strided(x, *args)
    with pytest.raises(ValueError):
        mx.as_strided(x, (3,), (1, 2))
    with pytest.raises(TypeError):
        mx.as_strided([1, 2], (1,), (1,))


def test_as_strided_grad_scatter_adds_and_vmap():
    x = rand((10,))
    w = rand((3, 3))
    f = lambda m, w_: (lambda a: (m.as_strided(a, (3, 3), (1, 1)) * w_).sum())
    ours = mx.grad(f(mx, w))(x)
    theirs = mlx.grad(f(mlx, to_mlx(w)))(to_mlx(x))
    assert_same(ours, theirs)
    xb = rand((4, 10))
    ours = mx.vmap(lambda a: mx.as_strided(a, (3, 3), (2, 1), 1))(xb)
    loop = mx.stack([mx.as_strided(xb[i], (3, 3), (2, 1), 1) for i in range(4)])
    assert_same(ours, loop)
    ours = mx.vmap(lambda a: mx.as_strided(a, (3, 2), (1, 2)), in_axes=1)(rand((6, 3)))
    assert ours.shape == (3, 3, 2)


DTYPES = ["bool_", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64",
          "float16", "bfloat16", "float32", "float64", "complex64"]


@pytest.mark.parametrize("src", DTYPES)
@pytest.mark.parametrize("dst", DTYPES)
def test_view_all_dtype_pairs(src, dst):
    x = mx.array(np.arange(-4, 12).reshape(2, 8)).astype(getattr(mx, src))
    d_ours, d_theirs = getattr(mx, dst), getattr(mlx, dst)
    try:
        theirs = mlx.view(to_mlx(x), d_theirs)
        mlx.eval(theirs)
    except Exception as e:
        with pytest.raises(type(e)):
            mx.view(x, d_ours)
        return
    ours = mx.view(x, d_ours)
    assert ours.shape == tuple(theirs.shape) and ours.dtype is d_ours
    a = np.array(ours)
    b = np.array(theirs.view(mlx.uint8)) if dst == "bfloat16" else np.array(theirs)
    assert a.tobytes() == b.tobytes()


def test_view_scalars_transposes_and_method():
    for fn in [lambda m: m.view(m.array(1.0), m.int32), lambda m: m.view(1.0, m.int32),
               lambda m: m.view(True, m.uint8), lambda m: m.view(m.arange(6).reshape(2, 3).T, m.uint16),
               lambda m: m.arange(4).view(m.uint8), lambda m: m.view(m.zeros((0,)), m.uint8)]:
        ours, theirs = fn(mx), fn(mlx)
        assert ours.shape == tuple(theirs.shape)
        if ours.size:
            assert_same(ours, theirs)
    for fn in [lambda m: m.view(m.array(1.0), m.uint8), lambda m: m.view(m.arange(3), m.int64),
               lambda m: m.view(1, m.uint8)]:
        same_error(fn)
    with pytest.raises(TypeError):
        mx.view(mx.arange(3), "int32")


def test_view_has_no_derivative_but_vmaps():
    with pytest.raises(ValueError, match="view"):
        mx.grad(lambda x: mx.view(x, mx.int32).astype(mx.float32).sum())(mx.ones((2,)))
    x = rand((3, 4))
    out = mx.vmap(lambda a: mx.view(a, mx.uint8), in_axes=1)(x)
    assert_same(out, mx.stack([mx.view(x[:, i], mx.uint8) for i in range(4)]))


@pytest.mark.parametrize("seq_dtype,val_dtype", [
    ("float32", "float32"), ("int32", "int32"), ("uint8", "int32"), ("int32", "float32"),
    ("bfloat16", "float32"), ("float16", "float16"), ("int64", "int64"), ("bool_", "bool_")])
@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted(seq_dtype, val_dtype, side):
    seq = np.sort(np.concatenate([np.round(np.random.uniform(0, 8, 9)), [2, 2, 5]]))
    vals = np.round(np.random.uniform(-2, 10, (3, 4)) * 2) / 2
    if seq_dtype == "bool_":
        seq, vals = seq > 4, vals > 4
    s = mx.array(seq).astype(getattr(mx, seq_dtype))
    v = mx.array(vals).astype(getattr(mx, val_dtype))
    ours, theirs = both(lambda m, a, b: m.searchsorted(a, b, side=side), s, v)
    assert_same(ours, theirs)


def test_searchsorted_nan_and_errors():
    nan = float("nan")
    ours, theirs = both(lambda m, a, b: m.searchsorted(a, b), mx.array([1.0, nan]),
                        mx.array([nan, 2.0, 0.5]))
    assert_same(ours, theirs)
    ours, theirs = both(lambda m, a, b: m.searchsorted(a, b, side="right"),
                        mx.array([1.0, 3.0, nan]), mx.array([nan, 3.0]))
    assert_same(ours, theirs)
    same_error(lambda m, a, b: m.searchsorted(a, b, side="mid"), mx.array([1]), mx.array([1]))
    same_error(lambda m, a, b: m.searchsorted(a, b), mx.zeros((2, 2)), mx.array([1]))
    same_error(lambda m, a: m.searchsorted(a, 2), mx.array([1]))


def test_searchsorted_vmap_over_sequences():
    seqs = mx.sort(rand((4, 7)), axis=1)
    vals = rand((4, 3))
    for side in ("left", "right"):
        out = mx.vmap(lambda s, v: mx.searchsorted(s, v, side=side))(seqs, vals)
        loop = mx.stack([mx.searchsorted(seqs[i], vals[i], side=side) for i in range(4)])
        assert_same(out, loop)
        out = mx.vmap(lambda s: mx.searchsorted(s, vals, side=side))(seqs)
        loop = mx.stack([mx.searchsorted(seqs[i], vals, side=side) for i in range(4)])
        assert_same(out, loop)
    nan = float("nan")
    seqs = mx.array([[1.0, 2.0, nan], [nan, nan, nan]])
    vals = mx.array([nan, 2.0])
    out = mx.vmap(lambda s: mx.searchsorted(s, vals))(seqs)
    assert_same(out, mx.stack([mx.searchsorted(seqs[i], vals) for i in range(2)]))


# -- unique --------------------------------------------------------------------------------

@pytest.mark.parametrize("values,size,fill", [
    ([2, 1, 2, 3, 1], 3, None), ([2, 1, 2, 3, 1], 7, None), ([2, 1, 2, 3, 1], 2, None),
    ([2, 1, 2, 3, 1], 0, None), ([2, 1, 2, 3, 1], 5, 0), ([[4, 4], [4, 4]], 3, 9),
    ([[1.0, float("nan")], [float("nan"), 1.0]], 4, None), ([0.0, -0.0, 1.0], 3, None),
    ([2, 1, 2, 3, 1], 6, 2.5), ([5], 2, None), (5, 2, None), ([True, False, True], 3, None),
])
def test_unique(values, size, fill):
    x = mx.array(values)
    fn = lambda m, a: m.unique(a, size, True, True, True, fill_value=fill)
    ours, theirs = both(fn, x)
    assert_same(list(ours), list(theirs))
    ours, theirs = both(lambda m, a: m.unique(a, size), x)
    assert_same(ours, theirs)
    ours, theirs = both(lambda m, a: m.unique(a, size, return_counts=True), x)
    assert_same(list(ours), list(theirs))


@pytest.mark.parametrize("dtype", [mx.float32, mx.int32, mx.uint8, mx.bfloat16, mx.int64])
def test_unique_random(dtype):
    x = mx.array(np.random.randint(0, 6, (4, 5))).astype(dtype)
    for size in (1, 4, 6, 25):
        ours, theirs = both(lambda m, a: m.unique(a, size, True, True, True), x)
        assert_same(list(ours), list(theirs))


def test_unique_errors_and_empty():
    x = mx.array([1, 2], dtype=mx.uint8)
    for fn in [lambda m, a: m.unique(a, -1), lambda m, a: m.unique(a, 2.0),
               lambda m, a: m.unique(a, 6, fill_value=-1), lambda m, a: m.unique(a, 6, fill_value=300),
               lambda m, a: m.unique(a, 6, fill_value=m.array([7, 8]))]:
        same_error(fn, x)
    same_error(lambda m, a: m.unique(a, 3), mx.zeros((0,)))
    # Shapes and dtypes only: MLX may hang evaluating empty inputs.
    ours = mx.unique(mx.zeros((0,)), 3, True, True, True, fill_value=1)
    theirs = mlx.unique(mlx.zeros((0,)), 3, True, True, True, fill_value=1)
    for o, t in zip(ours, theirs):
        assert o.shape == tuple(t.shape) and o.dtype.name == str(t.dtype).split(".")[-1]
    assert ours[0].tolist() == [1, 1, 1] and ours[3].tolist() == [0, 0, 0]


def test_unique_values_grad():
    x = mx.array([3.0, 1.0, 3.0, 2.0])
    g = mx.grad(lambda a: (mx.unique(a, 3) * mx.array([1.0, 10.0, 100.0])).sum())(x)
    assert g.tolist() == [100.0, 1.0, 0.0, 10.0]


# -- small composites ------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda m, a: m.count_nonzero(a), lambda m, a: m.count_nonzero(a, axis=1, keepdims=True),
    lambda m, a: m.count_nonzero(a, axis=(0, 1)), lambda m, a: m.count_nonzero(a > 0, axis=-1),
    lambda m, a: m.minmax(a), lambda m, a: m.minmax(a, axis=0, keepdims=True),
    lambda m, a: m.minmax(a, (0, 1)),
    lambda m, a: m.roll(a, 2), lambda m, a: m.roll(a, -7), lambda m, a: m.roll(a, 1, 1),
    lambda m, a: m.roll(a, (1, 2), (0, 1)), lambda m, a: m.roll(a, 1, (0, 1)),
    lambda m, a: m.roll(a, (1, 2)), lambda m, a: m.roll(a, (1, 2), (0, 0)),
    lambda m, a: m.roll(a, 1, -1), lambda m, a: m.roll(a, 0),
    lambda m, a: m.unstack(a), lambda m, a: m.unstack(a, axis=1), lambda m, a: m.unstack(a, axis=-1),
    lambda m, a: m.matrix_transpose(a), lambda m, a: m.permute_dims(a),
    lambda m, a: m.permute_dims(a, (1, 0)), lambda m, a: m.contiguous(a.T),
    lambda m, a: m.contiguous(a, True), lambda m, a: m.asarray(a, m.float16),
    lambda m, a: m.cumulative_sum(a, axis=1, reverse=True),
    lambda m, a: m.cumulative_prod(a, 0, inclusive=False),
])
@pytest.mark.parametrize("dtype", [mx.float32, mx.int32])
def test_composites(fn, dtype):
    x = rand((3, 5), dtype)
    x = mx.where(mx.abs(x) < 1, 0, x).astype(dtype)
    ours, theirs = both(fn, x)
    assert_same(ours, theirs)


def test_composite_errors():
    x = mx.arange(6).reshape(2, 3)
    for fn in [lambda m, a: m.count_nonzero(a, axis=2), lambda m, a: m.roll(a, 1, 3),
               lambda m, a: m.roll(a, 1.5), lambda m, a: m.unstack(a, axis=2),
               lambda m, a: m.matrix_transpose(a[0]), lambda m, a: m.permute_dims(a, (0,)),
               lambda m, a: m.unstack(a[0, 0]), lambda m, a: m.minmax(a, axis=(0, 0))]:
        same_error(fn, x)
    with pytest.raises(TypeError):
        mx.count_nonzero([1, 0])
    with pytest.raises(TypeError):
        mx.roll([1, 2], 1)
    with pytest.raises(ValueError, match="roll"):
        mx.roll(x, (1, 2, 3), (0, 1))


def test_roll_and_unstack_edges_and_grad():
    assert mx.roll(mx.array(3), 1).tolist() == 3
    assert mx.roll(mx.zeros((0,)), 1).shape == (0,)
    assert mx.unstack(mx.zeros((0, 2))) == ()
    x = rand((3, 4))
    w = rand((3, 4))
    f = lambda m, w_: (lambda a: (m.roll(a, (1, -2), (0, 1)) * w_).sum())
    assert_same(mx.grad(f(mx, w))(x), mlx.grad(f(mlx, to_mlx(w)))(to_mlx(x)))
    out = mx.vmap(lambda a: mx.roll(a, 2))(x)
    assert_same(out, mx.stack([mx.roll(x[i], 2) for i in range(3)]))


def test_asarray():
    a = mx.array([1, 2])
    b = mx.asarray(a)
    assert b is not a and b.tolist() == [1, 2]
    for v in [[1, 2], [1.5], np.arange(3), 3, np.arange(3, dtype=np.float64)]:
        ours, theirs = mx.asarray(v), mlx.asarray(v)
        assert_same(ours, theirs)
    assert_same(mx.asarray(np.arange(3), mx.int32, copy=True),
                mlx.asarray(np.arange(3), mlx.int32, copy=True))
    with pytest.raises(ValueError):
        mx.asarray(np.arange(3), copy=False)


@pytest.mark.parametrize("arrays", [
    [[1, 2], [3, 4, 5]], [[1, 2]], [[1, 2], [3], [4, 5, 6]], [[[0, 0], [1, 1]], [1]],
    [[1, 2], [1.0]], [5, [1.0, 2.0]]])
@pytest.mark.parametrize("indexing", ["xy", "ij"])
@pytest.mark.parametrize("sparse", [False, True])
def test_meshgrid(arrays, indexing, sparse):
    xs = [mx.array(a) for a in arrays]
    ours = mx.meshgrid(*xs, indexing=indexing, sparse=sparse)
    theirs = mlx.meshgrid(*[to_mlx(a) for a in xs], indexing=indexing, sparse=sparse)
    assert_same(list(ours), list(theirs))


def test_meshgrid_errors():
    assert mx.meshgrid() == ()
    same_error(lambda m, a: m.meshgrid(a, indexing="xx"), mx.array([1]))
    with pytest.raises(TypeError):
        mx.meshgrid([1, 2])


@pytest.mark.parametrize("name", ["hanning", "hamming", "blackman", "bartlett"])
@pytest.mark.parametrize("M", [-1, 0, 1, 2, 3, 5, 12, 51])
def test_windows(name, M):
    ours, theirs = getattr(mx, name)(M), getattr(mlx, name)(M)
    assert ours.shape == tuple(theirs.shape) and ours.dtype is mx.float32
    if M > 0:
        assert_same(ours, theirs, atol=1e-6)
        np.testing.assert_allclose(np.array(ours), getattr(np, name)(M), atol=1e-6)
    with pytest.raises(TypeError):
        getattr(mx, name)(2.5)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("n,m", [(5, 3), (3, 5), (4, 2), (2, 4), (6, 6), (1, 1), (7, 1), (8, 4)])
def test_convolve(mode, n, m):
    a, v = rand((n,)), rand((m,))
    ours, theirs = both(lambda lib, x, y: lib.convolve(x, y, mode), a, v)
    assert_same(ours, theirs, atol=1e-5)
    np.testing.assert_allclose(np.array(ours), np.convolve(np.array(a), np.array(v), mode),
                               rtol=1e-5, atol=1e-5)


def test_convolve_dtypes_errors_and_grad():
    for x, y in [(rand((3,), mx.float16), rand((2,), mx.int32)),
                 (rand((3,), mx.bfloat16), rand((2,))), (rand((3,), mx.float64), rand((2,), mx.int32)),
                 (rand((3,)), rand((2,)).astype(mx.complex64)),
                 (rand((3,), mx.int32), rand((4,)))]:
        ours, theirs = both(lambda m, a, b: m.convolve(a, b), x, y)
        assert_same(ours, theirs, atol=1e-2)
    for args in [(rand((3,), mx.int32), rand((3,))), (rand((3,)), rand((1, 2))),
                 (rand((3,)), rand((2,)), "xx"), (rand((3,), mx.bool_), rand((1,)))]:
        same_error(lambda m, *a: m.convolve(*a), *args)
    a, v = rand((6,)), rand((3,))
    f = lambda m, v_: (lambda x: (m.convolve(x, v_, "same") ** 2).sum())
    assert_same(mx.grad(f(mx, v))(a), mlx.grad(f(mlx, to_mlx(v)))(to_mlx(a)), atol=1e-4)


# -- settings -------------------------------------------------------------------------------

def test_printoptions_match_mlx():
    x = mx.array([1.23456789, 2.0, -0.5])
    try:
        for p in (3, 0, -5, -1):
            mx.set_printoptions(p)
            mlx.set_printoptions(p)
            assert repr(x) == repr(to_mlx(x))
            assert mx.get_printoptions().precision == mlx.get_printoptions().precision
        with mx.printoptions(precision=1), mlx.printoptions(precision=1):
            assert repr(x) == repr(to_mlx(x))
        assert repr(x) == repr(to_mlx(x))
        with pytest.raises(TypeError):
            mx.set_printoptions(3.5)
    finally:
        mx.set_printoptions()
        mlx.set_printoptions()


@pytest.mark.usefixtures("on_cpu")
def test_devices_memory_streams():
    assert mx.device_count(mx.cpu) == mlx.device_count(mlx.cpu) == 1
    with pytest.raises(TypeError):
        mx.device_count(mx.Device(mx.cpu))
    assert set(mx.device_info(mx.cpu)) == set(mlx.device_info(mlx.cpu))
    assert mx.device_info() == mx.device_info(mx.Device(mx.cpu))
    a = mx.arange(10)
    mx.eval(a)
    assert mx.get_array_buffer_size(a, a, [a, {"x": a}], 3) == 40
    assert mx.get_array_buffer_size() == 0
    with pytest.raises(ValueError):
        mx.get_array_buffer_size(mx.arange(3) + 1)
    before = mx.set_wired_limit(123)
    assert mx.set_wired_limit(before) == 123
    with pytest.raises(TypeError):
        mx.set_wired_limit(-1)
    s = mx.new_thread_local_stream(mx.cpu)
    assert isinstance(s, mx.ThreadLocalStream) and repr(s).startswith("ThreadLocalStream(")
    assert mx.add(mx.array(1), 1, stream=s).item() == 2
    u = mx.new_thread_unsafe_stream(mx.cpu)
    assert isinstance(u, mx.Stream)
    results = []
    t = threading.Thread(target=lambda: results.append(mx.multiply(mx.array(2), 3, stream=s).item()))
    t.start()
    t.join()
    assert results == [6]
    with mx.StreamContext(u):
        assert mx.default_stream(mx.cpu) == u
    assert isinstance(mx.array(1), mx.ArrayLike) and not isinstance(3, mx.ArrayLike)
    assert [x.tolist() for x in mx.ArrayIterator(mx.array([[1], [2]]))] == [[1], [2]]


def test_doctests():
    import mlxpy.core.io, mlxpy.core.ops.extra, mlxpy.core.settings  # noqa: F401
    for name in ("mlxpy.core.io", "mlxpy.core.ops.extra", "mlxpy.core.settings"):
        result = doctest.testmod(sys.modules[name], optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0, name
