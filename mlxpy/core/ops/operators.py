"""The Python operators of `mx.array`, bound to the ops that implement them."""
from ..array import array, wrap
from . import elementwise as E


def _reflect(op):
    return lambda self, other: op(other, self)


def _inplace(op):
    # MLX's in-place operators rebind the handle to the result, so every name bound
    # to this array object sees the update; graph nodes made earlier keep the old node.
    def method(self, other):
        self._node = op(self, other)._node
        return self
    return method


_BINARY = {
    "add": E.add, "sub": E.subtract, "mul": E.multiply, "truediv": E.divide,
    "floordiv": E.floor_divide, "mod": E.remainder, "pow": E.power,
    "lshift": E.left_shift, "rshift": E.right_shift,
}


_BINARY["and"] = E.bitwise_and
_BINARY["or"] = E.bitwise_or
_BINARY["xor"] = E.bitwise_xor


def _matmul(a, b):
    from .linalg_basic import matmul
    return matmul(a, b)


_BINARY["matmul"] = _matmul

for _name, _op in _BINARY.items():
    setattr(array, f"__{_name}__", _op)
    setattr(array, f"__r{_name}__", _reflect(_op))
    setattr(array, f"__i{_name}__", _inplace(_op))

array.__divmod__ = lambda self, other: E.divmod(self, other)
array.__rdivmod__ = lambda self, other: E.divmod(other, self)


def _comparison(op):
    def method(self, other):
        try:
            return op(self, other)
        except (TypeError, ValueError):
            if other is None or not isinstance(other, (array, int, float, complex, list, tuple)):
                return NotImplemented
            raise
    return method


array.__eq__ = _comparison(E.equal)
array.__ne__ = _comparison(E.not_equal)
array.__lt__ = lambda self, other: E.less(self, other)
array.__le__ = lambda self, other: E.less_equal(self, other)
array.__gt__ = lambda self, other: E.greater(self, other)
array.__ge__ = lambda self, other: E.greater_equal(self, other)
array.__neg__ = lambda self: E.negative(self)
array.__pos__ = lambda self: self
array.__abs__ = lambda self: E.abs(self)
array.__invert__ = lambda self: (E.logical_not(self) if self.dtype.kind == "b"
                                 else E.bitwise_invert(self))
# Defining __eq__ drops the inherited hash; MLX arrays hash by identity.
array.__hash__ = object.__hash__
