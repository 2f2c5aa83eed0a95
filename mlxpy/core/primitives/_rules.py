"""Helpers that transform rules share: undoing broadcasting, aligning batch axes,
re-applying a primitive to new inputs. Written with public ops, like the rules."""
import mlxpy.core as mx

from ..array import wrap
from ..device import current_stream
from ..graph import Node


def apply(prim, inputs, stream=None):
    """Build `prim` on the handles `inputs` (same parameters, new inputs)."""
    nodes = [x._node for x in inputs]
    s = stream or (nodes[0].stream if nodes else current_stream())
    if prim.num_outputs > 1:
        # ops._core imports the primitives, so it is looked up on the package at call time.
        return mx.ops._core.make_multi(prim, nodes, s)
    shape, dtype = prim.infer(nodes)
    return wrap(Node(shape, dtype, prim, nodes, s))


def unbroadcast(g, shape):
    """Sum `g` down to `shape`: the adjoint of broadcasting an array of `shape` to g's."""
    gshape = g._node.shape
    if gshape == shape:
        return g
    shape = tuple(shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = list(range(lead))
    for i, d in enumerate(shape):
        if d == 1 and gshape[lead + i] != 1:
            axes.append(lead + i)
    if axes:
        g = mx.sum(g, axis=axes, keepdims=True)
    return mx.reshape(g, shape)


def to_front(x, ax):
    """`x` with its batch axis `ax` moved to the front (None: unbatched, unchanged)."""
    if not ax:
        return x
    return mx.moveaxis(x, ax, 0)


def align_batched(inputs, axes):
    """Inputs of an elementwise primitive with batch axes first and ranks aligned.

    Batched inputs get their batch axis at 0, then singleton axes so that their
    per-example dimensions line up with the highest per-example rank; unbatched
    inputs are left alone (NumPy broadcasting aligns them from the right).
    """
    rank = 0
    for x, a in zip(inputs, axes):
        r = len(x._node.shape) - (a is not None)
        if r > rank:
            rank = r
    out = []
    for x, a in zip(inputs, axes):
        if a is not None:
            if a:
                x = mx.moveaxis(x, a, 0)
            shape = x._node.shape
            missing = rank + 1 - len(shape)
            if missing:
                x = mx.reshape(x, shape[:1] + (1,) * missing + shape[1:])
        out.append(x)
    return out


def vmap_elementwise(prim, inputs, axes):
    """The batching rule of every elementwise primitive: align, then re-apply."""
    batch_axis = None
    for x, a in zip(inputs, axes):
        if a is None:
            if x._node.shape:
                break
        elif batch_axis is None:
            batch_axis = a
        else:
            break
    else:
        # One batched input and scalar others: the batch axis can stay where it is.
        return [apply(prim, inputs)], [batch_axis]
    return [apply(prim, align_batched(inputs, axes))], [0]
