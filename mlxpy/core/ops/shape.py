"""Shape ops: reshape, transpose, broadcast, join, split, pad, repeat, diagonals.

Most of these are a `Reshape`, `Transpose` or `Broadcast` node, or a few of them in a
row (see primitives/shape.py), so that each op adds no transform rules of its own.
Array arguments must be `mx.array`s, as MLX requires (only `broadcast_to` also takes
scalars); axes, sizes and counts take anything with `__index__`.
"""
import operator

from .. import dtypes as _dt
from ..array import array as _array, wrap
from ..graph import Node, trace_state
from ..primitives import shape as P
from ._core import (attach_methods, broadcast_shapes, cast_node, make_multi, node_of,
                    stream_of)

__all__ = [
    "reshape", "flatten", "unflatten", "squeeze", "expand_dims", "transpose", "swapaxes",
    "moveaxis", "broadcast_to", "broadcast_arrays", "concatenate", "concat", "stack",
    "split", "repeat", "tile", "pad", "diag", "diagonal", "atleast_1d", "atleast_2d",
    "atleast_3d", "flip",
]

_Node = Node
_index = operator.index
_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


# -- argument helpers ------------------------------------------------------------------

def _node(a, where):
    if type(a) is _array:
        return a._node
    if isinstance(a, _array):
        return a._node
    raise TypeError(f"[{where}] Expected an mx.array, got {type(a).__name__}.")


def _is_int(v):
    """An int-like scalar (not a sequence): int, NumPy integer, 0-d integer array."""
    return hasattr(v, "__index__") and not hasattr(v, "__len__")


def _int(v, where, what="axis"):
    try:
        return _index(v)
    except TypeError:
        raise TypeError(f"[{where}] {what} must be an integer, got {type(v).__name__}.") from None


def _ints(seq, where, what):
    if type(seq) is tuple:
        for v in seq:
            if type(v) is not int:
                break
        else:
            return seq
    try:
        return tuple(_index(v) for v in seq)
    except TypeError:
        raise TypeError(f"[{where}] {what} must be a sequence of integers.") from None


def _axis(axis, ndim, where, label="Axis"):
    """A non-negative axis; IndexError (as MLX raises) when out of range."""
    a = _int(axis, where)
    if a < 0:
        a += ndim
    if not 0 <= a < ndim:
        raise IndexError(f"[{where}] {label} {axis} is out of bounds for an array with "
                         f"{ndim} dimensions.")
    return a


def _axis_list(axis, ndim, where):
    """Non-negative axes from an int or a sequence, in the given order, no repeats."""
    if _is_int(axis):
        axes = (_axis(axis, ndim, where),)
    else:
        axes = tuple(_axis(a, ndim, where) for a in axis)
    if len(set(axes)) != len(axes):
        raise ValueError(f"[{where}] Received duplicate axes.")
    return axes


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _fmt(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


def _reshaped(node, shape, stream, derive=None):
    """`node` under `shape`; `derive` (see `P.Reshape`) lets shapeless compile replay it."""
    if shape == node.shape:
        return wrap(node)
    return wrap(_Node(shape, node.dtype, P.Reshape(shape, derive, node.shape), [node], stream))


def _expanded(node, axes, stream):
    """`node` with size-1 axes at the output positions `axes` (non-negative)."""
    return _reshaped(node, P._expanded(node.shape, axes), stream, ("expand_dims", axes))


# Flattening to 1-D, replayable by shapeless compile for any size.
_FLAT = ("reshape", (-1,))

_IDENTITY_PERMS = [tuple(range(n)) for n in range(33)]
_REVERSED_PERMS = [tuple(range(n - 1, -1, -1)) for n in range(33)]


def _transposed(node, perm, stream):
    ndim = len(perm)
    if perm == (_IDENTITY_PERMS[ndim] if ndim < 33 else tuple(range(ndim))):
        return wrap(node)
    shape = node.shape
    out = tuple([shape[p] for p in perm])
    return wrap(_Node(out, node.dtype, P.Transpose(perm), [node], stream))


def _broadcast_node(node, shape, stream):
    if shape == node.shape:
        return node
    return _Node(shape, node.dtype, P.Broadcast(shape), [node], stream)


# -- reshaping -----------------------------------------------------------------------

def _infer_shape(old_shape, shape, where):
    """`shape` (a sequence, one entry may be -1) checked against the element count."""
    if type(shape) is not tuple:
        shape = tuple(shape)
    for d in shape:
        if type(d) is not int:
            shape = _ints(shape, where, "shape")
            break
    size = 1
    for d in old_shape:
        size *= d
    if -1 not in shape:
        # The common case: every dimension given.
        known = 1
        for d in shape:
            known *= d
        if known == size and (not shape or min(shape) >= 0):
            return shape
    infer_at = -1
    known = 1
    for i, d in enumerate(shape):
        if d == -1:
            if infer_at >= 0:
                raise ValueError(f"[{where}] Reshape can only infer one dimension.")
            infer_at = i
        elif d < 0:
            raise ValueError(f"[{where}] Cannot reshape array of size {size} into shape "
                             f"{_fmt(shape)}.")
        else:
            known *= d
    if infer_at >= 0:
        if known == 0:
            raise ValueError(f"[{where}] Cannot infer the shape of an empty array.")
        shape = shape[:infer_at] + (size // known,) + shape[infer_at + 1:]
        known *= size // known
    if known != size:
        raise ValueError(f"[{where}] Cannot reshape array of size {size} into shape "
                         f"{_fmt(shape)}.")
    return shape


def reshape(a, /, shape, *, stream=None):
    """The elements of `a` under a new shape; one dimension may be -1 (inferred).

    >>> import mlxpy.core as mx
    >>> mx.reshape(mx.arange(6), (2, -1))
    array([[0, 1, 2],
           [3, 4, 5]], dtype=int32)
    """
    s = stream_of(stream, "reshape")
    n = _node(a, "reshape")
    if isinstance(shape, int) or not hasattr(shape, "__iter__"):
        raise TypeError("[reshape] shape must be a sequence of integers.")
    if type(shape) is not tuple:
        shape = tuple(shape)
    new = _infer_shape(n.shape, shape, "reshape")
    if -1 not in shape:
        return _reshaped(n, new, s)
    # The -1 stays in the primitive, so that shapeless compile infers it again; that
    # needs a node even where the traced shapes make the reshape an identity.
    derive = ("reshape", _ints(shape, "reshape", "shape"))
    if new == n.shape and trace_state.placeholder_depth:
        return wrap(_Node(new, n.dtype, P.Reshape(new, derive, new), [n], s))
    return _reshaped(n, new, s, derive)


def _reshape_method(self, *shape, stream=None):
    if len(shape) == 1 and not _is_int(shape[0]):
        shape = shape[0]
    return reshape(self, shape, stream=stream)


def flatten(a, /, start_axis=0, end_axis=-1, *, stream=None):
    """Merge the axes from `start_axis` to `end_axis` (inclusive) into one.

    >>> import mlxpy.core as mx
    >>> mx.flatten(mx.zeros((2, 3, 4)), 1).shape
    (2, 12)
    """
    s = stream_of(stream, "flatten")
    n = _node(a, "flatten")
    start = _int(start_axis, "flatten")
    end = _int(end_axis, "flatten")
    shape = n.shape
    ndim = len(shape)
    if ndim == 0:
        return _expanded(n, (0,), s)
    # MLX clamps out-of-range axes to the array rather than raising.
    start = max(start + ndim if start < 0 else start, 0)
    end = min(end + ndim if end < 0 else end, ndim - 1)
    if start > end:
        raise ValueError("[flatten] start_axis must be less than or equal to end_axis.")
    new = shape[:start] + (_size(shape[start:end + 1]),) + shape[end + 1:]
    return _reshaped(n, new, s, ("flatten", start, end))


def unflatten(a, /, axis, shape, *, stream=None):
    """Split axis `axis` into the axes `shape` (one entry may be -1).

    >>> import mlxpy.core as mx
    >>> mx.unflatten(mx.zeros((2, 12)), 1, (3, -1)).shape
    (2, 3, 4)
    """
    s = stream_of(stream, "unflatten")
    n = _node(a, "unflatten")
    old = n.shape
    ndim = len(old)
    ax = _int(axis, "unflatten")
    if ax < 0:
        ax += ndim
    if not 0 <= ax < ndim:
        raise IndexError(f"[unflatten] Invalid axis {axis} for array with {ndim} dimensions.")
    if isinstance(shape, int) or not hasattr(shape, "__iter__"):
        raise TypeError("[unflatten] shape must be a sequence of integers.")
    shape = _ints(shape, "unflatten", "shape")
    if not shape:
        raise ValueError("[unflatten] Shape to unflatten to cannot be empty.")
    size = old[ax]
    if shape.count(-1) > 1:
        raise ValueError("[unflatten] Can only infer one dimension.")
    known = _size(d for d in shape if d != -1)
    if any(d < -1 for d in shape) or (-1 in shape and (known == 0 or size % known)) or \
            (-1 not in shape and known != size):
        raise ValueError(f"[unflatten] Cannot unflatten axis {axis} with size {size} into "
                         f"shape {_fmt(shape)}.")
    derive = ("unflatten", ax, shape)
    if -1 in shape:
        i = shape.index(-1)
        shape = shape[:i] + (size // known,) + shape[i + 1:]
    return _reshaped(n, old[:ax] + shape + old[ax + 1:], s, derive)


def squeeze(a, /, axis=None, *, stream=None):
    """Remove size-1 axes: all of them, or those in `axis`.

    >>> import mlxpy.core as mx
    >>> mx.squeeze(mx.zeros((1, 3, 1))).shape
    (3,)
    """
    s = stream_of(stream, "squeeze")
    n = _node(a, "squeeze")
    shape = n.shape
    if axis is None:
        axes = tuple([i for i, d in enumerate(shape) if d == 1])
        if not axes:
            return wrap(n)
        new = tuple([d for d in shape if d != 1])
    else:
        axes = _axis_list(axis, len(shape), "squeeze")
        for ax in axes:
            if shape[ax] != 1:
                raise ValueError(f"[squeeze] Cannot squeeze axis {ax} with size {shape[ax]} "
                                 "which is not equal to 1.")
        new = tuple(d for i, d in enumerate(shape) if i not in axes)
    return _reshaped(n, new, s, ("squeeze", axes))


def expand_dims(a, /, axis, *, stream=None):
    """Insert size-1 axes at the positions `axis` (an int or a sequence) of the result.

    >>> import mlxpy.core as mx
    >>> mx.expand_dims(mx.zeros((2, 3)), (0, -1)).shape
    (1, 2, 3, 1)
    """
    s = stream_of(stream, "expand_dims")
    n = _node(a, "expand_dims")
    if axis is None:
        raise TypeError("[expand_dims] axis must be an int or a sequence of ints.")
    count = 1 if _is_int(axis) else len(axis)
    out_ndim = len(n.shape) + count
    axes = _axis_list(axis, out_ndim, "expand_dims")
    return _expanded(n, axes, s)


# -- axis permutations -----------------------------------------------------------------

def transpose(a, /, axes=None, *, stream=None):
    """Permute the axes: reversed, or in the order `axes`.

    >>> import mlxpy.core as mx
    >>> mx.transpose(mx.zeros((2, 3, 4)), (1, 0, 2)).shape
    (3, 2, 4)
    """
    s = stream_of(stream, "transpose")
    n = _node(a, "transpose")
    ndim = len(n.shape)
    if axes is None:
        return _transposed(n, _REVERSED_PERMS[ndim] if ndim < 33 else
                           tuple(range(ndim - 1, -1, -1)), s)
    axes = _ints(axes, "transpose", "axes")
    if len(axes) != ndim:
        raise ValueError(f"[transpose] Received {len(axes)} axes for array with {ndim} "
                         "dimensions.")
    perm = tuple([ax + ndim if ax < 0 else ax for ax in axes])
    for p, ax in zip(perm, axes):
        if not 0 <= p < ndim:
            raise IndexError(f"[transpose] Invalid axis ({ax}) for array with {ndim} "
                             "dimensions.")
    if len(set(perm)) != ndim:
        raise ValueError("[transpose] Repeat axes not allowed.")
    return _transposed(n, perm, s)


def _transpose_method(self, *axes, stream=None):
    if not axes:
        axes = None
    elif len(axes) == 1 and (axes[0] is None or not _is_int(axes[0])):
        axes = axes[0]
    return transpose(self, axes, stream=stream)


def swapaxes(a, /, axis1, axis2, *, stream=None):
    """Exchange two axes.

    >>> import mlxpy.core as mx
    >>> mx.swapaxes(mx.zeros((2, 3, 4)), 0, -1).shape
    (4, 3, 2)
    """
    s = stream_of(stream, "swapaxes")
    n = _node(a, "swapaxes")
    ndim = len(n.shape)
    i = _axis(axis1, ndim, "swapaxes")
    j = _axis(axis2, ndim, "swapaxes")
    perm = list(range(ndim))
    perm[i], perm[j] = j, i
    return _transposed(n, tuple(perm), s)


def moveaxis(a, /, source, destination, *, stream=None):
    """Move axis `source` to position `destination`, keeping the others in order.

    >>> import mlxpy.core as mx
    >>> mx.moveaxis(mx.zeros((2, 3, 4)), 0, -1).shape
    (3, 4, 2)
    """
    s = stream_of(stream, "moveaxis")
    n = _node(a, "moveaxis")
    ndim = len(n.shape)
    src = _axis(source, ndim, "moveaxis", "Source axis")
    dst = _axis(destination, ndim, "moveaxis", "Destination axis")
    perm = [i for i in range(ndim) if i != src]
    perm.insert(dst, src)
    return _transposed(n, tuple(perm), s)


def _T(self):
    return transpose(self)


def _mT(self):
    if len(self._node.shape) < 2:
        raise ValueError("[matrix_transpose] Input array must have at least 2 dimensions.")
    return swapaxes(self, -1, -2)


# -- broadcasting ----------------------------------------------------------------------

def broadcast_to(a, /, shape, *, stream=None):
    """`a` (an array or a scalar) broadcast to `shape`.

    >>> import mlxpy.core as mx
    >>> mx.broadcast_to(mx.array([1, 2]), (2, 2))
    array([[1, 2],
           [1, 2]], dtype=int32)
    """
    s = stream_of(stream, "broadcast_to")
    n = a._node if type(a) is _array else node_of(a, "broadcast_to")
    if type(shape) is not tuple:
        if isinstance(shape, int) or not hasattr(shape, "__iter__"):
            raise TypeError("[broadcast_to] shape must be a sequence of integers.")
        shape = _ints(shape, "broadcast_to", "shape")
    elif not all(type(d) is int for d in shape):
        shape = _ints(shape, "broadcast_to", "shape")
    src = n.shape
    if shape == src:
        return wrap(n)
    if shape and min(shape) < 0:
        raise ValueError("[broadcast_to] Negative dimensions not allowed.")
    offset = len(shape) - len(src)
    if offset < 0 or any(d != 1 and d != shape[offset + i] for i, d in enumerate(src)):
        raise ValueError(f"[broadcast_to] Cannot broadcast array of shape {_fmt(src)} "
                         f"into shape {_fmt(shape)}.")
    return wrap(_Node(shape, n.dtype, P.Broadcast(shape), [n], s))


def broadcast_arrays(*arrays, stream=None):
    """The arrays broadcast against each other, as a list.

    >>> import mlxpy.core as mx
    >>> [x.shape for x in mx.broadcast_arrays(mx.zeros((2, 1)), mx.zeros(3))]
    [(2, 3), (2, 3)]
    """
    s = stream_of(stream, "broadcast_arrays")
    nodes = [_node(x, "broadcast_arrays") for x in arrays]
    if not nodes:
        return []
    shape = broadcast_shapes(*(n.shape for n in nodes))
    return [wrap(_broadcast_node(n, shape, s)) for n in nodes]


# -- joining and splitting -------------------------------------------------------------

def _array_nodes(arrays, where):
    if isinstance(arrays, _array):
        arrays = list(arrays)
    try:
        items = list(arrays)
    except TypeError:
        raise TypeError(f"[{where}] Expected a list of arrays, got {type(arrays).__name__}.") \
            from None
    return [_node(x, where) for x in items]


def _promoted(nodes, stream):
    dtype = nodes[0].dtype
    promote = _dt.PROMOTION
    for n in nodes[1:]:
        if n.dtype is not dtype:
            dtype = promote[dtype, n.dtype]
    return [cast_node(n, dtype, stream) for n in nodes]


def concatenate(arrays, axis=0, *, stream=None):
    """Join arrays along `axis` (`None`: flatten them first), promoting dtypes.

    >>> import mlxpy.core as mx
    >>> mx.concatenate([mx.array([1, 2]), mx.array([3.5])])
    array([1, 2, 3.5], dtype=float32)
    """
    s = stream_of(stream, "concatenate")
    nodes = _array_nodes(arrays, "concatenate")
    if not nodes:
        raise ValueError("[concatenate] No arrays provided for concatenation.")
    if axis is None:
        nodes = [n if len(n.shape) == 1 else _reshaped(n, (_size(n.shape),), s, _FLAT)._node
                 for n in nodes]
        axis = 0
    first = nodes[0].shape
    ndim = len(first)
    ax = _axis(axis, ndim, "concatenate")
    for n in nodes[1:]:
        if len(n.shape) != ndim:
            raise ValueError("[concatenate] All the input arrays must have the same number "
                             f"of dimensions. However, got arrays with dimensions {ndim} "
                             f"and {len(n.shape)}.")
    for n in nodes[1:]:
        sh = n.shape
        if sh[:ax] != first[:ax] or sh[ax + 1:] != first[ax + 1:]:
            shapes = ", ".join(_fmt(m.shape) for m in nodes)
            raise ValueError("[concatenate] All the input array dimensions must match "
                             "exactly except for the concatenation axis. However, the "
                             f"provided shapes are {shapes}, and the concatenation axis "
                             f"is {axis}.")
    nodes = _promoted(nodes, s)
    if len(nodes) == 1:
        return wrap(nodes[0])
    total = sum(n.shape[ax] for n in nodes)
    out = first[:ax] + (total,) + first[ax + 1:]
    return wrap(_Node(out, nodes[0].dtype, P.Concatenate(ax), nodes, s))


def concat(arrays, axis=0, *, stream=None):
    """Alias of `concatenate`.

    >>> import mlxpy.core as mx
    >>> mx.concat([mx.zeros((1, 2)), mx.ones((1, 2))], axis=1).shape
    (1, 4)
    """
    return concatenate(arrays, axis, stream=stream)


def stack(arrays, axis=0, *, stream=None):
    """Join equally shaped arrays along a new axis `axis`.

    >>> import mlxpy.core as mx
    >>> mx.stack([mx.array([1, 2]), mx.array([3, 4])], axis=1)
    array([[1, 3],
           [2, 4]], dtype=int32)
    """
    s = stream_of(stream, "stack")
    nodes = _array_nodes(arrays, "stack")
    if not nodes:
        raise ValueError("[stack] No arrays provided for stacking.")
    shape = nodes[0].shape
    for n in nodes[1:]:
        if n.shape != shape:
            raise ValueError("[stack] All arrays must have the same shape.")
    ax = _axis(0 if axis is None else axis, len(shape) + 1, "stack")
    return concatenate([_expanded(n, (ax,), s) for n in nodes], ax, stream=s)


def split(a, /, indices_or_sections, axis=0, *, stream=None):
    """Split `a` along `axis` into equal sections, or at the given indices.

    Indices follow Python slicing: negative ones count from the end, and a decreasing
    pair gives an empty piece.

    >>> import mlxpy.core as mx
    >>> [x.tolist() for x in mx.split(mx.arange(5), [2, 3])]
    [[0, 1], [2], [3, 4]]
    """
    s = stream_of(stream, "split")
    n = _node(a, "split")
    shape = n.shape
    ax = _axis(axis, len(shape), "split")
    size = shape[ax]
    if _is_int(indices_or_sections):
        sections = _index(indices_or_sections)
        if sections <= 0:
            raise ValueError("[split] num_splits must be positive and non-zero but got "
                             f"{sections}.")
        if size % sections:
            raise ValueError("[split] Array split does not result in sub arrays with equal "
                             f"size: attempting {sections} splits along axis {ax} for "
                             f"shape {_fmt(shape)}.")
        step = size // sections
        indices = tuple(step * i for i in range(1, sections))
    else:
        if isinstance(indices_or_sections, _array):
            indices_or_sections = indices_or_sections.tolist()
        try:
            raw = _ints(indices_or_sections, "split", "indices_or_sections")
        except TypeError:
            raise TypeError("[split] indices_or_sections must be an int or a sequence of "
                            "ints.") from None
        # Slicing reads of each index: count negatives from the end, clamp to the axis.
        indices = tuple(min(max(i + size if i < 0 else i, 0), size) for i in raw)
    if not indices:
        # One piece is the array itself; a Split node always has two or more outputs.
        return [wrap(n)]
    return make_multi(P.Split(indices, ax), [n], s)


# -- repetition and padding ------------------------------------------------------------

def repeat(array, /, repeats, axis=None, *, stream=None):
    """Repeat each element `repeats` times along `axis` (`None`: of the flattened array).

    >>> import mlxpy.core as mx
    >>> mx.repeat(mx.array([1, 2]), 2)
    array([1, 1, 2, 2], dtype=int32)
    """
    s = stream_of(stream, "repeat")
    n = _node(array, "repeat")
    r = _int(repeats, "repeat", "repeats")
    if r < 0:
        raise ValueError("[repeat] Number of repeats cannot be negative.")
    if axis is None:
        n = _reshaped(n, (_size(n.shape),), s, _FLAT)._node
        axis = 0
    shape = n.shape
    ax = _axis(axis, len(shape), "repeat")
    if r == 1:
        return wrap(n)
    # Each element gets its own length-r axis, broadcast, then merged back in.
    spread = shape[:ax + 1] + (1,) + shape[ax + 1:]
    wide = shape[:ax + 1] + (r,) + shape[ax + 1:]
    x = _broadcast_node(_reshaped(n, spread, s)._node, wide, s)
    return _reshaped(x, shape[:ax] + (shape[ax] * r,) + shape[ax + 1:], s)


def tile(a, reps, /, *, stream=None):
    """`a` repeated `reps` times along each axis (`reps` aligned to the last axes).

    >>> import mlxpy.core as mx
    >>> mx.tile(mx.array([1, 2]), 2)
    array([1, 2, 1, 2], dtype=int32)
    """
    s = stream_of(stream, "tile")
    n = _node(a, "tile")
    if _is_int(reps):
        reps = (_index(reps),)
    else:
        reps = _ints(reps, "tile", "reps")
    if any(r < 0 for r in reps):
        raise ValueError("[tile] reps must be non-negative.")
    shape = n.shape
    ndim = max(len(shape), len(reps))
    shape = (1,) * (ndim - len(shape)) + shape
    reps = (1,) * (ndim - len(reps)) + reps
    out = tuple(d * r for d, r in zip(shape, reps))
    if all(r == 1 for r in reps):
        return _expanded(n, tuple(range(ndim - len(n.shape))), s)
    # (d0, d1, ...) -> (1, d0, 1, d1, ...) -> (r0, d0, r1, d1, ...) -> (r0*d0, r1*d1, ...)
    spread = tuple(x for d in shape for x in (1, d))
    wide = tuple(x for d, r in zip(shape, reps) for x in (r, d))
    x = _broadcast_node(_reshaped(n, spread, s)._node, wide, s)
    return _reshaped(x, out, s)


def _pad_widths(pad_width, ndim):
    """Per-axis (low, high) pairs from MLX's accepted pad_width forms."""
    bad = TypeError("[pad] pad_width must be an int, a tuple (before, after) or a list of "
                    "(before, after) pairs.")
    if _is_int(pad_width):
        w = _index(pad_width)
        pairs = [(w, w)]
    elif isinstance(pad_width, (list, tuple)):
        items = list(pad_width)
        if items and all(_is_int(v) for v in items):
            if len(items) > 2:
                raise bad
            lo = _index(items[0])
            pairs = [(lo, _index(items[-1]))]
        elif all(isinstance(v, (list, tuple)) for v in items):
            if any(len(v) != 2 for v in items):
                raise bad
            pairs = [_ints(v, "pad", "pad_width") for v in items]
        else:
            raise bad
    else:
        raise bad
    if len(pairs) == 1:
        pairs = pairs * ndim
    if len(pairs) != ndim:
        raise ValueError(f"[pad] Invalid number of padding sizes passed to pad with axes of "
                         f"size {ndim}.")
    for i, (lo, hi) in enumerate(pairs):
        if lo < 0:
            raise ValueError(f"[pad] Invalid low padding size ({lo}) passed to pad for axis "
                             f"{i}. Padding sizes must be non-negative.")
        if hi < 0:
            raise ValueError(f"[pad] Invalid high padding size ({hi}) passed to pad for axis "
                             f"{i}. Padding sizes must be non-negative.")
    return pairs


def pad(a, pad_width, mode="constant", constant_values=0, *, stream=None):
    """Pad `a` with `constant_values` ('constant') or from its own edges ('edge',
    'reflect', 'symmetric').

    `pad_width` is an int (every side), a pair (before, after) for every axis, or one
    pair per axis.

    >>> import mlxpy.core as mx
    >>> mx.pad(mx.array([1, 2]), (1, 2), constant_values=9)
    array([9, 1, 2, 9, 9], dtype=int32)
    """
    s = stream_of(stream, "pad")
    n = _node(a, "pad")
    ndim = len(n.shape)
    pairs = _pad_widths(pad_width, ndim) if ndim else []
    if mode not in _PAD_MODES:
        raise ValueError(f"[pad] Invalid padding mode ({mode}) passed to pad.")
    from .creation import fill_node
    value = cast_node(fill_node(constant_values, n.dtype, "pad"), n.dtype, s)
    if not any(lo or hi for lo, hi in pairs):
        return wrap(n)
    if mode in ("reflect", "symmetric"):
        for i, (d, (lo, hi)) in enumerate(zip(n.shape, pairs)):
            if d == 0 and (lo or hi):
                raise ValueError(f"[pad] Cannot pad empty axis {i} using mode '{mode}'.")
    low = tuple(p[0] for p in pairs)
    high = tuple(p[1] for p in pairs)
    prim = P.Pad(low, high, mode)
    out = tuple(d + lo + hi for d, lo, hi in zip(n.shape, low, high))
    return wrap(_Node(out, n.dtype, prim, [n, value], s))


# -- diagonals -------------------------------------------------------------------------

def diagonal(a, offset=0, axis1=0, axis2=1, stream=None):
    """The `offset` diagonal of each (axis1, axis2) plane, as the last axis.

    >>> import mlxpy.core as mx
    >>> mx.diagonal(mx.arange(9).reshape(3, 3), 1)
    array([1, 5], dtype=int32)
    """
    s = stream_of(stream, "diagonal")
    n = _node(a, "diagonal")
    ndim = len(n.shape)
    if ndim < 2:
        raise ValueError("[diagonal] Array must have at least two dimensions, but got "
                         f"{ndim} dimensions.")
    off = _int(offset, "diagonal", "offset")
    a1 = _axis(axis1, ndim, "diagonal", "axis1")
    a2 = _axis(axis2, ndim, "diagonal", "axis2")
    if a1 == a2:
        raise ValueError("[diagonal] axis1 and axis2 cannot be the same axis.")
    prim = P.Diagonal(off, a1, a2)
    shape, dtype = prim.infer([n])
    return wrap(_Node(shape, dtype, prim, [n], s))


def diag(a, /, k=0, *, stream=None):
    """The k-th diagonal of a 2-D array, or a 2-D array with a 1-D array on it.

    >>> import mlxpy.core as mx
    >>> mx.diag(mx.array([1, 2]))
    array([[1, 0],
           [0, 2]], dtype=int32)
    """
    s = stream_of(stream, "diag")
    n = _node(a, "diag")
    k = _int(k, "diag", "k")
    ndim = len(n.shape)
    if ndim == 2:
        return diagonal(wrap(n), k, 0, 1, stream=s)
    if ndim != 1:
        raise ValueError(f"[diag] array must be 1-D or 2-D, got array with {ndim} "
                         "dimensions.")
    size = n.shape[0] + abs(k)
    return wrap(_Node((size, size), n.dtype, P.Diag(k), [n], s))


# -- reversal --------------------------------------------------------------------------

_ALL = slice(None)
_REVERSED = slice(None, None, -1)


def flip(a, /, axis=None, *, stream=None):
    """`a` with the order of elements reversed along `axis` (`None`: every axis).

    >>> import mlxpy.core as mx
    >>> mx.flip(mx.array([[1, 2], [3, 4]]), 1)
    array([[2, 1],
           [4, 3]], dtype=int32)
    """
    s = stream_of(stream, "flip")
    n = _node(a, "flip")
    ndim = len(n.shape)
    if axis is None:
        axes = range(ndim)
    elif _is_int(axis):
        axes = (_axis(axis, ndim, "flip"),)
    else:
        # A repeated axis flips once, as in MLX.
        axes = {_axis(ax, ndim, "flip") for ax in axis}
    if not axes:
        return wrap(n)
    from ..primitives.indexing import Slice
    key = tuple(_REVERSED if i in axes else _ALL for i in range(ndim))
    return wrap(_Node(n.shape, n.dtype, Slice(key), [n], s))


# -- at least N dimensions -------------------------------------------------------------

def _atleast(arys, stream, where, new_axes):
    """`new_axes[k]`: where an array of k dimensions gets its new axes (the last entry
    serves every larger k)."""
    s = stream_of(stream, where)
    out = []
    for x in arys:
        n = _node(x, where)
        out.append(_expanded(n, new_axes[min(len(n.shape), len(new_axes) - 1)], s))
    return out[0] if len(out) == 1 else out


def atleast_1d(*arys, stream=None):
    """Each array with at least one dimension (a list when given several).

    >>> import mlxpy.core as mx
    >>> mx.atleast_1d(mx.array(3)).shape
    (1,)
    """
    return _atleast(arys, stream, "atleast_1d", ((0,), ()))


def atleast_2d(*arys, stream=None):
    """Each array with at least two dimensions; new axes go in front.

    >>> import mlxpy.core as mx
    >>> mx.atleast_2d(mx.zeros(3)).shape
    (1, 3)
    """
    return _atleast(arys, stream, "atleast_2d", ((0, 1), (0,), ()))


def atleast_3d(*arys, stream=None):
    """Each array with at least three dimensions: a 1-D (n,) becomes (1, n, 1), a 2-D
    (m, n) becomes (m, n, 1).

    >>> import mlxpy.core as mx
    >>> mx.atleast_3d(mx.zeros((2, 3))).shape
    (2, 3, 1)
    """
    return _atleast(arys, stream, "atleast_3d", ((0, 1, 2), (0, 2), (2,), ()))


# -- array methods ---------------------------------------------------------------------

def _flatten_method(self, start_axis=0, end_axis=-1, *, stream=None):
    return flatten(self, start_axis, end_axis, stream=stream)


def _squeeze_method(self, axis=None, *, stream=None):
    return squeeze(self, axis, stream=stream)


def _swapaxes_method(self, axis1, axis2, *, stream=None):
    return swapaxes(self, axis1, axis2, stream=stream)


def _moveaxis_method(self, source, destination, *, stream=None):
    return moveaxis(self, source, destination, stream=stream)


def _split_method(self, indices_or_sections, axis=0, *, stream=None):
    return split(self, indices_or_sections, axis, stream=stream)


def _diag_method(self, k=0, *, stream=None):
    return diag(self, k, stream=stream)


def _diagonal_method(self, offset=0, axis1=0, axis2=1, stream=None):
    return diagonal(self, offset, axis1, axis2, stream)


for _name, _fn in (("reshape", _reshape_method), ("flatten", _flatten_method),
                   ("squeeze", _squeeze_method), ("transpose", _transpose_method),
                   ("swapaxes", _swapaxes_method), ("moveaxis", _moveaxis_method),
                   ("split", _split_method), ("diag", _diag_method),
                   ("diagonal", _diagonal_method)):
    _fn.__name__ = _name
    _fn.__qualname__ = "array." + _name
    _fn.__doc__ = f"Method form of `mlxpy.core.{_name}`."
attach_methods({
    "reshape": _reshape_method, "flatten": _flatten_method, "squeeze": _squeeze_method,
    "transpose": _transpose_method, "swapaxes": _swapaxes_method,
    "moveaxis": _moveaxis_method, "split": _split_method, "diag": _diag_method,
    "diagonal": _diagonal_method,
    "T": property(_T, doc="The array with its axes reversed (`transpose()`)."),
    "mT": property(_mT, doc="The array with its last two axes swapped."),
})
