"""Primitives that order or shield the graph rather than compute: depends."""
from .base import Primitive


class Depends(Primitive):
    """Outputs are the first `num_inputs` inputs unchanged; the remaining inputs are
    dependencies, evaluated before the outputs because they are inputs of this node."""
    __slots__ = ("num_inputs",)

    def __init__(self, num_inputs):
        self.num_inputs = num_inputs

    def params(self):
        return (self.num_inputs,)

    @property
    def num_outputs(self):
        return self.num_inputs

    def infer(self, inputs):
        return [(n.shape, n.dtype) for n in inputs[:self.num_inputs]]

    def eval(self, xp, inputs):
        return tuple(inputs[:self.num_inputs])
