"""mx.random against real MLX: the same key must give the same numbers.

Integer-valued draws (keys, split, bits, randint, bernoulli, categorical,
permutation) must agree exactly; float draws bit-exactly where they only use exact
arithmetic (uniform) and to float rounding where they go through erfinv/log/erf.
"""
import time

import numpy as np
import pytest

import mlxpy.core as mx
from tests.oracle import mlx, needs_mlx, to_mlx, to_numpy, assert_same, raises_like

pytestmark = needs_mlx

SEEDS = [0, 1, 7, 42, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 12345, 2 ** 64 - 1]
SHAPES = [(), (0,), (1,), (2,), (3,), (7,), (3, 5), (2, 3, 4), (1000,)]
FLOATS = ["float32", "float16", "bfloat16"]


def keys(seed):
    return mx.random.key(seed), mlx.random.key(seed)


def dt(name):
    return getattr(mx, name), getattr(mlx, name)


def exact(ours, theirs):
    """Same shape, dtype and bits."""
    assert_same(ours, theirs, rtol=0, atol=0)
    a, b = np.asarray(to_numpy(ours)), np.asarray(to_numpy(theirs))
    if a.dtype.kind == "f":
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b))


# -- a scalar reference for the bit layout, written from MLX's per-key loop ------------

def _threefry_ref(k0, k1, c0, c1):
    m = 0xFFFFFFFF
    ks = (k0, k1, k0 ^ k1 ^ 0x1BD11BDA)
    x0, x1 = (c0 + k0) & m, (c1 + k1) & m
    for i in range(5):
        for r in ((13, 15, 26, 6), (17, 29, 16, 24))[i % 2]:
            x0 = (x0 + x1) & m
            x1 = ((x1 << r) | (x1 >> (32 - r))) & m
            x1 ^= x0
        x0 = (x0 + ks[(i + 1) % 3]) & m
        x1 = (x1 + ks[(i + 2) % 3] + i + 1) & m
    return x0, x1


def _bits_ref(key, size, width):
    """The bytes MLX's CPU loop writes for one key, as a uint8/16/32 vector."""
    k0, k1 = (int(v) for v in key)
    nbytes = size * width
    nwords = (nbytes + 3) // 4
    half, odd = nwords // 2, nwords % 2
    words = [0] * nwords
    for i in range(half):
        words[i], words[i + half + odd] = _threefry_ref(k0, k1, i, i + half + odd)
    if odd:
        words[half] = _threefry_ref(k0, k1, half, 0)[0]
    raw = np.array(words, dtype="<u4").view(np.uint8)[:nbytes]
    return raw.view({1: np.uint8, 2: np.uint16, 4: np.uint32}[width])


def test_reference_matches_mlx_split():
    # Anchors the scalar reference (used below for widths MLX's Python API hides).
    for seed in SEEDS:
        for num in (1, 2, 3, 5):
            ref = _bits_ref(np.array(mlx.random.key(seed)), 2 * num, 4).reshape(num, 2)
            np.testing.assert_array_equal(ref, np.array(mlx.random.split(mlx.random.key(seed), num)))


@pytest.mark.parametrize("width", [1, 2, 4])
def test_bits_layout_all_widths(width):
    for seed in [0, 3, 2 ** 63 + 11]:
        k = mx.random.key(seed)
        # Small draws hash with Python ints, larger ones with arrays: cover both.
        for size in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 16, 31, 67, 200]:
            out = mx.random.bits((size,), width, key=k)
            assert out.dtype == {1: mx.uint8, 2: mx.uint16, 4: mx.uint32}[width]
            np.testing.assert_array_equal(np.array(out), _bits_ref(np.array(k), size, width))
    out = mx.random.bits((3, 5), width, key=mx.random.key(9))
    np.testing.assert_array_equal(np.array(out).ravel(), _bits_ref([0, 9], 15, width))


def test_bits_batched_keys():
    # RandomBits takes keys of shape (..., 2): one independent draw per key.
    from mlxpy.core.primitives.random import RandomBits
    from mlxpy.core.ops._core import make, stream_of
    ks = mx.random.split(mx.random.key(5), 6)
    ks = mx.array(np.array(ks).reshape(2, 3, 2))
    out = make(RandomBits((5,), 2), [ks._node], stream_of(None, "test"))
    assert out.shape == (2, 3, 5) and out.dtype == mx.uint16
    flat = np.array(ks).reshape(6, 2)
    want = np.stack([_bits_ref(k, 5, 2) for k in flat]).reshape(2, 3, 5)
    np.testing.assert_array_equal(np.array(out), want)
    for width, size in [(4, 37), (1, 41), (2, 64)]:
        out = make(RandomBits((size,), width), [ks._node], stream_of(None, "test"))
        want = np.stack([_bits_ref(k, size, width) for k in flat]).reshape(2, 3, size)
        np.testing.assert_array_equal(np.array(out), want)


def test_bits_errors():
    k = mx.random.key(0)
    with pytest.raises(ValueError):
        mx.random.bits((2,), 3, key=k)
    with pytest.raises(ValueError):
        mx.random.bits((2,), 8, key=k)
    with pytest.raises(ValueError):
        mx.random.bits((-1,), key=k)
    with pytest.raises(TypeError):
        mx.random.bits(3, key=k)
    with pytest.raises(ValueError):
        mx.random.bits((2,), key=mx.array([1, 2]))


def test_bits_speed():
    k = mx.random.key(1)
    mx.eval(mx.random.bits((1 << 20,), key=k))
    best = min(_timed(lambda: mx.eval(mx.random.bits((1 << 20,), key=k))) for _ in range(3))
    assert best < 0.25, best  # ~25 ms on one core; generous for a loaded test machine


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# -- keys ---------------------------------------------------------------------------------

def test_key():
    for seed in SEEDS + [np.int64(3), np.uint64(2 ** 63), True]:
        exact(mx.random.key(seed), mlx.random.key(seed))
    for bad in [-1, 2 ** 64, 1.5, "3", None]:
        raises_like(lambda: mx.random.key(bad), lambda: mlx.random.key(bad))
        raises_like(lambda: mx.random.seed(bad), lambda: mlx.random.seed(bad))


def test_split():
    for seed in SEEDS:
        ko, kt = keys(seed)
        exact(mx.random.split(ko), mlx.random.split(kt))
        for num in [0, 1, 3, 4, 10, True]:
            exact(mx.random.split(ko, num), mlx.random.split(kt, num))
        exact(mx.random.split(ko, num=5), mlx.random.split(kt, num=5))
    ko, kt = keys(0)
    raises_like(lambda: mx.random.split(ko, -1), lambda: mlx.random.split(kt, -1))
    raises_like(lambda: mx.random.split(ko, 2.0), lambda: mlx.random.split(kt, 2.0))
    for bad, d in [([1, 2], "int32"), ([1, 2, 3], "uint32"), ([[1, 2]], "uint32"),
                   ([1, 2], "uint64")]:
        raises_like(lambda: mx.random.split(mx.array(bad, dtype=getattr(mx, d))),
                    lambda: mlx.random.split(mlx.array(bad, dtype=getattr(mlx, d))))
    raises_like(lambda: mx.random.split(np.array([1, 2], np.uint32)),
                lambda: mlx.random.split(np.array([1, 2], np.uint32)))


def test_split_chains():
    ko, kt = keys(123)
    for _ in range(5):
        ko = mx.random.split(ko, 3)[2]
        kt = mlx.random.split(kt, 3)[2]
        exact(ko, kt)


# -- global state ---------------------------------------------------------------------------

def test_seed_then_normal_prints_like_mlx():
    mx.random.seed(0)
    mlx.random.seed(0)
    ours, theirs = mx.random.normal((3,)), mlx.random.normal((3,))
    assert repr(ours) == repr(theirs) == "array([1.13788, -1.22095, -0.591536], dtype=float32)"


def test_global_sequence_matches_mlx():
    for s in [0, 5, 2 ** 50]:
        mx.random.seed(s)
        mlx.random.seed(s)
        exact(mx.random.uniform(shape=(4,)), mlx.random.uniform(shape=(4,)))
        exact(mx.random.randint(0, 100, (6,)), mlx.random.randint(0, 100, (6,)))
        exact(mx.random.bernoulli(0.3, (5,)), mlx.random.bernoulli(0.3, (5,)))
        assert_same(mx.random.normal((3, 2)), mlx.random.normal((3, 2)))
        exact(mx.random.permutation(8), mlx.random.permutation(8))
        assert_same(mx.random.gumbel((3,)), mlx.random.gumbel((3,)))
        exact(mx.random.state[0], mlx.random.state[0])


def test_state_is_a_list_updated_in_place():
    st = mx.random.state
    assert isinstance(st, list) and len(st) == 1
    mx.random.seed(11)
    assert mx.random.state is st
    exact(st[0], mlx.random.key(11))
    first = st[0]
    mx.random.uniform()
    assert mx.random.state is st and st[0] is not first
    mlx.random.seed(11)
    mlx.random.uniform()
    exact(st[0], mlx.random.state[0])


def test_explicit_key_leaves_state_alone():
    mx.random.seed(4)
    before = np.array(mx.random.state[0])
    mx.random.uniform(shape=(3,), key=mx.random.key(1))
    np.testing.assert_array_equal(np.array(mx.random.state[0]), before)


def test_failed_draw_consumes_a_key_like_mlx():
    mx.random.seed(5)
    mlx.random.seed(5)
    raises_like(lambda: mx.random.uniform(shape=(2,), dtype=mx.int32),
                lambda: mlx.random.uniform(shape=(2,), dtype=mlx.int32))
    exact(mx.random.uniform(shape=(2,)), mlx.random.uniform(shape=(2,)))


# -- uniform ----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_uniform_bit_exact(dtype):
    do, dt_ = dt(dtype)
    for seed in SEEDS[:5]:
        ko, kt = keys(seed)
        for shape in SHAPES:
            for lo, hi in [(0, 1), (-3.5, 2.25), (5, 1), (-1e4, 1e4), (2, 2)]:
                exact(mx.random.uniform(lo, hi, shape, do, key=ko),
                      mlx.random.uniform(lo, hi, shape, dt_, key=kt))
    exact(mx.random.uniform(key=ko, dtype=do), mlx.random.uniform(key=kt, dtype=dt_))


def test_uniform_array_bounds():
    ko, kt = keys(3)
    lo = np.array([-1.0, 0.0, 2.5], np.float32)
    hi = np.array([[1.0], [10.0]], np.float32)
    exact(mx.random.uniform(mx.array(lo), mx.array(hi), (2, 3), key=ko),
          mlx.random.uniform(mlx.array(lo), mlx.array(hi), (2, 3), key=kt))
    exact(mx.random.uniform(mx.array(lo), 4, (4, 3), key=ko),
          mlx.random.uniform(mlx.array(lo), 4, (4, 3), key=kt))
    # Integer and float64 bounds are cast to the output dtype.
    exact(mx.random.uniform(mx.array([1, 2, 3]), 7, (3,), mx.float16, key=ko),
          mlx.random.uniform(mlx.array([1, 2, 3]), 7, (3,), mlx.float16, key=kt))
    exact(mx.random.uniform(mx.array(0.5, dtype=mx.float64), 2.0, (3,), key=ko),
          mlx.random.uniform(mlx.array(0.5, dtype=mlx.float64), 2.0, (3,), key=kt))
    exact(mx.random.uniform(np.zeros(3), 1, (3,), key=ko),
          mlx.random.uniform(np.zeros(3), 1, (3,), key=kt))
    # Infinite and nan bounds propagate like MLX.
    exact(mx.random.uniform(0, np.inf, (3,), key=ko), mlx.random.uniform(0, np.inf, (3,), key=kt))
    exact(mx.random.uniform(np.nan, 1, (3,), key=ko), mlx.random.uniform(np.nan, 1, (3,), key=kt))


def test_uniform_stays_below_high():
    # All-ones bits would round up to exactly 1: the draw is clamped below it.
    for dtype in FLOATS:
        do, _ = dt(dtype)
        x = np.array(mx.random.uniform(0, 1, (20000,), do, key=mx.random.key(2)))
        x = x.astype(np.float32)
        assert x.min() >= 0 and x.max() < 1


def test_uniform_errors():
    ko, kt = keys(0)
    cases = [
        lambda m, k: m.random.uniform(shape=(2,), dtype=m.int32, key=k),
        lambda m, k: m.random.uniform(shape=(2,), dtype=m.complex64, key=k),
        lambda m, k: m.random.uniform(shape=(2,), dtype=m.float64, key=k),
        lambda m, k: m.random.uniform(m.zeros((3,)), 1, shape=(2,), key=k),
        lambda m, k: m.random.uniform(m.zeros((2, 3)), 1, shape=(3,), key=k),
        lambda m, k: m.random.uniform(shape=(-1,), key=k),
        lambda m, k: m.random.uniform(shape=3, key=k),
        lambda m, k: m.random.uniform(shape=(2.0,), key=k),
        lambda m, k: m.random.uniform(shape=(2,), key=m.array([1, 2])),
        lambda m, k: m.random.uniform(shape=(2,), key=m.array([[1, 2]], dtype=m.uint32)),
        lambda m, k: m.random.uniform(shape=(2,), key=[1, 2]),
        lambda m, k: m.random.uniform(shape=(2,), key=np.array([1, 2], np.uint32)),
        lambda m, k: m.random.uniform([0.0, 1.0], shape=(2,), key=k),
    ]
    for case in cases:
        raises_like(lambda: case(mx, ko), lambda: case(mlx, kt))


# -- normal -----------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS + ["float64"])
def test_normal(dtype):
    do, dt_ = dt(dtype)
    # float64 samples are float32 draws widened: compare at float32 precision.
    tol = {"rtol": 2e-5, "atol": 1e-6} if dtype == "float64" else {}
    for seed in SEEDS[:5]:
        ko, kt = keys(seed)
        for shape in SHAPES:
            assert_same(mx.random.normal(shape, do, key=ko), mlx.random.normal(shape, dt_, key=kt), **tol)
        assert_same(mx.random.normal((5,), do, loc=1.5, scale=3.0, key=ko),
                    mlx.random.normal((5,), dt_, loc=1.5, scale=3.0, key=kt), **tol)


def test_normal_loc_scale_arrays_broadcast():
    ko, kt = keys(8)
    loc, scale = np.array([1.0, 2.0, 3.0], np.float32), np.array([[1.0], [0.5]], np.float32)
    assert_same(mx.random.normal((3,), loc=mx.array(loc), scale=mx.array(scale), key=ko),
                mlx.random.normal((3,), loc=mlx.array(loc), scale=mlx.array(scale), key=kt))
    assert_same(mx.random.normal((3,), loc=1, scale=2, key=ko),
                mlx.random.normal((3,), loc=1, scale=2, key=kt))
    assert_same(mx.random.normal((3,), mx.float16, loc=mx.array(1.0), key=ko),
                mlx.random.normal((3,), mlx.float16, loc=mlx.array(1.0), key=kt))
    assert_same(mx.random.normal((3,), scale=0.0, key=ko), mlx.random.normal((3,), scale=0.0, key=kt))
    assert_same(mx.random.normal((3,), loc=np.ones(3), key=ko),
                mlx.random.normal((3,), loc=np.ones(3), key=kt))


def test_normal_complex():
    for seed in SEEDS[:4]:
        ko, kt = keys(seed)
        for shape in [(), (1,), (3,), (2, 3)]:
            assert_same(mx.random.normal(shape, mx.complex64, key=ko),
                        mlx.random.normal(shape, mlx.complex64, key=kt))
        assert_same(mx.random.normal((3,), mx.complex64, loc=1.0, scale=2.0, key=ko),
                    mlx.random.normal((3,), mlx.complex64, loc=1.0, scale=2.0, key=kt))


def test_normal_statistics():
    x = np.array(mx.random.normal((200000,), key=mx.random.key(0)))
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    assert np.isfinite(x).all()


def test_normal_errors():
    ko, kt = keys(0)
    for case in [lambda m, k: m.random.normal((3,), m.int32, key=k),
                 lambda m, k: m.random.normal((3,), m.bool_, key=k),
                 lambda m, k: m.random.normal(3, key=k),
                 lambda m, k: m.random.normal((3,), loc=[1.0, 2.0, 3.0], key=k),
                 lambda m, k: m.random.normal((3,), loc=m.zeros((2,)), key=k)]:
        raises_like(lambda: case(mx, ko), lambda: case(mlx, kt))


# -- randint ----------------------------------------------------------------------------

INT_DTYPES = ["int32", "int64", "int16", "int8", "uint8", "uint16", "uint32", "bool_"]
BOUNDS = [(0, 10), (-5, 5), (-3.5, 1.5), (0.0, 1.5), (5, 1), (3, 3), (-100, 100), (0, 2),
          (-2 ** 31, 2 ** 31 - 1), (0.7, 0.9), (-2.5, -1.25), (200, 300), (40000, 50000)]


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_randint_bit_exact(dtype):
    do, dt_ = dt(dtype)
    for seed in SEEDS[:3]:
        ko, kt = keys(seed)
        for lo, hi in BOUNDS:
            for shape in [(), (7,), (3, 5), (300,)]:
                exact(mx.random.randint(lo, hi, shape, do, key=ko),
                      mlx.random.randint(lo, hi, shape, dt_, key=kt))


def test_randint_array_bounds():
    ko, kt = keys(1)
    lo, hi = np.array([0, 10], np.int32), np.array([[5], [100]], np.int32)
    exact(mx.random.randint(mx.array(lo), mx.array(hi), (2, 2), key=ko),
          mlx.random.randint(mlx.array(lo), mlx.array(hi), (2, 2), key=kt))
    lo16 = np.array([-7, 0, 300], np.int16)
    exact(mx.random.randint(mx.array(lo16), 1000, (4, 3), mx.int64, key=ko),
          mlx.random.randint(mlx.array(lo16), 1000, (4, 3), mlx.int64, key=kt))
    exact(mx.random.randint(0, 10, key=ko), mlx.random.randint(0, 10, key=kt))
    x = np.array(mx.random.randint(-3, 4, (5000,), key=ko))
    assert x.min() == -3 and x.max() == 3


def test_randint_errors():
    ko, kt = keys(0)
    for case in [lambda m, k: m.random.randint(0, 2, (3,), m.float32, key=k),
                 lambda m, k: m.random.randint(0, 2, (3,), m.complex64, key=k),
                 lambda m, k: m.random.randint(m.zeros((2,)), 5, (3,), key=k),
                 lambda m, k: m.random.randint(0, 5, (-2,), key=k),
                 lambda m, k: m.random.randint(0, 5, 3, key=k)]:
        raises_like(lambda: case(mx, ko), lambda: case(mlx, kt))


# -- bernoulli ----------------------------------------------------------------------------

def test_bernoulli_bit_exact():
    for seed in SEEDS[:5]:
        ko, kt = keys(seed)
        exact(mx.random.bernoulli(key=ko), mlx.random.bernoulli(key=kt))
        for p in [0.0, 0.3, 0.5, 0.999, 1.0, 1.5, -1.0]:
            for shape in [(), (7,), (3, 5), (200,)]:
                exact(mx.random.bernoulli(p, shape, key=ko), mlx.random.bernoulli(p, shape, key=kt))
        for dtype in FLOATS + ["float64"]:
            do, dt_ = dt(dtype)
            p = np.array([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0, np.nan])
            exact(mx.random.bernoulli(mx.array(p).astype(do), key=ko),
                  mlx.random.bernoulli(mlx.array(p).astype(dt_), key=kt))
            exact(mx.random.bernoulli(mx.array(p[:2]).astype(do), (3, 2), key=ko),
                  mlx.random.bernoulli(mlx.array(p[:2]).astype(dt_), (3, 2), key=kt))


def test_bernoulli_extremes():
    k = mx.random.key(2)
    assert np.array(mx.random.bernoulli(1.0, (10000,), key=k)).all()
    assert not np.array(mx.random.bernoulli(0.0, (10000,), key=k)).any()


def test_bernoulli_errors():
    ko, kt = keys(0)
    for case in [lambda m, k: m.random.bernoulli(1, key=k),
                 lambda m, k: m.random.bernoulli(True, key=k),
                 lambda m, k: m.random.bernoulli(m.array([1, 0]), key=k),
                 lambda m, k: m.random.bernoulli(m.array([0.1, 0.2]), (3,), key=k),
                 lambda m, k: m.random.bernoulli(m.array([0.1, 0.2]), (1,), key=k),
                 lambda m, k: m.random.bernoulli(0.5, 3, key=k)]:
        raises_like(lambda: case(mx, ko), lambda: case(mlx, kt))


# -- truncated_normal, gumbel, laplace ------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
def test_truncated_normal(dtype):
    do, dt_ = dt(dtype)
    for seed in SEEDS[:4]:
        ko, kt = keys(seed)
        for lo, hi in [(-1, 1), (0, 2), (-3.0, -2.5), (-0.5, 10.0)]:
            for shape in [(), (7,), (3, 5), (500,)]:
                ours = mx.random.truncated_normal(lo, hi, shape, do, key=ko)
                assert_same(ours, mlx.random.truncated_normal(lo, hi, shape, dt_, key=kt))
                x = to_numpy(ours)
                assert (x >= lo).all() and (x <= hi).all()


def test_truncated_normal_shapes_and_errors():
    ko, kt = keys(6)
    lo, hi = np.array([-1.0, 0.0], np.float32), np.array([[1.0], [2.0]], np.float32)
    assert_same(mx.random.truncated_normal(mx.array(lo), mx.array(hi), key=ko),
                mlx.random.truncated_normal(mlx.array(lo), mlx.array(hi), key=kt))
    assert_same(mx.random.truncated_normal(mx.array(lo), 3, (4, 2), key=ko),
                mlx.random.truncated_normal(mlx.array(lo), 3, (4, 2), key=kt))
    for case in [lambda m, k: m.random.truncated_normal(-1, 1, (3,), m.int32, key=k),
                 lambda m, k: m.random.truncated_normal(-1, 1, (3,), m.float64, key=k),
                 lambda m, k: m.random.truncated_normal(m.zeros((2,)), 1, (3,), key=k)]:
        raises_like(lambda: case(mx, ko), lambda: case(mlx, kt))


@pytest.mark.parametrize("dtype", FLOATS)
def test_gumbel_and_laplace(dtype):
    do, dt_ = dt(dtype)
    for seed in SEEDS[:5]:
        ko, kt = keys(seed)
        for shape in SHAPES:
            assert_same(mx.random.gumbel(shape, do, key=ko), mlx.random.gumbel(shape, dt_, key=kt))
            assert_same(mx.random.laplace(shape, do, key=ko), mlx.random.laplace(shape, dt_, key=kt))
        assert_same(mx.random.laplace((9,), do, loc=1.0, scale=2.0, key=ko),
                    mlx.random.laplace((9,), dt_, loc=1.0, scale=2.0, key=kt))
        assert_same(mx.random.laplace((9,), do, -2, 0.5, key=ko),
                    mlx.random.laplace((9,), dt_, -2, 0.5, key=kt))


def test_gumbel_laplace_errors():
    ko, kt = keys(0)
    for case in [lambda m, k: m.random.gumbel((3,), m.int32, key=k),
                 lambda m, k: m.random.gumbel((3,), m.float64, key=k),
                 lambda m, k: m.random.laplace((3,), m.int32, key=k),
                 lambda m, k: m.random.laplace((3,), m.complex64, key=k),
                 lambda m, k: m.random.laplace((3,), loc=m.ones((3,)), key=k),
                 lambda m, k: m.random.laplace((3,), loc="1", key=k)]:
        raises_like(lambda: case(mx, ko), lambda: case(mlx, kt))
    # A 0-d array is accepted where a float is expected.
    assert_same(mx.random.laplace((3,), loc=mx.array(1.0), key=ko),
                mlx.random.laplace((3,), loc=mlx.array(1.0), key=kt))


# -- categorical ------------------------------------------------------------------------

def test_categorical():
    rng = np.random.default_rng(0)
    for seed in SEEDS[:4]:
        ko, kt = keys(seed)
        for shape in [(3,), (2, 3), (4, 5, 6), (1, 7)]:
            logits = (rng.standard_normal(shape) * 2).astype(np.float32)
            lo, lt = mx.array(logits), mlx.array(logits)
            for axis in range(-len(shape), len(shape)):
                exact(mx.random.categorical(lo, axis, key=ko), mlx.random.categorical(lt, axis, key=kt))
                exact(mx.random.categorical(lo, axis, num_samples=4, key=ko),
                      mlx.random.categorical(lt, axis, num_samples=4, key=kt))
            reduced = shape[:-1]
            exact(mx.random.categorical(lo, shape=(5,) + reduced, key=ko),
                  mlx.random.categorical(lt, shape=(5,) + reduced, key=kt))


def test_categorical_single_distribution():
    # One distribution and a non-scalar output: MLX inverts the CDF instead of Gumbel-max.
    rng = np.random.default_rng(4)
    specials = [[-np.inf] * 3, [0.0, np.inf, 1.0], [0.0, np.nan, 1.0], [np.inf, np.inf, 0.0],
                [0.0, -np.inf, 1.0, -np.inf], [3.0], [1e30, 1e30, 0.0]]
    randoms = [(rng.standard_normal(n) * 2).astype(np.float32).tolist() for n in (2, 5, 50)]
    for seed in SEEDS[:3]:
        ko, kt = keys(seed)
        for logits in specials + randoms:
            lo, lt = mx.array(logits), mlx.array(logits)
            for shape, num in [((500,), None), (None, 7), ((2, 3), None), ((), None), (None, None)]:
                exact(mx.random.categorical(lo, shape=shape, num_samples=num, key=ko),
                      mlx.random.categorical(lt, shape=shape, num_samples=num, key=kt))
        lo = np.array(randoms[1], np.float32).reshape(1, 5, 1)
        for axis in [1, -2]:
            exact(mx.random.categorical(mx.array(lo), axis, shape=(4, 1, 1), key=ko),
                  mlx.random.categorical(mlx.array(lo), axis, shape=(4, 1, 1), key=kt))
            exact(mx.random.categorical(mx.array(lo), axis, num_samples=3, key=ko),
                  mlx.random.categorical(mlx.array(lo), axis, num_samples=3, key=kt))
        for dtype in ["float16", "bfloat16", "int32", "float64"]:
            do, dt_ = dt(dtype)
            exact(mx.random.categorical(mx.array([1, 0, 3, 2]).astype(do), num_samples=300, key=ko),
                  mlx.random.categorical(mlx.array([1, 0, 3, 2]).astype(dt_), num_samples=300, key=kt))


def test_categorical_dtypes_and_extremes():
    ko, kt = keys(2)
    logits = np.array([[0.0, -np.inf, 1.0], [-np.inf, -np.inf, 0.0]], np.float32)
    exact(mx.random.categorical(mx.array(logits), num_samples=50, key=ko),
          mlx.random.categorical(mlx.array(logits), num_samples=50, key=kt))
    exact(mx.random.categorical(mx.array([0, 1, 2]), key=ko),
          mlx.random.categorical(mlx.array([0, 1, 2]), key=kt))
    h = np.array([[0.5, 1.0, -1.0]], np.float32)
    exact(mx.random.categorical(mx.array(h).astype(mx.float16), num_samples=20, key=ko),
          mlx.random.categorical(mlx.array(h).astype(mlx.float16), num_samples=20, key=kt))


def test_categorical_errors():
    ko, kt = keys(0)
    lg = np.zeros((2, 3), np.float32)
    for case in [lambda m, k: m.random.categorical(m.array(lg), shape=(2,), num_samples=3, key=k),
                 lambda m, k: m.random.categorical(m.array(lg), axis=2, key=k),
                 lambda m, k: m.random.categorical(m.array(lg), axis=-3, key=k),
                 lambda m, k: m.random.categorical(m.array(lg), shape=(3,), key=k),
                 lambda m, k: m.random.categorical(m.zeros(()), key=k),
                 lambda m, k: m.random.categorical([0.0, 1.0], key=k),
                 lambda m, k: m.random.categorical(lg, key=k)]:
        raises_like(lambda: case(mx, ko), lambda: case(mlx, kt))


# -- permutation ------------------------------------------------------------------------

def test_permutation():
    for seed in SEEDS[:5]:
        ko, kt = keys(seed)
        for n in [0, 1, 2, 5, 10, 33, 1000, True]:
            exact(mx.random.permutation(n, key=ko), mlx.random.permutation(n, key=kt))
        x = np.arange(24, dtype=np.float32).reshape(4, 3, 2)
        for axis in [0, 1, 2, -1, -3]:
            exact(mx.random.permutation(mx.array(x), axis, key=ko),
                  mlx.random.permutation(mlx.array(x), axis, key=kt))
    p = np.array(mx.random.permutation(100, key=mx.random.key(3)))
    assert sorted(p.tolist()) == list(range(100))


def test_permutation_errors():
    ko, kt = keys(0)
    for case in [lambda m, k: m.random.permutation(-1, key=k),
                 lambda m, k: m.random.permutation(5.0, key=k),
                 lambda m, k: m.random.permutation([1, 2, 3], key=k),
                 lambda m, k: m.random.permutation(m.array(3), key=k)]:
        raises_like(lambda: case(mx, ko), lambda: case(mlx, kt))


# -- multivariate_normal ----------------------------------------------------------------------

def test_multivariate_normal():
    rng = np.random.default_rng(1)
    for seed in SEEDS[:4]:
        ko, kt = keys(seed)
        for n in [1, 2, 3, 5]:
            a = rng.standard_normal((n, n)).astype(np.float32)
            cov = (a @ a.T + n * np.eye(n)).astype(np.float32)
            mean = rng.standard_normal(n).astype(np.float32)
            for shape in [[], [4], [2, 3]]:
                assert_same(
                    mx.random.multivariate_normal(mx.array(mean), mx.array(cov), shape, key=ko),
                    mlx.random.multivariate_normal(mlx.array(mean), mlx.array(cov), shape, key=kt),
                    rtol=1e-4, atol=1e-4)
    # Batched means and covariances broadcast with `shape`.
    mean = rng.standard_normal((3, 1, 2)).astype(np.float32)
    cov = np.stack([np.eye(2) * (i + 1) for i in range(4)]).astype(np.float32)
    assert_same(mx.random.multivariate_normal(mx.array(mean), mx.array(cov), key=ko),
                mlx.random.multivariate_normal(mlx.array(mean), mlx.array(cov), key=kt),
                rtol=1e-4, atol=1e-4)


def test_multivariate_normal_errors():
    ko, kt = keys(0)
    eye = np.eye(2, dtype=np.float32)
    for case in [lambda m, k: m.random.multivariate_normal(m.zeros((2,)), m.array(eye), dtype=m.float16, key=k),
                 lambda m, k: m.random.multivariate_normal(m.array(0.0), m.array(eye), key=k),
                 lambda m, k: m.random.multivariate_normal(m.zeros((2,)), m.zeros((2,)), key=k),
                 lambda m, k: m.random.multivariate_normal(m.zeros((2,)), m.zeros((2, 3)), key=k),
                 lambda m, k: m.random.multivariate_normal(m.zeros((3,)), m.array(eye), key=k),
                 lambda m, k: m.random.multivariate_normal([0.0, 0.0], m.array(eye), key=k)]:
        raises_like(lambda: case(mx, ko), lambda: case(mlx, kt))


def test_streams_accepted():
    k = mx.random.key(0)
    for s in [mx.cpu, mx.default_stream(mx.cpu)]:
        exact(mx.random.uniform(shape=(3,), key=k, stream=s),
              mlx.random.uniform(shape=(3,), key=mlx.random.key(0)))


def test_randint_odd_bounds():
    ko, kt = keys(2)
    cases = [(True, 5, "int32"), (0, (5, "uint8"), "int32"), ((0, "uint32"), (0, "uint32"), "uint32"),
             ((3, "uint8"), (250, "uint8"), "uint8"), (-5, (3, "uint32"), "int32"),
             ((-2.5, "float16"), (3.5, "float16"), "int16"), (0, (2 ** 40, "int64"), "int64"),
             ((0, "uint64"), (100, "uint64"), "uint64"), (False, True, "bool_"), (0, 1e10, "int64"),
             (0, np.inf, "int32"), (np.nan, 4, "int32")]

    def conv(lib, v):
        return lib.array(v[0], dtype=getattr(lib, v[1])) if isinstance(v, tuple) else v
    for lo, hi, d in cases:
        exact(mx.random.randint(conv(mx, lo), conv(mx, hi), (6,), getattr(mx, d), key=ko),
              mlx.random.randint(conv(mlx, lo), conv(mlx, hi), (6,), getattr(mlx, d), key=kt))


@pytest.mark.skipif(not hasattr(mx, "compile"), reason="mx.compile not built yet")
def test_compile_captures_the_global_state():
    from functools import partial
    results = []
    for lib in (mx, mlx):
        lib.random.seed(3)

        @partial(lib.compile, inputs=lib.random.state, outputs=lib.random.state)
        def draw(x):
            return x + lib.random.uniform(shape=(3,)) + lib.random.normal((3,))
        outs = [draw(lib.array([1.0, 2.0, 3.0])) for _ in range(3)]
        results.append((outs, lib.random.state[0]))
    (ours, our_state), (theirs, their_state) = results
    for o, t in zip(ours, theirs):
        assert_same(o, t)
    exact(our_state, their_state)
    assert not np.allclose(to_numpy(ours[0]), to_numpy(ours[1]))
