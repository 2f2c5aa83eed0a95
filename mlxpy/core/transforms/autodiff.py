"""Reverse and forward mode differentiation as walks over the traced graph.

`vjp` and `jvp` trace the function on copies of its inputs, sort the graph between
those copies and the outputs once, and call each primitive's rule. Rules are written
with public ops, so derivatives are graphs too and every transform composes with
every other. A walk over a graph of a shape seen before replays the nodes the rules
built then (rule_cache.py).

>>> import mlxpy.core as mx
>>> mx.grad(mx.sin)(mx.array(0.0))
array(1, dtype=float32)
"""
from ..array import array, wrap
from ..graph import Node, trace_state, _by_seq
from ..primitives.transforms import COPY
from .tree import flatten_arrays, replace_arrays
from .rule_cache import cached_walk
from ..ops.creation import zeros_like
from ..ops._core import scalar_node
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


def dependents(input_nodes, output_nodes):
    """The nodes between inputs and outputs that depend on an input, in forward order
    (the tape every transform walks), and the set of those nodes and of the inputs."""
    active = set(input_nodes)
    if not active:
        return [], active
    # Nodes are numbered as they are made, after their inputs: a node older than every
    # input cannot depend on one, so the walk stops there, and sorting by number is a
    # topological order (multi-output siblings come before all of their users).
    oldest = min(map(_by_seq, input_nodes))
    seen = set(active)
    found = []
    for o in output_nodes:
        if o.seq > oldest and o not in seen:
            seen.add(o)
            found.append(o)
    add = seen.add
    append = found.append
    for n in found:
        for i in n.inputs or ():
            if i.seq > oldest and i not in seen:
                add(i)
                append(i)
    found.sort(key=_by_seq)
    tape = []
    for n in found:
        for i in n.inputs or ():
            if i in active:
                active.add(n)
                tape.append(n)
                break
    return tape, active


def _rule_args(inputs, active, shown):
    """The handles of a node's inputs, and the positions of those in `active`.
    `shown` (when recording a walk) maps leaves to the copies rules see instead."""
    if len(inputs) == 1:
        args, argnums = [wrap(inputs[0])], [0] if inputs[0] in active else []
    elif len(inputs) == 2:
        a, b = inputs
        in_a = a in active
        in_b = b in active
        args = [wrap(a), wrap(b)]
        argnums = ([0, 1] if in_b else [0]) if in_a else [1] if in_b else []
    else:
        args = [wrap(i) for i in inputs]
        argnums = [j for j, i in enumerate(inputs) if i in active]
    if shown:
        args = [wrap(shown[i]) if i in shown else a for a, i in zip(args, inputs)]
    return args, argnums


def vjp_graph(input_nodes, output_nodes, cotangents):
    """Cotangents (arrays or None) of `input_nodes` given those of `output_nodes`."""
    tape, active = dependents(input_nodes, output_nodes)

    def walk(cotangents, shown):
        return _vjp_walk(tape, active, input_nodes, output_nodes, cotangents, shown), None
    return cached_walk("vjp", walk, input_nodes, tape, cotangents, output_nodes)[0]


def _vjp_walk(tape, active, input_nodes, output_nodes, cotangents, shown):
    cot = {}
    for o, c in zip(output_nodes, cotangents):
        if c is not None:
            prev = cot.get(o)
            cot[o] = c if prev is None else add(prev, c)
    pop = cot.pop
    get = cot.get
    for k in range(len(tape) - 1, -1, -1):
        n = tape[k]
        group = n.siblings
        if group is None:
            c = pop(n, None)
            if c is None:
                continue
            inputs = n.inputs
            if n.prim is COPY:
                # The tracers of inner transforms: the cotangent passes straight through.
                key = inputs[0]
                prev = get(key)
                cot[key] = c if prev is None else add(prev, c)
                continue
            outs = [wrap(n)]
            cts = [c]
        else:
            # In creation order every user of a sibling comes after all the siblings, so
            # the first one met walking back has every cotangent its group will get; the
            # others then find theirs taken.
            cts = [pop(o, None) for o in group]
            if all(c is None for c in cts):
                continue
            outs = [wrap(o) for o in group]
            cts = [zeros_like(h) if c is None else c for c, h in zip(cts, outs)]
            inputs = n.inputs
        args, argnums = _rule_args(inputs, active, shown)
        grads = n.prim.vjp(args, cts, argnums, outs)
        for j, g in zip(argnums, grads):
            if g is not None:
                key = inputs[j]
                prev = get(key)
                cot[key] = g if prev is None else add(prev, g)
    return [get(n) for n in input_nodes]


def jvp_graph(input_nodes, tangents, output_nodes):
    """Tangents (arrays or None) of `output_nodes` given those of `input_nodes`."""
    tape, _ = dependents(input_nodes, output_nodes)

    def walk(tangents, shown):
        return _jvp_walk(tape, input_nodes, tangents, output_nodes, shown), None
    return cached_walk("jvp", walk, input_nodes, tape, tangents, output_nodes)[0]


def _jvp_walk(tape, input_nodes, tangents, output_nodes, shown):
    tan = {n: t for n, t in zip(input_nodes, tangents) if t is not None}
    done = set()
    for n in tape:
        group = n.siblings
        inputs = n.inputs
        if group is None:
            if n.prim is COPY:
                t = tan.get(inputs[0])
                if t is not None:
                    tan[n] = t
                continue
        else:
            if group[0] in done:
                continue
            done.add(group[0])
        args, argnums = _rule_args(inputs, tan, shown)
        if not argnums:
            continue
        results = n.prim.jvp(args, [tan[inputs[j]] for j in argnums], argnums)
        if group is None:
            if results[0] is not None:
                tan[n] = results[0]
        else:
            for o, t in zip(group, results):
                if t is not None:
                    tan[o] = t
    return [tan.get(o) for o in output_nodes]


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
        primals = []
        tracers = []
        # Each differentiated argument, with tracers in place of its arrays.
        trees = []
        for i in argnums:
            args[i] = _trace_tree(args[i], primals, tracers)
            trees.append(args[i])
        if argnames:
            kwargs = dict(kwargs)
            for k in argnames:
                kwargs[k] = _trace_tree(kwargs[k], primals, tracers)
                trees.append(kwargs[k])
        trace_state.depth += 1
        try:
            ret = fun(*args, **kwargs)
            if type(ret) is array and not ret._node.shape:
                loss = ret
            else:
                loss = _check_loss(ret, where, scalar_only)
            # The seed is the shared constant 1 of the loss's dtype (the loss is a
            # scalar): no node to build or evaluate.
            seed = wrap(scalar_node(1, loss._node.dtype, where))
            grads = vjp_graph([t._node for t in tracers], [loss._node], [seed])
        finally:
            trace_state.depth -= 1
        grads = [zeros_like(p) if g is None else _match_dtype(g, p)
                 for g, p in zip(grads, primals)]
        if not argnames and len(trees) == 1 and type(trees[0]) is array:
            return ret, grads[0]
        grads = iter(grads)
        grad_trees = [next(grads) if type(t) is array else replace_arrays(t, grads)
                      for t in trees]
        positional = (None if not argnums else grad_trees[0] if len(argnums) == 1
                      else tuple(grad_trees[:len(argnums)]))
        if argnames:
            keyword = {k: g for k, g in zip(argnames, grad_trees[len(argnums):])}
            return ret, (positional, keyword)
        return ret, positional

    return run


def _trace_tree(tree, primals, tracers):
    """`tree` with tracers in place of its arrays, which go to `primals`, the tracers
    to `tracers`."""
    if type(tree) is array:
        n = tree._node
        t = wrap(Node(n.shape, n.dtype, COPY, [n], n.stream))
        primals.append(tree)
        tracers.append(t)
        return t
    flat = flatten_arrays(tree, strict=True, where="tree_flatten")
    new = make_tracers(flat)
    primals += flat
    tracers += new
    return replace_arrays(tree, new)


def _match_dtype(g, p):
    return g if g._node.dtype is p._node.dtype else g.astype(p.dtype)


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
