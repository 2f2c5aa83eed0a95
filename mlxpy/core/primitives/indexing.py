"""Indexing primitives: basic slices (NumPy views), gathers, scatters, dynamic slices.

Keys are NumPy-style tuples that the ops have already checked against the input shape:
an int is in range and non-negative, a slice has int or None bounds (the indexing ops
pass either the full ``slice(None)`` or the concrete bounds of ``slice.indices``, with
None for the stop -1 of a negative step), ``None`` inserts an axis of size 1, and
``ARRAY`` stands for the next integer index array among the primitive's inputs. There
is no Ellipsis: trailing axes not named by the key are taken whole. Integer index
arrays follow NumPy's advanced-indexing rules (which MLX shares), including where the
broadcast index dimensions land.

Out-of-range entries of index arrays are clamped by gathers and dropped by scatters,
so evaluation never fails on them (MLX itself reads and writes out of bounds there).

Transform rules. Every primitive here is linear in its data inputs except the
multiply / maximum / minimum scatters, so most jvps re-apply the primitive to the
tangents and most vjps are the adjoint map: a gather's is a scatter-add, a slice's
writes the cotangent into zeros. Index inputs get no derivative. Under vmap, keys
are rewritten rather than looped over: a batched operand gets a full slice in its
key, a batched index array a batch dimension, and when both are batched an
``arange`` over the batch joins the index arrays, so each example reads and writes
its own slice.
"""
import numpy as np

import mlxpy.core as mx

from ._rules import apply, to_front, unbroadcast
from .base import Primitive


class _IndexArray:
    """The placeholder for an index array inside a key."""
    __slots__ = ()

    def __repr__(self):
        return "ARRAY"

    def __reduce__(self):
        return "ARRAY"


ARRAY = _IndexArray()
_ELLIPSIS = (Ellipsis,)


def key_params(key):
    """A hashable form of a key (slices are unhashable before Python 3.12)."""
    return tuple((k.start, k.stop, k.step) if type(k) is slice else k for k in key)


def _broadcast(*shapes):
    from ..ops._core import broadcast_shapes
    return broadcast_shapes(*shapes)


def _slice_length(k, d):
    if k.start is None and k.stop is None and k.step is None:
        return d
    return len(range(*k.indices(d)))


def indexed_shape(shape, key, array_shapes=()):
    """The shape of ``x[key]`` for ``x`` of `shape`, by NumPy's indexing rules."""
    out = []
    axis = 0
    adv = []  # (position in key, position in out) of ints and arrays
    for pos, k in enumerate(key):
        if k is None:
            out.append(1)
        elif type(k) is slice:
            out.append(_slice_length(k, shape[axis]))
            axis += 1
        else:
            adv.append((pos, len(out)))
            axis += 1
    out.extend(shape[axis:])
    if array_shapes:
        index_shape = _broadcast(*array_shapes)
        # Index dimensions go where the advanced indices are when those are adjacent,
        # and first when a slice or None separates them.
        first, last = adv[0][0], adv[-1][0]
        at = adv[0][1] if last - first == len(adv) - 1 else 0
        out[at:at] = index_shape
    return tuple(out)


def array_axes(key):
    """((position in key, input axis) for each ARRAY in key), in order."""
    found = []
    axis = 0
    for pos, k in enumerate(key):
        if k is ARRAY:
            found.append((pos, axis))
        if k is not None:
            axis += 1
    return tuple(found)


def _as_index(xp, idx):
    # int32 holds every valid position (MLX shapes are int32); other dtypes are widened
    # so that adding a dimension size cannot overflow.
    if idx.dtype != xp.int32 and idx.dtype != xp.intp:
        idx = idx.astype(xp.intp)
    return idx


def clamped_index(xp, idx, n):
    """Indices into an axis of size n: negatives count from the end, the rest clamp."""
    # Clamping into [-n, n - 1] lets NumPy's own negative indexing do the wrap.
    return xp.clip(_as_index(xp, idx), -n, n - 1)


def _wrapped_index(xp, idx, n):
    idx = _as_index(xp, idx)
    if idx.dtype.kind == "i":
        idx = xp.where(idx < 0, idx + n, idx)
    return idx


def _dropping_out_of_range(xp, out, key, arrays, index_axes):
    """(target, key, region): the key with its index arrays substituted, and the array
    to update. When some index is out of range, the target is a copy of `out` with one
    spare slot at the end of each indexed axis, those indices point there, and `region`
    slices the real array back out afterwards; otherwise region is None."""
    key = list(key)
    outside = False
    wrapped = []
    for (pos, axis), idx in zip(index_axes, arrays):
        n = out.shape[axis]
        idx = _wrapped_index(xp, idx, n)
        if xp.name != "numpy":
            # Asking the GPU whether an index is out of range would wait for all queued
            # work; the spare slot costs a copy of the target instead.
            outside = outside or idx.size > 0
        elif idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
            outside = True
        wrapped.append(idx)
    region = None
    if outside:
        shape = list(out.shape)
        for _, axis in index_axes:
            shape[axis] += 1
        padded = xp.zeros(shape, out.dtype)
        region = tuple(slice(0, d) for d in out.shape)
        padded[region] = out
        out = padded
    for (pos, axis), idx in zip(index_axes, wrapped):
        if outside:
            n = out.shape[axis] - 1
            idx = xp.where((idx < 0) | (idx >= n), n, idx)
        key[pos] = idx
    key.append(Ellipsis)
    return out, tuple(key), region


# -- helpers of the transform rules ------------------------------------------------------

_FULL = slice(None)


def _is_advanced(k):
    return k is not None and type(k) is not slice


def _block(key):
    """(p, adjacent, at) for a key holding index arrays: p is the key position of the
    first advanced entry (ints count, as in NumPy), `adjacent` whether the advanced
    entries are contiguous, `at` where the broadcast index dimensions land in the
    output. Every entry before p is a slice or None, one output axis each."""
    adv = [pos for pos, k in enumerate(key) if _is_advanced(k)]
    p = adv[0]
    adjacent = adv[-1] - p == len(adv) - 1
    return p, adjacent, (p if adjacent else 0)


def _sources(key, ndim, block_rank):
    """For each axis of ``x[key]`` (x of rank `ndim`): the input axis it comes from,
    None for an inserted axis, or "index" for a broadcast index dimension."""
    has_arrays = any(k is ARRAY for k in key)
    out = []
    axis = 0
    for k in key:
        if k is None:
            out.append(None)
        elif type(k) is slice:
            out.append(axis)
            axis += 1
        else:
            axis += 1
    out.extend(range(axis, ndim))
    if has_arrays:
        at = _block(key)[2]
        out[at:at] = ["index"] * block_rank
    return out


def _input_axis(key, pos):
    """The input axis that the key entry at `pos` (not None) consumes."""
    return sum(k is not None for k in key[:pos])


def _entry_of_axis(key, axis):
    """The key position of the entry consuming input `axis`; None for a trailing axis
    that the key leaves whole."""
    seen = 0
    for pos, k in enumerate(key):
        if k is None:
            continue
        if seen == axis:
            return pos
        seen += 1
    return None


def _batch_size(inputs, axes):
    return next(x.shape[a] for x, a in zip(inputs, axes) if a is not None)


def _per_example(x, ax):
    return x.shape if ax is None else x.shape[:ax] + x.shape[ax + 1:]


def _with_batch_at(x, ax, target, size):
    """`x` with its batch axis at `target`, broadcast there if `x` is unbatched."""
    if ax is None:
        x = mx.expand_dims(x, target)
        return mx.broadcast_to(x, x.shape[:target] + (size,) + x.shape[target + 1:])
    return x if ax == target else mx.moveaxis(x, ax, target)


def _batched_key(key, x, bx, arrays, array_axes, size, update):
    """Rewrite ``x[key]`` (index `arrays` in key order) for batched inputs.

    Returns (x, key, arrays, q, x_axis): ``x[key]`` then holds every example's result,
    with the batch at axis q and each example's axes in their usual order; x's batch
    axis is x_axis (None when x stays unbatched, which only reads allow).
    """
    per_index = [_per_example(a, b) for a, b in zip(arrays, array_axes)]
    block_rank = len(_broadcast(*per_index)) if arrays else 0
    if any(b is not None for b in array_axes):
        p, _, at = _block(key)
        # Batched index arrays lead with the batch, padded to a common rank so that
        # the index dimensions broadcast to (batch, *per-example index shape).
        aligned = []
        for a, b in zip(arrays, array_axes):
            if b is not None:
                a = to_front(a, b)
                missing = block_rank - (a.ndim - 1)
                if missing:
                    a = mx.reshape(a, a.shape[:1] + (1,) * missing + a.shape[1:])
            aligned.append(a)
        if bx is None and not update:
            return x, key, aligned, at, None
        # Every example reads its own slice of x: an arange over the batch joins the
        # index arrays, next to them so that their dimensions stay where they were.
        axis = _input_axis(key, p)
        x = _with_batch_at(x, bx, axis, size)
        rows = mx.reshape(mx.arange(size), (size,) + (1,) * block_rank)
        return x, key[:p] + (ARRAY,) + key[p:], [rows] + aligned, at, axis
    if bx is None:
        x = _with_batch_at(x, None, 0, size)
        key = (_FULL,) + key
        bx = 0
    else:
        pos = _entry_of_axis(key, bx)
        if pos is not None:
            if arrays:
                p, adjacent, _ = _block(key)
                last = max(i for i, k in enumerate(key) if _is_advanced(k))
                if adjacent and p < pos <= last:
                    # A slice inside the advanced entries would move the index
                    # dimensions to the front: batch just before them instead.
                    pos = p
                    axis = _input_axis(key, p)
                    x = mx.moveaxis(x, bx, axis)
                    bx = axis
            key = key[:pos] + (_FULL,) + key[pos:]
    q = _sources(key, x.ndim, block_rank).index(bx)
    return x, key, arrays, q, bx


def _place_values(v, bv, n_out, q, size):
    """Update values broadcastable to an example's ``x[key]`` (rank n_out) made
    broadcastable to the batched ``x[key]``, whose batch axis is q."""
    if bv is None:
        # Values line up with the result from the right: a batch axis falling among
        # their axes needs a size-1 axis there.
        extra = v.ndim - (n_out - q)
        return mx.expand_dims(v, extra) if extra > 0 else v
    v = to_front(v, bv)
    missing = n_out - (v.ndim - 1)
    if missing:
        v = mx.reshape(v, v.shape[:1] + (1,) * missing + v.shape[1:])
    return mx.moveaxis(v, 0, q) if q else v


def _clamped(idx, n):
    """`idx` clamped into [-n, n-1] as gathers read it, so that a scatter at the
    result writes where the gather read."""
    if n == 0:
        return idx
    info = np.iinfo(idx.dtype.np)
    lo, hi = max(-n, int(info.min)), min(n - 1, int(info.max))
    if lo <= info.min and info.max <= hi:
        return idx
    return mx.clip(idx, lo if info.min < lo else None, hi if hi < info.max else None)


def _in_range(idx, n):
    """Whether each index names an element of an axis of size n (negatives wrap)."""
    info = np.iinfo(idx.dtype.np)
    ok = None
    if info.max >= n:
        ok = mx.less(idx, n)
    if info.min < -n:
        low = mx.greater_equal(idx, -n)
        ok = low if ok is None else mx.logical_and(ok, low)
    return mx.ones(idx.shape, mx.bool_) if ok is None else ok


def _tangent_of(k, primals, tangents, argnums):
    """The tangent of input k, zeros where it has none."""
    if k in argnums:
        return tangents[argnums.index(k)]
    return mx.zeros_like(primals[k])


def _float_like(dtype):
    return dtype.kind in "fc"


def _shared(a, count):
    """`a` split among `count` tied inputs (None: not split)."""
    return a if count is None else a / count


class Slice(Primitive):
    """``x[key]`` for a basic key (ints, slices, None): a view of the input.

    `bounds(shape)` gives the equivalent per-axis (starts, stops, steps); ints and
    None then only drop or insert axes of size 1.
    """
    __slots__ = ("key",)

    def __init__(self, key):
        # Only stores the key: the getitem hot path makes instances without this call.
        self.key = key

    def params(self):
        return (key_params(self.key),)

    def infer(self, inputs):
        x = inputs[0]
        return indexed_shape(x.shape, self.key), x.dtype

    def eval(self, xp, inputs):
        # A trailing Ellipsis makes NumPy return a 0-d view rather than a scalar.
        return inputs[0][self.key + _ELLIPSIS]

    def bounds(self, shape):
        starts, stops, steps = [], [], []
        axis = 0
        for k in self.key:
            if k is None:
                continue
            if type(k) is slice:
                start, stop, step = k.indices(shape[axis])
            else:
                start, stop, step = k, k + 1, 1
            starts.append(start)
            stops.append(stop)
            steps.append(step)
            axis += 1
        for d in shape[axis:]:
            starts.append(0)
            stops.append(d)
            steps.append(1)
        return tuple(starts), tuple(stops), tuple(steps)

    def vjp(self, primals, cotangents, argnums, outputs):
        x, g = primals[0], cotangents[0]
        return [apply(SliceUpdate(self.key), [mx.zeros(x.shape, g.dtype), g])]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, tangents)]

    def vmap(self, inputs, axes):
        x, key, _, q, _ = _batched_key(self.key, inputs[0], axes[0], (), (), None, False)
        return [apply(Slice(key), [x])], [q]


def _read(key, a, arrays, outside="clamp"):
    """``a[key]`` with the index `arrays`, through the primitive that reads it."""
    if arrays:
        return apply(Gather(key, outside), [a] + list(arrays))
    return apply(Slice(key), [a])


class Gather(Primitive):
    """``x[key]`` where the key holds integer index arrays (inputs: x, then the arrays).

    Out-of-range indices are clamped (`outside` "clamp", what indexing does) or read
    zeros ("zero": the adjoint of a scatter, which drops them)."""
    __slots__ = ("key", "outside", "_arrays")

    def __init__(self, key, outside="clamp"):
        self.key = key
        self.outside = outside
        self._arrays = array_axes(key)

    def params(self):
        return (key_params(self.key), self.outside)

    def infer(self, inputs):
        x = inputs[0]
        return indexed_shape(x.shape, self.key, [i.shape for i in inputs[1:]]), x.dtype

    def eval(self, xp, inputs):
        x = inputs[0]
        if self.outside == "zero":
            target, key, _ = _dropping_out_of_range(xp, x, self.key, inputs[1:], self._arrays)
            return target[key]
        key = list(self.key)
        for (pos, axis), idx in zip(self._arrays, inputs[1:]):
            key[pos] = clamped_index(xp, idx, x.shape[axis])
        key.append(Ellipsis)
        return x[tuple(key)]

    def vjp(self, primals, cotangents, argnums, outputs):
        if 0 not in argnums:
            return [None] * len(argnums)
        x, g, arrays = primals[0], cotangents[0], primals[1:]
        if self.outside == "clamp":
            arrays = [_clamped(a, x.shape[axis]) for (_, axis), a in zip(self._arrays, arrays)]
        # Repeated indices read one element several times: their cotangents add up.
        gx = apply(Scatter(self.key, "add"), [mx.zeros(x.shape, g.dtype), g] + list(arrays))
        return [gx if k == 0 else None for k in argnums]

    def jvp(self, primals, tangents, argnums):
        if 0 not in argnums:
            shape, dtype = self.infer([p._node for p in primals])
            return [mx.zeros(shape, dtype)]
        return [apply(self, [tangents[0]] + list(primals[1:]))]

    def vmap(self, inputs, axes):
        size = _batch_size(inputs, axes)
        x, key, arrays, q, _ = _batched_key(self.key, inputs[0], axes[0], inputs[1:],
                                            axes[1:], size, False)
        return [apply(Gather(key, self.outside), [x] + arrays)], [q]


class Take(Primitive):
    """``take(x, indices, axis)``: along `axis`, or over the flattened input if None."""
    __slots__ = ("axis",)

    def infer(self, inputs):
        x, idx = inputs
        if self.axis is None:
            return idx.shape, x.dtype
        s = x.shape
        return s[:self.axis] + idx.shape + s[self.axis + 1:], x.dtype

    def eval(self, xp, inputs):
        x, idx = inputs
        axis = self.axis
        n = x.size if axis is None else x.shape[axis]
        return xp.asarray(xp.take(x, clamped_index(xp, idx, n), axis=axis))

    def _key(self):
        # take along an axis reads what x[:, ..., :, indices] reads.
        return (_FULL,) * (self.axis or 0) + (ARRAY,)

    def vjp(self, primals, cotangents, argnums, outputs):
        if 0 not in argnums:
            return [None] * len(argnums)
        (x, idx), g = primals, cotangents[0]
        flat = (x.size,) if self.axis is None else x.shape
        n = flat[self.axis or 0]
        gx = apply(Scatter(self._key(), "add"),
                   [mx.zeros(flat, g.dtype), g, _clamped(idx, n)])
        if self.axis is None:
            gx = mx.reshape(gx, x.shape)
        return [gx if k == 0 else None for k in argnums]

    def jvp(self, primals, tangents, argnums):
        if 0 not in argnums:
            shape, dtype = self.infer([p._node for p in primals])
            return [mx.zeros(shape, dtype)]
        return [apply(self, [tangents[0], primals[1]])]

    def vmap(self, inputs, axes):
        (x, idx), (bx, bi) = inputs, axes
        axis = self.axis
        if bi is None:
            if axis is None:
                x = to_front(x, bx)
                x = mx.reshape(x, (x.shape[0], -1))
                return [apply(Take(1), [x, idx])], [0]
            moved = axis + (bx <= axis)
            return [apply(Take(moved), [x, idx])], [bx if bx < moved else bx + idx.ndim - 1]
        if bx is None:
            # The index dimensions replace `axis`, the batch among them.
            return [apply(self, [x, idx])], [bi + (axis or 0)]
        if axis is None:
            x = to_front(x, bx)
            x = mx.reshape(x, (x.shape[0], -1))
            bx = 0
        return Gather(self._key()).vmap([x, idx], [bx, bi])


def _along_shape(x_shape, idx_shape, axis):
    """Broadcast shape of x and indices over every axis but `axis` (which keeps idx's)."""
    xs = list(x_shape)
    xs[axis] = 1
    ids = list(idx_shape)
    ids[axis] = 1
    out = list(_broadcast(tuple(xs), tuple(ids)))
    out[axis] = idx_shape[axis]
    return tuple(out)


def _to_front_or_lead(x, ax):
    """`x` with its batch axis first, or a size-1 axis there if it is unbatched."""
    return mx.expand_dims(x, 0) if ax is None else to_front(x, ax)


class TakeAlongAxis(Primitive):
    """``take_along_axis(x, indices, axis)``; x and indices broadcast off `axis`."""
    __slots__ = ("axis",)

    def infer(self, inputs):
        x, idx = inputs
        return _along_shape(x.shape, idx.shape, self.axis), x.dtype

    def eval(self, xp, inputs):
        x, idx = inputs
        axis = self.axis
        out = _along_shape(x.shape, idx.shape, axis)
        if xp.take_along is not None:  # one kernel on the GPU
            result = xp.take_along(x, idx, axis, out)
            if result is not None:
                return result
        xb = list(out)
        xb[axis] = x.shape[axis]
        x = xp.broadcast_to(x, tuple(xb))
        idx = xp.broadcast_to(clamped_index(xp, idx, x.shape[axis]), out)
        return xp.take_along_axis(x, idx, axis)

    def vjp(self, primals, cotangents, argnums, outputs):
        if 0 not in argnums:
            return [None] * len(argnums)
        (x, idx), g, axis = primals, cotangents[0], self.axis
        n = x.shape[axis]
        # Scatter-add into x broadcast against the indices, then sum the broadcast away.
        target = g.shape[:axis] + (n,) + g.shape[axis + 1:]
        gx = apply(PutAlongAxis(axis, "add"),
                   [mx.zeros(target, g.dtype), _clamped(idx, n), g])
        return [unbroadcast(gx, x.shape) if k == 0 else None for k in argnums]

    def jvp(self, primals, tangents, argnums):
        if 0 not in argnums:
            shape, dtype = self.infer([p._node for p in primals])
            return [mx.zeros(shape, dtype)]
        return [apply(self, [tangents[0], primals[1]])]

    def vmap(self, inputs, axes):
        x = _to_front_or_lead(inputs[0], axes[0])
        idx = _to_front_or_lead(inputs[1], axes[1])
        return [apply(TakeAlongAxis(self.axis + 1), [x, idx])], [0]


def _winners(write, read, ids_shape, target_shape):
    """Where a "set" scatter's update took effect: each update writes its own id with
    `write`, then `read` reads the ids back; an update overwritten by a later one at
    the same position, or dropped as out of range, does not find its id."""
    ids = mx.reshape(mx.arange(_size(ids_shape)), ids_shape)
    written = write(mx.full(target_shape, -1, mx.int32), ids)
    return mx.equal(read(written), ids)


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


class PutAlongAxis(Primitive):
    """``put_along_axis(x, indices, values, axis)`` (inputs x, indices, values; axis None
    works on the flattened x). Indices and values broadcast together, then against x
    off `axis`; out-of-range indices are dropped. With mode "set" a repeated index
    keeps the last value; with "add" (the adjoint of take_along_axis) values add up."""
    __slots__ = ("axis", "mode")

    def __init__(self, axis, mode="set"):
        self.axis = axis
        self.mode = mode

    def params(self):
        return (self.axis, self.mode)

    def infer(self, inputs):
        x = inputs[0]
        return x.shape, x.dtype

    def eval(self, xp, inputs):
        x, idx, values = inputs
        if self.mode == "add" and self.axis is not None and xp.scatter_add_along is not None:
            full = _along_shape(x.shape, _broadcast(idx.shape, values.shape), self.axis)
            result = xp.scatter_add_along(x, idx, values, self.axis, full)
            if result is not None:  # one kernel on the GPU
                return result
        out = x.copy()
        target = out.reshape(-1) if self.axis is None else out
        axis = 0 if self.axis is None else self.axis
        full = _along_shape(target.shape, _broadcast(idx.shape, values.shape), axis)
        idx = xp.broadcast_to(idx, full)
        values = xp.broadcast_to(values, full)
        # Spell the index out in full: a broadcast arange on every axis but `axis`.
        key = []
        for a, d in enumerate(full):
            if a == axis:
                key.append(ARRAY)
            else:
                shape = [1] * len(full)
                shape[a] = d
                key.append(xp.arange(d).reshape(shape))
        target, np_key, region = _dropping_out_of_range(xp, target, key, [idx], ((axis, axis),))
        if self.mode == "set":
            xp.scatter_set(target, np_key, values)
        else:
            xp.scatter_apply(self.mode, target, np_key, values)
        if region is None:
            return out  # target was out, or a flat view of it
        return xp.ascontiguousarray(target[region]).reshape(x.shape)

    def vjp(self, primals, cotangents, argnums, outputs):
        (x, idx, values), g = primals, cotangents[0]
        out = []
        for k in argnums:
            if k == 0:
                out.append(g if self.mode == "add" else
                           apply(self, [g, idx, mx.zeros((), g.dtype)]))
            elif k == 2:
                out.append(self._values_vjp(x, idx, values, g))
            else:
                out.append(None)
        return out

    def _values_vjp(self, x, idx, values, g):
        axis = self.axis
        if axis is None:
            g = mx.reshape(g, (-1,))
            axis = 0
        full = _along_shape(g.shape, _broadcast(idx.shape, values.shape), axis)
        idx = mx.broadcast_to(idx, full)
        read = TakeAlongAxis(axis)
        picked = apply(read, [g, idx])
        if self.mode == "set":
            put = PutAlongAxis(axis)
            took = _winners(lambda t, ids: apply(put, [t, idx, ids]),
                            lambda w: apply(read, [w, idx]), full, g.shape)
        else:
            took = _in_range(idx, g.shape[axis])
        return unbroadcast(mx.where(took, picked, 0), values.shape)

    def jvp(self, primals, tangents, argnums):
        tx = _tangent_of(0, primals, tangents, argnums)
        tv = _tangent_of(2, primals, tangents, argnums)
        return [apply(self, [tx, primals[1], tv])]

    def vmap(self, inputs, axes):
        (x, idx, values), (bx, bi, bv) = inputs, axes
        size = _batch_size(inputs, axes)
        x = _with_batch_at(x, bx, 0, size)
        shape = x.shape
        if self.axis is None:
            x = mx.reshape(x, (size, -1))
        ndim = x.ndim
        idx = _to_front_or_lead(idx, bi)
        values = _to_front_or_lead(values, bv)
        if values.ndim < ndim:
            values = mx.reshape(values, values.shape[:1] + (1,) * (ndim - values.ndim) +
                                values.shape[1:])
        out = apply(PutAlongAxis((self.axis or 0) + 1, self.mode), [x, idx, values])
        if self.axis is None:
            out = mx.reshape(out, shape)
        return [out], [0]


_UPDATE_MODES = ("set", "add", "multiply", "maximum", "minimum")


class Scatter(Primitive):
    """``x[key] = values`` (mode "set") or ``x[key] = op(x[key], values)`` for mode in
    add / multiply / maximum / minimum, where a position named several times by the
    index arrays takes every update ("set": the last one). Inputs: x, values (already
    of x's dtype and broadcastable to ``x[key]``), then the index arrays.

    Derivatives: "set" credits only the update that stayed (MLX credits every
    repeat); maximum / minimum credit the inputs equal to the result, splitting the
    cotangent among ties (MLX gives each the whole of it); multiply (which MLX cannot
    differentiate) uses the product of the other factors, exact at zeros."""
    __slots__ = ("key", "mode", "_arrays", "_np_key")

    def __init__(self, key, mode):
        if mode not in _UPDATE_MODES:
            raise ValueError(f"[scatter] Unknown mode {mode!r}.")
        self.key = key
        self.mode = mode
        self._arrays = array_axes(key)
        self._np_key = key + (Ellipsis,)

    def params(self):
        return (key_params(self.key), self.mode)

    def infer(self, inputs):
        x = inputs[0]
        return x.shape, x.dtype

    def eval(self, xp, inputs):
        x, values = inputs[0], inputs[1]
        out = x.copy()
        if not self._arrays:
            # A basic key names each position once: update the view in place.
            if self.mode == "set":
                out[self._np_key] = values
            else:
                view = out[self._np_key]
                getattr(xp, self.mode)(view, values, out=view)
            return out
        target, key, region = _dropping_out_of_range(xp, out, self.key, inputs[2:],
                                                     self._arrays)
        if self.mode == "set":
            xp.scatter_set(target, key, values)
        else:
            xp.scatter_apply(self.mode, target, key, values)
        if region is not None:
            return xp.ascontiguousarray(target[region])
        return target

    def _with(self, mode, x, values, arrays):
        return apply(Scatter(self.key, mode), [x, values] + list(arrays))

    def _factor(self, x, values, arrays):
        """The product of the updates at each position of x (1 where there are none)."""
        return self._with("multiply", mx.ones(x.shape, x.dtype), values, arrays)

    def _cofactor(self, x, values, arrays):
        """For each update (broadcast to x[key]), the product of the other updates at
        its position: zeros are counted rather than divided by, so it stays exact."""
        key = self.key
        values = mx.broadcast_to(values, indexed_shape(x.shape, key, [a.shape for a in arrays]))
        is_zero = mx.equal(values, 0)
        nonzero = mx.where(is_zero, 1, values)
        zeros = _read(key, self._with("add", mx.zeros(x.shape, mx.int32),
                                      is_zero.astype(mx.int32), arrays), arrays)
        product = _read(key, self._factor(x, nonzero, arrays), arrays)
        return mx.where(is_zero, mx.where(mx.equal(zeros, 1), product, 0),
                        mx.where(mx.equal(zeros, 0), product / nonzero, 0))

    def vjp(self, primals, cotangents, argnums, outputs):
        x, values, arrays = primals[0], primals[1], primals[2:]
        g, out, mode = cotangents[0], outputs[0], self.mode
        if mode == "multiply" and not _float_like(x.dtype):
            return [mx.zeros_like(primals[k]) if k < 2 else None for k in argnums]
        grads = []
        for k in argnums:
            if k == 0:
                if mode == "set":
                    gx = self._with("set", g, mx.zeros((), g.dtype), arrays)
                elif mode == "add":
                    gx = g
                elif mode == "multiply":
                    gx = g * mx.conjugate(self._factor(x, values, arrays))
                else:
                    x_won, _, count = self._ties(x, values, arrays, out)
                    gx = mx.where(x_won, _shared(g, count), 0)
                grads.append(gx)
            elif k == 1:
                gv = self._values_vjp(x, values, arrays, g, out)
                grads.append(unbroadcast(gv, values.shape))
            else:
                grads.append(None)
        return grads

    def _values_vjp(self, x, values, arrays, g, out):
        key, mode = self.key, self.mode
        # Updates at out-of-range indices were dropped: they read a zero cotangent.
        if mode == "multiply":
            picked = _read(key, g * mx.conjugate(x), arrays, "zero")
            return picked * mx.conjugate(self._cofactor(x, values, arrays))
        picked = _read(key, g, arrays, "zero")
        if mode == "add" or (mode == "set" and not arrays):
            return picked
        if mode == "set":
            shape = indexed_shape(x.shape, key, [a.shape for a in arrays])
            took = _winners(lambda t, ids: self._with("set", t, ids, arrays),
                            lambda w: _read(key, w, arrays), shape, x.shape)
            return mx.where(took, picked, 0)
        _, won, count = self._ties(x, values, arrays, out)
        if count is not None:
            count = _read(key, count, arrays)
        return mx.where(won, _shared(picked, count), 0)

    def _ties(self, x, values, arrays, out):
        """For maximum / minimum: where x's element is the result, where each update
        (in x[key]'s layout) is, and how many inputs tie for each result (at least 1;
        None for integers, whose cotangents pass whole, as in MLX). Tied inputs share
        the cotangent equally, as max and min reductions do; copies of one broadcast
        value then add up to its whole derivative."""
        x_won = mx.equal(out, x)
        won = mx.equal(_read(self.key, out, arrays), values)
        shape = indexed_shape(x.shape, self.key, [a.shape for a in arrays])
        won = mx.broadcast_to(won, shape)
        if not _float_like(x.dtype):
            return x_won, won, None
        count = self._with("add", x_won.astype(mx.int32), won.astype(mx.int32), arrays)
        return x_won, won, mx.maximum(count, 1)

    def jvp(self, primals, tangents, argnums):
        x, values, arrays = primals[0], primals[1], primals[2:]
        tx = _tangent_of(0, primals, tangents, argnums)
        tv = _tangent_of(1, primals, tangents, argnums)
        mode = self.mode
        if mode in ("set", "add"):
            return [apply(self, [tx, tv] + list(arrays))]
        if mode == "multiply":
            if not _float_like(x.dtype):
                return [mx.zeros_like(x)]
            spread = self._with("add", mx.zeros_like(x),
                                tv * self._cofactor(x, values, arrays), arrays)
            return [tx * self._factor(x, values, arrays) + x * spread]
        # The transpose of the vjp: the mean of the tangents of the inputs that tie.
        x_won, won, count = self._ties(x, values, arrays, apply(self, primals))
        total = mx.where(x_won, tx, 0) + self._with("add", mx.zeros_like(x),
                                                      mx.where(won, tv, 0), arrays)
        return [_shared(total, count)]

    def vmap(self, inputs, axes):
        x, values, arrays = inputs[0], inputs[1], inputs[2:]
        bx, bv, array_axes = axes[0], axes[1], axes[2:]
        size = _batch_size(inputs, axes)
        n_out = len(indexed_shape(_per_example(x, bx), self.key,
                                  [_per_example(a, b) for a, b in zip(arrays, array_axes)]))
        x, key, arrays, q, x_axis = _batched_key(self.key, x, bx, arrays, array_axes, size, True)
        values = _place_values(values, bv, n_out, q, size)
        return [apply(Scatter(key, self.mode), [x, values] + list(arrays))], [x_axis]


class SliceUpdate(Primitive):
    """``x[key] = values`` for a basic key (inputs: x, values broadcastable to x[key])."""
    __slots__ = ("key", "_np_key")

    def __init__(self, key):
        self.key = key
        self._np_key = key + (Ellipsis,)

    def params(self):
        return (key_params(self.key),)

    def infer(self, inputs):
        x = inputs[0]
        return x.shape, x.dtype

    def eval(self, xp, inputs):
        out = inputs[0].copy()
        out[self._np_key] = inputs[1]
        return out

    def vjp(self, primals, cotangents, argnums, outputs):
        (x, values), g = primals, cotangents[0]
        return [apply(self, [g, mx.zeros((), g.dtype)]) if k == 0 else
                unbroadcast(apply(Slice(self.key), [g]), values.shape) for k in argnums]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, [_tangent_of(0, primals, tangents, argnums),
                             _tangent_of(1, primals, tangents, argnums)])]

    def vmap(self, inputs, axes):
        (x, values), (bx, bv) = inputs, axes
        size = _batch_size(inputs, axes)
        n_out = len(indexed_shape(_per_example(x, bx), self.key))
        x, key, _, q, x_axis = _batched_key(self.key, x, bx, (), (), size, True)
        return [apply(SliceUpdate(key), [x, _place_values(values, bv, n_out, q, size)])], [x_axis]


class MaskedScatter(Primitive):
    """``x[mask] = values`` with a boolean mask over x's leading axes (inputs: x, mask,
    values). With `fill`, every selected position gets `values` (broadcast to the
    trailing axes); otherwise the selected positions take ``values[0], values[1], ...``
    in row-major order, each broadcast to the trailing axes.

    With ``batch = k`` (what vmap makes of the sequential form), the first k axes of
    x, mask and values index independent examples, each taking its own values in
    order: values are then (*batch, count, *trailing)."""
    __slots__ = ("fill", "batch")

    def __init__(self, fill, batch=0):
        self.fill = fill
        self.batch = batch

    def params(self):
        return (self.fill, self.batch)

    def infer(self, inputs):
        x = inputs[0]
        return x.shape, x.dtype

    def eval(self, xp, inputs):
        x, mask, values = inputs
        if self.batch:
            return self._eval_batched(xp, x, mask, values)
        out = x.copy()
        if self.fill:
            out[mask] = values
            return out
        count = int(xp.count_nonzero(mask))
        if values.shape[0] < count:
            raise RuntimeError(f"[masked_scatter] The mask selects {count} positions but "
                               f"only {values.shape[0]} values were given.")
        out[mask] = values[:count]
        return out

    def _eval_batched(self, xp, x, mask, values):
        k = self.batch
        examples = _size(x.shape[:k])
        selected = mask.reshape(examples, -1)
        trailing = x.shape[mask.ndim:]
        values = values.reshape((examples,) + values.shape[k:])
        available = values.shape[1]
        count = int(selected.sum(axis=1).max()) if selected.size else 0
        if available < count:
            raise RuntimeError(f"[masked_scatter] The mask selects {count} positions but "
                               f"only {available} values were given.")
        out = x.reshape((examples, selected.shape[1]) + trailing).copy()
        if count:
            # Each selected position takes the value whose number is its rank among
            # its example's selected positions.
            rank = xp.cumsum(selected, axis=1) - 1
            picked = values[xp.arange(examples)[:, None], xp.clip(rank, 0, available - 1)]
            out[selected] = picked[selected]
        return out.reshape(x.shape)

    def _mask_like(self, x, mask):
        return mx.reshape(mask, mask.shape + (1,) * (x.ndim - mask.ndim))

    def vjp(self, primals, cotangents, argnums, outputs):
        (x, mask, values), g = primals, cotangents[0]
        selected = self._mask_like(x, mask)
        grads = []
        for k in argnums:
            if k == 0:
                grads.append(mx.where(selected, 0, g))
            elif k == 2:
                grads.append(self._values_vjp(x, mask, values, g, selected))
            else:
                grads.append(None)
        return grads

    def _values_vjp(self, x, mask, values, g, selected):
        if self.fill:
            total = mx.sum(mx.where(selected, g, 0), axis=tuple(range(mask.ndim)))
            return unbroadcast(total, values.shape)
        # The i-th selected position of an example sends its cotangent to value i;
        # unselected positions point past the values and are dropped.
        k = self.batch
        examples = _size(x.shape[:k])
        trailing = x.shape[mask.ndim:]
        available = values.shape[k]
        flat = mx.reshape(mask, (examples, -1))
        rank = mx.cumsum(flat.astype(mx.int32), axis=1) - 1
        rank = mx.where(flat, rank, available)
        rows = mx.reshape(mx.arange(examples), (examples, 1))
        spread = apply(Scatter((ARRAY, ARRAY), "add"),
                       [mx.zeros((examples, available) + trailing, g.dtype),
                        mx.reshape(g, (examples, flat.shape[1]) + trailing), rows, rank])
        spread = unbroadcast(spread, (examples,) + values.shape[k:])
        return mx.reshape(spread, values.shape)

    def jvp(self, primals, tangents, argnums):
        return [apply(self, [_tangent_of(0, primals, tangents, argnums), primals[1],
                             _tangent_of(2, primals, tangents, argnums)])]

    def vmap(self, inputs, axes):
        (x, mask, values), (bx, bm, bv) = inputs, axes
        size = _batch_size(inputs, axes)
        if not self.fill:
            x, mask, values = (_with_batch_at(a, b, 0, size) for a, b in zip(inputs, axes))
            return [apply(MaskedScatter(False, self.batch + 1), [x, mask, values])], [0]
        # Filling is a select: batch axes first, per-example axes aligned from the right.
        rank = x.ndim - (bx is not None)
        x = to_front(x, bx)
        if bm is None:
            mask = mx.reshape(mask, mask.shape + (1,) * (rank - mask.ndim))
        else:
            mask = to_front(mask, bm)
            mask = mx.reshape(mask, mask.shape + (1,) * (rank + 1 - mask.ndim))
        if bv is not None:
            values = to_front(values, bv)
            values = mx.reshape(values, values.shape[:1] + (1,) * (rank + 1 - values.ndim) +
                                values.shape[1:])
        return [mx.where(mask, values, x)], [0]


def _starts(start, axes, shape, sizes):
    """Concrete start positions, clamped so the window of `sizes` fits inside `shape`."""
    given = start.tolist()
    if not isinstance(given, list):
        given = [given]
    begin = [0] * len(shape)
    for a, s in zip(axes, given):
        begin[a] = min(max(int(s), 0), shape[a] - sizes[a])
    return tuple(slice(b, b + n) for b, n in zip(begin, sizes))


def _clip_start(start, high):
    """Start positions clamped into [0, high] as the dynamic slices clamp them, int32."""
    info = np.iinfo(start.dtype.np)
    if info.min < 0:
        start = mx.maximum(start, 0)
    if info.max > high:
        start = mx.minimum(start, high)
    return start.astype(mx.int32)


def _window_indices(start, bs, axes, sizes, shape, size):
    """Index arrays reading each example's window of `sizes` at its own start (batched
    at bs): one array per axis of x, broadcasting to (batch, *sizes)."""
    start = to_front(start, bs)
    ndim = len(shape)
    arrays = []
    for a, n in enumerate(sizes):
        offsets = mx.reshape(mx.arange(n), (1,) * (a + 1) + (n,) + (1,) * (ndim - a - 1))
        if a in axes:
            s = start if start.ndim == 1 else start[:, axes.index(a)]
            s = _clip_start(s, shape[a] - n)
            offsets = mx.reshape(s, (size,) + (1,) * ndim) + offsets
        arrays.append(offsets)
    return arrays


class DynamicSlice(Primitive):
    """``slice(x, start, axes, sizes)``: a window of shape `sizes` whose start along each
    of `axes` is read from the `start` input (other axes start at 0). Starts are clamped
    so that the window fits; the result is a view."""
    __slots__ = ("axes", "sizes")

    def infer(self, inputs):
        return self.sizes, inputs[0].dtype

    def eval(self, xp, inputs):
        x, start = inputs
        return x[_starts(start, self.axes, x.shape, self.sizes) + (Ellipsis,)]

    def vjp(self, primals, cotangents, argnums, outputs):
        (x, start), g = primals, cotangents[0]
        return [apply(DynamicSliceUpdate(self.axes), [mx.zeros(x.shape, g.dtype), g, start])
                if k == 0 else None for k in argnums]

    def jvp(self, primals, tangents, argnums):
        if 0 not in argnums:
            return [mx.zeros(self.sizes, primals[0].dtype)]
        return [apply(self, [tangents[0], primals[1]])]

    def vmap(self, inputs, axes):
        (x, start), (bx, bs) = inputs, axes
        if bs is None:
            # The batch axis is one more axis that the window takes whole.
            moved = tuple(a + (a >= bx) for a in self.axes)
            sizes = self.sizes[:bx] + (x.shape[bx],) + self.sizes[bx:]
            return [apply(DynamicSlice(moved, sizes), [x, start])], [bx]
        # Each example has its own start: gather its window with index arrays.
        size = start.shape[bs]
        shape = _per_example(x, bx)
        arrays = _window_indices(start, bs, self.axes, self.sizes, shape, size)
        if bx is not None:
            x = to_front(x, bx)
            arrays = [mx.reshape(mx.arange(size), (size,) + (1,) * len(shape))] + arrays
        return [apply(Gather((ARRAY,) * x.ndim), [x] + arrays)], [0]


def _update_window(shape, update_shape, axes):
    """The window that slice_update writes: the update's shape on the axes it has
    (aligned from the right); on the leading axes it lacks, 1 along `axes` and the
    whole axis elsewhere (MLX broadcasts the update there)."""
    lead = len(shape) - len(update_shape)
    return tuple(1 if a in axes else shape[a] for a in range(lead)) + tuple(update_shape)


class DynamicSliceUpdate(Primitive):
    """``slice_update(x, update, start, axes)``: x with the window at `start` (along
    `axes`, 0 elsewhere) replaced by `update` broadcast to it (see `_update_window`).
    Starts are clamped so that the window fits."""
    __slots__ = ("axes",)

    def infer(self, inputs):
        x = inputs[0]
        return x.shape, x.dtype

    def eval(self, xp, inputs):
        x, update, start = inputs
        sizes = _update_window(x.shape, update.shape, self.axes)
        out = x.copy()
        out[_starts(start, self.axes, x.shape, sizes) + (Ellipsis,)] = update
        return out

    def vjp(self, primals, cotangents, argnums, outputs):
        (x, update, start), g = primals, cotangents[0]
        grads = []
        for k in argnums:
            if k == 0:
                grads.append(apply(self, [g, mx.zeros(update.shape, g.dtype), start]))
            elif k == 1:
                sizes = _update_window(x.shape, update.shape, self.axes)
                window = apply(DynamicSlice(self.axes, sizes), [g, start])
                grads.append(unbroadcast(window, update.shape))
            else:
                grads.append(None)
        return grads

    def jvp(self, primals, tangents, argnums):
        return [apply(self, [_tangent_of(0, primals, tangents, argnums),
                             _tangent_of(1, primals, tangents, argnums), primals[2]])]

    def vmap(self, inputs, axes):
        (x, update, start), (bx, bu, bs) = inputs, axes
        size = _batch_size(inputs, axes)
        shape = _per_example(x, bx)
        sizes = _update_window(shape, _per_example(update, bu), self.axes)
        # The update spelled out over its whole window, batch first, so that the
        # window no longer depends on which axes it lacks.
        if bu is None:
            update = mx.broadcast_to(update, sizes)
        else:
            update = to_front(update, bu)
            update = mx.broadcast_to(
                mx.reshape(update, (size,) + (1,) * (len(sizes) + 1 - update.ndim) +
                           update.shape[1:]), (size,) + sizes)
        if bs is None:
            b = 0 if bx is None else bx
            x = _with_batch_at(x, bx, b, size)
            update = _with_batch_at(update, None if bu is None else 0, b, size)
            moved = tuple(a + (a >= b) for a in self.axes)
            return [apply(DynamicSliceUpdate(moved), [x, update, start])], [b]
        # Each example has its own start: scatter its window with index arrays (the
        # clamped windows are in range and never overlap within an example).
        x = _with_batch_at(x, bx, 0, size)
        rows = mx.reshape(mx.arange(size), (size,) + (1,) * len(shape))
        arrays = _window_indices(start, bs, self.axes, sizes, shape, size)
        return [apply(Scatter((ARRAY,) * x.ndim, "set"), [x, update, rows] + arrays)], [0]
