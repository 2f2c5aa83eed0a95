"""Containers of other modules."""
from .base import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """Calls `modules` one after another, each on the previous one's output. Plain callables
    work too; only modules contribute parameters (under `layers.<i>`).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> model = nn.Sequential(nn.Linear(3, 4), mx.abs, nn.Linear(4, 2))
    >>> model(mx.ones((5, 3))).shape
    (5, 2)
    >>> from mlxpy.utils import tree_flatten
    >>> [name for name, _ in tree_flatten(model.parameters())]
    ['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']
    """

    def __init__(self, *modules):
        super().__init__()
        self.layers = list(modules)

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x
