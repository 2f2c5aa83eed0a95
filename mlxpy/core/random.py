"""`mx.random`: key-based pseudo-random numbers, bit for bit as MLX draws them.

Keys are uint32 arrays of shape (2,). Every draw hashes counters with a key
(threefry-2x32, see `primitives/random.py`), so a key gives the same numbers every
time. Without `key=`, a draw takes the next key of the global sequence: the key in
`state[0]` is split in two, the first half becomes the new state and the second is
used. `state` is a list so that `mx.compile(f, inputs=mx.random.state,
outputs=mx.random.state)` can capture and update it.

>>> import mlxpy.core as mx
>>> mx.random.seed(0)
>>> mx.random.normal((3,))
array([1.13788, -1.22095, -0.591536], dtype=float32)
"""
import math
import operator
import time

import numpy as np

# The public namespace (complete by the time any draw runs): distributions are written
# with the same ops a user would call.
from .. import core as mx
from . import dtypes as _dt
from .array import array, wrap
from .ops._core import make, node_of, scalar_node, stream_of, broadcast_shapes
from .primitives.random import RandomBits, CovarianceRoot

__all__ = ["seed", "key", "split", "state", "bits", "uniform", "normal", "randint",
           "bernoulli", "truncated_normal", "categorical", "gumbel", "laplace",
           "multivariate_normal", "permutation"]

_UINT64_LIMIT = 2 ** 64
_UINT32_MASK = 0xFFFFFFFF
_WIDTHS = (1, 2, 4)
# Bounds MLX uses to keep samples strictly inside intervals: the largest float32
# below 1 (uniform is [low, high)), the largest below 1 in each half type, the
# largest float32 above -1 (normal's uniform draw must avoid erfinv(-1) = -inf),
# and the float32 just above 2**32 (bernoulli's scale, so p >= 1 is always true).
_BELOW_ONE = {
    _dt.float32: float(np.nextafter(np.float32(1), np.float32(0))),
    _dt.float16: float(np.float16(1) - np.float16(2.0 ** -11)),
    _dt.bfloat16: 1.0 - 2.0 ** -8,
}
_ABOVE_MINUS_ONE = float(np.nextafter(np.float32(-1), np.float32(0)))
_UINT32_MAX_F32 = float(np.float32(_UINT32_MASK))
_BERNOULLI_SCALE = float(np.nextafter(np.float32(_UINT32_MASK), np.float32(np.inf)))
_SQRT2 = math.sqrt(2.0)


def _const(value, dtype):
    """A 0-d constant of `dtype` (not weakly typed, unlike a bare Python scalar)."""
    return wrap(scalar_node(value, dtype, "random"))


def _seed_value(seed, where):
    if isinstance(seed, (int, np.integer)):
        s = int(seed)
        if 0 <= s < _UINT64_LIMIT:
            return s
    raise TypeError(f"[{where}] seed must be an integer in [0, 2**64), got {seed!r}.")


def key(seed):
    """A PRNG key (uint32, shape (2,)) from an integer seed in [0, 2**64).

    The high 32 bits of the seed go first.

    >>> import mlxpy.core as mx
    >>> mx.random.key(2**32 + 5)
    array([1, 5], dtype=uint32)
    """
    s = _seed_value(seed, "key")
    return array(np.array([s >> 32, s & _UINT32_MASK], dtype=np.uint32))


state = [key(int(time.time() * 1000))]


def seed(seed):
    """Seed the global key sequence.

    >>> import mlxpy.core as mx
    >>> mx.random.seed(3)
    >>> mx.random.state[0]
    array([0, 3], dtype=uint32)
    """
    state[0] = key(_seed_value(seed, "seed"))


def _next_key():
    # Index the split in place of MLX's split-and-reshape: the same two sub-keys.
    pair = split(state[0])
    state[0] = pair[0]
    return pair[1]


def _key_node(key, where):
    """The key's node (the next global key when `key` is None), checked."""
    if key is None:
        return _next_key()._node
    if type(key) is not array:
        raise TypeError(f"[{where}] key must be an mlxpy array, got {type(key).__name__}.")
    n = key._node
    if n.dtype is not _dt.uint32:
        raise ValueError(f"[{where}] Expected key type uint32 but received {n.dtype.name}.")
    if n.shape != (2,):
        raise ValueError(f"[{where}] Expected key shape (2,) but received {n.shape}.")
    return n


def _shape_arg(shape, where):
    """A shape argument: a sequence of integers (not a bare int, as in MLX)."""
    if isinstance(shape, (int, np.integer, str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"[{where}] shape must be a sequence of integers, got "
                        f"{type(shape).__name__}.")
    try:
        return tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"[{where}] shape must be a sequence of integers, got {shape!r}.") from None


def _check_dims(shape, where):
    for d in shape:
        if d < 0:
            raise ValueError(f"[{where}] Negative dimensions not allowed: {shape}.")


def _dtype_arg(dtype, default, where):
    if dtype is None:
        return default
    if not isinstance(dtype, _dt.Dtype):
        raise TypeError(f"[{where}] dtype must be an mlxpy Dtype, got {type(dtype).__name__}.")
    return dtype


def _scalar_or_array(x, where):
    """A `scalar | array` argument as an array (Python scalars take MLX's default types)."""
    if type(x) is array:
        return x
    if isinstance(x, (list, tuple)):
        raise ValueError(f"[{where}] Invalid type {type(x).__name__} received; expected a "
                         "scalar or an array.")
    if isinstance(x, (bool, int, float, complex, np.ndarray, np.generic)):
        return wrap(node_of(x, where))
    raise TypeError(f"[{where}] Expected a scalar or an array, got {type(x).__name__}.")


def _array_arg(x, name, where):
    if type(x) is not array:
        raise TypeError(f"[{where}] {name} must be an mlxpy array, got {type(x).__name__}.")
    return x


def _float_arg(x, name, where):
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return float(x)
    if type(x) is array and x.size == 1 and x.dtype.kind in "biuf":
        return float(x.item())
    raise TypeError(f"[{where}] {name} must be a float, got {type(x).__name__}.")


def _bits(shape, width, key_node, stream):
    return make(RandomBits(shape, width), [key_node], stream)


def bits(shape=[], width=4, key=None, stream=None):
    """Raw random bits: unsigned integers of `width` bytes (1, 2 or 4).

    >>> import mlxpy.core as mx
    >>> mx.random.bits((2,), key=mx.random.key(0))
    array([928981903, 3453687069], dtype=uint32)
    """
    shape = _shape_arg(shape, "bits")
    s = stream_of(stream, "bits")
    k = _key_node(key, "bits")
    _check_dims(shape, "bits")
    if width not in _WIDTHS or isinstance(width, bool):
        raise ValueError(f"[bits] Bit width must be in {{1, 2, 4}} but got {width}.")
    return _bits(shape, width, k, s)


def split(key, num=2, stream=None):
    """`num` new keys from `key`, as an array of shape (num, 2).

    >>> import mlxpy.core as mx
    >>> mx.random.split(mx.random.key(0))
    array([[4146024105, 967050713],
           [2718843009, 1272950319]], dtype=uint32)
    """
    if isinstance(num, bool):
        num = int(num)
    if not isinstance(num, (int, np.integer)):
        raise TypeError(f"[split] num must be an integer, got {type(num).__name__}.")
    s = stream_of(stream, "split")
    k = _key_node(_array_arg(key, "key", "split"), "split")
    num = int(num)
    _check_dims((num,), "split")
    return _bits((num, 2), 4, k, s)


def _uniform(lo, hi, shape, dtype, key_node, s, where):
    """Samples in [lo, hi) of `dtype` from bits: MLX's uniform after argument parsing."""
    lo = mx.astype(lo, dtype, stream=s)
    hi = mx.astype(hi, dtype, stream=s)
    span = mx.subtract(hi, lo, stream=s)
    out_shape = broadcast_shapes(shape, span.shape, where=where)
    if out_shape != shape:
        raise ValueError(f"[{where}] Cannot generate random values of shape {shape} from "
                         f"broadcasted shape {out_shape}.")
    upper = _BELOW_ONE.get(dtype)
    if upper is None:
        raise RuntimeError(f"[{where}] Unsupported type {dtype.name}.")
    _check_dims(shape, where)
    u = mx.divide(_bits(shape, 4, key_node, s), _const(_UINT32_MAX_F32, _dt.float32), stream=s)
    u = mx.astype(mx.minimum(u, _const(upper, _dt.float32), stream=s), dtype, stream=s)
    return mx.add(mx.multiply(span, u, stream=s), lo, stream=s)


def _check_float_dtype(dtype, where, message):
    if dtype.kind != "f":
        raise ValueError(f"[{where}] {message}")


def uniform(low=0, high=1, shape=[], dtype=_dt.float32, key=None, stream=None):
    """Uniform samples in the half-open interval [low, high).

    `low` and `high` (scalars or arrays) must broadcast to `shape`.

    >>> import mlxpy.core as mx
    >>> mx.random.uniform(shape=(3,), key=mx.random.key(0))
    array([0.965321, 0.314682, 0.63303], dtype=float32)
    """
    shape = _shape_arg(shape, "uniform")
    dtype = _dtype_arg(dtype, _dt.float32, "uniform")
    lo = _scalar_or_array(low, "uniform")
    hi = _scalar_or_array(high, "uniform")
    s = stream_of(stream, "uniform")
    k = _key_node(key, "uniform")
    _check_float_dtype(dtype, "uniform",
                       "Can only generate uniform numbers with real floating point type.")
    return _uniform(lo, hi, shape, dtype, k, s, "uniform")


def _unit_uniform(shape, key_node, s, where):
    """Float32 samples in (-1, 1): the draw behind normal and laplace."""
    return _uniform(_const(_ABOVE_MINUS_ONE, _dt.float32), _const(1.0, _dt.float32), shape,
                    _dt.float32, key_node, s, where)


def normal(shape=[], dtype=_dt.float32, loc=None, scale=None, key=None, stream=None):
    """Normal samples with mean `loc` (default 0) and standard deviation `scale` (default 1).

    Made as sqrt(2) * erfinv(u) for u uniform in (-1, 1). For complex64 each of the
    real and imaginary parts has variance 1/2.

    >>> import mlxpy.core as mx
    >>> mx.random.normal((2,), key=mx.random.key(1))
    array([-0.11617, 2.21251], dtype=float32)
    """
    shape = _shape_arg(shape, "normal")
    dtype = _dtype_arg(dtype, _dt.float32, "normal")
    loc = None if loc is None else _scalar_or_array(loc, "normal")
    scale = None if scale is None else _scalar_or_array(scale, "normal")
    s = stream_of(stream, "normal")
    k = _key_node(key, "normal")
    if dtype is _dt.complex64:
        parts = mx.erfinv(_unit_uniform(shape + (2,), k, s, "normal"), stream=s)
        samples = mx.add(parts[..., 0], mx.multiply(parts[..., 1], 1j, stream=s), stream=s)
        if scale is not None:
            samples = mx.multiply(scale, samples, stream=s)
        if loc is not None:
            samples = mx.add(loc, samples, stream=s)
        return samples
    _check_float_dtype(dtype, "normal", "Only floating point and complex64 types are supported.")
    samples = _unit_uniform(shape, k, s, "normal")
    factor = _const(_SQRT2, dtype)
    if scale is not None:
        factor = mx.multiply(factor, mx.astype(scale, dtype, stream=s), stream=s)
    samples = mx.astype(mx.erfinv(samples, stream=s), dtype, stream=s)
    samples = mx.multiply(factor, samples, stream=s)
    if loc is not None:
        samples = mx.add(mx.astype(loc, dtype, stream=s), samples, stream=s)
    return samples


def randint(low, high, shape=[], dtype=_dt.int32, key=None, stream=None):
    """Random integers in the half-open interval [low, high).

    A float32 uniform sample in [low, high) is floored, cast to `dtype` and clipped to
    [low, high - 1] (bounds cast to `dtype`), as MLX does.

    >>> import mlxpy.core as mx
    >>> mx.random.randint(0, 10, (5,), key=mx.random.key(0))
    array([5, 0, 3, 8, 5], dtype=int32)
    """
    shape = _shape_arg(shape, "randint")
    dtype = _dtype_arg(dtype, _dt.int32, "randint")
    lo = _scalar_or_array(low, "randint")
    hi = _scalar_or_array(high, "randint")
    s = stream_of(stream, "randint")
    k = _key_node(key, "randint")
    if dtype.kind in "fc":
        raise ValueError("[randint] randint only accepts integer dtypes and bool.")
    u = _uniform(lo, hi, shape, _dt.float32, k, s, "randint")
    out = mx.astype(mx.floor(u, stream=s), dtype, stream=s)
    top = mx.astype(mx.subtract(hi, 1, stream=s), dtype, stream=s)
    out = mx.minimum(out, top, stream=s)
    return mx.maximum(out, mx.astype(lo, dtype, stream=s), stream=s)


def bernoulli(p=0.5, shape=None, key=None, stream=None):
    """Booleans that are True with probability `p` (a float or float array).

    >>> import mlxpy.core as mx
    >>> mx.random.bernoulli(0.5, (4,), key=mx.random.key(0))
    array([False, True, False, True], dtype=bool)
    """
    if shape is not None:
        shape = _shape_arg(shape, "bernoulli")
    p = _scalar_or_array(p, "bernoulli")
    s = stream_of(stream, "bernoulli")
    k = _key_node(key, "bernoulli")
    if p.dtype.kind != "f":
        raise ValueError("[bernoulli] bernoulli probability `p` must be a float type.")
    if shape is None:
        shape = p.shape
    _check_dims(shape, "bernoulli")
    threshold = mx.multiply(p, _const(_BERNOULLI_SCALE, _dt.float32), stream=s)
    out = mx.less(_bits(shape, 4, k, s), threshold, stream=s)
    if out.shape != shape:
        raise ValueError("[bernoulli] shape of `p` is incompatible with argument `shape`.")
    return out


def truncated_normal(lower, upper, shape=None, dtype=_dt.float32, key=None, stream=None):
    """Normal samples conditioned on lying in (lower, upper).

    By inverse transform: a uniform draw between erf(lower / sqrt 2) and
    erf(upper / sqrt 2) mapped back through sqrt(2) * erfinv, then clipped.

    >>> import mlxpy.core as mx
    >>> mx.random.truncated_normal(-1, 1, (3,), key=mx.random.key(0))
    array([0.906522, -0.322637, 0.22965], dtype=float32)
    """
    if shape is not None:
        shape = _shape_arg(shape, "truncated_normal")
    dtype = _dtype_arg(dtype, _dt.float32, "truncated_normal")
    lower = _scalar_or_array(lower, "truncated_normal")
    upper = _scalar_or_array(upper, "truncated_normal")
    s = stream_of(stream, "truncated_normal")
    k = _key_node(key, "truncated_normal")
    _check_float_dtype(dtype, "truncated_normal",
                       "truncated_normal only accepts floating point dtypes.")
    if shape is None:
        shape = broadcast_shapes(lower.shape, upper.shape, where="truncated_normal")
    sqrt2 = _const(_SQRT2, dtype)
    lower = mx.astype(lower, dtype, stream=s)
    upper = mx.astype(upper, dtype, stream=s)
    a = mx.erf(mx.divide(lower, sqrt2, stream=s), stream=s)
    b = mx.erf(mx.divide(upper, sqrt2, stream=s), stream=s)
    u = _uniform(a, b, shape, dtype, k, s, "truncated_normal")
    out = mx.multiply(sqrt2, mx.erfinv(u, stream=s), stream=s)
    return mx.maximum(mx.minimum(upper, out, stream=s), lower, stream=s)


def _gumbel(shape, dtype, key_node, s):
    u = _uniform(_const(0.0, dtype), _const(1.0, dtype), shape, dtype, key_node, s, "gumbel")
    return mx.negative(mx.log(mx.negative(mx.log(u, stream=s), stream=s), stream=s), stream=s)


def gumbel(shape=[], dtype=_dt.float32, key=None, stream=None):
    """Samples of the standard Gumbel distribution (CDF exp(-exp(-x))): -log(-log(u)).

    >>> import mlxpy.core as mx
    >>> mx.random.gumbel((3,), key=mx.random.key(0))
    array([3.34404, -0.145133, 0.782552], dtype=float32)
    """
    shape = _shape_arg(shape, "gumbel")
    dtype = _dtype_arg(dtype, _dt.float32, "gumbel")
    s = stream_of(stream, "gumbel")
    k = _key_node(key, "gumbel")
    _check_float_dtype(dtype, "gumbel",
                       "Can only generate uniform numbers with real floating point type.")
    return _gumbel(shape, dtype, k, s)


def laplace(shape=[], dtype=_dt.float32, loc=0.0, scale=1.0, key=None, stream=None):
    """Laplace samples with location `loc` and scale `scale`, by the inverse CDF.

    >>> import mlxpy.core as mx
    >>> mx.random.laplace((3,), key=mx.random.key(0))
    array([-2.66849, 0.463046, -0.309328], dtype=float32)
    """
    shape = _shape_arg(shape, "laplace")
    dtype = _dtype_arg(dtype, _dt.float32, "laplace")
    loc = _float_arg(loc, "loc", "laplace")
    scale = _float_arg(scale, "scale", "laplace")
    s = stream_of(stream, "laplace")
    k = _key_node(key, "laplace")
    _check_float_dtype(dtype, "laplace", "Only real floating point types are supported.")
    u = _unit_uniform(shape, k, s, "laplace")
    magnitude = mx.log1p(mx.multiply(_const(-1.0, dtype), mx.abs(u, stream=s), stream=s),
                         stream=s)
    samples = mx.astype(mx.multiply(mx.sign(u, stream=s), magnitude, stream=s), dtype, stream=s)
    # Single precision, as MLX takes loc and scale.
    scale = float(np.float32(scale))
    loc = float(np.float32(loc))
    if scale != 1.0:
        samples = mx.multiply(_const(scale, dtype), samples, stream=s)
    if loc != 0.0:
        samples = mx.add(_const(loc, dtype), samples, stream=s)
    return samples


def categorical(logits, axis=-1, shape=None, num_samples=None, key=None, stream=None):
    """Indices sampled from the categorical distributions given by unnormalized `logits`.

    Gumbel-max: the argmax along `axis` of logits plus Gumbel noise; but, as in MLX,
    several samples from a single distribution invert its CDF with one uniform draw
    each. At most one of `shape` (which must broadcast with logits' shape without
    `axis`) and `num_samples` (samples per distribution, as a new last axis) may be given.

    >>> import mlxpy.core as mx
    >>> mx.random.categorical(mx.array([[0.0, 5.0], [5.0, 0.0]]), key=mx.random.key(0))
    array([1, 0], dtype=uint32)
    """
    logits = _array_arg(logits, "logits", "categorical")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"[categorical] axis must be an integer, got {type(axis).__name__}.")
    if shape is not None:
        shape = _shape_arg(shape, "categorical")
    if num_samples is not None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
            raise TypeError("[categorical] num_samples must be an integer.")
        num_samples = int(num_samples)
    s = stream_of(stream, "categorical")
    k = _key_node(key, "categorical")
    if shape is not None and num_samples is not None:
        raise ValueError("[categorical] At most one of shape or num_samples can be specified.")
    ndim = logits.ndim
    ax = int(axis) + ndim if axis < 0 else int(axis)
    if not 0 <= ax < ndim:
        raise IndexError(f"[categorical] Invalid axis {axis} for logits with {ndim} dimensions.")
    reduced = logits.shape[:ax] + logits.shape[ax + 1:]
    if num_samples is not None:
        logits = mx.expand_dims(logits, -1, stream=s)
        shape = reduced + (num_samples,)
    elif shape is None:
        shape = reduced
    elif broadcast_shapes(shape, reduced, where="categorical") != shape:
        raise ValueError(f"[categorical] Requested shape {shape} is not broadcast compatible "
                         f"with reduced logits shape {reduced}.")
    if shape and math.prod(reduced) == 1:
        return _categorical_one(logits, ax, shape, k, s)
    # The category axis sits where `axis` falls once logits broadcast against `shape`.
    offset = ax + len(shape) - logits.ndim + 1
    noise_shape = shape[:offset] + (logits.shape[ax],) + shape[offset:]
    noise = _gumbel(noise_shape, _dt.float32, k, s)
    return mx.argmax(mx.add(noise, logits, stream=s), offset, stream=s)


def _categorical_one(logits, ax, shape, key_node, s):
    """Samples of `shape` from one distribution, by inverting its CDF (as MLX does for a
    single distribution): index = how many partial sums of the weights lie at or below
    u * total. Logits equal to the maximum weigh 1, so all -inf (or several +inf) logits
    give a uniform choice among them; a nan makes every sample the last index."""
    n = logits.shape[ax]
    logits = mx.reshape(logits, (n,), stream=s)
    logits = mx.astype(logits, _dt.promote_types(logits.dtype, _dt.float32), stream=s)
    top = mx.max(logits, stream=s)
    shifted = mx.where(mx.equal(logits, top, stream=s), 0.0,
                       mx.subtract(logits, top, stream=s), stream=s)
    cdf = mx.cumsum(mx.exp(shifted, stream=s), stream=s)
    u = _uniform(_const(0.0, _dt.float32), _const(1.0, _dt.float32), shape, _dt.float32,
                 key_node, s, "categorical")
    target = mx.expand_dims(mx.multiply(u, cdf[-1], stream=s), -1, stream=s)
    # Counted as "not below" rather than "at or above" so that nan lands on the last index.
    passed = mx.logical_not(mx.less(target, cdf[:-1], stream=s), stream=s)
    return mx.astype(mx.sum(passed, -1, stream=s), _dt.uint32, stream=s)


def permutation(x, axis=0, key=None, stream=None):
    """A random permutation of `range(x)` (uint32), or of an array's slices along `axis`.

    The order is that of sorting one random uint32 per position.

    >>> import mlxpy.core as mx
    >>> mx.random.permutation(5, key=mx.random.key(0))
    array([1, 2, 0, 4, 3], dtype=uint32)
    """
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"[permutation] axis must be an integer, got {type(axis).__name__}.")
    if type(x) is not array and not isinstance(x, (int, np.integer)):
        raise TypeError("[permutation] x must be an integer or an mlxpy array, got "
                        f"{type(x).__name__}.")
    s = stream_of(stream, "permutation")
    k = _key_node(key, "permutation")
    if type(x) is not array:
        n = int(x)
        _check_dims((n,), "permutation")
        return mx.argsort(_bits((n,), 4, k, s), stream=s)
    ndim = x.ndim
    ax = int(axis) + ndim if axis < 0 else int(axis)
    if not 0 <= ax < ndim:
        raise IndexError(f"[permutation] Invalid axis {axis} for array with {ndim} dimensions.")
    order = mx.argsort(_bits((x.shape[ax],), 4, k, s), stream=s)
    return mx.take(x, order, ax, stream=s)


def multivariate_normal(mean, cov, shape=[], dtype=_dt.float32, key=None, stream=None):
    """Jointly normal samples with mean `mean` (..., n) and covariance `cov` (..., n, n).

    Standard normal samples are multiplied by the square root of `cov` taken through
    the SVD (U sqrt(S) V^T); `cov` should be positive semi-definite. The batch shapes
    of `mean`, `cov` and `shape` broadcast together. Only float32 is supported.

    >>> import mlxpy.core as mx
    >>> mx.random.multivariate_normal(mx.zeros((2,)), mx.eye(2), key=mx.random.key(0))
    array([-0.784766, 0.856445], dtype=float32)
    """
    mean = _array_arg(mean, "mean", "multivariate_normal")
    cov = _array_arg(cov, "cov", "multivariate_normal")
    shape = _shape_arg(shape, "multivariate_normal")
    dtype = _dtype_arg(dtype, _dt.float32, "multivariate_normal")
    s = stream_of(stream, "multivariate_normal")
    k = _key_node(key, "multivariate_normal")
    if dtype is not _dt.float32:
        raise ValueError("[multivariate_normal] dtype must be float32.")
    if mean.ndim < 1:
        raise ValueError("[multivariate_normal] mean must have at least one dimension.")
    if cov.ndim < 2:
        raise ValueError("[multivariate_normal] cov must have at least two dimensions.")
    n = mean.shape[-1]
    if cov.shape[-1] != cov.shape[-2]:
        raise ValueError("[multivariate_normal] last two dimensions of cov must be equal.")
    if cov.shape[-1] != n:
        raise ValueError("[multivariate_normal] mean and cov must have compatible shapes.")
    where = "multivariate_normal"
    batch = broadcast_shapes(cov.shape[:-2], mean.shape[:-1], where=where)
    out_shape = broadcast_shapes(batch, shape, where=where) + (n,)
    root = make(CovarianceRoot(), [mx.astype(cov, _dt.float32, stream=s)._node], s)
    z = normal(out_shape, dtype, 0.0, 1.0, key=wrap(k), stream=s)
    scaled = mx.squeeze(mx.matmul(mx.expand_dims(z, -2, stream=s), root, stream=s), -2,
                        stream=s)
    return mx.add(mean, scaled, stream=s)
