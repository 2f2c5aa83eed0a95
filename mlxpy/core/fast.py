"""`mx.fast`: the operations MLX runs as fused kernels, here composed of public ops.

Each function computes what MLX's own fallback computes, in the same precision (norms
in float32, attention's softmax in float32), so results and dtypes match MLX. Being
compositions, they differentiate, vmap and compile like any other op; `mx.compile`
fuses their elementwise parts.

>>> import mlxpy.core as mx
>>> mx.fast.rms_norm(mx.array([[3.0, 4.0]]), None, 0.0)
array([[0.848528, 1.13137]], dtype=float32)
"""
import math
import operator

from . import dtypes as _dt
from .array import array
from .linalg import _scope
from .ops._core import _fmt_shape, broadcast_shapes
from .ops import creation as _cr, elementwise as _el, reduction as _rd, shape as _sh
from .ops import indexing as _ix
from .ops.linalg_basic import matmul as _matmul

__all__ = ["layer_norm", "rms_norm", "rope", "scaled_dot_product_attention", "cross_entropy",
           "gated_delta_update"]


def _check_array(value, name, where, optional=False):
    if value is None and optional:
        return
    if not isinstance(value, array):
        kind = "an array or None" if optional else "an array"
        raise TypeError(f"[{where}] {name} must be {kind}, got {type(value).__name__}; "
                        "wrap it with mx.array(...).")


def _is_floating(dtype):
    return _dt.issubdtype(dtype, _dt.floating)


# -- normalization ---------------------------------------------------------------------------

def _check_norm_args(where, x, params):
    """Validate a norm's input and its 1-d (name, array-or-None) parameters; return the
    output dtype: x's dtype promoted with the parameters'."""
    _check_array(x, "x", where)
    for name, p in params:
        _check_array(p, name, where, optional=True)
    if x.ndim == 0:
        raise ValueError(f"[{where}] Input must have at least 1 dimension but got input with "
                         "0 dimensions.")
    for name, p in params:
        if p is None:
            continue
        if p.ndim != 1:
            raise ValueError(f"[{where}] {name} must have 1 dimension but has {p.ndim} "
                             "dimensions.")
        if p.size != x.shape[-1]:
            raise ValueError(f"[{where}] {name} must have the same size as the last dimension "
                             f"of x ({x.shape[-1]}) but has {p.size} elements.")
    present = [p for _, p in params if p is not None]
    # MLX promotes x with the bias only when a weight is given too.
    if params[0][1] is None:
        present = []
    out_type = _dt.result_type(x, *present) if present else x.dtype
    if not _is_floating(out_type):
        raise ValueError(f"[{where}] Received unsupported type {out_type.name}.")
    return out_type


def _scale_and_shift(y, out_type, weight, bias):
    """The affine step of a norm, in the output dtype (after the float32 normalization)."""
    y = y.astype(out_type)
    if weight is not None:
        y = y * weight.astype(out_type)
    if bias is not None:
        y = y + bias.astype(out_type)
    return y


def layer_norm(x, weight, bias, eps, *, stream=None):
    """Normalize `x` over its last axis to zero mean and unit variance, then scale by
    `weight` and shift by `bias` (each 1-d of the last axis' size, or None).

    The statistics are computed in float32 whatever the input dtype; the result has
    the dtype of `x` promoted with `weight` and `bias`.

    >>> import mlxpy.core as mx
    >>> mx.fast.layer_norm(mx.array([1.0, 2.0, 3.0]), None, None, 0.0)
    array([-1.22474, 0, 1.22474], dtype=float32)
    """
    out_type = _check_norm_args("layer_norm", x, [("weight", weight), ("bias", bias)])
    _, scope = _scope(stream, "layer_norm")
    with scope:
        x32 = x.astype(_dt.float32)
        centered = x32 - _rd.mean(x32, axis=-1, keepdims=True)
        variance = _rd.mean(_el.square(centered), axis=-1, keepdims=True)
        y = centered * _el.rsqrt(variance + float(eps))
        return _scale_and_shift(y, out_type, weight, bias)


def rms_norm(x, weight, eps, *, stream=None):
    """Divide `x` by the root mean square of its last axis, then scale by `weight`
    (1-d of the last axis' size, or None).

    The mean square is computed in float32 whatever the input dtype; the result has
    the dtype of `x` promoted with `weight`.

    >>> import mlxpy.core as mx
    >>> mx.fast.rms_norm(mx.array([1.0, -1.0]), mx.array([2.0, 3.0]), 0.0)
    array([2, -3], dtype=float32)
    """
    out_type = _check_norm_args("rms_norm", x, [("weight", weight)])
    _, scope = _scope(stream, "rms_norm")
    with scope:
        x32 = x.astype(_dt.float32)
        y = x32 * _el.rsqrt(_rd.mean(_el.square(x32), axis=-1, keepdims=True) + float(eps))
        return _scale_and_shift(y, out_type, weight, None)


# -- rotary positional encoding --------------------------------------------------------------

def _rope_offset(offset, x):
    """The offset as a Python int or an integer array broadcastable against the
    positions (one per batch entry, the batch being x's first axis)."""
    if offset is None:
        raise TypeError("[rope] offset must be an int or an array, got None.")
    if isinstance(offset, int) and not isinstance(offset, bool):
        return offset
    if not isinstance(offset, array):
        # Floats, bools and NumPy values go through the array constructor, as in MLX,
        # so they are judged by their dtype below.
        offset = array(offset)
    if offset.ndim > 1:
        raise ValueError(f"[rope] offset must have at most one dimension but has shape "
                         f"{_fmt_shape(offset.shape)}.")
    if offset.size != 1 and offset.size != x.shape[0]:
        raise ValueError(f"[rope] offset must be a scalar or vector with {x.shape[0]} elements "
                         f"but has shape {_fmt_shape(offset.shape)}.")
    if not _dt.issubdtype(offset.dtype, _dt.integer):
        raise ValueError(f"[rope] offset must be an integer but got type {offset.dtype.name}.")
    if offset.size == 1:
        return offset.reshape(())
    # One offset per batch entry: shape (B, 1, ..., 1) against positions of shape
    # (..., T).
    return offset.reshape((x.shape[0],) + (1,) * (x.ndim - 2))


def _rope_inverse_frequencies(half, base, freqs):
    if freqs is not None:
        return _el.reciprocal(freqs.astype(_dt.float32))
    # base ** (-i / half), written as MLX writes it so the float32 values agree.
    return _el.exp(_cr.arange(0, -half, -1, dtype=_dt.float32) * (math.log(base) / half))


def _rotate(x1, x2, cos, sin):
    return x1 * cos - x2 * sin, x1 * sin + x2 * cos


def rope(a, dims, *, traditional, base, scale, offset, freqs=None, stream=None):
    """Rotary positional encoding of `a`, shaped `(B, *, T, D)`: the first `dims`
    features of the token at position `p` rotate in pairs by angles `p * freq`.

    Positions are `(offset + t) * scale` for `t` in `range(T)`; `offset` is an int, a
    scalar integer array or one offset per batch entry. The frequencies are
    `base ** (-2i / dims)`, or `1 / freqs` when `freqs` (of size `dims // 2`) is given
    instead of `base`. `traditional` pairs consecutive features (0 with 1, ...);
    otherwise feature `i` pairs with `i + dims // 2`. Features past `dims` pass
    through unchanged.

    >>> import mlxpy.core as mx
    >>> x = mx.ones((1, 2, 2))
    >>> mx.fast.rope(x, 2, traditional=False, base=10000.0, scale=1.0, offset=0)
    array([[[1, 1],
            [-0.301169, 1.38177]]], dtype=float32)
    """
    where = "rope"
    _check_array(a, "a", where)
    _check_array(freqs, "freqs", where, optional=True)
    if freqs is not None and base is not None:
        raise ValueError("[rope] Only one of base or freqs can have a value.")
    if freqs is None and base is None:
        raise ValueError("[rope] Neither base nor freqs has a value.")
    if a.ndim < 3:
        raise ValueError(f"[rope] Input must have at least 3 dimensions but got input with "
                         f"{a.ndim} dimensions.")
    if not _is_floating(a.dtype):
        raise ValueError(f"[rope] Input must be a floating type but got {a.dtype.name}.")
    offset = _rope_offset(offset, a)
    dims = operator.index(dims)
    if dims <= 0:
        raise ValueError(f"[rope] dims must be positive but got {dims}.")
    if dims % 2:
        raise ValueError(f"[rope] dims must be even but got {dims}.")
    if dims > a.shape[-1]:
        raise ValueError(f"[rope] dims must not exceed the input's last dimension "
                         f"({a.shape[-1]}) but got {dims}.")
    half = dims // 2
    if freqs is not None and (freqs.ndim != 1 or freqs.shape[0] != half):
        raise ValueError(f"[rope] freqs must be one dimensional with size {half} but got "
                         f"shape {_fmt_shape(freqs.shape)}.")
    _, scope = _scope(stream, where)
    with scope:
        positions = (_cr.arange(a.shape[-2], dtype=_dt.float32) + offset) * float(scale)
        theta = _sh.expand_dims(positions, -1) * _rope_inverse_frequencies(half, base, freqs)
        cos = _el.cos(theta).astype(a.dtype)
        sin = _el.sin(theta).astype(a.dtype)
        if traditional:
            rotated = _rotate(a[..., 0:dims:2], a[..., 1:dims:2], cos, sin)
            pieces = [_sh.stack(rotated, axis=-1).reshape(a.shape[:-1] + (dims,))]
        else:
            pieces = list(_rotate(a[..., :half], a[..., half:dims], cos, sin))
        if dims < a.shape[-1]:
            pieces.append(a[..., dims:])
        out = _sh.concatenate(pieces, axis=-1) if len(pieces) > 1 else pieces[0]
        # Broadcasting against per-batch offsets can add leading axes to a 3-d input.
        return _sh.broadcast_to(out, a.shape) if out.shape != a.shape else out


# -- attention -------------------------------------------------------------------------------

_SDPA = "scaled_dot_product_attention"


def _check_attention_args(q, k, v, mask, sinks):
    """Validate the inputs as MLX does (and in its order); return the compute dtype."""
    for name, t in (("q", q), ("k", k), ("v", v)):
        _check_array(t, name, _SDPA)
    if isinstance(mask, str):
        if mask != "causal":
            raise ValueError(f"[{_SDPA}] invalid mask option '{mask}'. Must be 'causal', or an "
                             "array.")
    elif mask is not None and not isinstance(mask, array):
        raise TypeError(f"[{_SDPA}] mask must be None, 'causal' or an array, got "
                        f"{type(mask).__name__}.")
    _check_array(sinks, "sinks", _SDPA, optional=True)
    for t in (q, k, v):
        if t.ndim != 4:
            raise ValueError(f"[{_SDPA}] input with shape {_fmt_shape(t.shape)} expected to be "
                             "rank 4")
    if isinstance(mask, array) and mask.ndim > 4:
        raise ValueError(f"[{_SDPA}] the mask with shape {_fmt_shape(mask.shape)} expected to "
                         "have at most rank 4.")
    for t in (k, v):
        if t.shape[0] != q.shape[0]:
            raise ValueError(f"[{_SDPA}] mismatching batch dimension for input with shape "
                             f"{_fmt_shape(t.shape)}.")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"[{_SDPA}] query, keys expected to have matching last dimension; "
                         f"found query shape {_fmt_shape(q.shape)} for keys shape "
                         f"{_fmt_shape(k.shape)}.")
    if k.shape[1] != v.shape[1]:
        raise ValueError(f"[{_SDPA}] keys, values expected to have matching n_kv_heads; found "
                         f"keys with n_heads {k.shape[1]} for values with n_heads "
                         f"{v.shape[1]}.")
    if k.shape[2] != v.shape[2]:
        raise ValueError(f"[{_SDPA}] keys and values must have the same sequence length; "
                         f"found keys shape {_fmt_shape(k.shape)} and values shape "
                         f"{_fmt_shape(v.shape)}.")
    if q.shape[1] % k.shape[1]:
        raise ValueError(f"[{_SDPA}] n_heads must be a multiple of n_kv_heads, found n_heads "
                         f"{q.shape[1]} for n_kv_heads {k.shape[1]}.")
    dtype = _dt.result_type(q, k, v)
    if not _is_floating(dtype):
        raise ValueError(f"[{_SDPA}] Received unsupported type {dtype.name}.")
    if isinstance(mask, array):
        if _dt.promote_types(mask.dtype, dtype) != dtype:
            raise ValueError(f"[{_SDPA}] Mask type must promote to output type {dtype.name}.")
        broadcast_shapes(mask.shape, q.shape[:-1] + (k.shape[2],), where=_SDPA)
    if sinks is not None:
        if _dt.promote_types(sinks.dtype, dtype) != dtype:
            raise ValueError(f"[{_SDPA}] Type of sinks must promote to output type "
                             f"{dtype.name}.")
        if sinks.ndim != 1 or sinks.shape[0] != q.shape[1]:
            raise ValueError(f"[{_SDPA}] Received invalid shape for sinks "
                             f"{_fmt_shape(sinks.shape)}.")
    return dtype


def _causal_mask(q_len, kv_len):
    """True where query i may see key j; the last query aligns with the last key."""
    q_pos = _cr.arange(kv_len - q_len, kv_len)
    return _sh.expand_dims(q_pos, 1) >= _sh.expand_dims(_cr.arange(kv_len), 0)


def scaled_dot_product_attention(q, k, v, *, scale, mask=None, sinks=None, force_fused=False,
                                 stream=None):
    """`softmax(scale * q @ k.T + mask) @ v` for `q` of shape `(B, N_q, T_q, D)` and `k`,
    `v` of shapes `(B, N_kv, T_kv, D)` and `(B, N_kv, T_kv, D_v)`.

    When `N_q` is a multiple of `N_kv` each key/value head serves `N_q // N_kv` query
    heads (grouped-query attention) without being tiled. `mask` is None, `"causal"`
    (the last query aligned with the last key), a boolean array (False hides a key) or
    an additive array, broadcastable to `(B, N_q, T_q, T_kv)`. `sinks`, one logit per
    query head, joins every softmax as an extra key with no value. The softmax runs in
    float32. There is no fused kernel, so `force_fused=True` raises ValueError, as MLX
    does on its CPU backend.

    >>> import mlxpy.core as mx
    >>> q = k = v = mx.ones((1, 1, 2, 4))
    >>> mx.fast.scaled_dot_product_attention(q, k, v, scale=0.5, mask="causal").shape
    (1, 1, 2, 4)
    """
    dtype = _check_attention_args(q, k, v, mask, sinks)
    if force_fused:
        raise ValueError(f"[{_SDPA}] force_fused=True but no fused kernel is available: mlxpy "
                         "computes attention from ops.")
    _, scope = _scope(stream, _SDPA)
    with scope:
        n_kv = k.shape[1]
        groups = q.shape[1] // n_kv
        q = q.astype(dtype) * float(scale)
        k, v = k.astype(dtype), v.astype(dtype)
        if groups > 1:
            # Query heads of one group share a key/value head: (B, N_kv, groups, T, D).
            q = _sh.unflatten(q, 1, (n_kv, groups))
            k, v = _sh.expand_dims(k, 2), _sh.expand_dims(v, 2)
        scores = _matmul(q, _sh.swapaxes(k, -1, -2))
        if isinstance(mask, str):
            mask = _causal_mask(q.shape[-2], k.shape[-2])
        if mask is not None:
            if groups > 1 and mask.ndim >= 3:
                mask = (_sh.expand_dims(mask, -3) if mask.shape[-3] == 1
                        else _sh.unflatten(mask, -3, (n_kv, groups)))
            if mask.dtype == _dt.bool_:
                # The most negative finite value, not -inf: a fully masked row averages
                # the values instead of giving NaN.
                scores = _el.where(mask, scores, _dt.finfo(dtype).min)
            else:
                scores = scores + mask.astype(dtype)
        if sinks is not None:
            sink_logits = sinks.astype(dtype).reshape((1, -1, 1, 1))
            if groups > 1:
                sink_logits = _sh.unflatten(sink_logits, 1, (n_kv, groups))
            sink_logits = _sh.broadcast_to(sink_logits, scores.shape[:-1] + (1,))
            scores = _sh.concatenate([sink_logits, scores], axis=-1)
        weights = _rd.softmax(scores, axis=-1, precise=True)
        if sinks is not None:
            weights = weights[..., 1:]
        out = _matmul(weights, v)
        return _sh.flatten(out, 1, 2) if groups > 1 else out


# -- losses and recurrences ------------------------------------------------------------------

def cross_entropy(logits, targets, *, stream=None):
    """Per-example cross entropy with class indices as targets:
    `logsumexp(logits, -1) - logits[..., targets]`, in float32.

    `targets` has the shape of `logits` without its last axis. The reduction runs in the
    dtype of `logits` (as MLX's unfused version does); the result is float32.

    >>> import mlxpy.core as mx
    >>> mx.fast.cross_entropy(mx.array([[0.0, 0.0]]), mx.array([1]))
    array([0.693147], dtype=float32)
    """
    where = "cross_entropy"
    _check_array(logits, "logits", where)
    _check_array(targets, "targets", where)
    if logits.ndim == 0:
        raise ValueError(f"[{where}] logits must have at least 1 dimension but got input with "
                         "0 dimensions.")
    if targets.shape != logits.shape[:-1]:
        raise ValueError(f"[{where}] targets shape {_fmt_shape(targets.shape)} does not match "
                         f"logits shape {_fmt_shape(logits.shape)} with the last axis removed.")
    if not _is_floating(logits.dtype):
        raise ValueError(f"[{where}] Received unsupported logits type {logits.dtype.name}.")
    if not _dt.issubdtype(targets.dtype, _dt.integer):
        raise ValueError(f"[{where}] targets must be integer class indices but got "
                         f"{targets.dtype.name}.")
    _, scope = _scope(stream, where)
    with scope:
        picked = _ix.take_along_axis(logits, _sh.expand_dims(targets, -1), axis=-1)
        loss = _rd.logsumexp(logits, axis=-1) - _sh.squeeze(picked, -1)
        return loss.astype(_dt.float32)


_GDU = "gated_delta_update"


def _check_gated_delta_args(q, k, v, gamma, beta, initial_state, mask):
    for name, t in (("q", q), ("k", k), ("v", v), ("gamma", gamma), ("beta", beta)):
        _check_array(t, name, _GDU)
    _check_array(initial_state, "initial_state", _GDU, optional=True)
    _check_array(mask, "mask", _GDU, optional=True)
    for name, t in (("q", q), ("k", k), ("v", v)):
        if t.ndim != 4:
            raise ValueError(f"[{_GDU}] {name} must have shape (B, T, H, D) but has shape "
                             f"{_fmt_shape(t.shape)}.")
    if k.shape != q.shape:
        raise ValueError(f"[{_GDU}] q and k must have the same shape but have shapes "
                         f"{_fmt_shape(q.shape)} and {_fmt_shape(k.shape)}.")
    batch, steps, key_heads, key_dim = q.shape
    value_heads, value_dim = v.shape[2:]
    if v.shape[:2] != (batch, steps) or value_heads % key_heads:
        raise ValueError(f"[{_GDU}] v must have shape (B, T, Hv, Dv) with B, T those of q "
                         f"{_fmt_shape(q.shape)} and Hv a multiple of {key_heads}, but has "
                         f"shape {_fmt_shape(v.shape)}.")
    gates = (batch, steps, value_heads)
    if gamma.shape not in (gates, gates + (key_dim,)):
        raise ValueError(f"[{_GDU}] gamma must have shape {_fmt_shape(gates)} or "
                         f"{_fmt_shape(gates + (key_dim,))} but has shape "
                         f"{_fmt_shape(gamma.shape)}.")
    if beta.shape != gates:
        raise ValueError(f"[{_GDU}] beta must have shape {_fmt_shape(gates)} but has shape "
                         f"{_fmt_shape(beta.shape)}.")
    state_shape = (batch, value_heads, value_dim, key_dim)
    if initial_state is not None:
        try:
            fits = broadcast_shapes(initial_state.shape, state_shape, where=_GDU) == state_shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"[{_GDU}] initial_state must broadcast to "
                             f"{_fmt_shape(state_shape)} but has shape "
                             f"{_fmt_shape(initial_state.shape)}.")
    if mask is not None and mask.shape != (batch, steps):
        raise ValueError(f"[{_GDU}] mask must have shape {_fmt_shape((batch, steps))} but has "
                         f"shape {_fmt_shape(mask.shape)}.")
    return state_shape


def gated_delta_update(q, k, v, gamma, beta, initial_state=None, mask=None, stream=None):
    """The gated delta rule, step by step over time; returns `[outputs, final_state]`.

    Shapes: `q`, `k` `(B, T, Hk, Dk)`; `v` `(B, T, Hv, Dv)` with `Hv` a multiple of `Hk`
    (each key head serves `Hv // Hk` value heads); `gamma` (decay, in linear space)
    `(B, T, Hv)` or `(B, T, Hv, Dk)`; `beta` `(B, T, Hv)`; the state `(B, Hv, Dv, Dk)`,
    zeros unless `initial_state` is given. At each step `t`, per head:
    `S = gamma_t * S`, `S += outer(beta_t * (v_t - S @ k_t), k_t)`, `y_t = S @ q_t`.
    Where `mask` `(B, T)` is False the step is skipped: the state is kept and `y_t` is 0.

    The state is float32 (float64 for float64 inputs); the outputs take the dtype of
    `q` and `k` promoted (float32 for integers).

    >>> import mlxpy.core as mx
    >>> q = k = mx.ones((1, 2, 1, 1))
    >>> v = mx.array([1.0, 2.0]).reshape(1, 2, 1, 1)
    >>> y, state = mx.fast.gated_delta_update(q, k, v, mx.ones((1, 2, 1)), mx.ones((1, 2, 1)))
    >>> y.reshape(-1), state.reshape(-1)
    (array([1, 2], dtype=float32), array([2], dtype=float32))
    """
    state_shape = _check_gated_delta_args(q, k, v, gamma, beta, initial_state, mask)
    out_type = _dt.result_type(q, k)
    if not _is_floating(out_type):
        out_type = _dt.float32
    state_type = _dt.promote_types(out_type, _dt.float32)
    _, scope = _scope(stream, _GDU)
    with scope:
        q, k, v, gamma, beta = (t.astype(state_type) for t in (q, k, v, gamma, beta))
        share = v.shape[2] // q.shape[2]
        if share > 1:
            q = _sh.repeat(q, share, axis=2)
            k = _sh.repeat(k, share, axis=2)
        if initial_state is None:
            state = _cr.zeros(state_shape, dtype=state_type)
        else:
            state = _sh.broadcast_to(initial_state.astype(state_type), state_shape)
        # Per step: keys and queries become (B, H, 1, Dk) rows against the (Dv, Dk) state,
        # gates broadcast over Dv (and over Dk too when they are per head only).
        keys = _sh.expand_dims(k, 3)
        queries = _sh.expand_dims(q, 3)
        decays = _sh.expand_dims(gamma, (3, 4) if gamma.ndim == 3 else 3)
        rates = _sh.expand_dims(beta, 3)
        outputs = []
        for t in range(q.shape[1]):
            k_t = keys[:, t]
            decayed = state * decays[:, t]
            delta = (v[:, t] - _rd.sum(decayed * k_t, axis=-1)) * rates[:, t]
            updated = decayed + _sh.expand_dims(delta, -1) * k_t
            y_t = _rd.sum(updated * queries[:, t], axis=-1)
            if mask is None:
                state = updated
            else:
                keep = mask[:, t].reshape((-1, 1, 1, 1))
                state = _el.where(keep, updated, state)
                y_t = _el.where(keep[..., 0], y_t, 0.0)
            outputs.append(y_t)
        if outputs:
            ys = _sh.stack(outputs, axis=1)
        else:
            ys = _cr.zeros(v.shape, dtype=state_type)
        return [ys.astype(out_type), state]
