"""Array construction: zeros, ones, full, arange, linspace, eye, tri and friends."""
import math
import operator

from .. import dtypes as _dt
from ..array import array as _array, wrap
from ..primitives import creation as P
from ._core import cast_node, check_dtype, make, scalar_node, stream_of, to_node

__all__ = [
    "full", "zeros", "ones", "empty", "zeros_like", "ones_like", "empty_like", "full_like",
    "arange", "linspace", "eye", "identity", "tri", "tril", "triu",
]

_index = operator.index
_MAX_DIM = 2 ** 31 - 1


def _shape(shape, where):
    """A shape argument (an int or a sequence of ints) as a tuple, checked as MLX does."""
    try:
        if hasattr(shape, "__index__") and not hasattr(shape, "__len__"):
            out = (_index(shape),)
        else:
            out = tuple(_index(d) for d in shape)
    except TypeError:
        raise TypeError(f"[{where}] shape must be an int or a sequence of ints.") from None
    for d in out:
        if d < 0:
            raise ValueError(f"[{where}] Negative dimensions not allowed.")
        if d > _MAX_DIM:
            raise OverflowError(f"[{where}] Shape dimension {d} is outside the supported "
                                "range; shapes use 32-bit integers.")
    return out


def fill_node(vals, dtype, where):
    """The node for a fill value as MLX reads one next to a requested `dtype`.

    Python scalars are weakly typed: a bool takes `dtype`; an int takes it unless it is
    bool (then int32, or int64 when out of int32 range); a float takes it only when
    it is a floating dtype (else float32); a complex is complex64. NumPy values are
    converted to `dtype`; an `mx.array` keeps its own dtype.
    """
    t = type(vals)
    if t is _array:
        return vals._node
    if t is bool:
        return scalar_node(vals, dtype or _dt.bool_, where)
    if isinstance(vals, int) and t is not bool:
        if dtype is _dt.bool_:
            # MLX reads an int next to bool as int32 and wraps it without a check.
            return scalar_node((vals + 2 ** 31) % 2 ** 32 - 2 ** 31, _dt.int32, where)
        if dtype is None:
            dtype = _dt.int32 if -2 ** 31 <= vals < 2 ** 31 else _dt.int64
        return scalar_node(vals, dtype, where)
    if isinstance(vals, float):
        d = dtype if dtype is not None and dtype.kind == "f" else _dt.float32
        return scalar_node(float(vals), d, where)
    if isinstance(vals, complex):
        return scalar_node(complex(vals), _dt.complex64, where)
    if isinstance(vals, _array):
        return vals._node
    if vals is None:
        raise TypeError(f"[{where}] vals must be a scalar or an array, got None.")
    if t is list or t is tuple:
        raise ValueError(f"[{where}] Invalid type {t.__name__} received in array "
                         "initialization; pass an mx.array.")
    return to_node(vals, dtype, where)


def full(shape, vals, dtype=None, *, stream=None):
    """An array of `shape` filled with `vals` (a scalar or an array broadcastable to it).

    `dtype` types a scalar `vals` (see MLX's weak typing); an array `vals` keeps its own
    dtype, as in MLX.

    >>> import mlxpy.core as mx
    >>> mx.full((2,), 7)
    array([7, 7], dtype=int32)
    >>> mx.full((2, 2), mx.array([1.5, 2.5]))
    array([[1.5, 2.5],
           [1.5, 2.5]], dtype=float32)
    """
    s = stream_of(stream, "full")
    shape = _shape(shape, "full")
    dtype = check_dtype(dtype, "full")
    v = fill_node(vals, dtype, "full")
    _check_fits(v.shape, shape, "full")
    return make(P.Full(shape), [v], s)


def _check_fits(vshape, shape, where):
    if vshape == shape or not vshape:
        return
    ok = len(vshape) <= len(shape)
    if ok:
        for dv, d in zip(reversed(vshape), reversed(shape)):
            if dv != d and dv != 1:
                ok = False
                break
    if not ok:
        raise ValueError(f"[{where}] Cannot broadcast a value of shape {vshape} to the "
                         f"shape {shape}.")


def zeros(shape, dtype=_dt.float32, *, stream=None):
    """An array of zeros.

    >>> import mlxpy.core as mx
    >>> mx.zeros((2, 2), dtype=mx.int32)
    array([[0, 0],
           [0, 0]], dtype=int32)
    """
    dtype = check_dtype(dtype, "zeros", _dt.float32) or _dt.float32
    s = stream_of(stream, "zeros")
    return make(P.Full(_shape(shape, "zeros")), [scalar_node(0, dtype, "zeros")], s)


def ones(shape, dtype=_dt.float32, *, stream=None):
    """An array of ones.

    >>> import mlxpy.core as mx
    >>> mx.ones(3)
    array([1, 1, 1], dtype=float32)
    """
    dtype = check_dtype(dtype, "ones", _dt.float32) or _dt.float32
    s = stream_of(stream, "ones")
    return make(P.Full(_shape(shape, "ones")), [scalar_node(1, dtype, "ones")], s)


def _like(a, where):
    if not isinstance(a, _array):
        raise TypeError(f"[{where}] Expected an mx.array, got {type(a).__name__}.")
    return a._node


def zeros_like(a, /, dtype=None, *, stream=None):
    """Zeros with the shape of `a`, and its dtype unless `dtype` is given.

    >>> import mlxpy.core as mx
    >>> mx.zeros_like(mx.array([1, 2]))
    array([0, 0], dtype=int32)
    """
    n = _like(a, "zeros_like")
    return zeros(n.shape, check_dtype(dtype, "zeros_like") or n.dtype, stream=stream)


def ones_like(a, /, dtype=None, *, stream=None):
    """Ones with the shape of `a`, and its dtype unless `dtype` is given.

    >>> import mlxpy.core as mx
    >>> mx.ones_like(mx.array([1, 2]), mx.float16)
    array([1, 1], dtype=float16)
    """
    n = _like(a, "ones_like")
    return ones(n.shape, check_dtype(dtype, "ones_like") or n.dtype, stream=stream)


def full_like(a, vals, dtype=None, *, stream=None):
    """`vals` broadcast to the shape of `a`, converted to `dtype` (default: `a`'s dtype).

    >>> import mlxpy.core as mx
    >>> mx.full_like(mx.array([1, 2]), 2.5)
    array([2, 2], dtype=int32)
    """
    s = stream_of(stream, "full_like")
    n = _like(a, "full_like")
    dtype = check_dtype(dtype, "full_like") or n.dtype
    v = cast_node(fill_node(vals, dtype, "full_like"), dtype, s)
    _check_fits(v.shape, n.shape, "full_like")
    return make(P.Full(n.shape), [v], s)


# MLX's `empty` is `zeros` (it has no uninitialised arrays).
empty = zeros
empty_like = zeros_like


# -- ranges ----------------------------------------------------------------------------

def _range_value(v, name):
    # Exactly Python's int, float or bool: MLX's binding turns away NumPy scalars, even
    # np.float64 (a float subclass).
    if type(v) in (int, float, bool):
        return v
    raise TypeError(f"[arange] {name} must be a Python int or float, got {type(v).__name__}.")


def arange(*args, **kwargs):
    """Evenly spaced values in [start, stop) with `step`.

    Forms: ``arange(stop)``, ``arange(start, stop[, step][, dtype])``, and keywords
    ``start``, ``stop``, ``step``, ``dtype``, ``stream``. The default dtype is int32
    (int64 if a value does not fit) for ints, float32 if any value is a float.

    >>> import mlxpy.core as mx
    >>> mx.arange(3)
    array([0, 1, 2], dtype=int32)
    >>> mx.arange(1, 2, 0.25)
    array([1, 1.25, 1.5, 1.75], dtype=float32)
    """
    stream = kwargs.pop("stream", None)
    start, stop, step, dtype = _arange_args(args, kwargs)
    if stop is None:
        # A single bound is the stop (MLX's second overload), even `arange(5, None)`.
        only_bool = type(start) is bool and step is None and dtype is None
        start, stop = 0, start
        if only_bool:
            raise ValueError("[arange] bool not supported for arange.")
    start = _range_value(start, "start")
    stop = _range_value(stop, "stop")
    step = 1 if step is None else _range_value(step, "step")
    dtype = check_dtype(dtype, "arange")
    if dtype is None:
        if any(isinstance(v, float) for v in (start, stop, step)):
            dtype = _dt.float32
        elif all(-2 ** 31 <= v < 2 ** 31 for v in (start, stop, step)):
            dtype = _dt.int32
        else:
            dtype = _dt.int64
    if dtype is _dt.bool_:
        raise ValueError("[arange] bool not supported for arange.")
    fstart, fstop, fstep = float(start), float(stop), float(step)
    if math.isnan(fstart) or math.isnan(fstop) or math.isnan(fstep) or \
            math.isinf(fstart) or math.isinf(fstop):
        raise ValueError("[arange] Cannot compute length.")
    if fstep == 0:
        raise ValueError("[arange] step must be nonzero.")
    if math.isinf(fstep):
        # An infinite step reaches past stop at once: [start] if the range is not empty.
        num = 1 if (fstep > 0 and fstart < fstop) or (fstep < 0 and fstart > fstop) else 0
    else:
        real = math.ceil((fstop - fstart) / fstep)
        if real > _MAX_DIM:
            raise ValueError("[arange] Maximum size exceeded.")
        num = max(real, 0)
    return make(P.Arange(start, step, num, dtype), [], stream_of(stream, "arange"))


_ARANGE_NAMES = ("start", "stop", "step", "dtype")


def _arange_args(args, kwargs):
    """(start, stop, step, dtype) from MLX's two overloads; stop None means `start` is
    the only bound given (the stop)."""
    if len(args) > 4:
        raise TypeError(f"[arange] Takes at most 4 positional arguments ({len(args)} given).")
    for k in kwargs:
        if k not in _ARANGE_NAMES:
            raise TypeError(f"[arange] Unexpected keyword argument '{k}'.")
    if len(args) == 3 and isinstance(args[2], _dt.Dtype):
        # (stop, step, dtype) positionally: MLX's second overload.
        if kwargs:
            raise TypeError("[arange] Unexpected keyword arguments after (stop, step, dtype).")
        return args[0], None, args[1], args[2]
    given = dict(zip(_ARANGE_NAMES, args))
    for k, v in kwargs.items():
        if k in given:
            raise TypeError(f"[arange] Got multiple values for argument '{k}'.")
        given[k] = v
    step, dtype = given.get("step"), given.get("dtype")
    if "start" in given:
        if given.get("stop") is None and "start" in kwargs:
            raise TypeError("[arange] Missing the stop argument.")
        return given["start"], given.get("stop"), step, dtype
    if given.get("stop") is None:
        raise TypeError("[arange] Missing the stop argument.")
    return given["stop"], None, step, dtype


def linspace(start, stop, num=50, endpoint=True, dtype=_dt.float32, stream=None):
    """`num` evenly spaced values from `start` to `stop` (inclusive unless `endpoint`
    is False).

    >>> import mlxpy.core as mx
    >>> mx.linspace(0, 1, 5)
    array([0, 0.25, 0.5, 0.75, 1], dtype=float32)
    """
    s = stream_of(stream, "linspace")
    start = _real_scalar(start, "start")
    stop = _real_scalar(stop, "stop")
    if isinstance(num, float) or not hasattr(num, "__index__"):
        raise TypeError(f"[linspace] num must be an int, got {type(num).__name__}.")
    num = _index(num)
    if num < 0:
        raise ValueError(f"[linspace] number of samples, {num}, must be non-negative.")
    if num > _MAX_DIM:
        raise TypeError("[linspace] num must fit in a 32-bit int.")
    dtype = check_dtype(dtype, "linspace") or _dt.float32
    if num == 1:
        first = wrap(scalar_node(start, _dt.float32, "linspace"))
        return full((1,), first, stream=s).astype(dtype, stream=s)
    from .elementwise import add, divide, multiply, subtract
    # MLX's formula, t*stop + (1-t)*start with t = i/(num-1), computed in float32
    # (float64 for a float64 result) and rounded at each step, then cast.
    inner = _dt.float64 if dtype is _dt.float64 else _dt.float32
    t = divide(arange(0, num, dtype=inner, stream=s),
               wrap(scalar_node(num - 1 if endpoint else num, inner, "linspace")), stream=s)
    t_bar = subtract(wrap(scalar_node(1, inner, "linspace")), t, stream=s)
    out = add(multiply(t_bar, wrap(scalar_node(start, inner, "linspace")), stream=s),
              multiply(t, wrap(scalar_node(stop, inner, "linspace")), stream=s), stream=s)
    return out.astype(dtype, stream=s) if dtype is not inner else out


def _real_scalar(v, name):
    if isinstance(v, complex) or (isinstance(v, _array) and v.dtype is _dt.complex64):
        raise TypeError(f"[linspace] {name} must be a real scalar.")
    try:
        return float(v)
    except (TypeError, ValueError):
        raise TypeError(f"[linspace] {name} must be a real scalar, got "
                        f"{type(v).__name__}.") from None


# -- matrices --------------------------------------------------------------------------

def _dim(v, where, name):
    if isinstance(v, float) or not hasattr(v, "__index__"):
        raise TypeError(f"[{where}] {name} must be an int, got {type(v).__name__}.")
    return _index(v)


def eye(n, m=None, k=0, dtype=_dt.float32, *, stream=None):
    """A 2-D array with ones on the k-th diagonal and zeros elsewhere.

    >>> import mlxpy.core as mx
    >>> mx.eye(2, 3, 1, mx.int32)
    array([[0, 1, 0],
           [0, 0, 1]], dtype=int32)
    """
    n = _dim(n, "eye", "n")
    m = n if m is None else _dim(m, "eye", "m")
    k = _dim(k, "eye", "k")
    dtype = check_dtype(dtype, "eye") or _dt.float32
    if n < 0 or m < 0:
        raise ValueError("[eye] N and M must be positive integers.")
    return make(P.Eye(n, m, k, dtype), [], stream_of(stream, "eye"))


def identity(n, dtype=_dt.float32, *, stream=None):
    """The n-by-n identity matrix.

    >>> import mlxpy.core as mx
    >>> mx.identity(2)
    array([[1, 0],
           [0, 1]], dtype=float32)
    """
    n = _dim(n, "identity", "n")
    if n < 0:
        raise ValueError("[identity] N must be a positive integer.")
    return eye(n, n, 0, dtype, stream=stream)


def tri(n, m=None, k=0, dtype=None, *, stream=None):
    """Ones at and below the k-th diagonal of an n-by-m array (negative sizes: 0).

    >>> import mlxpy.core as mx
    >>> mx.tri(2, 3, dtype=mx.int32)
    array([[1, 0, 0],
           [1, 1, 0]], dtype=int32)
    """
    n = max(_dim(n, "tri", "n"), 0)
    m = n if m is None else max(_dim(m, "tri", "m"), 0)
    k = _dim(k, "tri", "k")
    dtype = check_dtype(dtype, "tri") or _dt.float32
    return make(P.Tri(n, m, k, dtype), [], stream_of(stream, "tri"))


def _triangle(x, k, stream, where, lower):
    if not isinstance(x, _array):
        raise TypeError(f"[{where}] Expected an mx.array, got {type(x).__name__}.")
    k = _dim(k, where, "k")
    shape = x.shape
    if len(shape) < 2:
        raise ValueError(f"[{where}] array must be at least 2-D.")
    from .elementwise import where as select
    s = stream_of(stream, where)
    zero = zeros_like(x, stream=s)
    if lower:
        return select(tri(shape[-2], shape[-1], k, _dt.bool_, stream=s), x, zero, stream=s)
    return select(tri(shape[-2], shape[-1], k - 1, _dt.bool_, stream=s), zero, x, stream=s)


def tril(x, k=0, *, stream=None):
    """`x` with the elements above the k-th diagonal (of the last two axes) zeroed.

    >>> import mlxpy.core as mx
    >>> mx.tril(mx.ones((2, 2)))
    array([[1, 0],
           [1, 1]], dtype=float32)
    """
    return _triangle(x, k, stream, "tril", True)


def triu(x, k=0, *, stream=None):
    """`x` with the elements below the k-th diagonal (of the last two axes) zeroed.

    >>> import mlxpy.core as mx
    >>> mx.triu(mx.ones((2, 2)))
    array([[1, 1],
           [0, 1]], dtype=float32)
    """
    return _triangle(x, k, stream, "triu", False)
