"""Token embeddings."""
import math

import mlxpy.core as mx

from .base import Module

__all__ = ["Embedding"]


class Embedding(Module):
    """A lookup table: integer `x` selects rows of `weight`, shape `(num_embeddings, dims)`,
    initialized from N(0, 1/dims).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> table = nn.Embedding(10, 4)
    >>> table(mx.array([[1, 2, 3]])).shape
    (1, 3, 4)
    >>> table
    Embedding(10, 4)
    """

    def __init__(self, num_embeddings, dims):
        super().__init__()
        self.weight = mx.random.normal(shape=(num_embeddings, dims), scale=math.sqrt(1 / dims))

    def _extra_repr(self):
        return f"{self.weight.shape[0]}, {self.weight.shape[1]}"

    def __call__(self, x):
        return self.weight[x]

    def as_linear(self, x):
        """`x @ weight.T`: the table used as an output projection (tied embeddings).

        >>> import mlxpy.core as mx
        >>> import mlxpy.nn as nn
        >>> nn.Embedding(10, 4).as_linear(mx.ones((2, 4))).shape
        (2, 10)
        """
        return x @ self.weight.T
