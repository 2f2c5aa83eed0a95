"""Sorting, partitioning, top-k and median.

>>> import mlxpy.core as mx
>>> mx.sort(mx.array([3, 1, 2]))
array([1, 2, 3], dtype=int32)
"""
from operator import index as _index

from .. import dtypes as _dt
from ..array import wrap
from ..primitives import sort as P
from . import elementwise as E
from ._core import make, stream_of
from .reduction import input_node, single_axis, reduce_axes, any as _any
from .shape import reshape, transpose

__all__ = ["sort", "argsort", "partition", "argpartition", "topk", "median"]


def _axis_and_size(n, axis, where):
    """(axis or None, length of the sorted dimension) for a sort-like op."""
    shape = n.shape
    if axis is None:
        size = 1
        for d in shape:
            size *= d
        return None, size
    ax = single_axis(axis, len(shape), where)
    return ax, shape[ax]


def sort(a, /, axis=-1, *, stream=None):
    """A sorted copy of `a` along `axis` (None: the flattened array).

    The sort is stable and puts NaNs last.

    >>> import mlxpy.core as mx
    >>> mx.sort(mx.array([[3.0, float("nan"), 1.0]]))
    array([[1, 3, nan]], dtype=float32)
    """
    n = input_node(a, "sort")
    ax, _ = _axis_and_size(n, axis, "sort")
    return make(P.Sort(ax), [n], stream_of(stream, "sort"))


def argsort(a, /, axis=-1, *, stream=None):
    """Indices (uint32) that sort `a` along `axis`, stably (equal elements keep order).

    >>> import mlxpy.core as mx
    >>> mx.argsort(mx.array([2, 1, 2, 1]))
    array([1, 3, 0, 2], dtype=uint32)
    """
    n = input_node(a, "argsort")
    ax, _ = _axis_and_size(n, axis, "argsort")
    return make(P.ArgSort(ax), [n], stream_of(stream, "argsort"))


def _kth(kth, size, axis, shape, where):
    k = _index(kth)
    if k < -size or k >= size:
        raise ValueError(f"[{where}] Received invalid kth {k} along axis {axis} for array "
                         f"with shape {shape}.")
    return k + size if k < 0 else k


def partition(a, /, kth, axis=-1, *, stream=None):
    """A copy of `a` with element `kth` in its sorted place along `axis`, smaller or
    equal elements before it and larger or equal ones after (each side unordered).

    >>> import mlxpy.core as mx
    >>> mx.partition(mx.array([3, 1, 2]), 1)[1]
    array(2, dtype=int32)
    """
    n = input_node(a, "partition")
    ax, size = _axis_and_size(n, axis, "partition")
    k = _kth(kth, size, axis, n.shape, "partition")
    return make(P.Partition(k, ax), [n], stream_of(stream, "partition"))


def argpartition(a, /, kth, axis=-1, *, stream=None):
    """Indices (uint32) that partition `a` around its `kth` element along `axis`.

    >>> import mlxpy.core as mx
    >>> mx.argpartition(mx.array([3, 1, 2]), 0)[0]
    array(1, dtype=uint32)
    """
    n = input_node(a, "argpartition")
    ax, size = _axis_and_size(n, axis, "argpartition")
    k = _kth(kth, size, axis, n.shape, "argpartition")
    return make(P.ArgPartition(k, ax), [n], stream_of(stream, "argpartition"))


def _tail(x, ax, start):
    """x[..., start:, ...] along axis `ax` (None: x is 1-D)."""
    if ax is None or ax == 0:
        return x[start:]
    return x[(slice(None),) * ax + (slice(start, None),)]


def topk(a, /, k, axis=-1, *, stream=None):
    """The `k` largest elements along `axis` (None: the flattened array), in no
    particular order.

    >>> import mlxpy.core as mx
    >>> mx.sort(mx.topk(mx.array([3, 9, 1, 7]), 2))
    array([7, 9], dtype=int32)
    """
    n = input_node(a, "topk")
    ax, size = _axis_and_size(n, axis, "topk")
    k = _index(k)
    if k < 0 or k > size:
        raise ValueError(f"[topk] Received invalid k={k} along axis {axis} for array with "
                         f"shape {n.shape}.")
    s = stream_of(stream, "topk")
    if k == 0:
        x = wrap(n) if ax is not None else reshape(wrap(n), (size,), stream=s)
        return _tail(x, ax, size)
    return _tail(make(P.Partition(size - k, ax), [n], s), ax, size - k)


def median(a, /, axis=None, keepdims=False, *, stream=None):
    """Median over `axis` (None: all axes): the middle value, or the mean of the two
    middle values. Integer inputs give float32; NaN propagates.

    >>> import mlxpy.core as mx
    >>> mx.median(mx.array([[1, 4, 2, 8]]), axis=1)
    array([3], dtype=float32)
    """
    n = input_node(a, "median")
    shape = n.shape
    ndim = len(shape)
    axes = reduce_axes(axis, ndim, "median")
    s = stream_of(stream, "median")
    if not axes:
        if ndim:
            raise ValueError("[median] Received an empty list of axes.")
        x = wrap(n)
        return x if x.dtype.kind in "fc" else E.astype(x, _dt.float32, stream=s)
    count = 1
    for ax in axes:
        count *= shape[ax]
    if count == 0:
        raise ValueError("[median] Cannot take median along empty axis.")
    x = wrap(n)
    if len(axes) == ndim:
        ordered = make(P.Sort(None), [n], s)
        last = 0
    else:
        kept = [i for i in range(ndim) if i not in axes]
        if len(axes) > 1 or axes[0] != ndim - 1:
            x = transpose(x, kept + list(axes), stream=s)
            x = reshape(x, [shape[i] for i in kept] + [count], stream=s)
        ordered = make(P.Sort(len(kept)), [x._node], s)
        last = len(kept)
    lead = (slice(None),) * last
    lo = ordered[lead + ((count - 1) // 2,)]
    hi = ordered[lead + (count // 2,)]
    if lo.dtype.kind not in "fc":
        lo = E.astype(lo, _dt.float32, stream=s)
        hi = E.astype(hi, _dt.float32, stream=s)
    mid = E.multiply(E.add(lo, hi, stream=s), 0.5, stream=s)
    if mid.dtype.kind in "fc":
        # The sort put NaNs last, so the middle may have skipped them.
        has_nan = _any(E.isnan(wrap(n), stream=s), axes, stream=s)
        mid = E.where(has_nan, float("nan"), mid, stream=s)
    if keepdims:
        mid = reshape(mid, [1 if i in axes else d for i, d in enumerate(shape)], stream=s)
    return mid
