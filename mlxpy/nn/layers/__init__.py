"""Layers: each module defines `__all__`; this package re-exports them all."""
from . import (activations, base, containers, convolution, convolution_transpose, dropout,
               embedding, linear, normalization, pooling, positional_encoding, recurrent,
               transformer, upsample)

__all__ = []
_name = None
for _module in (base, activations, containers, convolution, convolution_transpose, dropout,
                embedding, linear, normalization, pooling, positional_encoding, recurrent,
                transformer, upsample):
    for _name in _module.__all__:
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
del _module, _name
