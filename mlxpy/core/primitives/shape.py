"""Primitives that move, copy or regroup elements without computing new values.

Squeeze, expand_dims, flatten and unflatten are all `Reshape`; swapaxes and moveaxis
are `Transpose`; repeat and tile are `Broadcast` plus `Reshape`; stack is `Reshape`
plus `Concatenate`. That keeps the set small: each class here has a vjp, jvp and
vmap rule, and a composite op inherits them for free.

Where NumPy can return a view (reshape of a contiguous buffer, transpose, broadcast,
split, diagonal) the eval returns it: buffers are immutable, so sharing is safe.

Every primitive here is linear, so each jvp re-applies the primitive to the tangents,
and each vjp is the adjoint map (gradients of complex inputs need no conjugation).
"""
import numpy as np

import mlxpy.core as mx

from ._rules import apply, to_front, unbroadcast
from .base import Primitive


def _fmt(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


def _size(shape):
    n = 1
    for d in shape:
        n *= d
    return n


# -- shapes that follow the input's (shapeless compile replays them) --------------------
# Each takes the input shape and a Reshape's `derive` arguments, and raises ValueError
# for an input the traced op would have rejected.

def _resolve(in_shape, template, where="reshape"):
    """`template` (one entry may be -1) for an input of `in_shape`."""
    size = _size(in_shape)
    known = _size(d for d in template if d != -1)
    if -1 in template:
        if known == 0 or size % known:
            raise ValueError(f"[{where}] Cannot reshape array of size {size} into shape "
                             f"{_fmt(template)}.")
        i = template.index(-1)
        return template[:i] + (size // known,) + template[i + 1:]
    if known != size:
        raise ValueError(f"[{where}] Cannot reshape array of size {size} into shape "
                         f"{_fmt(template)}.")
    return template


def _flattened(in_shape, start, end):
    return in_shape[:start] + (_size(in_shape[start:end + 1]),) + in_shape[end + 1:]


def _squeezed(in_shape, axes):
    for ax in axes:
        if in_shape[ax] != 1:
            raise ValueError(f"[squeeze] Cannot squeeze axis {ax} with size {in_shape[ax]} "
                             "which is not equal to 1.")
    return tuple(d for i, d in enumerate(in_shape) if i not in axes)


def _expanded(in_shape, axes):
    it = iter(in_shape)
    return tuple(1 if i in axes else next(it) for i in range(len(in_shape) + len(axes)))


def _unflattened(in_shape, axis, template):
    return in_shape[:axis] + _resolve((in_shape[axis],), template, "unflatten") + \
        in_shape[axis + 1:]


_DERIVE = {"reshape": _resolve, "flatten": _flattened, "squeeze": _squeezed,
           "expand_dims": _expanded, "unflatten": _unflattened}


class Reshape(Primitive):
    """The input's elements, in row-major order, under a new shape of equal size.

    `shape` is the output shape for the input the node was built on. `derive`, when
    given, says how the output shape follows from any input shape, so that a
    shapeless compiled function can replay it: ("reshape", template with a -1),
    ("flatten", start, end), ("squeeze", axes), ("expand_dims", axes) or
    ("unflatten", axis, template). Without it the target was spelled out, and a
    replay with another input shape is refused. `in_shape` (not a parameter) is the
    input shape `shape` was made for, which spares eval the derivation.
    """
    __slots__ = ("shape", "derive", "in_shape")

    def __init__(self, shape, derive=None, in_shape=None):
        self.shape = shape
        self.derive = derive
        self.in_shape = in_shape

    def params(self):
        return (self.shape,) if self.derive is None else (self.shape, self.derive)

    @property
    def shapeless_replay(self):
        return self.derive is not None

    def output_shape(self, in_shape):
        d = self.derive
        if d is None:
            return self.shape
        return _DERIVE[d[0]](in_shape, *d[1:])

    def infer(self, inputs):
        x = inputs[0]
        return self.output_shape(x.shape), x.dtype

    def eval(self, xp, inputs):
        x = inputs[0]
        if self.derive is None or x.shape == self.in_shape:
            return xp.reshape(x, self.shape)
        return xp.reshape(x, self.output_shape(x.shape))

    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.reshape(cotangents[0], primals[0].shape)]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, tangents)]

    def vmap(self, inputs, axes):
        x = to_front(inputs[0], axes[0])
        return [mx.reshape(x, x.shape[:1] + self.output_shape(x.shape[1:]))], [0]


class Transpose(Primitive):
    """Axes permuted: output axis i is input axis perm[i]."""
    __slots__ = ("perm",)

    def infer(self, inputs):
        shape = inputs[0].shape
        return tuple(shape[p] for p in self.perm), inputs[0].dtype

    def eval(self, xp, inputs):
        return xp.transpose(inputs[0], self.perm)

    def vjp(self, primals, cotangents, argnums, outputs):
        inverse = [0] * len(self.perm)
        for i, p in enumerate(self.perm):
            inverse[p] = i
        return [mx.transpose(cotangents[0], inverse)]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, tangents)]

    def vmap(self, inputs, axes):
        # The batch axis leads the output; the per-example axes shift past it.
        b = axes[0]
        perm = (b,) + tuple(p + (p >= b) for p in self.perm)
        return [mx.transpose(inputs[0], perm)], [0]


class Broadcast(Primitive):
    """The input broadcast (NumPy rules) to `shape`."""
    __slots__ = ("shape",)
    # `shape` was fixed from the traced input's shape.
    shapeless_replay = False

    def infer(self, inputs):
        return self.shape, inputs[0].dtype

    def eval(self, xp, inputs):
        return xp.broadcast_to(inputs[0], self.shape)

    def vjp(self, primals, cotangents, argnums, outputs):
        return [unbroadcast(cotangents[0], primals[0].shape)]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, tangents)]

    def vmap(self, inputs, axes):
        x, b = inputs[0], axes[0]
        # Leading singleton axes line the per-example dimensions up with the target's
        # from the right; the batch axis then sits between them, where the target
        # gets the batch size.
        lead = len(self.shape) - (x.ndim - 1)
        if lead:
            x = mx.reshape(x, (1,) * lead + x.shape)
            b += lead
        target = self.shape[:b] + (x.shape[b],) + self.shape[b:]
        return [mx.broadcast_to(x, target)], [b]


class Concatenate(Primitive):
    """Same-dtype inputs joined along `axis` (a non-negative axis)."""
    __slots__ = ("axis",)

    def infer(self, inputs):
        first = inputs[0].shape
        axis = self.axis
        total = 0
        for n in inputs:
            total += n.shape[axis]
        return first[:axis] + (total,) + first[axis + 1:], inputs[0].dtype

    def eval(self, xp, inputs):
        return xp.concatenate(inputs, axis=self.axis)

    def vjp(self, primals, cotangents, argnums, outputs):
        bounds = []
        end = 0
        for p in primals[:-1]:
            end += p.shape[self.axis]
            bounds.append(end)
        pieces = mx.split(cotangents[0], bounds, axis=self.axis)
        return [pieces[k] for k in argnums]

    def jvp(self, primals, tangents, argnums):
        full = [mx.zeros_like(p) for p in primals]
        for k, t in zip(argnums, tangents):
            full[k] = t
        return [apply(self, full)]

    def vmap(self, inputs, axes):
        batched = {a for a in axes if a is not None}
        # Inputs batched on one common axis join there without moving; otherwise every
        # batch axis goes to the front.
        b = batched.pop() if len(batched) == 1 else 0
        size = next(x.shape[a] for x, a in zip(inputs, axes) if a is not None)
        parts = []
        for x, a in zip(inputs, axes):
            if a is None:
                x = mx.broadcast_to(mx.expand_dims(x, b), x.shape[:b] + (size,) + x.shape[b:])
            elif a != b:
                x = mx.moveaxis(x, a, b)
            parts.append(x)
        return [apply(Concatenate(self.axis + (b <= self.axis)), parts)], [b]


class Split(Primitive):
    """The input cut along `axis` at `indices` (sorted or not, each in [0, size]):
    output i is the slice [indices[i-1], indices[i]), NumPy's reading, so a
    decreasing pair gives an empty piece. One output per piece."""
    __slots__ = ("indices", "axis")
    # `indices` may have come from the traced size (equal sections).
    shapeless_replay = False

    def __init__(self, indices, axis):
        self.indices = indices
        self.axis = axis

    @property
    def num_outputs(self):
        return len(self.indices) + 1

    def params(self):
        return (self.indices, self.axis)

    def infer(self, inputs):
        x = inputs[0]
        shape, axis = x.shape, self.axis
        size = shape[axis]
        bounds = (0,) + self.indices + (size,)
        head, tail = shape[:axis], shape[axis + 1:]
        return [(head + (max(0, bounds[i + 1] - bounds[i]),) + tail, x.dtype)
                for i in range(len(bounds) - 1)]

    def eval(self, xp, inputs):
        return xp.split(inputs[0], list(self.indices), axis=self.axis)

    def vjp(self, primals, cotangents, argnums, outputs):
        x, axis = primals[0], self.axis
        size = x.shape[axis]
        bounds = (0,) + self.indices + (size,)
        if all(a <= b for a, b in zip(bounds, bounds[1:])):
            return [mx.concatenate(cotangents, axis=axis)]
        # Decreasing indices make pieces overlap: each cotangent lands where its piece
        # came from, and overlaps add up.
        widths = [(0, 0)] * x.ndim
        total = None
        for c, start in zip(cotangents, bounds):
            if c.shape[axis] == 0:
                continue
            widths[axis] = (start, size - start - c.shape[axis])
            c = mx.pad(c, widths)
            total = c if total is None else total + c
        return [mx.zeros_like(x) if total is None else total]

    def jvp(self, primals, tangents, argnums):
        return apply(self, tangents)

    def vmap(self, inputs, axes):
        b = axes[0]
        prim = Split(self.indices, self.axis + (b <= self.axis))
        return apply(prim, inputs), [b] * self.num_outputs


def _unpad_axis(g, axis, n, low, high, mode):
    """The adjoint of padding `axis` (length n) by (low, high) in a mode that copies
    input elements ('edge', 'reflect', 'symmetric'): every cotangent element is added
    back onto the input element it was copied from."""
    if not low and not high:
        return g
    source = np.pad(np.arange(n), (low, high), mode=mode)
    # Consecutive positions copy neighbouring (step +-1) or equal (step 0) elements:
    # cut `source` into runs of one step, each of which folds back with one slice.
    cuts, steps = [0], []
    j, total = 0, len(source)
    while j < total:
        k = j + 1
        step = int(source[k] - source[j]) if k < total else 1
        while k < total and source[k] - source[k - 1] == step:
            k += 1
        cuts.append(k)
        steps.append(step)
        j = k
    widths = [(0, 0)] * g.ndim
    out = None
    for piece, start, stop, step in zip(mx.split(g, cuts[1:-1], axis=axis), cuts, cuts[1:],
                                        steps):
        if step == 0:
            piece = mx.sum(piece, axis=axis, keepdims=True)
            first = int(source[start])
        elif step < 0:
            piece = mx.flip(piece, axis)
            first = int(source[stop - 1])
        else:
            first = int(source[start])
        widths[axis] = (first, n - first - piece.shape[axis])
        piece = mx.pad(piece, widths)
        out = piece if out is None else out + piece
    return out


class Pad(Primitive):
    """Inputs (x, value): x grown by `low[i]` / `high[i]` elements on each side of
    axis i. Mode 'constant' fills with the first element of `value` (MLX reads only
    that one); 'edge', 'reflect' and 'symmetric' follow NumPy's modes."""
    __slots__ = ("low", "high", "mode")

    def infer(self, inputs):
        x = inputs[0]
        return tuple(d + lo + hi for d, lo, hi in zip(x.shape, self.low, self.high)), x.dtype

    def eval(self, xp, inputs):
        x, value = inputs
        shape, dtype = self.infer([x])
        if self.mode == "constant" or x.size == 0:
            out = xp.empty(shape, dtype=x.dtype)
            # An empty input leaves nothing to copy from an edge: MLX gives zeros.
            out[...] = value.reshape(-1)[0] if self.mode == "constant" else 0
            inner = tuple(slice(lo, lo + d) for lo, d in zip(self.low, x.shape))
            out[inner] = x
            return out
        return xp.pad(x, tuple(zip(self.low, self.high)), mode=self.mode)

    def _widths(self):
        return list(zip(self.low, self.high))

    def vjp(self, primals, cotangents, argnums, outputs):
        x, value = primals
        g = cotangents[0]
        return [self._value_vjp(x, value, g) if k == 1 else self._x_vjp(x, g)
                for k in argnums]

    def _x_vjp(self, x, g):
        if self.mode == "constant":
            return g[tuple(slice(lo, lo + d) for lo, d in zip(self.low, x.shape))]
        if x.size == 0:
            return mx.zeros(x.shape, g.dtype)
        # The other modes copy along each axis independently, so their adjoint folds
        # one axis at a time.
        for axis, (n, lo, hi) in enumerate(zip(x.shape, self.low, self.high)):
            g = _unpad_axis(g, axis, n, lo, hi, self.mode)
        return g

    def _value_vjp(self, x, value, g):
        # Only constant mode reads the value, and only its first element, which every
        # position outside the copy of x holds.
        if self.mode != "constant" or value.size == 0:
            return None
        border = mx.pad(mx.zeros(x.shape, mx.bool_), self._widths(), constant_values=True)
        total = mx.sum(mx.where(border, g, mx.zeros((), g.dtype)))
        if value.size > 1:
            total = mx.pad(mx.reshape(total, (1,)), [(0, value.size - 1)])
        return mx.reshape(total, value.shape)

    def jvp(self, primals, tangents, argnums):
        x, value = primals
        tx = tangents[argnums.index(0)] if 0 in argnums else mx.zeros_like(x)
        tv = tangents[argnums.index(1)] if 1 in argnums else mx.zeros_like(value)
        return [apply(self, [tx, tv])]

    def vmap(self, inputs, axes):
        (x, value), (bx, bv) = inputs, axes
        if bv is None or self.mode != "constant":
            # Modes other than 'constant' never read the value, batched or not.
            if bx is None:
                return [apply(self, [x, value])], [None]
            low = self.low[:bx] + (0,) + self.low[bx:]
            high = self.high[:bx] + (0,) + self.high[bx:]
            return [apply(Pad(low, high, self.mode), [x, value])], [bx]
        # A batched fill value: pad with zeros, then put each example's value (its
        # first element) outside the copy of x.
        value = to_front(value, bv)
        size = value.shape[0]
        first = mx.split(mx.reshape(value, (size, -1)), [1], axis=1)[0]
        if bx is None:
            per_example = x.shape
            padded = apply(self, [x, mx.zeros((), x.dtype)])
        else:
            x = to_front(x, bx)
            per_example = x.shape[1:]
            padded = apply(Pad((0,) + self.low, (0,) + self.high, "constant"),
                           [x, mx.zeros((), x.dtype)])
        first = mx.reshape(first, (size,) + (1,) * len(per_example))
        border = mx.pad(mx.zeros(per_example, mx.bool_), self._widths(), constant_values=True)
        return [mx.where(border, first, padded)], [0]


def _embed_diagonal(v, offset, rows, cols):
    """`v` (..., d) laid on the `offset` diagonal of zero (..., rows, cols) matrices."""
    lead, d = v.shape[:-1], v.shape[-1]
    if d == 0:
        # An offset past the matrix: nothing lies on the diagonal.
        return mx.zeros(lead + (rows, cols), v.dtype)
    # d rows of (value, then d zeros) laid end to end put value i at flat position
    # i * (d + 1): row i, column i of a d-by-d matrix once the last d zeros are cut.
    spread = mx.pad(mx.expand_dims(v, -1), [(0, 0)] * v.ndim + [(0, d)])
    flat = mx.reshape(spread, lead + (d * (d + 1),))
    square = mx.reshape(mx.split(flat, [d * d], axis=-1)[0], lead + (d, d))
    top, left = max(-offset, 0), max(offset, 0)
    return mx.pad(square, [(0, 0)] * len(lead) +
                  [(top, rows - d - top), (left, cols - d - left)])


class Diagonal(Primitive):
    """The `offset` diagonal of the (axis1, axis2) planes, as a new last axis."""
    __slots__ = ("offset", "axis1", "axis2")

    def infer(self, inputs):
        x = inputs[0]
        shape, off, a1, a2 = x.shape, self.offset, self.axis1, self.axis2
        n = max(0, min(shape[a1] + min(off, 0), shape[a2] - max(off, 0)))
        rest = tuple(d for i, d in enumerate(shape) if i != a1 and i != a2)
        return rest + (n,), x.dtype

    def eval(self, xp, inputs):
        return xp.diagonal(inputs[0], self.offset, self.axis1, self.axis2)

    def vjp(self, primals, cotangents, argnums, outputs):
        x, a1, a2 = primals[0], self.axis1, self.axis2
        planes = _embed_diagonal(cotangents[0], self.offset, x.shape[a1], x.shape[a2])
        # `planes` holds x's other axes in order, then axis1, then axis2.
        order = [i for i in range(x.ndim) if i != a1 and i != a2] + [a1, a2]
        perm = [0] * x.ndim
        for pos, ax in enumerate(order):
            perm[ax] = pos
        return [mx.transpose(planes, perm)]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, tangents)]

    def vmap(self, inputs, axes):
        b = axes[0]
        a1 = self.axis1 + (self.axis1 >= b)
        a2 = self.axis2 + (self.axis2 >= b)
        # The batch axis stays among the kept axes, shifted left by the removed ones.
        out_axis = b - (a1 < b) - (a2 < b)
        return [apply(Diagonal(self.offset, a1, a2), inputs)], [out_axis]


class Diag(Primitive):
    """A square matrix with the 1-D input on its k-th diagonal, zeros elsewhere."""
    __slots__ = ("k",)

    def infer(self, inputs):
        x = inputs[0]
        n = x.shape[0] + abs(self.k)
        return (n, n), x.dtype

    def eval(self, xp, inputs):
        return xp.diag(inputs[0], self.k)

    def vjp(self, primals, cotangents, argnums, outputs):
        return [mx.diagonal(cotangents[0], self.k)]

    def jvp(self, primals, tangents, argnums):
        return [apply(self, tangents)]

    def vmap(self, inputs, axes):
        v = to_front(inputs[0], axes[0])
        n = v.shape[1] + abs(self.k)
        return [_embed_diagonal(v, self.k, n, n)], [0]
