"""The graph: nodes, topological order, and the tracing state transforms share.

An `array` (array.py) is a handle on a `Node`. A node records its shape, dtype,
the primitive that makes it and that primitive's input nodes; once evaluated it
holds its data, and (outside a transform) forgets its primitive and inputs so
that the graph behind it can be freed. Handles exist so that in-place operators
can point a Python object at a new node while older graph nodes keep the old one.
"""
import threading


class Node:
    __slots__ = ("shape", "dtype", "prim", "inputs", "siblings", "data", "stream", "nbytes",
                 "__weakref__")

    def __init__(self, shape, dtype, prim, inputs, stream):
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

    def __del__(self):
        if self.nbytes:
            memory.active -= self.nbytes

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


class _Memory:
    """Bytes held by live evaluated buffers (process wide, as MLX's allocator counts)."""

    def __init__(self):
        self.active = 0
        self.peak = 0
        self.limit = 0
        self.cache_limit = 0


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


def topo_sort(roots, through_evaluated=False):
    """Nodes reachable from `roots`, inputs before users, without recursion.

    With `through_evaluated=False` (evaluation), an evaluated node is a leaf and is
    left out. With True (transforms), the walk goes through every node that still
    records its primitive, and includes the leaves.
    """
    seen = set()
    order = []
    append = order.append
    for root in roots:
        if id(root) in seen or (not through_evaluated and root.data is not None):
            continue
        stack = [(root, False)]
        pop = stack.pop
        push = stack.append
        while stack:
            node, done = pop()
            if done:
                append(node)
                continue
            key = id(node)
            if key in seen:
                continue
            seen.add(key)
            push((node, True))
            inputs = node.inputs
            if inputs:
                for i in inputs:
                    if id(i) not in seen and (through_evaluated or i.data is None):
                        push((i, False))
    return order
