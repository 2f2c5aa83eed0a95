"""Positional encodings: rotary (`RoPE`), sinusoidal, and ALiBi attention biases."""
import math

from ... import core as mx
from .base import Module

__all__ = ["RoPE", "SinusoidalPositionalEncoding", "ALiBi"]


class RoPE(Module):
    """Rotary positional encoding (RoFormer), applied with `mx.fast.rope`.

    Args:
        dims (int): how many leading features to rotate; the rest pass through.
        traditional (bool): rotate adjacent pairs ``(x0, x1), (x2, x3), ...`` instead of
            the halves ``(x_i, x_{i + dims/2})``. Default ``False``.
        base (float): base of the angular frequencies. Default ``10000``.
        scale (float): scale applied to positions. Default ``1.0``.

    Called as ``rope(x, offset=0)`` with ``x`` of shape ``(..., L, D)``; positions are
    ``offset, offset + 1, ...`` along ``L``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> rope = nn.RoPE(4)
    >>> rope
    RoPE(4, traditional=False)
    >>> rope(mx.ones((1, 3, 6))).shape
    (1, 3, 6)
    """

    def __init__(self, dims, traditional=False, base=10000, scale=1.0):
        super().__init__()
        self.dims = dims
        self.traditional = traditional
        self.base = base
        self.scale = scale

    def _extra_repr(self):
        return f"{self.dims}, traditional={self.traditional}"

    def __call__(self, x, offset=0):
        return mx.fast.rope(x, self.dims, traditional=self.traditional, base=self.base,
                            scale=self.scale, offset=offset)


class SinusoidalPositionalEncoding(Module):
    """Sinusoidal embeddings of (possibly fractional) positions.

    ``dims // 2`` frequencies are spaced geometrically from ``max_freq`` down to
    ``min_freq``; a position ``p`` embeds as ``scale * [sin(p * f); cos(p * f)]``.

    Args:
        dims (int): embedding size; positive and even.
        min_freq (float): lowest frequency. Default ``0.0001``.
        max_freq (float): highest frequency. Default ``1``.
        scale (float, optional): output scale. Default ``sqrt(2 / dims)``.
        cos_first (bool): put the cosines first. Default ``False``.
        full_turns (bool): multiply the frequencies by ``2 * pi``. Default ``False``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> pe = nn.SinusoidalPositionalEncoding(8)
    >>> pe(mx.arange(5)).shape
    (5, 8)
    """

    def __init__(self, dims, min_freq=0.0001, max_freq=1, scale=None, cos_first=False,
                 full_turns=False):
        super().__init__()
        if dims <= 0 or dims % 2 != 0:
            raise ValueError(f"[SinusoidalPositionalEncoding] dims must be positive and even "
                             f"but got {dims}.")
        half = dims // 2
        # Fraction of the way from min_freq (0) to max_freq (1), highest first; with one
        # frequency there is no range to spread, so it sits at max_freq.
        if half == 1:
            position_in_range = mx.array([1.0])
        else:
            position_in_range = 1 - mx.arange(0, half) / (half - 1)
        log_min, log_max = math.log(min_freq), math.log(max_freq)
        # The leading underscore keeps the frequencies out of the parameters.
        self._sigmas = mx.exp(position_in_range * (log_max - log_min) + log_min)
        if full_turns:
            self._sigmas = self._sigmas * (2 * math.pi)
        self.scale = scale if scale is not None else (2 / dims) ** 0.5
        self.cos_first = cos_first

    def __call__(self, x):
        angles = x[..., None] * self._sigmas
        parts = [mx.sin(angles), mx.cos(angles)]
        if self.cos_first:
            parts.reverse()
        y = mx.concatenate(parts, axis=-1)
        if self.scale != 1:
            y = y * self.scale
        return y


class ALiBi(Module):
    """Attention with Linear Biases: adds ``-slope_h * |i - j|`` to the attention scores
    of head ``h``, query ``i`` and key ``j``.

    Called as ``alibi(scores, offset=0, mask=None)`` with ``scores`` of shape
    ``(B, num_heads, L_q, L_k)``; ``mask`` (additive) is added too.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.ALiBi.create_alibi_slope(2).reshape(-1)
    array([0.0625, 0.00390625], dtype=float32)
    >>> nn.ALiBi()(mx.zeros((1, 2, 3, 3))).shape
    (1, 2, 3, 3)
    """

    @staticmethod
    def create_alibi_matrix(q_sequence_length, k_sequence_length, num_heads, offset=0,
                            dtype=mx.float32):
        """The bias of shape ``(1, num_heads, q_sequence_length - offset,
        k_sequence_length)``: queries sit at positions ``offset ..`` and keys at ``0 ..``.

        >>> import mlxpy.nn as nn
        >>> nn.ALiBi.create_alibi_matrix(2, 2, 1)
        array([[[[0, -0.00390625],
                 [-0.00390625, 0]]]], dtype=float32)
        """
        queries = mx.arange(offset, q_sequence_length)
        keys = mx.arange(0, k_sequence_length)
        distance = -mx.abs(mx.expand_dims(queries[:, None] - keys[None, :], axis=(0, 1)))
        slopes = ALiBi.create_alibi_slope(num_heads=num_heads, dtype=dtype)
        return (distance * slopes).astype(dtype)

    @staticmethod
    def create_alibi_slope(num_heads, dtype=mx.float32):
        """The per-head slopes, shape ``(num_heads, 1, 1)``.

        For ``n`` a power of two they are ``r, r**2, ..., r**n`` with ``r = 2**(-8/n)``;
        otherwise the slopes of the largest power of two below ``n``, then every other slope
        of the next power of two to make up the count.

        >>> import mlxpy.nn as nn
        >>> nn.ALiBi.create_alibi_slope(4).shape
        (4, 1, 1)
        """
        return mx.expand_dims(mx.array(_alibi_slopes(num_heads), dtype=dtype), axis=(-1, -2))

    def __call__(self, attention_scores, offset=0, mask=None):
        bias = ALiBi.create_alibi_matrix(
            q_sequence_length=attention_scores.shape[-2] + offset,
            k_sequence_length=attention_scores.shape[-1],
            num_heads=attention_scores.shape[1], offset=offset, dtype=attention_scores.dtype)
        if mask is not None:
            bias = bias + mask
        return attention_scores + bias


def _alibi_slopes(num_heads):
    """ALiBi's head slopes as Python floats (see `ALiBi.create_alibi_slope`)."""
    if math.log2(num_heads).is_integer():
        ratio = 2 ** (-(2 ** -(math.log2(num_heads) - 3)))
        return [ratio * ratio ** k for k in range(num_heads)]
    lower = 2 ** math.floor(math.log2(num_heads))
    return _alibi_slopes(lower) + _alibi_slopes(2 * lower)[0::2][:num_heads - lower]
