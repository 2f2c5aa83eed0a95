"""Backends: an array module per device type.

Primitive `eval` rules receive an `ArrayModule`: NumPy's (or CuPy's) namespace plus
the few functions the module lacks (erf, scatter-add, ...), under one name each.
"""
from ..device import DeviceType


class ArrayModule:
    """A module's namespace; attributes not set here are read from the module once."""

    def __init__(self, module, name):
        self._module = module
        self.name = name

    def __getattr__(self, attr):
        value = getattr(self._module, attr)
        setattr(self, attr, value)
        return value


_modules = {}


def array_module(device_type):
    m = _modules.get(device_type)
    if m is None:
        if device_type is DeviceType.cpu:
            from .numpy_backend import xp as m
        else:
            from .cupy_backend import xp as m
        _modules[device_type] = m
    return m
