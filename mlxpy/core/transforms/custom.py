"""`custom_function` and `checkpoint`: ordinary primitives with their own rules.

A call of a custom function builds the function's own graph, then one
`CustomTransforms` node whose inputs are the call's arrays followed by the
function's outputs, and whose outputs are those outputs unchanged. Its rules call
the user's vjp/jvp/vmap when given; otherwise they transform the function itself,
re-traced on the inputs alone, so arrays the function captured are constants (as
in MLX), not paths for gradients.

>>> import mlxpy.core as mx
>>> @mx.custom_function
... def f(x):
...     return mx.sin(x)
>>> @f.vjp
... def f_vjp(x, cotangent, output):
...     return 2 * cotangent
>>> mx.grad(f)(mx.array(1.0))
array(2, dtype=float32)
"""
import functools

from ..array import array, wrap
from ..primitives.base import Primitive
from .tree import flatten_arrays, replace_arrays, tree_leaves, replace_leaves


def _is_array(x):
    return isinstance(x, array)


class _CallStructure:
    """How one call's (args, kwargs) and outputs map to flat lists of arrays."""
    __slots__ = ("args", "kwargs", "outputs", "n_args_arrays")

    def __init__(self, args, kwargs):
        self.args = args
        self.kwargs = kwargs
        self.outputs = None
        self.n_args_arrays = len(flatten_arrays(list(args)))

    def rebuild(self, flat):
        """(args, kwargs) with the array leaves replaced by `flat`."""
        return replace_arrays((self.args, self.kwargs), flat)

    def call(self, fun, flat):
        a, kw = self.rebuild(flat)
        out = fun(*a, **kw)
        return flatten_arrays(out, strict=True, where="custom_function")

    def output_tree(self, flat):
        return replace_arrays(self.outputs, flat)


class CustomTransforms(Primitive):
    """Identity on the function's outputs, with the custom function's rules."""
    __slots__ = ("fn", "call", "n_in", "n_out")

    def __init__(self, fn, call, n_in, n_out):
        self.fn = fn
        self.call = call
        self.n_in = n_in
        self.n_out = n_out

    @property
    def num_outputs(self):
        return self.n_out

    def params(self):
        return (id(self),)

    def infer(self, inputs):
        outs = [(n.shape, n.dtype) for n in inputs[self.n_in:]]
        return outs if self.n_out > 1 else outs[0]

    def eval(self, xp, inputs):
        outs = inputs[self.n_in:]
        return outs if self.n_out > 1 else outs[0]

    def _inner(self, flat):
        return self.call.call(self.fn.fun, flat)

    def vjp(self, primals, cotangents, argnums, outputs):
        from .autodiff import vjp as vjp_transform
        ins = primals[:self.n_in]
        wanted = [k for k in argnums if k < self.n_in]
        if not wanted:
            # Only captured arrays need a gradient: they are constants of the function,
            # so theirs is zero, and the user's rule is not called (as in MLX).
            return [None] * len(argnums)
        if self.fn.vjp_fn is None:
            _, grads = vjp_transform(lambda *xs: self._inner(list(xs)), ins, list(cotangents))
        else:
            args, kwargs = self.call.rebuild(ins)
            prim_tree = args[0] if len(args) == 1 else tuple(args)
            result = self.fn.vjp_fn(prim_tree, self.call.output_tree(cotangents),
                                    self.call.output_tree(outputs), **kwargs)
            grads = tree_leaves(result)
            grads = [g if isinstance(g, array) else None for g in grads]
            grads += [None] * (self.n_in - len(grads))
        return [grads[k] if k < self.n_in else None for k in argnums]

    def jvp(self, primals, tangents, argnums):
        from .autodiff import jvp as jvp_transform
        from ..ops.creation import zeros_like
        ins = primals[:self.n_in]
        have = {k: t for k, t in zip(argnums, tangents) if k < self.n_in}
        if self.fn.jvp_fn is None:
            full = [have.get(k) if have.get(k) is not None else zeros_like(x)
                    for k, x in enumerate(ins)]
            _, outs = jvp_transform(lambda *xs: self._inner(list(xs)), ins, full)
            return outs
        args, kwargs = self.call.rebuild(ins)
        if kwargs:
            raise ValueError("[custom jvp] Function should only accept positional arguments.")
        tangent_args = replace_leaves(args, [have.get(k) for k in range(self.n_in)], _is_array)
        if len(args) == 1:
            result = self.fn.jvp_fn(args[0], tangent_args[0])
        else:
            result = self.fn.jvp_fn(tuple(args), tuple(tangent_args))
        return flatten_arrays(result, strict=False)

    def vmap(self, inputs, axes):
        from .vmap import vmap as vmap_transform
        ins = inputs[:self.n_in]
        in_axes = list(axes[:self.n_in])
        if self.fn.vmap_fn is None:
            if all(a is None for a in in_axes):
                # Only the function's own (already batched) outputs carry the batch.
                return list(inputs[self.n_in:]), list(axes[self.n_in:])
            outs = vmap_transform(lambda *xs: self._inner(list(xs)),
                                  in_axes=tuple(in_axes))(*ins)
            return list(outs), [0] * len(outs)
        args, kwargs = self.call.rebuild(ins)
        if kwargs:
            raise ValueError("[custom vmap] Function should only accept positional arguments.")
        axes_tree = replace_leaves(args, in_axes, _is_array)
        if len(args) == 1:
            result = self.fn.vmap_fn(args[0], axes_tree[0])
        else:
            result = self.fn.vmap_fn(tuple(args), tuple(axes_tree))
        if not isinstance(result, tuple) or len(result) != 2:
            raise ValueError("[custom vmap] Vmap function should return a tuple with 2 items.")
        outs_tree, out_axes_tree = result
        outs = flatten_arrays(outs_tree)
        if isinstance(outs_tree, array):
            flat_axes = [out_axes_tree]
        else:
            flat_axes = tree_leaves(out_axes_tree, lambda x: x is None or isinstance(x, int))
        if len(flat_axes) != len(outs):
            raise ValueError("[custom vmap] The output axes must match the outputs' structure.")
        return outs, flat_axes


class custom_function:
    """A function whose vjp, jvp and vmap can be redefined.

    Decorate a function, then register rules with `.vjp`, `.jvp` and `.vmap`; rules
    not given fall back to transforming the function itself.
    """

    def __init__(self, f):
        self.fun = f
        self.vjp_fn = None
        self.jvp_fn = None
        self.vmap_fn = None
        functools.update_wrapper(self, f)

    def vjp(self, f):
        """Register `f(primals, cotangents, outputs, **kwargs)` as the vjp."""
        self.vjp_fn = f
        return self

    def jvp(self, f):
        """Register `f(primals, tangents)` as the jvp (tangents may hold None)."""
        self.jvp_fn = f
        return self

    def vmap(self, f):
        """Register `f(inputs, axes) -> (outputs, out_axes)` as the batching rule."""
        self.vmap_fn = f
        return self

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if self.vjp_fn is None and self.jvp_fn is None and self.vmap_fn is None:
            return self.fun(*args, **kwargs)
        call = _CallStructure(args, kwargs)
        ins = flatten_arrays((list(args), kwargs))
        a, kw = call.rebuild(ins)
        out = self.fun(*a, **kw)
        outs = flatten_arrays(out, strict=True, where="custom_function")
        call.outputs = out
        if not outs:
            return out
        from ..ops._core import make, make_multi
        prim = CustomTransforms(self, call, len(ins), len(outs))
        nodes = [x._node for x in ins + outs]
        stream = outs[0]._node.stream
        new = make_multi(prim, nodes, stream) if len(outs) > 1 else [make(prim, nodes, stream)]
        return replace_arrays(out, new)


def checkpoint(fun):
    """`fun` whose backward pass recomputes its intermediates instead of keeping them.

    >>> import mlxpy.core as mx
    >>> f = mx.checkpoint(lambda x: mx.sin(x) * x)
    >>> mx.grad(lambda x: f(x).sum())(mx.array([0.0]))
    array([0], dtype=float32)
    """
    from .autodiff import vjp as vjp_transform
    from ..ops.misc import depends

    @custom_function
    def inner(*args, **kwargs):
        return fun(*args, **kwargs)

    @inner.vjp
    def _recompute(primals, cotangents, outputs, **kwargs):
        args = list(primals) if isinstance(primals, tuple) else [primals]
        flat = flatten_arrays(args)
        cots = flatten_arrays(cotangents)
        # The recomputation waits for the cotangents, so it runs in the backward pass,
        # after the forward activations could be freed.
        fresh = depends(flat, cots) if cots else flat
        fresh = fresh if isinstance(fresh, list) else [fresh]

        def again(*xs):
            a = replace_arrays(args, list(xs))
            return flatten_arrays(fun(*a, **kwargs), strict=True, where="checkpoint")

        _, grads = vjp_transform(again, fresh, cots)
        grad_args = replace_arrays(args, grads)
        return grad_args[0] if not isinstance(primals, tuple) else tuple(grad_args)

    functools.update_wrapper(inner, fun)
    return inner
