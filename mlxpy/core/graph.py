"""The graph: nodes, topological order, and the tracing state transforms share.

An `array` (array.py) is a handle on a `Node`. A node records its shape, dtype,
the primitive that makes it and that primitive's input nodes; once evaluated it
holds its data, and (outside a transform) forgets its primitive and inputs so
that the graph behind it can be freed. Handles exist so that in-place operators
can point a Python object at a new node while older graph nodes keep the old one.
"""
import itertools
import threading
from operator import attrgetter

# Nodes are numbered as they are made. A node is always made after its inputs, so this
# number is a topological order of every graph: evaluation finds the nodes it needs and
# sorts them by it, with no depth-first bookkeeping.
_next_seq = itertools.count().__next__


class _Fields:
    """What every node holds. The node classes below differ only in how they are made
    and in whether they give back the bytes they own."""
    __slots__ = ("shape", "dtype", "prim", "inputs", "siblings", "data", "stream", "nbytes",
                 "seq", "__weakref__")

    def set_data(self, data):
        self.data = data
        if getattr(data, "base", 1) is None:
            n = data.nbytes
            self.nbytes = n
            memory.active += n
            if memory.active > memory.peak:
                memory.peak = memory.active

    def __repr__(self):
        p = type(self.prim).__name__ if self.prim is not None else "-"
        return f"Node({p}, shape={self.shape}, dtype={self.dtype.name})"


class RawNode(_Fields):
    """A node without a constructor: the hottest paths (binary and unary elementwise
    ops, x[i]) make one with `RawNode()` and a store per field, half the cost of calling
    a class with a Python `__init__`. They must set every field `Node.__init__` sets."""
    __slots__ = ()

    def __del__(self):
        if self.nbytes:
            memory.active -= self.nbytes


class Node(RawNode):
    """A node of the graph (see the module docstring)."""
    __slots__ = ()

    def __init__(self, shape, dtype, prim, inputs, stream):
        self.seq = _next_seq()
        self.shape = shape
        self.dtype = dtype
        self.prim = prim
        self.inputs = inputs
        self.stream = stream
        # For multi-output primitives: the tuple of all outputs, self included.
        self.siblings = None
        self.data = None
        # Bytes this node's buffer owns (0 for views and unevaluated nodes).
        self.nbytes = 0


class ViewNode(_Fields):
    """An evaluated leaf whose data is a view of another node's buffer (`x[i]` of an
    evaluated `x`), made field by field as a `RawNode` is. It owns no bytes, so it has
    no `__del__`: that is a Python call per node, a good part of the cost of the many
    small views that eager loops make."""
    __slots__ = ()


class _Memory:
    """Bytes held by live evaluated buffers (process wide, as MLX's allocator counts)."""

    def __init__(self):
        self.active = 0
        self.peak = 0
        self.limit = _default_memory_limit()
        self.cache_limit = 32 * 2 ** 20


def _default_memory_limit():
    """Most of physical memory, as MLX's default limit is."""
    import os
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 16 * 2 ** 30
    return int(total * 0.8)


memory = _Memory()


class _TraceState(threading.local):
    def __init__(self):
        # > 0 while a transform (grad, vmap, compile, ...) is tracing a function.
        # Evaluation inside a trace keeps each node's primitive and inputs, since the
        # transform still walks them.
        self.depth = 0
        # > 0 while tracing on placeholders (vmap, compile), where nothing can evaluate.
        self.placeholder_depth = 0
        self.placeholder_reason = ""


trace_state = _TraceState()


_by_seq = attrgetter("seq")


def topo_sort(roots):
    """Unevaluated nodes that `roots` need, inputs before users, without recursion.

    Evaluated nodes are leaves and are left out. The walk only collects; creation
    order (`Node.seq`) gives the order. Nodes hash by identity, so the set holds
    them directly.
    """
    todo = []
    seen = set()
    append = todo.append
    add = seen.add
    for r in roots:
        if r.data is None and r not in seen:
            add(r)
            append(r)
    for node in todo:
        for i in node.inputs:
            if i.data is None and i not in seen:
                add(i)
                append(i)
    if len(todo) > 1:
        todo.sort(key=_by_seq)
    return todo


def graph_sort(roots, stop=frozenset()):
    """Every node reachable from `roots` through recorded primitives, inputs first.

    The transforms' walk: unlike `topo_sort` it goes through evaluated nodes that
    still record their primitive (evaluation inside a trace keeps them), and it
    includes the leaves. Nodes whose id is in `stop` are included but not expanded.
    """
    seen = set()
    order = []
    for root in roots:
        if id(root) in seen:
            continue
        stack = [root]
        while stack:
            node = stack[-1]
            for i in (node.inputs or ()) if id(node) not in stop else ():
                if id(i) not in seen:
                    stack.append(i)
                    break
            else:
                stack.pop()
                key = id(node)
                if key not in seen:
                    seen.add(key)
                    order.append(node)
    return order
