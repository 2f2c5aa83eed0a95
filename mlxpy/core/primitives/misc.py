"""Primitives that order or shield the graph rather than compute: depends."""
import mlxpy.core as mx

from .base import Primitive


class Depends(Primitive):
    """Outputs are the first `num_inputs` inputs unchanged; the remaining inputs are
    dependencies, evaluated before the outputs because they are inputs of this node."""
    __slots__ = ("num_inputs",)

    @property
    def num_outputs(self):
        return self.num_inputs

    def infer(self, inputs):
        return [(n.shape, n.dtype) for n in inputs[:self.num_inputs]]

    def eval(self, xp, inputs):
        return tuple(inputs[:self.num_inputs])

    # Each output is its input: cotangents and tangents pass straight through. The
    # dependencies get zeros, as in MLX (not nothing, so a nan upstream of them shows).
    def vjp(self, primals, cotangents, argnums, outputs):
        n = self.num_inputs
        return [cotangents[k] if k < n else mx.zeros_like(primals[k]) for k in argnums]

    def jvp(self, primals, tangents, argnums):
        given = dict(zip(argnums, tangents))
        return [given.get(k) for k in range(self.num_inputs)]

    def vmap(self, inputs, axes):
        from ..ops._core import make_multi
        # make_multi even for one input: infer always returns a list of outputs.
        outs = make_multi(self, [x._node for x in inputs], inputs[0]._node.stream)
        return outs, list(axes[:self.num_inputs])
