"""Reverse and forward mode differentiation as walks over the traced graph.

`vjp` and `jvp` trace the function on copies of its inputs, sort the graph between
those copies and the outputs once, and call each primitive's rule. Rules are written
with public ops, so derivatives are graphs too and every transform composes with
every other.

>>> import mlxpy.core as mx
>>> mx.grad(mx.sin)(mx.array(0.0))
array(1, dtype=float32)
"""
from ..array import array, wrap
from ..graph import Node, graph_sort, trace_state
from ..primitives.transforms import COPY
from .tree import flatten_arrays, replace_arrays
from ..ops.creation import ones_like, zeros_like
from ..ops.elementwise import add


def make_tracers(primals):
    """Fresh identity nodes over `primals`: the leaves a transform differentiates at."""
    out = []
    for p in primals:
        n = p._node
        out.append(wrap(Node(n.shape, n.dtype, COPY, [n], n.stream)))
    return out


class tracing:
    """Context: evaluation inside keeps the graph, since the transform walks it."""

    def __enter__(self):
        trace_state.depth += 1

    def __exit__(self, *exc):
        trace_state.depth -= 1


def _tape(input_nodes, output_nodes):
    """Nodes between inputs and outputs that depend on an input, in forward order."""
    stop = {id(n) for n in input_nodes}
    order = graph_sort(output_nodes, stop)
    active = set(stop)
    tape = []
    for n in order:
        key = id(n)
        if key in active or not n.inputs:
            continue
        for i in n.inputs:
            if id(i) in active:
                active.add(key)
                tape.append(n)
                break
    return tape, active


def _outputs_of(node):
    return node.siblings if node.siblings is not None else (node,)


def vjp_graph(input_nodes, output_nodes, cotangents):
    """Cotangents (arrays or None) of `input_nodes` given those of `output_nodes`."""
    tape, active = _tape(input_nodes, output_nodes)
    cot = {}
    for o, c in zip(output_nodes, cotangents):
        if c is None:
            continue
        prev = cot.get(id(o))
        cot[id(o)] = c if prev is None else add(prev, c)
    # The siblings of a multi-output node sit at different places in the tape; its
    # rule runs at the earliest one, once every sibling's users have given cotangents.
    # (Keyed by the first output node, not the tuple: a one-output node's tuple is
    # fresh each time, and a freed tuple's id comes back for another node's.)
    earliest = {}
    for k, n in enumerate(tape):
        if n.siblings is not None:
            earliest.setdefault(id(n.siblings[0]), k)
    for k in range(len(tape) - 1, -1, -1):
        n = tape[k]
        outs = _outputs_of(n)
        if n.siblings is not None and earliest[id(outs[0])] != k:
            continue
        cts = [cot.pop(id(o), None) for o in outs]
        if all(c is None for c in cts):
            continue
        out_handles = [wrap(o) for o in outs]
        cts = [zeros_like(h) if c is None else c for c, h in zip(cts, out_handles)]
        inputs = n.inputs
        argnums = [k for k, i in enumerate(inputs) if id(i) in active]
        grads = n.prim.vjp([wrap(i) for i in inputs], cts, argnums, out_handles)
        for k, g in zip(argnums, grads):
            if g is None:
                continue
            key = id(inputs[k])
            prev = cot.get(key)
            cot[key] = g if prev is None else add(prev, g)
    return [cot.get(id(n)) for n in input_nodes]


def jvp_graph(input_nodes, tangents, output_nodes):
    """Tangents (arrays or None) of `output_nodes` given those of `input_nodes`."""
    tape, _ = _tape(input_nodes, output_nodes)
    tan = {id(n): t for n, t in zip(input_nodes, tangents) if t is not None}
    done = set()
    for n in tape:
        outs = _outputs_of(n)
        if id(outs[0]) in done:
            continue
        done.add(id(outs[0]))
        inputs = n.inputs
        argnums = [k for k, i in enumerate(inputs) if id(i) in tan]
        if not argnums:
            continue
        results = n.prim.jvp([wrap(i) for i in inputs], [tan[id(inputs[k])] for k in argnums],
                             argnums)
        for o, t in zip(outs, results):
            if t is not None:
                tan[id(o)] = t
    return [tan.get(id(o)) for o in output_nodes]


def _as_output_list(out, where):
    if isinstance(out, array):
        return [out]
    if isinstance(out, (list, tuple)) and all(isinstance(o, array) for o in out):
        return list(out)
    raise ValueError(f"[{where}] The function must return an array or a list/tuple of arrays, "
                     f"but it returned {type(out).__name__}.")


def _check_primals(primals, where, what="primals"):
    if isinstance(primals, array):
        primals = [primals]
    if not isinstance(primals, (list, tuple)) or not all(isinstance(p, array) for p in primals):
        raise ValueError(f"[{where}] {what} must be a list of arrays.")
    return list(primals)


def _shape_str(shape):
    return "(" + ",".join(str(d) for d in shape) + ")"


def vjp(fun, primals, cotangents):
    """Outputs of `fun(*primals)` and the vector-Jacobian products with `cotangents`.

    >>> import mlxpy.core as mx
    >>> outs, vjps = mx.vjp(lambda x: x * 2, [mx.array([1.0])], [mx.array([1.0])])
    >>> vjps
    [array([2], dtype=float32)]
    """
    primals = _check_primals(primals, "vjp")
    cotangents = _check_primals(cotangents, "vjp", "cotangents")
    tracers = make_tracers(primals)
    with tracing():
        outs = _as_output_list(fun(*tracers), "vjp")
        if len(outs) != len(cotangents):
            raise ValueError(f"[vjp] Number of outputs to compute gradients for ({len(outs)}) "
                             f"does not match number of cotangents ({len(cotangents)}).")
        for o, c in zip(outs, cotangents):
            if o.shape != c.shape:
                raise ValueError(f"[vjp] Output shape {_shape_str(o.shape)} does not match "
                                 f"cotangent shape {_shape_str(c.shape)}.")
        # Cotangents take their output's dtype, as in MLX (a float32 cotangent of a
        # float16 output gives float16 gradients).
        cotangents = [c if c.dtype is o.dtype else c.astype(o.dtype)
                      for c, o in zip(cotangents, outs)]
        grads = vjp_graph([t._node for t in tracers], [o._node for o in outs], cotangents)
    grads = [zeros_like(p) if g is None else g for g, p in zip(grads, primals)]
    return outs, grads


def jvp(fun, primals, tangents):
    """Outputs of `fun(*primals)` and the Jacobian-vector products with `tangents`.

    >>> import mlxpy.core as mx
    >>> outs, jvps = mx.jvp(lambda x: x * 3, [mx.array([1.0])], [mx.array([1.0])])
    >>> jvps
    [array([3], dtype=float32)]
    """
    primals = _check_primals(primals, "jvp")
    tangents = _check_primals(tangents, "jvp", "tangents")
    if len(primals) != len(tangents):
        raise ValueError(f"[jvp] Number of inputs ({len(primals)}) does not match number of "
                         f"tangents ({len(tangents)}).")
    for p, t in zip(primals, tangents):
        if p.shape != t.shape:
            raise ValueError(f"[jvp] Input shape {_shape_str(p.shape)} does not match shape of "
                             f"tangent {_shape_str(t.shape)}.")
    tracers = make_tracers(primals)
    with tracing():
        outs = _as_output_list(fun(*tracers), "jvp")
        tans = jvp_graph([t._node for t in tracers], tangents, [o._node for o in outs])
    tans = [zeros_like(o) if t is None else t for t, o in zip(tans, outs)]
    return outs, tans


def _normalize_argnums(argnums, argnames, where):
    if isinstance(argnames, str):
        argnames = [argnames]
    argnames = list(argnames or [])
    if argnums is None:
        argnums = [] if argnames else [0]
    elif isinstance(argnums, int) and not isinstance(argnums, bool):
        argnums = [argnums]
    else:
        try:
            argnums = [int(a) for a in argnums]
        except TypeError:
            raise ValueError(f"[{where}] argnums must be an int or a sequence of ints.") from None
    if not argnums and not argnames:
        raise ValueError(f"[{where}] Gradient wrt no argument requested.")
    argnums = sorted(argnums)
    if argnums and argnums[0] < 0:
        raise ValueError(f"[{where}] Can't compute the gradient of negative argument index "
                         f"{argnums[0]}.")
    for a, b in zip(argnums, argnums[1:]):
        if a == b:
            raise ValueError(f"[{where}] Duplicate argument index {a} is not allowed.")
    return argnums, argnames


def _value_and_grad(fun, argnums, argnames, where, scalar_only):
    argnums, argnames = _normalize_argnums(argnums, argnames, where)

    def run(*args, **kwargs):
        if argnums and argnums[-1] >= len(args):
            raise ValueError(
                f"[{where}] Can't compute the gradient of argument index {argnums[-1]} because "
                f"the function is called with only {len(args)} positional arguments.")
        for k in argnames:
            if k not in kwargs:
                raise ValueError(
                    f"[{where}] Can't compute the gradient of keyword argument '{k}' because the "
                    f"function is called with the following keyword arguments "
                    f"{{{','.join(kwargs)}}}.")
        args = list(args)
        kwargs = dict(kwargs)
        groups = []  # (flat primals, tracers) per differentiated argument, in output order
        for i in argnums:
            prim = flatten_arrays(args[i], strict=True, where="tree_flatten")
            tr = make_tracers(prim)
            args[i] = replace_arrays(args[i], tr)
            groups.append((prim, tr))
        for k in argnames:
            prim = flatten_arrays(kwargs[k], strict=True, where="tree_flatten")
            tr = make_tracers(prim)
            kwargs[k] = replace_arrays(kwargs[k], tr)
            groups.append((prim, tr))
        with tracing():
            ret = fun(*args, **kwargs)
            loss = _check_loss(ret, where, scalar_only)
            tracer_nodes = [t._node for _, tr in groups for t in tr]
            grads = vjp_graph(tracer_nodes, [loss._node], [ones_like(loss)])
        primals = [p for prim, _ in groups for p in prim]
        grads = iter(zeros_like(p) if g is None else _match_dtype(g, p)
                     for g, p in zip(grads, primals))
        trees = [(args if idx < len(argnums) else kwargs)
                 [argnums[idx] if idx < len(argnums) else argnames[idx - len(argnums)]]
                 for idx in range(len(groups))]
        grad_trees = [replace_arrays(t, grads) for t in trees]
        positional = (None if not argnums else grad_trees[0] if len(argnums) == 1
                      else tuple(grad_trees[:len(argnums)]))
        if argnames:
            keyword = {k: g for k, g in zip(argnames, grad_trees[len(argnums):])}
            return ret, (positional, keyword)
        return ret, positional

    return run


def _match_dtype(g, p):
    return g if g.dtype is p.dtype else g.astype(p.dtype)


def _check_loss(ret, where, scalar_only):
    if isinstance(ret, array):
        loss = ret
    elif scalar_only:
        raise ValueError(f"[{where}] The return value of the function whose gradient we want "
                         f"to compute should be a scalar array; but {type(ret).__name__} was "
                         "returned.")
    elif not isinstance(ret, tuple):
        raise ValueError(f"[{where}] The return value of the function whose gradient we want "
                         "to compute should be either a scalar array or a tuple with the first "
                         "value being a scalar array (Union[array, tuple[array, Any, ...]]); "
                         f"but {type(ret).__name__} was returned.")
    elif not ret:
        raise ValueError(f"[{where}] The return value of the function whose gradient we want "
                         "to compute should be either a scalar array or a non-empty tuple. The "
                         "first value should be a scalar array and the rest can be anything. "
                         "Instead, we got an empty tuple.")
    elif not isinstance(ret[0], array):
        raise ValueError(f"[{where}] The return value of the function whose gradient we want "
                         "to compute should be either a scalar array or a tuple with the first "
                         "value being a scalar array (Union[array, tuple[array, Any, ...]]); "
                         f"but it was a tuple with the first value being of type "
                         f"{type(ret[0]).__name__} .")
    else:
        loss = ret[0]
    if loss.shape != ():
        raise ValueError(f"[{where}] The function must return a scalar (an array of shape ()) "
                         f"to take its gradient, but it returned shape "
                         f"{_shape_str(loss.shape)}. Reduce it first, e.g. with .sum() or "
                         ".mean().")
    return loss


def value_and_grad(fun, argnums=None, argnames=[]):
    """A function returning `(fun(*args, **kwargs), gradients)`.

    `fun` returns a scalar array, or a tuple whose first element is one (the rest come
    back unchanged). Gradients follow the structure of the differentiated arguments.

    >>> import mlxpy.core as mx
    >>> loss, g = mx.value_and_grad(lambda w: (w * w).sum())(mx.array([1.0, 2.0]))
    >>> g
    array([2, 4], dtype=float32)
    """
    return _value_and_grad(fun, argnums, argnames, "value_and_grad", False)


def grad(fun, argnums=None, argnames=[]):
    """A function returning the gradient of scalar-valued `fun`.

    >>> import mlxpy.core as mx
    >>> mx.grad(lambda x: x ** 3)(mx.array(2.0))
    array(12, dtype=float32)
    """
    run = _value_and_grad(fun, argnums, argnames, "grad", True)

    def grad_fn(*args, **kwargs):
        return run(*args, **kwargs)[1]

    grad_fn.__wrapped__ = fun
    return grad_fn


# -- Jacobians and Hessians (mlxpy extensions) ---------------------------------------------

def _jacobian_setup(fun, argnums, where):
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        nums, single = (argnums,), True
    else:
        nums, single = tuple(argnums), False
        if not nums:
            raise ValueError(f"[{where}] argnums must name at least one argument.")

    def prepare(args, kwargs):
        for i in nums:
            if i < 0 or i >= len(args):
                raise ValueError(f"[{where}] argnums {i} is out of range for {len(args)} "
                                 "positional arguments.")
        groups = [flatten_arrays(args[i], strict=True, where=where) for i in nums]
        counts = [len(g) for g in groups]
        flat_in = [x for g in groups for x in g]

        box = {}

        def flat_fun(*xs):
            """The function of the flat differentiated arrays; remembers the output tree."""
            new_args = list(args)
            k = 0
            for i, c in zip(nums, counts):
                new_args[i] = replace_arrays(args[i], xs[k:k + c])
                k += c
            out = fun(*new_args, **kwargs)
            box["tree"] = out
            return flatten_arrays(out, strict=True, where=where)

        return flat_in, counts, flat_fun, box

    def assemble(args, out_tree, blocks, counts):
        """blocks[o][i]: d output o / d flat input i, as an array of shape O + I."""
        per_output = []
        for row in blocks:
            trees = []
            k = 0
            for i, c in zip(nums, counts):
                trees.append(replace_arrays(args[i], row[k:k + c]))
                k += c
            per_output.append(trees[0] if single else tuple(trees))
        if isinstance(out_tree, array):
            return per_output[0]
        return replace_arrays(out_tree, per_output)

    return prepare, assemble


def _basis(a):
    """The standard basis of `a`'s space, stacked: shape (a.size,) + a.shape."""
    from ..ops.creation import eye
    from ..ops.shape import reshape
    return reshape(eye(a.size, dtype=a.dtype), (a.size,) + a.shape)


def _one_hot(v, k, like):
    """`like`'s shapes as zeros, with `v` in position k."""
    from ..ops.creation import zeros
    return [v if j == k else zeros(p.shape, p.dtype) for j, p in enumerate(like)]


def jacrev(fun, argnums=0):
    """The Jacobian of `fun` by reverse mode: one vjp per output element, batched by vmap.

    An mlxpy extension (JAX-like): for an output of shape O and an input of shape I the
    Jacobian block has shape O + I; pytrees of inputs and outputs are supported.

    >>> import mlxpy.core as mx
    >>> mx.jacrev(lambda x: x ** 2)(mx.array([1.0, 2.0]))
    array([[2, 0],
           [0, 4]], dtype=float32)
    """
    from .vmap import vmap as vmap_transform
    from ..ops.shape import reshape
    prepare, assemble = _jacobian_setup(fun, argnums, "jacrev")

    def jac(*args, **kwargs):
        flat_in, counts, flat_fun, box = prepare(args, kwargs)
        outs = flat_fun(*flat_in)
        blocks = []
        for k, o in enumerate(outs):
            def pullback(ct, k=k):
                return vjp(flat_fun, flat_in, _one_hot(ct, k, outs))[1]
            rows = vmap_transform(pullback)(_basis(o))
            blocks.append([reshape(r, o.shape + x.shape) for r, x in zip(rows, flat_in)])
        return assemble(args, box["tree"], blocks, counts)

    return jac


def jacfwd(fun, argnums=0):
    """The Jacobian of `fun` by forward mode: one jvp per input element, batched by vmap.

    >>> import mlxpy.core as mx
    >>> mx.jacfwd(lambda x: mx.sin(x))(mx.array([0.0, 0.0]))
    array([[1, 0],
           [0, 1]], dtype=float32)
    """
    from .vmap import vmap as vmap_transform
    from ..ops.shape import reshape, moveaxis
    prepare, assemble = _jacobian_setup(fun, argnums, "jacfwd")

    def jac(*args, **kwargs):
        flat_in, counts, flat_fun, box = prepare(args, kwargs)
        outs = flat_fun(*flat_in)
        columns = []  # columns[i][o]: shape (size_i,) + O
        for i, x in enumerate(flat_in):
            def push(t, i=i):
                return jvp(flat_fun, flat_in, _one_hot(t, i, flat_in))[1]
            columns.append(vmap_transform(push)(_basis(x)))
        blocks = []
        for k, o in enumerate(outs):
            row = []
            for i, x in enumerate(flat_in):
                c = columns[i][k]                       # (size_i,) + O
                c = moveaxis(c, 0, -1) if c.ndim > 1 else c
                row.append(reshape(c, o.shape + x.shape))
            blocks.append(row)
        return assemble(args, box["tree"], blocks, counts)

    return jac


def hessian(fun, argnums=0):
    """The Hessian of scalar `fun`: forward-over-reverse, `jacfwd(jacrev(fun))`.

    >>> import mlxpy.core as mx
    >>> mx.hessian(lambda x: (x ** 3).sum())(mx.array([1.0, 2.0]))
    array([[6, 0],
           [0, 12]], dtype=float32)
    """
    return jacfwd(jacrev(fun, argnums), argnums)
