"""The Python operators of `mx.array`, bound to the ops that implement them.

MLX's set is followed exactly: no reflected bitwise, shift or matmul operators and no
__divmod__ (so `2 << x` and `divmod(x, 2)` raise TypeError), float operands refused
by the bitwise operators with ValueError, and in-place operators that rebind the array
object itself, so every name bound to it sees the result.

>>> import mlxpy.core as mx
>>> x = mx.array([1, 2])
>>> y = x
>>> x += 0.5
>>> y
array([1.5, 2.5], dtype=float32)
"""
from ..array import array
from . import elementwise as E

_array = array


def _matmul(a, b):
    from .linalg_basic import matmul
    return matmul(a, b)


def _reflected(op):
    def method(self, other):
        return op(other, self)
    method.__name__ = f"__r{op.__name__}__"
    return method


def _inplace(op):
    # The handle is pointed at the result's node; graph nodes made earlier from this
    # array keep the old node, so they are unaffected.
    def method(self, other):
        self._node = op(self, other)._node
        return self
    return method


def _bitwise_operator(op, words):
    def method(self, other):
        if self._node.dtype.kind in "fc" or isinstance(other, (float, complex)) or (
                type(other) is _array and other._node.dtype.kind in "fc"):
            raise ValueError(f"Floating point types not allowed with {words}.")
        return op(self, other)
    return method


def _true_divide_inplace(self, other):
    if self._node.dtype.kind not in "fc":
        raise ValueError("In place division cannot cast to non-floating point type.")
    self._node = E.divide(self, other)._node
    return self


# The arithmetic operators are the ops themselves: the fastest call path.
_ARITHMETIC = {"add": E.add, "sub": E.subtract, "mul": E.multiply, "truediv": E.divide,
               "floordiv": E.floor_divide, "mod": E.remainder, "pow": E.power}
for _name, _op in _ARITHMETIC.items():
    setattr(array, f"__{_name}__", _op)
    setattr(array, f"__r{_name}__", _reflected(_op))
    setattr(array, f"__i{_name}__", _inplace(_op))
array.__itruediv__ = _true_divide_inplace
# Python 2 names MLX still defines.
array.__div__ = E.divide
array.__rdiv__ = array.__rtruediv__

_BITWISE = {"and": (E.bitwise_and, "bitwise and"), "or": (E.bitwise_or, "bitwise or"),
            "xor": (E.bitwise_xor, "bitwise xor"), "lshift": (E.left_shift, "left shift"),
            "rshift": (E.right_shift, "right shift")}
for _name, (_op, _words) in _BITWISE.items():
    _method = _bitwise_operator(_op, _words)
    setattr(array, f"__{_name}__", _method)
    setattr(array, f"__i{_name}__", _inplace(_method))

array.__matmul__ = _matmul
array.__imatmul__ = _inplace(_matmul)


def _comparable(other):
    """Whether MLX compares `other` elementwise (else == is False and != is True)."""
    return isinstance(other, (array, bool, int, float, complex)) or (
        not isinstance(other, (list, tuple, str))
        and (hasattr(other, "__array__") or hasattr(other, "__dlpack__")))


def _eq(self, other):
    if other is None:
        raise TypeError("[equal] Cannot compare an array with None.")
    if not _comparable(other):
        return False
    return E.equal(self, other)


def _ne(self, other):
    if other is None:
        raise TypeError("[not_equal] Cannot compare an array with None.")
    if not _comparable(other):
        return True
    return E.not_equal(self, other)


array.__eq__ = _eq
array.__ne__ = _ne
array.__lt__ = E.less
array.__le__ = E.less_equal
array.__gt__ = E.greater
array.__ge__ = E.greater_equal
array.__neg__ = E.negative
array.__pos__ = E.positive
array.__abs__ = E.abs


def _invert(self):
    if self._node.dtype.kind in "fc":
        raise ValueError("Floating point types not allowed with bitwise inversion.")
    return E.bitwise_invert(self)


array.__invert__ = _invert
# Defining __eq__ drops the inherited hash; MLX arrays hash by identity.
array.__hash__ = object.__hash__
