"""gather_mm, block_masked_mm, segmented_mm, hadamard_transform at 12/20/28 * 2^k, and
mx.fft.stft / istft, differential against real MLX."""
import numpy as np
import pytest

import mlxpy.core as mx
from tests.oracle import assert_same, mlx, needs_mlx, raises_like

pytestmark = needs_mlx
RNG = np.random.default_rng(7)


def normal(*shape, dtype=np.float32):
    return RNG.normal(size=shape).astype(dtype)


def both(fn, *arrays):
    """fn run on mlxpy and on MLX with the same NumPy inputs (None passes through)."""
    ours = fn(mx, *[None if a is None else mx.array(a) for a in arrays])
    theirs = fn(mlx, *[None if a is None else mlx.array(a) for a in arrays])
    return ours, theirs


def same(fn, *arrays, **tol):
    assert_same(*both(fn, *arrays), **tol)


def fails_alike(fn, *arrays):
    raises_like(lambda: mx.eval(fn(mx, *[None if a is None else mx.array(a) for a in arrays])),
                lambda: mlx.eval(fn(mlx, *[None if a is None else mlx.array(a)
                                           for a in arrays])))


# -- gather_mm ----------------------------------------------------------------------------

A6, B3 = normal(2, 3, 4, 5), normal(3, 5, 6)


@pytest.mark.parametrize("lhs, rhs", [
    (None, None), ([0, 5, 2], [[1], [2]]), ([0, 5, 2], None), ([[0, 1]], [[0], [1], [2]]),
    (np.array([3, 1], np.uint8), np.array([2, 2], np.int64)), (np.array(4), None)])
def test_gather_mm(lhs, rhs):
    lhs = None if lhs is None else np.asarray(lhs)
    rhs = None if rhs is None else np.asarray(rhs)
    same(lambda m, a, b, i, j: m.gather_mm(a, b, i, j), A6, B3, lhs, rhs)


def test_gather_mm_vectors_and_dtypes():
    same(lambda m, a, b: m.gather_mm(a, b), A6[0, 0, 0], B3)
    same(lambda m, a, b: m.gather_mm(a, b, m.array([1, 2])), A6, B3[0, :, 0])
    same(lambda m, a, b: m.gather_mm(a, b, m.array([0, 0, 0])), A6[0, 0], B3[0])
    same(lambda m, a, b: m.gather_mm(a.astype(m.float16), b, m.array([1, 4]),
                                    m.array([0, 2])), A6, B3)


@pytest.mark.parametrize("fn", [
    lambda m, a, b: m.gather_mm(a, b, None, m.array([0, 2])),       # batch shapes
    lambda m, a, b: m.gather_mm(a, b, m.array([0.0, 1.0])),         # float indices
    lambda m, a, b: m.gather_mm(a, b[..., :4, :]),                  # inner sizes
    lambda m, a, b: m.gather_mm(a.astype(m.int32), b.astype(m.int32)),
])
def test_gather_mm_errors(fn):
    fails_alike(fn, A6, B3)


def test_gather_mm_grad_and_vmap():
    i, j = mx.array([0, 5, 2, 2]), mx.array([1, 2, 0, 1])
    c = normal(4, 4, 6)
    for argnum in (0, 1):
        ours = mx.grad(lambda a, b: (mx.gather_mm(a, b, i, j) * mx.array(c)).sum(),
                       argnums=argnum)(mx.array(A6), mx.array(B3))
        theirs = mlx.grad(lambda a, b: (mlx.gather_mm(a, b, mlx.array([0, 5, 2, 2]),
                                                      mlx.array([1, 2, 0, 1])) *
                                        mlx.array(c)).sum(), argnums=argnum)(
            mlx.array(A6), mlx.array(B3))
        assert_same(ours, theirs, atol=1e-5)
    xs = normal(3, 4, 5)
    out = mx.vmap(lambda x: mx.gather_mm(x, mx.array(B3), None, mx.array([2, 0])))(
        mx.array(xs))
    loop = np.stack([np.array(mx.gather_mm(mx.array(x), mx.array(B3), None,
                                           mx.array([2, 0]))) for x in xs])
    np.testing.assert_allclose(np.array(out), loop, rtol=1e-5, atol=1e-5)


# -- block_masked_mm ----------------------------------------------------------------------

M, K, N = 70, 40, 33
A2, B2 = normal(M, K), normal(K, N)


@pytest.mark.parametrize("bs, out, lhs, rhs", [
    (32, None, None, None),
    (32, RNG.random((3, 2)) > 0.5, None, None),
    (64, np.ones((1, 1), np.float32), None, None),
    (32, np.array([True]), None, None),
    (32, RNG.normal(size=(3, 2)).astype(np.float32), RNG.normal(size=(3, 2)).astype(np.float32),
     RNG.normal(size=(2, 2)).astype(np.float32)),
    (64, None, np.array([[True], [False]]), np.array([[False]])),
    (32, np.ones((3, 2), np.int32), RNG.random((3, 2)) > 0.3, None),
    (0, None, None, None),
])
def test_block_masked_mm(bs, out, lhs, rhs):
    same(lambda m, a, b, o, l, r: m.block_masked_mm(a, b, bs, o, l, r), A2, B2, out, lhs, rhs,
         atol=3e-5)


def test_block_masked_mm_batched_and_vector():
    a, b = normal(2, 1, M, K), normal(3, K, N)
    same(lambda m, a, b, o: m.block_masked_mm(a, b, 32, o), a, b, RNG.random((3, 3, 2)) > 0.5,
         atol=3e-5)
    same(lambda m, a, b: m.block_masked_mm(a, b, 32), A2[0], B2, atol=3e-5)


def test_block_masked_mm_skips_masked_nan():
    a = A2.copy()
    a[:32, :32] = np.nan
    mask = np.array([[False, True], [True, True], [True, True]])
    out = np.array(mx.block_masked_mm(mx.array(a), mx.array(B2), 32, None, mx.array(mask)))
    assert not np.isnan(out).any()


@pytest.mark.parametrize("fn", [
    lambda m, a, b: m.block_masked_mm(a, b, 16, m.ones((5, 3))),
    lambda m, a, b: m.block_masked_mm(a, b, 32, m.ones((2, 3, 2))),
    lambda m, a, b: m.block_masked_mm(a, b, 32, m.ones((3, 2)), m.ones((2, 2))),
    lambda m, a, b: m.block_masked_mm(a, b[:39]),
    lambda m, a, b: m.block_masked_mm(a.astype(m.int32), b.astype(m.int32), 32),
])
def test_block_masked_mm_errors(fn):
    fails_alike(fn, A2, B2)


def test_block_masked_mm_float16_works():
    # MLX refuses this at evaluation ("only supports float32"); mlxpy computes it.
    out = mx.block_masked_mm(mx.array(A2, dtype=mx.float16), mx.array(B2, dtype=mx.float16),
                             32, mx.ones((3, 2)))
    assert out.dtype == mx.float16
    np.testing.assert_allclose(np.array(out.astype(mx.float32)), A2 @ B2, rtol=0.05, atol=0.1)


def test_block_masked_mm_grad():
    lhs, rhs = normal(3, 2), normal(2, 2)
    c = normal(M, N)
    for argnum in (0, 1):
        ours = mx.grad(lambda a, b: (mx.block_masked_mm(a, b, 32, None, mx.array(lhs),
                                                        mx.array(rhs)) * mx.array(c)).sum(),
                       argnums=argnum)(mx.array(A2), mx.array(B2))
        theirs = mlx.grad(lambda a, b: (mlx.block_masked_mm(a, b, 32, None, mlx.array(lhs),
                                                            mlx.array(rhs)) *
                                        mlx.array(c)).sum(), argnums=argnum)(
            mlx.array(A2), mlx.array(B2))
        assert_same(ours, theirs, atol=1e-4, rtol=1e-4)


# -- segmented_mm -------------------------------------------------------------------------

SA, SB = normal(4, 10), normal(10, 3)


@pytest.mark.parametrize("segments", [
    [[0, 3], [3, 10], [2, 2]], [0, 3], [[[0, 3]]], np.array([[0, 3]], np.uint32),
    [[5, 3], [0, 10]], [[[0, 5], [5, 10]], [[1, 9], [4, 4]]]])
def test_segmented_mm(segments):
    same(lambda m, a, b, s: m.segmented_mm(a, b, s), SA, SB, np.asarray(segments))


def test_segmented_mm_promotes():
    same(lambda m, a, b, s: m.segmented_mm(a.astype(m.float16), b, s), SA, SB,
         np.array([[0, 4], [4, 10]]))


@pytest.mark.parametrize("fn", [
    lambda m, a, b: m.segmented_mm(a, b, m.array([[0.0, 3.0]])),
    lambda m, a, b: m.segmented_mm(a, b, m.array([[0, 3, 4]])),
    lambda m, a, b: m.segmented_mm(m.ones((2, 4, 10)), b, m.array([[0, 3]])),
    lambda m, a, b: m.segmented_mm(a[0], b, m.array([[0, 3]])),
    lambda m, a, b: m.segmented_mm(a.astype(m.int32), b.astype(m.int32), m.array([[0, 3]])),
])
def test_segmented_mm_errors(fn):
    fails_alike(fn, SA, SB)


def test_segmented_mm_checks_what_mlx_does_not():
    with pytest.raises(ValueError):
        mx.segmented_mm(mx.array(SA[:, :5]), mx.array(SB), mx.array([[0, 3]]))
    # Segment ends past K are clipped to K (MLX reads past the buffer).
    out = mx.segmented_mm(mx.array(SA), mx.array(SB), mx.array([[8, 12]]))
    np.testing.assert_allclose(np.array(out)[0], SA[:, 8:] @ SB[8:], rtol=1e-5, atol=1e-5)


def test_segmented_mm_grad_and_vmap():
    # MLX has no vjp for segmented_mm: compare with the per-segment matmuls.
    segs = [[0, 3], [3, 10], [1, 7]]
    c = normal(3, 4, 3)

    def loss(a, b):
        return (mx.segmented_mm(a, b, mx.array(segs)) * mx.array(c)).sum()

    def ref(a, b):
        parts = [mx.matmul(a[:, s:e], b[s:e]) for s, e in segs]
        return (mx.stack(parts) * mx.array(c)).sum()
    for argnum in (0, 1):
        g = mx.grad(loss, argnums=argnum)(mx.array(SA), mx.array(SB))
        r = mx.grad(ref, argnums=argnum)(mx.array(SA), mx.array(SB))
        np.testing.assert_allclose(np.array(g), np.array(r), rtol=1e-5, atol=1e-5)
    xs = normal(2, 4, 10)
    out = mx.vmap(lambda x: mx.segmented_mm(x, mx.array(SB), mx.array(segs)))(mx.array(xs))
    theirs = np.stack([np.array(mlx.segmented_mm(mlx.array(x), mlx.array(SB),
                                                 mlx.array(segs))) for x in xs])
    np.testing.assert_allclose(np.array(out), theirs, rtol=1e-5, atol=1e-5)


# -- hadamard_transform -------------------------------------------------------------------

@pytest.mark.parametrize("n", [12, 24, 96, 20, 40, 28, 56, 112])
@pytest.mark.parametrize("scale", [None, 0.5])
def test_hadamard_non_power_of_two(n, scale):
    same(lambda m, x: m.hadamard_transform(x, scale), normal(3, n))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "int32"])
def test_hadamard_dtypes(dtype):
    x = normal(2, 24)
    same(lambda m, x: m.hadamard_transform(x.astype(getattr(m, dtype))), x, atol=0.1,
         rtol=0.05)


@pytest.mark.parametrize("n", [12, 20, 56])
def test_hadamard_grad_is_the_transpose(n):
    # MLX's vjp re-applies the forward map, wrong for the non-symmetric 20 and 28 bases;
    # compare with the transposed matrix instead.
    matrix = np.array(mlx.hadamard_transform(mlx.eye(n)))
    c = normal(n)
    g = mx.grad(lambda x: (mx.hadamard_transform(x) * mx.array(c)).sum())(mx.array(normal(n)))
    np.testing.assert_allclose(np.array(g), matrix @ c, rtol=1e-5, atol=1e-5)
    out = mx.vmap(mx.hadamard_transform, in_axes=1)(mx.array(normal(n, 2)))
    assert out.shape == (2, n)


def test_hadamard_bad_sizes():
    for n in (3, 6, 44):
        fails_alike(lambda m, x: m.hadamard_transform(x), normal(2, n))


# -- stft / istft -------------------------------------------------------------------------

SIG = normal(50)


@pytest.mark.parametrize("kwargs", [
    dict(n_fft=16), dict(n_fft=16, hop_length=5), dict(n_fft=16, hop_length=5, win_length=10),
    dict(n_fft=16, center=False), dict(n_fft=15, hop_length=4, center=False),
    dict(n_fft=16, pad_mode="constant"), dict(n_fft=16, pad_mode="edge"),
    dict(n_fft=16, norm="ortho"), dict(n_fft=16, norm="forward"),
    dict(n_fft=16, onesided=False), dict(n_fft=64), dict(n_fft=64, hop_length=7),
])
def test_stft(kwargs):
    same(lambda m, x: m.fft.stft(x, **kwargs), SIG, atol=2e-5, rtol=1e-4)


def test_stft_windows_batches_dtypes():
    hann = np.hanning(16).astype(np.float32)
    same(lambda m, x, w: m.fft.stft(x, 16, 4, window=w), SIG, hann, atol=2e-5)
    same(lambda m, x, w: m.fft.stft(x, 16, 4, window=w), SIG, hann[:11], atol=2e-5)
    same(lambda m, x, w: m.fft.stft(x, 16, 4, win_length=8, window=w), SIG, hann[:10],
         atol=2e-5)
    same(lambda m, x: m.fft.stft(x, 8, 3), normal(2, 3, 40), atol=2e-5)
    same(lambda m, x: m.fft.stft(x, 16), (SIG + 1j * SIG[::-1]).astype(np.complex64),
         atol=2e-5)
    same(lambda m, x: m.fft.stft(x, 16, onesided=True),
         (SIG + 1j * SIG[::-1]).astype(np.complex64), atol=2e-5)
    same(lambda m, x: m.fft.stft(x.astype(m.int32), 16), SIG * 10, atol=2e-4)
    same(lambda m, x: m.fft.stft(x, 16), SIG[:10], atol=2e-5)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.fft.stft(x, 64, center=False), lambda m, x: m.fft.stft(x, 16, 0),
    lambda m, x: m.fft.stft(x, 0), lambda m, x: m.fft.stft(x, 16, win_length=20),
    lambda m, x: m.fft.stft(x, 16, window=m.ones((4, 4))),
    lambda m, x: m.fft.stft(x, 16, pad_mode="wrap"), lambda m, x: m.fft.stft(x, 16, norm="x"),
    lambda m, x: m.fft.stft(x[0], 16), lambda m, x: m.fft.istft(x),
])
def test_stft_errors(fn):
    fails_alike(fn, SIG)


@pytest.mark.parametrize("stft_kw, istft_kw", [
    (dict(n_fft=16), dict()), (dict(n_fft=16), dict(length=60)), (dict(n_fft=16),
                                                                  dict(length=30)),
    (dict(n_fft=16, hop_length=5), dict(n_fft=16, hop_length=5)),
    (dict(n_fft=16), dict(center=False)), (dict(n_fft=16), dict(n_fft=15)),
    (dict(n_fft=16, onesided=False), dict(onesided=False)),
    (dict(n_fft=16, onesided=False), dict()),
    (dict(n_fft=16, norm="ortho"), dict(norm="ortho")),
    (dict(n_fft=16, hop_length=4, center=False), dict(n_fft=16, hop_length=4, center=False,
                                                      window="hann")),
    (dict(n_fft=16), dict(window="zeros")),
])
def test_istft(stft_kw, istft_kw):
    istft_kw = dict(istft_kw)
    w = istft_kw.pop("window", None)
    w = {None: None, "hann": np.hanning(16).astype(np.float32),
         "zeros": np.zeros(16, np.float32)}[w]
    spec = np.array(mlx.fft.stft(mlx.array(SIG), **stft_kw))
    same(lambda m, s, w: m.fft.istft(s, window=w, **istft_kw), spec, w, atol=2e-5, rtol=1e-4)


def test_istft_batched_and_complex():
    spec = np.array(mlx.fft.stft(mlx.array(normal(2, 40)), 8, 2))
    same(lambda m, s: m.fft.istft(s, 8, 2), spec, atol=2e-5, rtol=1e-4)
    spec = np.array(mlx.fft.stft(mlx.array((SIG + 1j * SIG).astype(np.complex64)), 16))
    same(lambda m, s: m.fft.istft(s, onesided=False), spec, atol=2e-5, rtol=1e-4)


def test_stft_grad_and_vmap():
    c = normal(9, 13)
    ours = mx.grad(lambda x: mx.abs(mx.fft.stft(x, 16) * mx.array(c)).sum())(mx.array(SIG))
    theirs = mlx.grad(lambda x: mlx.abs(mlx.fft.stft(x, 16) * mlx.array(c)).sum())(
        mlx.array(SIG))
    assert_same(ours, theirs, atol=1e-4, rtol=1e-4)
    xs = normal(3, 50)
    out = mx.vmap(lambda x: mx.fft.istft(mx.fft.stft(x, 16), length=50))(mx.array(xs))
    np.testing.assert_allclose(np.array(out), xs, rtol=1e-4, atol=1e-4)


def test_hadamard_half_precision_bit_exact():
    # MLX rounds to the input type after every butterfly stage; so does mlxpy.
    x = normal(8, 32) * 3
    for dtype in ("bfloat16", "float16"):
        same(lambda m, x: m.hadamard_transform(x.astype(getattr(m, dtype))), x, atol=0, rtol=0)
