"""`mx.fft`: discrete Fourier transforms, their helpers, and the short-time transform.

Every transform crops or zero-pads its input to the requested sizes with public ops and
then builds one `FFT` node (primitives/fft.py), which carries the transform rules;
`norm` other than "backward" is a scalar multiply. As in MLX, complex transforms return
complex64, `irfft*` float32, and the input is converted first (to complex64, or to
float32 for `rfft*`, which keeps the real part of a complex input).

>>> import mlxpy.core as mx
>>> mx.fft.fft(mx.array([1.0, 0.0, 0.0, 0.0]))
array([1+0j, 1+0j, 1+0j, 1+0j], dtype=complex64)
"""
import math as _math
import operator as _operator

import mlxpy.core as mx

from . import dtypes as _dt
from .array import array as _array
from .ops._core import make, stream_of
from .primitives.fft import FFT

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
           "irfft2", "rfftn", "irfftn", "fftshift", "ifftshift", "fftfreq", "rfftfreq",
           "stft", "istft"]

_NORMS = ("backward", "ortho", "forward")


def _check_array(a, where):
    if not isinstance(a, _array):
        raise TypeError(f"[{where}] Expected an mx.array, got {type(a).__name__}.")


def _int(v, where, what):
    if isinstance(v, float) or v is None:
        raise TypeError(f"[{where}] {what} must be an integer, got {type(v).__name__}.")
    try:
        return _operator.index(v)
    except TypeError:
        raise TypeError(f"[{where}] {what} must be an integer, got {type(v).__name__}.") \
            from None


def _axes(axes, ndim, where):
    out = []
    for ax in axes:
        ax = _int(ax, where, "axis")
        if not -ndim <= ax < ndim:
            raise IndexError(f"[{where}] Invalid axis {ax} for array with {ndim} dimensions.")
        out.append(ax % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"[{where}] Duplicated axis received "
                         f"({','.join(str(a) for a in axes)}).")
    return out


def _fit(x, axis, size):
    """`x` cropped or zero-padded along `axis` to `size`."""
    have = x.shape[axis]
    if have == size:
        return x
    if have > size:
        index = [slice(None)] * x.ndim
        index[axis] = slice(0, size)
        return x[tuple(index)]
    widths = [(0, 0)] * x.ndim
    widths[axis] = (0, size - have)
    return mx.pad(x, widths)


def _transform(a, s, axes, inverse, real, norm, where, stream):
    """The n-dimensional transform every public one is (`axes` None: all, or the last
    len(s)... as MLX: `s` without `axes` is refused)."""
    _check_array(a, where)
    if norm not in _NORMS:
        raise ValueError(f"[{where}] Invalid norm. Expected one of "
                         "{'backward', 'ortho', 'forward'}.")
    st = stream_of(stream, where)
    if axes is None:
        if s is not None:
            raise ValueError(f"[{where}] `axes` should not be `None` if `s` is not `None`.")
        axes = range(a.ndim)
    axes = _axes(list(axes), a.ndim, where)
    if s is not None:
        s = [_int(v, where, "s") for v in s]
        if len(s) != len(axes):
            raise ValueError(f"[{where}] Shape and axes have different sizes.")
    if not axes:
        return a
    if s is None:
        s = [a.shape[ax] for ax in axes]
        if real and inverse:
            s[-1] = 2 * (s[-1] - 1)
    if any(v <= 0 for v in s):
        shown = ",".join(str(v) for v in s)
        raise ValueError(f"[fftn] Invalid FFT output size requested ({shown})")
    x = a.astype(_dt.float32 if real and not inverse else _dt.complex64, stream=st)
    for ax, size in zip(axes, s):
        x = _fit(x, ax, size)
    if real and inverse:
        x = _fit(x, axes[-1], s[-1] // 2 + 1)
    out = make(FFT(axes, inverse, real, s[-1] if real and inverse else None), [x._node], st)
    return _normalized(out, _math.prod(s), inverse, norm)


def _normalized(out, count, inverse, norm):
    if norm == "ortho":
        factor = _math.sqrt(count) if inverse else 1.0 / _math.sqrt(count)
    elif norm == "forward":
        factor = float(count) if inverse else 1.0 / count
    else:
        return out
    return out * factor


def _one(a, n, axis, inverse, real, norm, where, stream):
    return _transform(a, None if n is None else (n,), (axis,), inverse, real, norm, where,
                      stream)


def fft(a, n=None, axis=-1, norm="backward", stream=None):
    """One-dimensional discrete Fourier transform along `axis`, cropped or zero-padded
    to `n` points.

    >>> import mlxpy.core as mx
    >>> mx.fft.fft(mx.array([1.0, 2.0, 3.0, 4.0]))
    array([10+0j, -2+2j, -2+0j, -2-2j], dtype=complex64)
    """
    return _one(a, n, axis, False, False, norm, "fft", stream)


def ifft(a, n=None, axis=-1, norm="backward", stream=None):
    """One-dimensional inverse discrete Fourier transform along `axis`.

    >>> import mlxpy.core as mx
    >>> mx.fft.ifft(mx.array([4.0, 0.0, 0.0, 0.0]))
    array([1+0j, 1+0j, 1+0j, 1+0j], dtype=complex64)
    """
    return _one(a, n, axis, True, False, norm, "ifft", stream)


def rfft(a, n=None, axis=-1, norm="backward", stream=None):
    """The non-negative-frequency half (n // 2 + 1 bins) of a real input's transform.

    >>> import mlxpy.core as mx
    >>> mx.fft.rfft(mx.array([1.0, 2.0, 3.0, 4.0]))
    array([10+0j, -2+2j, -2+0j], dtype=complex64)
    """
    return _one(a, n, axis, False, True, norm, "rfft", stream)


def irfft(a, n=None, axis=-1, norm="backward", stream=None):
    """The real signal of `n` points (default 2 * (m - 1)) whose transform has the
    half-spectrum `a` along `axis`.

    >>> import mlxpy.core as mx
    >>> mx.fft.irfft(mx.array([10.0, -2 + 2j, -2.0]))
    array([1, 2, 3, 4], dtype=float32)
    """
    return _one(a, n, axis, True, True, norm, "irfft", stream)


def fftn(a, s=None, axes=None, norm="backward", stream=None):
    """n-dimensional discrete Fourier transform over `axes` (default: all).

    >>> import mlxpy.core as mx
    >>> mx.fft.fftn(mx.ones((2, 2)))
    array([[4+0j, 0+0j],
           [0+0j, 0+0j]], dtype=complex64)
    """
    return _transform(a, s, axes, False, False, norm, "fftn", stream)


def ifftn(a, s=None, axes=None, norm="backward", stream=None):
    """n-dimensional inverse discrete Fourier transform over `axes` (default: all).

    >>> import mlxpy.core as mx
    >>> mx.fft.ifftn(mx.array([[4.0, 0.0], [0.0, 0.0]]))
    array([[1+0j, 1+0j],
           [1+0j, 1+0j]], dtype=complex64)
    """
    return _transform(a, s, axes, True, False, norm, "ifftn", stream)


def rfftn(a, s=None, axes=None, norm="backward", stream=None):
    """n-dimensional transform of a real input, halved along the last of `axes`.

    >>> import mlxpy.core as mx
    >>> mx.fft.rfftn(mx.ones((2, 4))).shape
    (2, 3)
    """
    return _transform(a, s, axes, False, True, norm, "rfftn", stream)


def irfftn(a, s=None, axes=None, norm="backward", stream=None):
    """The inverse of `rfftn`: a real output, `s[-1]` long along the last of `axes`
    (default 2 * (m - 1)).

    >>> import mlxpy.core as mx
    >>> mx.fft.irfftn(mx.array([[8.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    array([[1, 1, 1, 1],
           [1, 1, 1, 1]], dtype=float32)
    """
    return _transform(a, s, axes, True, True, norm, "irfftn", stream)


def fft2(a, s=None, axes=(-2, -1), norm="backward", stream=None):
    """Two-dimensional discrete Fourier transform (`fftn` over the last two axes).

    >>> import mlxpy.core as mx
    >>> mx.fft.fft2(mx.ones((2, 2)))[0, 0]
    array(4+0j, dtype=complex64)
    """
    return _transform(a, s, axes, False, False, norm, "fftn", stream)


def ifft2(a, s=None, axes=(-2, -1), norm="backward", stream=None):
    """Two-dimensional inverse discrete Fourier transform.

    >>> import mlxpy.core as mx
    >>> mx.fft.ifft2(mx.ones((2, 2)))[0, 0]
    array(1+0j, dtype=complex64)
    """
    return _transform(a, s, axes, True, False, norm, "ifftn", stream)


def rfft2(a, s=None, axes=(-2, -1), norm="backward", stream=None):
    """Two-dimensional transform of a real input, halved along the last axis.

    >>> import mlxpy.core as mx
    >>> mx.fft.rfft2(mx.ones((2, 4))).shape
    (2, 3)
    """
    return _transform(a, s, axes, False, True, norm, "rfftn", stream)


def irfft2(a, s=None, axes=(-2, -1), norm="backward", stream=None):
    """The inverse of `rfft2`.

    >>> import mlxpy.core as mx
    >>> mx.fft.irfft2(mx.fft.rfft2(mx.ones((2, 4)))).shape
    (2, 4)
    """
    return _transform(a, s, axes, True, True, norm, "irfftn", stream)


# -- helpers ------------------------------------------------------------------------------

def _shift(a, axes, inverse, where, stream):
    _check_array(a, where)
    if axes is None:
        axes = range(a.ndim)
    elif not hasattr(axes, "__len__"):
        axes = (axes,)
    out = a
    for ax in axes:
        ax = _int(ax, where, "axis")
        if not -a.ndim <= ax < a.ndim:
            raise IndexError(f"[{where}] Invalid axis {ax} for array with {a.ndim} "
                             "dimensions.")
        ax %= a.ndim
        n = a.shape[ax]
        # Rotating right by k puts element n - k first.
        k = (n + 1) // 2 if inverse else n // 2
        k = (n - k) % n if n else 0
        if k:
            head = [slice(None)] * a.ndim
            tail = [slice(None)] * a.ndim
            head[ax] = slice(k, None)
            tail[ax] = slice(0, k)
            out = mx.concatenate([out[tuple(head)], out[tuple(tail)]], axis=ax, stream=stream)
    return out


def fftshift(a, axes=None, stream=None):
    """The zero-frequency bin moved to the middle of each of `axes` (default: all).

    >>> import mlxpy.core as mx
    >>> mx.fft.fftshift(mx.arange(5))
    array([3, 4, 0, 1, 2], dtype=int32)
    """
    return _shift(a, axes, False, "fftshift", stream)


def ifftshift(a, axes=None, stream=None):
    """The inverse of `fftshift`.

    >>> import mlxpy.core as mx
    >>> mx.fft.ifftshift(mx.arange(5))
    array([2, 3, 4, 0, 1], dtype=int32)
    """
    return _shift(a, axes, True, "ifftshift", stream)


def _freq_args(n, d, where):
    n = _int(n, where, "n")
    if n <= 0:
        raise ValueError(f"[{where}] `n` must be greater than 0.")
    d = float(d)
    if d == 0:
        raise ValueError(f"[{where}] `d` must be non-zero.")
    return n, d


def fftfreq(n, d=1.0, stream=None):
    """The sample frequencies of an `n`-point transform with sample spacing `d`.

    >>> import mlxpy.core as mx
    >>> mx.fft.fftfreq(4)
    array([0, 0.25, -0.5, -0.25], dtype=float32)
    """
    n, d = _freq_args(n, d, "fftfreq")
    k = mx.arange(n, dtype=mx.float32, stream=stream)
    k = mx.where(k >= (n + 1) // 2, k - n, k, stream=stream)
    return k / mx.array(d * n, dtype=mx.float32)


def rfftfreq(n, d=1.0, stream=None):
    """The non-negative sample frequencies of an `n`-point real transform.

    >>> import mlxpy.core as mx
    >>> mx.fft.rfftfreq(4)
    array([0, 0.25, 0.5], dtype=float32)
    """
    n, d = _freq_args(n, d, "rfftfreq")
    return mx.arange(n // 2 + 1, dtype=mx.float32, stream=stream) / \
        mx.array(d * n, dtype=mx.float32)


# -- short-time transforms ----------------------------------------------------------------
# Both are compositions (take, pad, multiply, the transforms above, scatter-add), so grad
# and vmap come from those ops' rules.

def _stft_window(window, win_length, n_fft, where):
    """The analysis window, centered and zero-padded to `n_fft` points."""
    if window is None:
        window = mx.ones((win_length,), dtype=mx.float32)
    else:
        _check_array(window, where)
        if window.ndim != 1:
            raise ValueError(f"[{where}] window must be a one-dimensional array.")
    size = window.shape[0]
    if size > n_fft:
        raise ValueError(f"[{where}] window length must not exceed n_fft.")
    if size < n_fft:
        left = (n_fft - size) // 2
        window = mx.pad(window, [(left, n_fft - size - left)])
    return window


def _stft_sizes(n_fft, hop_length, win_length, norm, where):
    n_fft = _int(n_fft, where, "n_fft")
    if n_fft <= 0:
        raise ValueError(f"[{where}] n_fft must be positive.")
    hop = n_fft // 4 if hop_length is None else _int(hop_length, where, "hop_length")
    if hop <= 0:
        raise ValueError(f"[{where}] hop_length must be positive.")
    win = n_fft if win_length is None else _int(win_length, where, "win_length")
    if norm not in _NORMS:
        raise ValueError(f"[{where}] Invalid norm. Expected one of "
                         "{'backward', 'ortho', 'forward'}.")
    return n_fft, hop, win


def _reflect(x, p):
    """`x` padded by `p` on both ends of the last axis, mirrored about the end samples
    (repeatedly, while `p` exceeds the length, as NumPy's "reflect" does)."""
    while p > 0:
        step = min(p, x.shape[-1] - 1)
        if step <= 0:
            return mx.pad(x, [(0, 0)] * (x.ndim - 1) + [(p, p)], mode="edge")
        left = x[..., step:0:-1]
        right = x[..., -2:-step - 2:-1]
        x = mx.concatenate([left, x, right], axis=-1)
        p -= step
    return x


def _frame_index(count, n_fft, hop):
    return mx.arange(count)[:, None] * hop + mx.arange(n_fft)[None, :]


def stft(x, n_fft=2048, hop_length=None, win_length=None, window=None, center=True,
         pad_mode="reflect", norm="backward", onesided=None, stream=None):
    """Short-time Fourier transform of the last axis: frames of `n_fft` samples every
    `hop_length` (default n_fft // 4), windowed and transformed; the result has shape
    (..., n_freq, n_frames).

    >>> import mlxpy.core as mx
    >>> mx.fft.stft(mx.ones(8), n_fft=4, hop_length=2).shape
    (3, 5)
    """
    _check_array(x, "stft")
    st = stream_of(stream, "stft")
    n_fft, hop, win = _stft_sizes(n_fft, hop_length, win_length, norm, "stft")
    if x.ndim < 1:
        raise ValueError("[stft] Input must have at least one dimension.")
    window = _stft_window(window, win, n_fft, "stft")
    complex_input = x.dtype is _dt.complex64
    if onesided is None:
        onesided = not complex_input
    if center:
        p = n_fft // 2
        if pad_mode == "reflect":
            x = _reflect(x, p)
        elif pad_mode in ("constant", "edge"):
            x = mx.pad(x, [(0, 0)] * (x.ndim - 1) + [(p, p)], mode=pad_mode)
        else:
            raise ValueError(f"Invalid padding mode ({pad_mode}) passed to pad")
    if x.shape[-1] < n_fft:
        raise ValueError("[stft] Input is too short for the given n_fft.")
    count = 1 + (x.shape[-1] - n_fft) // hop
    frames = mx.take(x, _frame_index(count, n_fft, hop), axis=-1, stream=st) * window
    if onesided:
        # As MLX: a one-sided transform of complex frames is rfft's, of the real part.
        spec = rfft(frames, axis=-1, norm=norm, stream=st)
    else:
        spec = fft(frames, axis=-1, norm=norm, stream=st)
    return mx.swapaxes(spec, -1, -2, stream=st)


def istft(stft_matrix, n_fft=None, hop_length=None, win_length=None, window=None,
          center=True, norm="backward", onesided=None, length=None, stream=None):
    """The inverse of `stft`: each frame's inverse transform, windowed, overlap-added and
    divided by the overlap-added squared window; trimmed or zero-padded to `length`.

    >>> import mlxpy.core as mx
    >>> x = mx.arange(6, dtype=mx.float32)
    >>> mx.fft.istft(mx.fft.stft(x, n_fft=4, hop_length=1), n_fft=4, hop_length=1)
    array([0, 1, 2, 3, 4, 5], dtype=float32)
    """
    _check_array(stft_matrix, "istft")
    st = stream_of(stream, "istft")
    if stft_matrix.ndim < 2:
        raise ValueError("[istft] Input must have at least two dimensions (freq, frames).")
    if onesided is None:
        onesided = True
    n_freq, count = stft_matrix.shape[-2], stft_matrix.shape[-1]
    if n_fft is None:
        n_fft = 2 * (n_freq - 1) if onesided else n_freq
    n_fft, hop, win = _stft_sizes(n_fft, hop_length, win_length, norm, "istft")
    window = _stft_window(window, win, n_fft, "istft")
    spec = mx.swapaxes(stft_matrix, -1, -2, stream=st)
    if onesided:
        frames = irfft(spec, n=n_fft, axis=-1, norm=norm, stream=st)
    else:
        frames = mx.real(ifft(spec, n=n_fft, axis=-1, norm=norm, stream=st), stream=st)
    frames = frames * window
    total = n_fft + hop * (count - 1)
    flat = mx.reshape(_frame_index(count, n_fft, hop), (-1,))
    lead = frames.shape[:-2]
    signal = mx.zeros(lead + (total,), dtype=mx.float32)
    signal = signal.at[..., flat].add(mx.reshape(frames, lead + (-1,)))
    envelope = mx.zeros((total,), dtype=mx.float32).at[flat].add(
        mx.reshape(mx.broadcast_to(window * window, (count, n_fft)), (-1,)))
    # Samples no window reaches stay zero instead of becoming 0/0.
    covered = envelope > 1e-11
    signal = mx.where(covered, signal / mx.where(covered, envelope, 1.0), 0.0)
    start = n_fft // 2 if center else 0
    if length is None:
        return signal[..., start:total - start]
    # An explicit length reads on into the padded ends before zero-padding, as MLX.
    length = _int(length, "istft", "length")
    signal = signal[..., start:start + length]
    return _fit(signal, signal.ndim - 1, length)
