"""Reductions (sum, max, mean, var, logsumexp, ...), softmax and scans (cumsum, ...).

>>> import mlxpy.core as mx
>>> x = mx.array([[1, 2], [3, 4]])
>>> x.sum(axis=0)
array([4, 6], dtype=int32)
"""
from operator import index as _index

from .. import dtypes as _dt
from ..array import array, wrap
from ..primitives import reduction as P
from . import elementwise as E
from ._core import attach_methods, cast_node, check_dtype, make, stream_of
from .shape import squeeze

__all__ = ["sum", "prod", "max", "min", "mean", "var", "std", "all", "any", "argmax",
           "argmin", "logsumexp", "softmax", "cumsum", "cumprod", "cummax", "cummin",
           "logcumsumexp"]

_array = array
_INF = float("inf")
# axis=None reduces every axis; one tuple per rank, built once.
_ALL_AXES = [tuple(range(n)) for n in range(33)]


def input_node(a, where):
    """The node of an array argument; MLX's reductions and sorts take arrays only."""
    if type(a) is _array:
        return a._node
    if isinstance(a, _array):
        return a._node
    raise TypeError(f"[{where}] Expected an array as input, got {type(a).__name__}.")


def _bad_axis(axis, ndim, where):
    return IndexError(f"[{where}] Axis {axis} is out of bounds for array with {ndim} "
                      "dimensions.")


def reduce_axes(axis, ndim, where):
    """MLX's reduction axes: None (all), an int or a sequence of ints, as a sorted
    tuple of distinct non-negative axes."""
    if axis is None:
        return _ALL_AXES[ndim] if ndim < 33 else tuple(range(ndim))
    if type(axis) is not int:
        try:
            axis = _index(axis)
        except TypeError:
            return _axes_from_sequence(axis, ndim, where)
    a = axis + ndim if axis < 0 else axis
    if a < 0 or a >= ndim:
        raise _bad_axis(axis, ndim, where)
    return (a,)


def _axes_from_sequence(axis, ndim, where):
    try:
        items = [_index(a) for a in axis]
    except TypeError:
        raise TypeError(f"[{where}] axis must be None, an int or a sequence of ints, "
                        f"got {type(axis).__name__}.") from None
    out = []
    for a in items:
        b = a + ndim if a < 0 else a
        if b < 0 or b >= ndim:
            raise _bad_axis(a, ndim, where)
        out.append(b)
    if len(set(out)) != len(out):
        raise ValueError(f"[{where}] Received duplicate axes {tuple(items)}.")
    out.sort()
    return tuple(out)


def single_axis(axis, ndim, where):
    """One axis (an int) as a non-negative int, with MLX's IndexError when out of range."""
    try:
        a = axis if type(axis) is int else _index(axis)
    except TypeError:
        raise TypeError(f"[{where}] axis must be None or an int, "
                        f"got {type(axis).__name__}.") from None
    b = a + ndim if a < 0 else a
    if b < 0 or b >= ndim:
        raise _bad_axis(a, ndim, where)
    return b


def _count(shape, axes):
    c = 1
    for ax in axes:
        c *= shape[ax]
    return c


def _floating(node, stream):
    """`node` as a floating (or complex) node: integers and bools become float32."""
    return node if node.dtype.kind in "fc" else cast_node(node, _dt.float32, stream)


# -- plain reductions ----------------------------------------------------------------

def _reduction(prim_cls, name, doc):
    def op(a, /, axis=None, keepdims=False, *, stream=None):
        n = input_node(a, name)
        axes = reduce_axes(axis, len(n.shape), name)
        s = stream_of(stream, name)
        if not axes:
            # MLX returns the input itself (no promotion) for an empty axis list.
            return wrap(n)
        return make(prim_cls(axes, bool(keepdims)), [n], s)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


sum = _reduction(P.Sum, "sum", """Sum over `axis` (None: all axes).

bool, int8 and int16 sum to int32, uint8 and uint16 to uint32; other dtypes keep
their own (integer sums wrap on overflow).

>>> import mlxpy.core as mx
>>> mx.sum(mx.array([[1, 2], [3, 4]]), axis=1)
array([3, 7], dtype=int32)
""")

prod = _reduction(P.Prod, "prod", """Product over `axis` (None: all axes), with sum's dtypes.

>>> import mlxpy.core as mx
>>> mx.prod(mx.array([1.0, 2.0, 3.0]))
array(6, dtype=float32)
""")


def _extremum(prim_cls, name, doc):
    def op(a, /, axis=None, keepdims=False, *, stream=None):
        n = input_node(a, name)
        shape = n.shape
        axes = reduce_axes(axis, len(shape), name)
        s = stream_of(stream, name)
        if not axes:
            return wrap(n)
        if 0 in shape:
            for ax in axes:
                if shape[ax] == 0:
                    raise ValueError(f"[{name}] Cannot {name} reduce over axis {ax} with "
                                     "size 0.")
        return make(prim_cls(axes, bool(keepdims)), [n], s)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


max = _extremum(P.Max, "max", """Maximum over `axis` (None: all axes); NaN propagates.

Reducing over an axis of size 0 is a ValueError.

>>> import mlxpy.core as mx
>>> mx.max(mx.array([[1, 5], [3, 2]]), axis=0)
array([3, 5], dtype=int32)
""")

min = _extremum(P.Min, "min", """Minimum over `axis` (None: all axes); NaN propagates.

>>> import mlxpy.core as mx
>>> mx.min(mx.array([4.0, -1.0, 2.0]))
array(-1, dtype=float32)
""")


def _boolean(prim_cls, name, doc):
    def op(a, /, axis=None, keepdims=False, *, stream=None):
        n = input_node(a, name)
        axes = reduce_axes(axis, len(n.shape), name)
        s = stream_of(stream, name)
        if not axes:
            return wrap(cast_node(n, _dt.bool_, s))
        return make(prim_cls(axes, bool(keepdims)), [n], s)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


all = _boolean(P.All, "all", """Whether every element over `axis` is nonzero (True when empty).

>>> import mlxpy.core as mx
>>> mx.all(mx.array([[1, 0], [1, 1]]), axis=1)
array([False, True], dtype=bool)
""")

any = _boolean(P.Any, "any", """Whether some element over `axis` is nonzero (False when empty).

>>> import mlxpy.core as mx
>>> mx.any(mx.array([0.0, 2.0]))
array(True, dtype=bool)
""")


def _argreduction(prim_cls, name, doc):
    def op(a, /, axis=None, keepdims=False, *, stream=None):
        n = input_node(a, name)
        shape = n.shape
        if axis is not None:
            axis = single_axis(axis, len(shape), name)
        s = stream_of(stream, name)
        if 0 in shape:
            raise ValueError(f"[{name}] Cannot {name} reduce zero size array.")
        return make(prim_cls(axis, bool(keepdims)), [n], s)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


argmax = _argreduction(P.ArgMax, "argmax", """Indices (uint32) of the maxima along `axis`.

axis=None looks at the flattened array. Ties and NaNs: the first one wins.

>>> import mlxpy.core as mx
>>> mx.argmax(mx.array([[1, 7], [9, 3]]), axis=1)
array([1, 0], dtype=uint32)
""")

argmin = _argreduction(P.ArgMin, "argmin", """Indices (uint32) of the minima along `axis`.

>>> import mlxpy.core as mx
>>> mx.argmin(mx.array([3.0, 1.0, 1.0]))
array(1, dtype=uint32)
""")


# -- composite reductions ------------------------------------------------------------

def mean(a, /, axis=None, keepdims=False, *, stream=None):
    """Arithmetic mean over `axis`; integer and bool inputs give float32.

    >>> import mlxpy.core as mx
    >>> mx.mean(mx.array([[1, 2], [3, 5]]), axis=0)
    array([2, 3.5], dtype=float32)
    """
    n = input_node(a, "mean")
    axes = reduce_axes(axis, len(n.shape), "mean")
    s = stream_of(stream, "mean")
    return _mean(n, axes, keepdims, s)


def _mean(n, axes, keepdims, s):
    count = _count(n.shape, axes)
    total = sum(wrap(n), axes, keepdims, stream=s) if axes else wrap(n)
    # Scaling by the reciprocal (not dividing by the count) matches MLX, and keeps
    # half-precision means finite when the count itself overflows float16.
    return E.multiply(total, 1.0 / count if count else _INF, stream=s)


def var(a, /, axis=None, keepdims=False, ddof=0, *, correction=None, stream=None):
    """Variance over `axis`, dividing by N - ddof (`correction`, if given, is ddof).

    Complex inputs give the (float32) variance of the complex values.

    >>> import mlxpy.core as mx
    >>> mx.var(mx.array([1.0, 2.0, 3.0, 4.0]))
    array(1.25, dtype=float32)
    """
    ddof = _index(ddof if correction is None else correction)
    n = input_node(a, "var")
    axes = reduce_axes(axis, len(n.shape), "var")
    s = stream_of(stream, "var")
    count = _count(n.shape, axes)
    x = wrap(n)
    # Two passes (deviations from the mean), not E[x^2] - E[x]^2, which cancels badly.
    dev = E.subtract(x, _mean(n, axes, True, s), stream=s)
    if dev.dtype is _dt.complex64:
        dev = E.abs(dev, stream=s)
    sq = E.square(dev, stream=s)
    v = _mean(sq._node, axes, keepdims, s)
    if ddof:
        # N - ddof <= 0 divides by zero, as MLX does (inf, or nan for zero spread).
        v = E.multiply(v, count / (count - ddof) if count > ddof else _INF, stream=s)
    return v


def std(a, /, axis=None, keepdims=False, ddof=0, *, correction=None, stream=None):
    """Standard deviation over `axis`: sqrt(var(...)).

    >>> import mlxpy.core as mx
    >>> mx.std(mx.array([1.0, 3.0]))
    array(1, dtype=float32)
    """
    return E.sqrt(var(a, axis, keepdims, ddof, correction=correction, stream=stream),
                  stream=stream)


def logsumexp(a, /, axis=None, keepdims=False, *, stream=None):
    """log(sum(exp(a), axis)) computed without overflow.

    Where the maximum is +inf or -inf the result is that infinity.

    >>> import mlxpy.core as mx
    >>> mx.logsumexp(mx.array([1000.0, 1000.0]))
    array(1000.69, dtype=float32)
    """
    n = input_node(a, "logsumexp")
    axes = reduce_axes(axis, len(n.shape), "logsumexp")
    s = stream_of(stream, "logsumexp")
    if 0 in n.shape:
        raise ValueError("[logsumexp] Received empty array.")
    x = wrap(_floating(n, s))
    if not axes:
        return x
    keepdims = bool(keepdims)
    peak = make(P.Max(axes, True), [x._node], s)
    total = sum(E.exp(E.subtract(x, peak, stream=s), stream=s), axes, keepdims, stream=s)
    if not keepdims:
        peak = squeeze(peak, axes, stream=s)
    out = E.add(E.log(total, stream=s), peak, stream=s)
    return E.where(E.isinf(peak, stream=s), peak, out, stream=s)


_HALF = (_dt.float16, _dt.bfloat16)


def softmax(a, /, axis=None, *, precise=False, stream=None):
    """exp(a) / sum(exp(a)) over `axis` (None: all axes), shifted by the maximum.

    `precise` computes half-precision inputs in float32. Integer inputs give float32.

    >>> import mlxpy.core as mx
    >>> mx.softmax(mx.array([0.0, 0.0]))
    array([0.5, 0.5], dtype=float32)
    """
    n = input_node(a, "softmax")
    axes = reduce_axes(axis, len(n.shape), "softmax")
    s = stream_of(stream, "softmax")
    x = _floating(n, s)
    out_dtype = x.dtype
    if 0 in n.shape:
        return wrap(x)
    if precise and out_dtype in _HALF:
        x = cast_node(x, _dt.float32, s)
    x = E.subtract(wrap(x), make(P.Max(axes, True), [x], s), stream=s)
    ex = E.exp(x, stream=s)
    out = E.divide(ex, sum(ex, axes, True, stream=s), stream=s)
    return wrap(cast_node(out._node, out_dtype, s))


# -- scans ---------------------------------------------------------------------------

def _scan(prim_cls, name, with_dtype, doc):
    def scan(a, axis, reverse, inclusive, dtype, stream):
        n = input_node(a, name)
        if axis is not None:
            axis = single_axis(axis, len(n.shape), name)
        s = stream_of(stream, name)
        if dtype is not None:
            n = cast_node(n, check_dtype(dtype, name), s)
        elif prim_cls is P.LogCumSumExp:
            n = _floating(n, s)
        return make(prim_cls(axis, bool(reverse), bool(inclusive)), [n], s)

    if with_dtype:
        def op(a, /, axis=None, *, reverse=False, inclusive=True, dtype=None, stream=None):
            return scan(a, axis, reverse, inclusive, dtype, stream)
    else:
        def op(a, /, axis=None, *, reverse=False, inclusive=True, stream=None):
            return scan(a, axis, reverse, inclusive, None, stream)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


cumsum = _scan(P.CumSum, "cumsum", True, """Cumulative sum along `axis` (None: flattened).

`reverse` accumulates from the end; `inclusive=False` leaves element i out of output i.
`dtype` casts the input first. The sum keeps the input dtype (bool counts in int32).

>>> import mlxpy.core as mx
>>> mx.cumsum(mx.array([1, 2, 3]), inclusive=False)
array([0, 1, 3], dtype=int32)
""")

cumprod = _scan(P.CumProd, "cumprod", True, """Cumulative product along `axis` (None: flattened).

>>> import mlxpy.core as mx
>>> mx.cumprod(mx.array([1, 2, 3]), reverse=True)
array([6, 6, 3], dtype=int32)
""")

cummax = _scan(P.CumMax, "cummax", False, """Cumulative maximum along `axis` (None: flattened).

With `inclusive=False` the first output is the dtype's lowest value (-inf for floats).

>>> import mlxpy.core as mx
>>> mx.cummax(mx.array([1, 3, 2]))
array([1, 3, 3], dtype=int32)
""")

cummin = _scan(P.CumMin, "cummin", False, """Cumulative minimum along `axis` (None: flattened).

>>> import mlxpy.core as mx
>>> mx.cummin(mx.array([3, 1, 2]))
array([3, 1, 1], dtype=int32)
""")

logcumsumexp = _scan(P.LogCumSumExp, "logcumsumexp", False, """Cumulative logsumexp along `axis`.

Integer inputs give float32; `inclusive=False` starts from -inf.

>>> import mlxpy.core as mx
>>> mx.logcumsumexp(mx.array([0.0, 0.0]))
array([0, 0.693147], dtype=float32)
""")


attach_methods({
    "sum": sum, "prod": prod, "max": max, "min": min, "mean": mean, "var": var, "std": std,
    "all": all, "any": any, "argmax": argmax, "argmin": argmin, "logsumexp": logsumexp,
    "cumsum": cumsum, "cumprod": cumprod, "cummax": cummax, "cummin": cummin,
    "logcumsumexp": logcumsumexp,
})
