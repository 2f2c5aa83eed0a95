"""mx.fft against real MLX: values, dtypes, shapes, errors, and grad/vmap."""
import numpy as np
import pytest

import mlxpy.core as mx
from oracle import assert_same, mlx, needs_mlx, raises_like, to_mlx

pytestmark = needs_mlx
RNG = np.random.default_rng(0)


def _pair(shape, dtype="float32"):
    h = RNG.normal(size=shape)
    if dtype == "complex64":
        h = h + 1j * RNG.normal(size=shape)
    x = mx.array(h).astype(getattr(mx, dtype))
    return x, to_mlx(x)


def _close(ours, theirs, scale=1.0):
    # Transforms sum many float32 terms: compare relative to the inputs' magnitude.
    assert_same(ours, theirs, rtol=1e-4, atol=1e-4 * scale)


ONE_D = ["fft", "ifft", "rfft", "irfft"]


@pytest.mark.parametrize("name", ONE_D)
@pytest.mark.parametrize("shape,n,axis", [((8,), None, -1), ((7,), None, 0), ((3, 6), 4, -1),
                                          ((3, 6), 9, 0), ((2, 3, 5), None, 1),
                                          ((4, 1), 3, 1), ((5,), 1, -1)])
@pytest.mark.parametrize("dtype", ["float32", "complex64", "int32", "float16"])
def test_one_dimensional(name, shape, n, axis, dtype):
    if name == "irfft" and n is None and shape[axis] == 1:
        return
    x, xm = _pair(shape, "float32" if dtype == "int32" else dtype)
    if dtype == "int32":
        x, xm = x.astype(mx.int32), xm.astype(mlx.int32)
    ours = getattr(mx.fft, name)(x, n=n, axis=axis)
    theirs = getattr(mlx.fft, name)(xm, n=n, axis=axis)
    _close(ours, theirs, 10)


@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2",
                                  "irfft2", "fftn", "ifftn", "rfftn", "irfftn"])
def test_norms(name, norm):
    x, xm = _pair((4, 6), "complex64" if name.startswith(("i", "f")) else "float32")
    _close(getattr(mx.fft, name)(x, norm=norm), getattr(mlx.fft, name)(xm, norm=norm), 10)


@pytest.mark.parametrize("name", ["fftn", "ifftn", "rfftn", "irfftn", "fft2", "ifft2",
                                  "rfft2", "irfft2"])
@pytest.mark.parametrize("s,axes", [(None, None), ((3, 5), (0, 2)), ((4,), (1,)),
                                    (None, (2, 0)), ((6, 2, 3), (1, 2, 0)), (None, (-1, -3))])
def test_n_dimensional(name, s, axes):
    x, xm = _pair((3, 4, 5), "complex64")
    if name.endswith("2") and axes is None:
        ours = getattr(mx.fft, name)(x)
        theirs = getattr(mlx.fft, name)(xm)
    else:
        if name.endswith("2") and axes is not None and len(axes) != 2:
            return
        ours = getattr(mx.fft, name)(x, s=s, axes=axes)
        theirs = getattr(mlx.fft, name)(xm, s=s, axes=axes)
    _close(ours, theirs, 30)


def test_roundtrips_and_dtypes():
    x, _ = _pair((4, 8))
    assert mx.fft.fft(x).dtype is mx.complex64
    assert mx.fft.irfft(mx.fft.rfft(x)).dtype is mx.float32
    np.testing.assert_allclose(np.array(mx.fft.irfft(mx.fft.rfft(x))), np.array(x), atol=1e-5)
    np.testing.assert_allclose(np.array(mx.fft.ifftn(mx.fft.fftn(x))), np.array(x), atol=1e-5)
    assert mx.fft.fft(x.astype(mx.float64)).dtype is mx.complex64
    assert mx.fft.fftn(x, axes=[]) is x  # MLX returns the input unchanged


def test_empty_non_transformed_axis():
    x = mx.zeros((0, 4))
    assert mx.fft.fft(x).shape == (0, 4)
    assert mx.fft.rfft(x).shape == (0, 3)
    assert mx.fft.irfft(x).shape == (0, 6)


@pytest.mark.parametrize("call", [
    lambda f, x: f.fft(x, n=0), lambda f, x: f.fft(x, n=-2), lambda f, x: f.fft(x, axis=2),
    lambda f, x: f.fft(x, axis=-3), lambda f, x: f.fft(x, norm="bad"),
    lambda f, x: f.fftn(x, s=(2, 3)), lambda f, x: f.fftn(x, s=(2, 3), axes=(0,)),
    lambda f, x: f.fftn(x, axes=(0, 0)), lambda f, x: f.irfft(x[:, :1]),
    lambda f, x: f.rfftn(x, s=(0, 2), axes=(0, 1)), lambda f, x: f.fft([1.0, 2.0]),
    lambda f, x: f.fft(x, n=2.0), lambda f, x: f.fftshift(x, axes=5),
    lambda f, x: f.fftfreq(0), lambda f, x: f.fftfreq(3, 0.0), lambda f, x: f.rfftfreq(-1),
    lambda f, x: f.fftfreq(4.0), lambda f, x: f.fft2(x[0]),
])
def test_errors(call):
    x, xm = _pair((3, 4))
    raises_like(lambda: call(mx.fft, x), lambda: call(mlx.fft, xm))


@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("shape,axes", [((5,), None), ((4, 7), None), ((4, 7), 1),
                                        ((3, 4, 5), (0, 2)), ((3, 4, 5), [-1]), ((1,), None)])
def test_shifts(name, shape, axes):
    h = np.arange(int(np.prod(shape))).reshape(shape).astype(np.int32)
    assert_same(getattr(mx.fft, name)(mx.array(h), axes=axes),
                getattr(mlx.fft, name)(mlx.array(h), axes=axes))


@pytest.mark.parametrize("n,d", [(1, 1.0), (4, 1.0), (5, 0.5), (8, -2.0), (11, 3)])
def test_frequencies(n, d):
    assert_same(mx.fft.fftfreq(n, d), mlx.fft.fftfreq(n, d))
    assert_same(mx.fft.rfftfreq(n, d), mlx.fft.rfftfreq(n, d))


@pytest.mark.parametrize("name,kw", [("fft", {}), ("ifft", {"n": 6}), ("rfft", {}),
                                     ("rfft", {"n": 5}), ("irfft", {}), ("irfft", {"n": 7}),
                                     ("fft2", {"norm": "ortho"}), ("rfftn", {}),
                                     ("irfftn", {"norm": "forward"}), ("irfft2", {})])
def test_grad_against_mlx(name, kw):
    x, xm = _pair((4, 6))
    w, wm = _pair((4, 6) if name not in ("rfft", "rfftn") and "n" not in kw else (4, 7))

    def loss(lib, f, weights):
        def g(a):
            y = f(a, **kw)
            y = y if y.dtype == lib.float32 else lib.real(y) + 0.5 * lib.imag(y)
            n = min(y.shape[-1], weights.shape[-1])
            return (y[..., :n] * weights[..., :n]).sum()
        return g

    ours = mx.grad(loss(mx, getattr(mx.fft, name), w))(x)
    theirs = mlx.grad(loss(mlx, getattr(mlx.fft, name), wm))(xm)
    _close(ours, theirs, 10)


def test_grad_of_complex_input_matches_mlx():
    z, zm = _pair((5,), "complex64")
    ours = mx.grad(lambda a: mx.abs(mx.fft.fft(a)).sum())(z)
    theirs = mlx.grad(lambda a: mlx.abs(mlx.fft.fft(a)).sum())(zm)
    _close(ours, theirs, 10)


@pytest.mark.parametrize("name", ["fft", "rfft", "irfft", "fftn", "fftshift"])
def test_vmap_against_mlx(name):
    x, xm = _pair((3, 4, 6))
    f = getattr(mx.fft, name)
    g = getattr(mlx.fft, name)
    _close(mx.vmap(f, in_axes=1)(x), mlx.vmap(g, in_axes=1)(xm), 10)
