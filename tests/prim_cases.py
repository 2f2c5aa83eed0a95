"""One or more sample calls for every registered primitive.

The registry sweep (test_rules.py) uses these to check, for every primitive: the shape
and dtype rule against eval, vjp and jvp against central finite differences and
against each other, and vmap against a Python loop. A primitive registered without a
case here fails the sweep.

A Case holds `fn` (a function of arrays that builds the primitive through public ops)
and `args`, one spec per argument: (shape, domain) with domain one of
  "real"   any float               "pos"    positive floats (log, sqrt, ...)
  "unit"   floats in (-0.9, 0.9)   "gt1"    floats > 1.1 (arccosh)
  "int"    small int32             "bool"   booleans
  "nonzero" floats away from 0     ("index", n) int32 indices in [0, n)
Only "real"/"pos"/"unit"/"gt1"/"nonzero" arguments are differentiated. `smooth=False`
skips the derivative checks where the function is not differentiable at random points
(comparisons, rounding); `vmap=False` is for cases the loop check cannot express.
"""
from dataclasses import dataclass, field

import mlxpy.core as mx
from mlxpy.core.transforms.autodiff import make_tracers

FLOAT_DOMAINS = ("real", "pos", "unit", "gt1", "nonzero")


@dataclass
class Case:
    fn: object
    args: list
    smooth: bool = True
    vmap: bool = True
    tol: float = 1e-5
    note: str = ""


CASES = {}


def case(name, fn, *args, **kw):
    CASES.setdefault(name, []).append(Case(fn, list(args), **kw))


S = (3, 4)
# -- elementwise ---------------------------------------------------------------------
for _name, _op, _dom in [
        ("Negative", mx.negative, "real"), ("Abs", mx.abs, "nonzero"),
        ("Square", mx.square, "real"), ("Sqrt", mx.sqrt, "pos"), ("Rsqrt", mx.rsqrt, "pos"),
        ("Reciprocal", mx.reciprocal, "nonzero"), ("Exp", mx.exp, "real"),
        ("Expm1", getattr(mx, "expm1", None), "real"), ("Log", mx.log, "pos"),
        ("Log1p", mx.log1p, "pos"), ("Log2", mx.log2, "pos"), ("Log10", mx.log10, "pos"),
        ("Sin", mx.sin, "real"), ("Cos", mx.cos, "real"), ("Tan", mx.tan, "unit"),
        ("Sinh", mx.sinh, "real"), ("Cosh", mx.cosh, "real"), ("Tanh", mx.tanh, "real"),
        ("ArcSin", getattr(mx, "arcsin", None), "unit"),
        ("ArcCos", getattr(mx, "arccos", None), "unit"),
        ("ArcTan", getattr(mx, "arctan", None), "real"),
        ("ArcSinh", getattr(mx, "arcsinh", None), "real"),
        ("ArcCosh", getattr(mx, "arccosh", None), "gt1"),
        ("ArcTanh", getattr(mx, "arctanh", None), "unit"),
        ("Sigmoid", mx.sigmoid, "real"), ("Erf", mx.erf, "real"),
        ("ErfInv", mx.erfinv, "unit"), ("Sign", mx.sign, "nonzero"),
        ("Conjugate", mx.conjugate, "real")]:
    if _op is not None:
        case(_name, _op, (S, _dom), smooth=_name != "Sign")
        case(_name, _op, ((), _dom), smooth=_name != "Sign")

case("Floor", mx.floor, (S, "real"), smooth=False)
case("Ceil", mx.ceil, (S, "real"), smooth=False)
case("Trunc", mx.trunc, (S, "real"), smooth=False)
case("Trunc", lambda x: mx.trunc(x * 3), ((), "real"), smooth=False)
case("Round", lambda x: mx.round(x, 1), (S, "real"), smooth=False)
case("Round", mx.round, ((2, 3, 2), "real"), smooth=False)
# Rounding has zero derivatives, so a smooth function of it checks that they are zeros.
case("Floor", lambda x: mx.floor(x) + x, (S, "real"))
case("Sign", lambda x: mx.sign(x) * 2.5 + x, (S, "nonzero"))
case("LogicalNot", mx.logical_not, (S, "bool"), smooth=False)
case("BitwiseInvert", lambda x: ~x, (S, "int"), smooth=False)
for _name, _op in [("IsNaN", mx.isnan), ("IsInf", mx.isinf), ("IsFinite", mx.isfinite),
                   ("IsPosInf", getattr(mx, "isposinf", None)),
                   ("IsNegInf", getattr(mx, "isneginf", None))]:
    if _op is not None:
        case(_name, _op, (S, "real"), smooth=False)
# Complex numbers are complex64, so finite differences through them have float32
# precision: those cases check vjp and jvp against each other strictly (the conj
# convention) and against finite differences loosely.
_C = dict(tol=0.05)
case("Real", lambda x: mx.real(x * (1 + 1j)), (S, "real"), **_C)
case("Imag", lambda x: mx.imag(x * (1 + 2j)), (S, "real"), **_C)
case("AsType", lambda x: x.astype(mx.float32).astype(mx.float64), (S, "real"), **_C)
case("AsType", lambda x: x.astype(mx.int32), (S, "real"), smooth=False)
case("AsType", lambda x: x.astype(mx.float16), ((4,), "real"), smooth=False)
case("AsType", lambda k: k.astype(mx.bool_), (S, "int"), smooth=False)
case("AsType", lambda x: mx.real(x.astype(mx.complex64) * (2 - 1j)), ((4,), "real"), **_C)
case("AsType", lambda x: (x * (1 + 1j)).astype(mx.float32), ((4,), "real"), **_C)


def _complex_parts(f):
    """A function of two real arrays: f at x + iy, as its real and imaginary parts."""
    def g(x, y):
        out = f(x + 1j * y)
        return [mx.real(out), mx.imag(out)]
    return g


for _name, _op, _dom in [
        ("Exp", mx.exp, "unit"), ("Log", mx.log, "pos"), ("Sqrt", mx.sqrt, "pos"),
        ("Rsqrt", mx.rsqrt, "pos"), ("Square", mx.square, "real"),
        ("Reciprocal", mx.reciprocal, "pos"), ("Sin", mx.sin, "unit"),
        ("Cos", mx.cos, "unit"), ("Tan", mx.tan, "unit"), ("Sinh", mx.sinh, "unit"),
        ("Cosh", mx.cosh, "unit"), ("Tanh", mx.tanh, "unit"), ("Log1p", mx.log1p, "pos"),
        ("Log2", mx.log2, "pos"), ("Log10", mx.log10, "pos"),
        ("ArcSin", mx.arcsin, "unit"), ("ArcCos", mx.arccos, "unit"),
        ("ArcTan", mx.arctan, "unit"), ("ArcSinh", mx.arcsinh, "unit"),
        ("ArcCosh", mx.arccosh, "gt1"), ("ArcCosh", mx.arccosh, "unit"),
        ("ArcTanh", mx.arctanh, "unit"), ("Negative", mx.negative, "real"),
        ("Conjugate", mx.conjugate, "real"), ("Abs", mx.abs, "nonzero"),
        ("Sign", lambda z: mx.sign(z) + z, "nonzero")]:
    case(_name, _complex_parts(_op), ((2, 3), _dom), ((2, 3), _dom), **_C)
for _name, _op, _dom in [
        ("Multiply", mx.multiply, "real"), ("Divide", mx.divide, "nonzero"),
        ("Power", mx.power, "pos"), ("Maximum", mx.maximum, "real"),
        ("Minimum", mx.minimum, "real"), ("LogAddExp", mx.logaddexp, "unit"),
        ("Subtract", mx.subtract, "real")]:
    case(_name, lambda x, y, u, v, _op=_op: _complex_parts(lambda z: _op(z, u + 1j * v))(x, y),
         ((3, 1), _dom), ((3, 1), _dom), ((4,), _dom), ((4,), _dom), **_C)

for _name, _op, _d1, _d2 in [
        ("Add", mx.add, "real", "real"), ("Subtract", mx.subtract, "real", "real"),
        ("Multiply", mx.multiply, "real", "real"), ("Divide", mx.divide, "real", "nonzero"),
        ("Maximum", mx.maximum, "real", "real"), ("Minimum", mx.minimum, "real", "real"),
        ("Power", mx.power, "pos", "real"), ("ArcTan2", getattr(mx, "arctan2", None), "real", "nonzero"),
        ("LogAddExp", getattr(mx, "logaddexp", None), "real", "real"),
        ("Remainder", mx.remainder, "real", "pos")]:
    if _op is not None:
        case(_name, _op, (S, _d1), (S, _d2))
        case(_name, _op, ((3, 1), _d1), ((4,), _d2))
        case(_name, _op, ((), _d1), (S, _d2))
        case(_name, _op, ((2, 1, 4), _d1), ((3, 1), _d2))
for _name, _op in [("Add", mx.add), ("Multiply", mx.multiply), ("Maximum", mx.maximum)]:
    # The same array on both sides: its two cotangents add up.
    case(_name, lambda x, _op=_op: _op(x, x * 0.5), (S, "real"))
case("Power", lambda x: mx.power(x, 3.0), (S, "real"))
case("Remainder", mx.remainder, (S, "real"), (S, "nonzero"))
case("Maximum", lambda x: mx.maximum(x, 0.0), (S, "nonzero"))
case("Minimum", lambda x: mx.clip(x, -0.5, 0.5), (S, "real"))
case("FloorDivide", lambda a, b: mx.floor_divide(a, b + 1), (S, "int"), (S, ("index", 3)),
     smooth=False, note="integer floor division")
case("FloorDivide", mx.floor_divide, (S, "real"), ((4,), "nonzero"), smooth=False)
case("FloorDivide", lambda x, y: mx.floor_divide(x, y) + x * y, (S, "real"), (S, "nonzero"))
for _name, _op in [("Equal", mx.equal), ("NotEqual", mx.not_equal), ("Less", mx.less),
                   ("LessEqual", mx.less_equal), ("Greater", mx.greater),
                   ("GreaterEqual", mx.greater_equal)]:
    case(_name, _op, (S, "real"), ((4,), "real"), smooth=False)
for _name, _op, _dom in [("LogicalAnd", mx.logical_and, "bool"), ("LogicalOr", mx.logical_or, "bool"),
                         ("BitwiseAnd", mx.bitwise_and, "int"), ("BitwiseOr", mx.bitwise_or, "int"),
                         ("BitwiseXor", mx.bitwise_xor, "int")]:
    case(_name, _op, (S, _dom), ((4,), _dom), smooth=False)
case("LeftShift", mx.left_shift, (S, "int"), (S, ("index", 4)), smooth=False)
case("RightShift", mx.right_shift, (S, "int"), (S, ("index", 4)), smooth=False)
case("Select", mx.where, (S, "bool"), (S, "real"), ((4,), "real"))
case("Select", lambda c, x: mx.where(c, x, 0.0), (S, "bool"), (S, "real"))
case("Select", mx.where, ((4,), "bool"), ((3, 1), "real"), ((), "real"))
case("Select", lambda x: mx.where(x > 0, x, x * x), ((2, 3, 2), "nonzero"))
case("Select", lambda x, y: mx.where(x, y, 2 * y), ((3,), "real"), ((2, 3), "real"))
case("Equal", lambda x, y: mx.array_equal(x, y, equal_nan=True), (S, "real"), (S, "real"),
     smooth=False)
case("Equal", lambda x: mx.where(x == mx.floor(x), 0.0, x), (S, "real"))
case("StopGradient", mx.stop_gradient, (S, "real"), smooth=False,
     note="finite differences see through stop_gradient; the rules give zero")
case("StopGradient", lambda k, y: mx.stop_gradient(k) + y, (S, "int"), ((4,), "real"))
case("StopGradient", lambda x: mx.stop_gradient(x * 2) * 0 + x, ((), "real"))
case("Depends", lambda x, y: mx.depends(x * 2, y), (S, "real"), ((4,), "real"))
case("Depends", lambda x, y, z: mx.depends([x, y * y], [z]), (S, "real"), ((2,), "real"),
     ((), "real"))
case("Depends", lambda x, k: mx.depends([x], k), ((4,), "real"), ((3,), "int"))

# -- creation ---------------------------------------------------------------------------
case("Full", lambda x: mx.full((2, 3, 4), x), ((4,), "real"))
case("Full", lambda x: mx.full((2, 3), x), ((), "real"))
case("Full", lambda x: mx.full((2, 3, 4), x), ((3, 1), "real"))
case("Full", lambda x: mx.full((3, 4), x), (S, "real"))
case("Full", lambda x: mx.full((2, 3), x) + mx.zeros((2, 3), dtype=mx.float64), ((1, 3), "real"))
case("Arange", lambda x: mx.arange(4, dtype=mx.float64) * x, ((), "real"))
case("Eye", lambda x: mx.eye(3, dtype=mx.float64) * x, ((), "real"))
case("Tri", lambda x: mx.tri(3, 4, k=1, dtype=mx.float64) * x, ((), "real"))
case("Tri", lambda x: mx.tri(2, dtype=mx.float64) * x, ((2, 1), "real"))

# -- transforms --------------------------------------------------------------------------
case("Copy", lambda x: make_tracers([x])[0], (S, "real"))

# -- matmul & random ------------------------------------------------------------------------
from mlxpy.core.primitives._rules import apply as _apply  # noqa: E402
from mlxpy.core.primitives.random import (  # noqa: E402
    COVARIANCE_ROOT_DERIVATIVE as _ROOT_DERIVATIVE, CovarianceRoot as _CovarianceRoot)

for _sa, _sb in [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                 ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)),
                 ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((1, 3, 4), (2, 4, 2))]:
    case("Matmul", mx.matmul, (_sa, "real"), (_sb, "real"))
for _sc, _sa, _sb, _alpha, _beta in [
        ((3, 5), (3, 4), (4, 5), 2.0, 0.5), ((5,), (2, 3, 4), (4, 5), 1.0, 1.0),
        ((), (4,), (4,), -1.5, 2.0), ((1,), (3, 4), (4,), 1.0, -3.0),
        ((2, 1), (4,), (2, 4, 3), 0.0, 1.0), ((2, 1, 5), (2, 3, 4), (1, 4, 5), 0.5, 0.0),
        ((1, 2), (3, 4), (4, 2), 1.0, 1.0)]:
    case("AddMM", lambda c, a, b, _al=_alpha, _be=_beta: mx.addmm(c, a, b, alpha=_al, beta=_be),
         (_sc, "real"), (_sa, "real"), (_sb, "real"))


def _key(k):
    return k.astype(mx.uint32)


_KEY = (2,), ("index", 2 ** 31 - 1)
# Draws are float32: the float64 arguments only scale them, so that finite differences
# stay in float64.
case("RandomBits", lambda x: x * mx.random.uniform(shape=(3, 4), key=mx.random.key(1)).astype(
    mx.float64), ((4,), "real"))
case("RandomBits", lambda k: mx.random.bits((3, 2), key=_key(k)), _KEY, smooth=False)
case("RandomBits", lambda k: mx.random.bits((5,), width=1, key=_key(k)), _KEY, smooth=False)
case("RandomBits", lambda k: mx.random.split(_key(k), 3), _KEY, smooth=False)
case("RandomBits", lambda k, x: x + mx.random.normal((4,), key=_key(k)).astype(mx.float64),
     _KEY, ((4,), "real"))
# CovarianceRoot is only reachable in float32 through multivariate_normal; applied
# directly it runs in float64 for the finite-difference check. Random 3x3 matrices are
# far from singular, and the root is smooth at any nonsingular matrix.
case("CovarianceRoot", lambda c: _apply(_CovarianceRoot(), [c]), ((3, 3), "real"))
case("CovarianceRoot", lambda c: _apply(_CovarianceRoot(), [c]), ((2, 3, 3), "real"))
case("CovarianceRoot", lambda x: _apply(_CovarianceRoot(), [
    mx.matmul(x, mx.swapaxes(x, -1, -2)) + mx.eye(3, dtype=mx.float64)]), ((3, 3), "real"))
_COV = mx.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.0, 0.4, 1.0]], dtype=mx.float64)
case("CovarianceRootDerivative", lambda x: _apply(_ROOT_DERIVATIVE, [_COV, x]),
     ((3, 3), "real"))
case("CovarianceRootDerivative", lambda c, x: _apply(_ROOT_DERIVATIVE, [c, x]),
     ((3, 3), "real"), ((2, 3, 3), "real"), smooth=False,
     note="second derivative w.r.t. cov raises; vmap over both")

# -- shape ops ------------------------------------------------------------------------------
# Every shape primitive is linear, so all of these are smooth in their float arguments.
_T3 = (2, 3, 4)
case("Reshape", lambda x: mx.reshape(x, (2, 6)), (S, "real"))
case("Reshape", lambda x: mx.reshape(x, (4, -1)), (_T3, "real"))
case("Reshape", lambda x: mx.flatten(x, 1), (_T3, "real"))
case("Reshape", lambda x: mx.flatten(x, -2, -1), (_T3, "real"))
case("Reshape", lambda x: mx.squeeze(x, (0, -1)), ((1, 3, 1), "real"))
case("Reshape", lambda x: mx.expand_dims(x, (0, -1)), (S, "real"))
case("Reshape", lambda x: mx.unflatten(x, 1, (2, -1)), ((3, 4, 2), "real"))
case("Reshape", lambda x: mx.reshape(x, (1, 1)), ((), "real"))
case("Reshape", lambda x: mx.reshape(x, (0, 2)), ((2, 0), "real"))
case("Reshape", lambda x: mx.reshape(x, (6,)), ((2, 3), "int"), smooth=False)
case("Transpose", lambda x: mx.transpose(x), (_T3, "real"))
case("Transpose", lambda x: mx.transpose(x, (1, -1, 0)), (_T3, "real"))
case("Transpose", lambda x: mx.swapaxes(x, 0, -1), (S, "real"))
case("Transpose", lambda x: mx.moveaxis(x, 0, 2), ((2, 3, 4, 2), "real"))
case("Broadcast", lambda x: mx.broadcast_to(x, (2, 4)), ((4,), "real"))
case("Broadcast", lambda x: mx.broadcast_to(x, (2, 3, 5)), ((3, 1), "real"))
case("Broadcast", lambda x: mx.broadcast_to(x, (3,)), ((), "real"))
case("Broadcast", lambda x: mx.broadcast_to(x, (2, 1, 4)), ((1, 1, 4), "real"))
case("Broadcast", lambda x, y: mx.broadcast_arrays(x, y), ((3, 1), "real"), ((4,), "real"))
case("Broadcast", lambda x: mx.repeat(x, 2, axis=1), (S, "real"))
case("Broadcast", lambda x: mx.tile(x, (2, 1, 3)), (S, "real"))
case("Concatenate", lambda x, y: mx.concatenate([x, y]), ((2, 4), "real"), (S, "real"))
case("Concatenate", lambda x, y, z: mx.concatenate([x, y, z], axis=-1),
     ((3, 1), "real"), (S, "real"), ((3, 2), "real"))
case("Concatenate", lambda x, y: mx.concatenate([x, y], axis=None), (_T3, "real"), ((5,), "real"))
case("Concatenate", lambda x, y: mx.stack([x, y, x], axis=1), (S, "real"), (S, "real"))
case("Concatenate", lambda x, k: mx.concatenate([x, k], axis=1), (S, "real"), ((3, 2), "int"))
case("Concatenate", lambda x, y: mx.concatenate([x, y]), ((0, 4), "real"), (S, "real"))
case("Split", lambda x: mx.split(x, 2, axis=1), (S, "real"))
case("Split", lambda x: mx.split(x, [1, 3], axis=-1), (_T3, "real"))
case("Split", lambda x: mx.split(x, [3, 1]), ((5, 2), "real"))
case("Split", lambda x: mx.split(x, [-2, 5, 0]), ((4,), "real"))
case("Split", lambda x: mx.split(x, 3, axis=0)[1], ((3, 2), "real"))
for _mode in ("constant", "edge", "reflect", "symmetric"):
    case("Pad", lambda x, _m=_mode: mx.pad(x, [(1, 2), (0, 3)], mode=_m), (S, "real"))
    case("Pad", lambda x, _m=_mode: mx.pad(x, 2, mode=_m), ((4,), "real"))
    case("Pad", lambda x, _m=_mode: mx.pad(x, [(0, 0), (7, 5), (1, 0)], mode=_m),
         ((2, 3, 2), "real"))
    case("Pad", lambda x, _m=_mode: mx.pad(x, (2, 1), mode=_m), ((1, 2), "real"))
case("Pad", lambda x: mx.pad(x, (1, 2), constant_values=2.5), (S, "real"))
case("Pad", lambda x, c: mx.pad(x, [(1, 0), (2, 2)], constant_values=c), (S, "real"), ((), "real"))
case("Pad", lambda x, c: mx.pad(x, 1, constant_values=c), ((0, 2), "real"), ((), "real"))
case("Pad", lambda x, c: mx.pad(x, 1, mode="edge", constant_values=c), (S, "real"), ((), "real"))
case("Pad", lambda x, c: mx.pad(x, 1, constant_values=c), ((3,), "real"), ((2,), "real"))
case("Diagonal", lambda x: mx.diagonal(x), (S, "real"))
case("Diagonal", lambda x: mx.diagonal(x, 1), (S, "real"))
case("Diagonal", lambda x: mx.diagonal(x, -2, 1, 0), (S, "real"))
case("Diagonal", lambda x: mx.diagonal(x, 1, 2, 0), (_T3, "real"))
case("Diagonal", lambda x: mx.diagonal(x, -1, -1, 1), ((2, 3, 4, 3), "real"))
case("Diagonal", lambda x: mx.diag(x, 5), (S, "real"))
case("Diagonal", lambda x: mx.diagonal(x, 0, 0, 2), ((3, 2, 3), "int"), smooth=False)
case("Diag", lambda x: mx.diag(x), ((4,), "real"))
case("Diag", lambda x: mx.diag(x, 2), ((3,), "real"))
case("Diag", lambda x: mx.diag(x, -1), ((3,), "real"))
case("Diag", lambda x: mx.diag(x, 1), ((0,), "real"))
# Tri (creation.py) has no inputs, so no transform ever calls a rule of its: the case
# only checks that a Tri node joins transformed graphs.
case("Tri", lambda x: mx.concatenate([mx.tri(2, 3, 0, dtype=mx.float64), x]), ((1, 3), "real"))

# -- reductions & sorting ------------------------------------------------------------------
# Random normal data has no ties, so Max/Min/CumMax/Sort are smooth at it. Exclusive
# CumMax/CumMin/LogCumSumExp start at -inf, where finite differences give NaN: those
# cases skip the derivative check here (tests/test_reduction_transforms.py covers them).
_R3 = (2, 3, 4)
for _name, _op in [("Sum", mx.sum), ("Prod", mx.prod), ("Max", mx.max), ("Min", mx.min)]:
    case(_name, lambda x, _op=_op: _op(x), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=1), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=(0, 2), keepdims=True), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=(-1, 0)), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=(1, 2)), ((2, 3, 2, 2), "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=-1, keepdims=True), ((5,), "real"))
    case(_name, lambda x, _op=_op: _op(x, keepdims=True), ((1,), "real"))
case("Sum", lambda x: mx.sum(x, axis=0), (S, "int"), smooth=False)
case("Sum", lambda x: mx.sum(x, axis=(0, 1), keepdims=True), (S, "bool"), smooth=False)
case("Prod", lambda x: mx.prod(x, axis=1), (S, "nonzero"))
case("Max", lambda x: mx.max(x, axis=0), (S, "int"), smooth=False)
for _name, _op in [("All", mx.all), ("Any", mx.any)]:
    case(_name, lambda x, _op=_op: _op(x, axis=1), (_R3, "bool"), smooth=False)
    case(_name, lambda x, _op=_op: _op(x, axis=(0, 2), keepdims=True), (_R3, "bool"), smooth=False)
    case(_name, lambda x, _op=_op: _op(x), (_R3, "real"))
for _name, _op in [("ArgMax", mx.argmax), ("ArgMin", mx.argmin)]:
    case(_name, lambda x, _op=_op: _op(x), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, keepdims=True), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=1), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=-1, keepdims=True), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=0), ((5,), "int"), smooth=False)
for _name, _op in [("CumSum", mx.cumsum), ("CumProd", mx.cumprod), ("CumMax", mx.cummax),
                   ("CumMin", mx.cummin), ("LogCumSumExp", mx.logcumsumexp)]:
    _excl_smooth = _name in ("CumSum", "CumProd")
    case(_name, lambda x, _op=_op: _op(x, axis=1), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=-1, reverse=True), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, reverse=True), ((3, 4), "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=0, inclusive=False), (_R3, "real"),
         smooth=_excl_smooth)
    case(_name, lambda x, _op=_op: _op(x, axis=-1, reverse=True, inclusive=False),
         ((5,), "real"), smooth=_excl_smooth)
    case(_name, lambda x, _op=_op: _op(x, reverse=True, inclusive=False), ((3, 4), "real"),
         smooth=_excl_smooth)
case("CumSum", lambda x: mx.cumsum(x, axis=1), (S, "bool"), smooth=False)
case("CumMax", lambda x: mx.cummax(x, axis=0, reverse=True), (S, "int"), smooth=False)
for _name, _op in [("Sort", mx.sort), ("ArgSort", mx.argsort)]:
    case(_name, lambda x, _op=_op: _op(x), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=0), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=None), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, axis=1), ((3, 5), "int"), smooth=False)
for _name, _op in [("Partition", mx.partition), ("ArgPartition", mx.argpartition)]:
    case(_name, lambda x, _op=_op: _op(x, 2), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, -1, axis=1), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, 0, axis=0), (_R3, "real"))
    case(_name, lambda x, _op=_op: _op(x, 7, axis=None), (_R3, "real"))

# -- indexing ------------------------------------------------------------------------------
# Index specs draw repeats on purpose: gathers must add their cotangents, "set" scatters
# credit only the update that stayed (the last one), multiply scatters the others'
# product. Dynamic starts drawn past the end check the clamping.


def _set_rows(x, v):
    y = x * 1
    y[1:, ::2] = v
    return y


def _set_at(key):
    """y[key] = v, with each "i" in `key` standing for the next index argument."""
    def fn(x, v, *idx):
        y = x * 1
        it = iter(idx)
        y[tuple(next(it) if isinstance(k, str) else k for k in key)] = v
        return y
    return fn


def _set_mask(x, m, v):
    y = x * 1
    y[m] = v
    return y


_I3 = ("index", 3)
case("Slice", lambda x: x[1, ::-2], (S, "real"))
case("Slice", lambda x: x[None, :, 2], (S, "real"))
case("Slice", lambda x: x[::2, None, 1:3], ((5, 4, 3), "real"))
case("Slice", lambda x: x[-1, 1:], ((2, 3, 4), "real"))
case("Slice", lambda x: x[:, ::-1, None], (S, "real"))
case("Gather", lambda x, i: x[i], (S, "real"), ((5,), _I3))
case("Gather", lambda x, i, j: x[i, 1:, j], ((3, 4, 5), "real"), ((2,), _I3), ((2,), ("index", 5)))
case("Gather", lambda x, i, j: x[:, i, j], ((3, 4, 5), "real"), ((2, 3), ("index", 4)),
     ((3,), ("index", 5)))
case("Gather", lambda x, i: x[i, None, 0], ((3, 4, 5), "real"), ((2, 2), _I3))
case("Gather", lambda x, i: x[1, :, i], ((3, 4, 5), "real"), ((3,), ("index", 5)))
case("Gather", lambda x, i: x[None, i], ((4,), "real"), ((2, 3), ("index", 4)))
case("Gather", lambda x, i: x[:, 2, None, i], ((2, 3, 4, 5), "real"), ((), ("index", 4)))
case("Take", lambda x, i: mx.take(x, i, axis=1), (S, "real"), ((2, 2), ("index", 4)))
case("Take", lambda x, i: mx.take(x, i), (S, "real"), ((5,), ("index", 12)))
case("Take", lambda x, i: mx.take(x, i, axis=-1), ((2, 3, 4), "real"), ((3,), ("index", 4)))
case("Take", lambda x, i: mx.take(x, i, axis=0), (S, "real"), ((), _I3))
case("Take", lambda x, i: mx.take_along_axis(x, i, axis=None), (S, "real"),
     ((6,), ("index", 12)))
case("TakeAlongAxis", lambda x, i: mx.take_along_axis(x, i, axis=1), (S, "real"),
     ((3, 2), ("index", 4)))
case("TakeAlongAxis", lambda x, i: mx.take_along_axis(x, i, axis=0), (S, "real"),
     ((5, 4), _I3))
case("TakeAlongAxis", lambda x, i: mx.take_along_axis(x, i, axis=-1), ((3, 1, 4), "real"),
     ((1, 2, 5), ("index", 4)))
case("PutAlongAxis", lambda x, i, v: mx.put_along_axis(x, i, v, axis=1), (S, "real"),
     ((3, 1), ("index", 4)), ((3, 1), "real"))
case("PutAlongAxis", lambda x, i, v: mx.put_along_axis(x, i, v, axis=1), (S, "real"),
     ((3, 3), ("index", 4)), ((3, 3), "real"))
case("PutAlongAxis", lambda x, i, v: mx.put_along_axis(x, i, v, axis=0), (S, "real"),
     ((1, 4), _I3), ((), "real"))
case("PutAlongAxis", lambda x, i, v: mx.put_along_axis(x, i, v), (S, "real"),
     ((5,), ("index", 12)), ((5,), "real"))
case("Scatter", lambda x, i, v: x.at[i].add(v), (S, "real"), ((6,), _I3), ((6, 4), "real"))
case("Scatter", lambda x, i, v: x.at[:, i].maximum(v), (S, "real"), ((2,), ("index", 4)),
     ((3, 2), "real"))
case("Scatter", lambda x, i, v: x.at[i].minimum(v), (S, "real"), ((5,), _I3), ((4,), "real"))
case("Scatter", lambda x, i, v: x.at[i].multiply(v), (S, "real"), ((5,), _I3),
     ((5, 4), "real"))
case("Scatter", lambda x, i, v: x.at[i].divide(v), (S, "real"), ((2, 2), _I3),
     ((4,), "nonzero"))
case("Scatter", lambda x, i, j, v: x.at[i, :, j].subtract(v), ((3, 4, 5), "real"),
     ((2,), _I3), ((2,), ("index", 5)), ((4,), "real"))
case("Scatter", lambda x, v: x.at[1:, 2].add(v), (S, "real"), ((2,), "real"))
case("Scatter", lambda x, v, i: _set_at(("i",))(x, v, i), (S, "real"), ((4, 4), "real"),
     ((4,), _I3))
case("Scatter", lambda x, v, i: _set_at(("i", slice(1, None)))(x, v, i), (S, "real"),
     ((3,), "real"), ((2, 2), _I3))
case("Scatter", lambda x, v, i, j: _set_at(("i", 2, "i"))(x, v, i, j), ((3, 4, 5), "real"),
     ((3,), "real"), ((3,), _I3), ((3,), ("index", 5)))
case("SliceUpdate", _set_rows, (S, "real"), ((2, 2), "real"))
case("SliceUpdate", lambda x, v: _set_at((None, 0))(x, v), (S, "real"), ((4,), "real"))
case("SliceUpdate", lambda x, v: _set_at((slice(None, None, -1), 1))(x, v), (S, "real"),
     ((), "real"))
case("SliceUpdate", lambda x, v: _set_at((slice(None), slice(1, 3)))(x, v),
     ((2, 3, 4), "real"), ((2, 1, 4), "real"))
case("MaskedScatter", _set_mask, (S, "real"), ((3,), "bool"), ((4,), "real"))
case("MaskedScatter", _set_mask, (S, "real"), ((3,), "bool"), ((3, 4), "real"))
case("MaskedScatter", _set_mask, (S, "real"), (S, "bool"), ((12,), "real"))
case("MaskedScatter", _set_mask, ((2, 3, 4), "real"), ((2, 3), "bool"), ((6, 1), "real"))
case("MaskedScatter", _set_mask, (S, "real"), (S, "bool"), ((), "real"))
case("DynamicSlice", lambda x, s: mx.slice(x, s, (0, 1), (2, 2)), (S, "real"), ((2,), ("index", 2)))
case("DynamicSlice", lambda x, s: mx.slice(x, s, (1,), (3, 2)), (S, "real"), ((), _I3))
case("DynamicSlice", lambda x, s: mx.slice(x, s, (-1,), (3, 2)), (S, "real"),
     ((1,), ("index", 5)))
case("DynamicSlice", lambda x, s: mx.slice(x, s, (2, 0), (1, 3, 2)), ((2, 3, 4), "real"),
     ((2,), ("index", 4)))
case("DynamicSliceUpdate", lambda x, u, s: mx.slice_update(x, u, s, (0, 1)), (S, "real"),
     ((2, 2), "real"), ((2,), ("index", 2)))
case("DynamicSliceUpdate", lambda x, u, s: mx.slice_update(x, u, s, (1,)), (S, "real"),
     ((2,), "real"), ((), ("index", 5)))
case("DynamicSliceUpdate", lambda x, u, s: mx.slice_update(x, u, s, (2, 0)),
     ((2, 3, 4), "real"), ((3, 1), "real"), ((2,), ("index", 5)))

# -- extra ops (as_strided, view, searchsorted) ---------------------------------------------
case("AsStrided", lambda x: mx.as_strided(x, (3, 3), (1, 1)), ((10,), "real"))
case("AsStrided", lambda x: mx.as_strided(x, (2, 3), (4, -1), 2), ((3, 4), "real"))
case("AsStrided", lambda x: mx.as_strided(x, (2, 2, 2), (0, 3, 1), 1), ((2, 3), "real"))
case("View", lambda x: mx.view(x, mx.uint32), ((3, 4), "real"), smooth=False)
case("View", lambda x: mx.view(x.astype(mx.float32), mx.int32), ((3, 4), "real"), smooth=False)
case("View", lambda k: mx.view(k, mx.uint8), ((2, 3), "int"), smooth=False)
case("SearchSorted", lambda s, v: mx.searchsorted(mx.sort(s), v), ((6,), "real"),
     ((2, 3), "real"), smooth=False)
case("SearchSorted", lambda s, v: mx.searchsorted(mx.sort(s), v, side="right"),
     ((5,), "int"), ((4,), "int"), smooth=False)

# -- custom functions ----------------------------------------------------------------------
def _custom_with_vjp(x, y):
    @mx.custom_function
    def f(a, b):
        return mx.sin(a) * b

    @f.vjp
    def f_vjp(primals, cotangent, output):
        a, b = primals
        return cotangent * mx.cos(a) * b, cotangent * mx.sin(a)
    return f(x, y)


def _custom_fallback(x):
    @mx.custom_function
    def f(a):
        return [mx.exp(a), a * a]

    @f.vmap
    def f_vmap(inputs, axes):
        return [mx.exp(inputs), inputs * inputs], [axes, axes]
    return f(x)


case("CustomTransforms", _custom_with_vjp, (S, "real"), ((4,), "real"))
case("CustomTransforms", _custom_fallback, (S, "real"))
case("CustomTransforms", lambda x: mx.checkpoint(lambda a: mx.tanh(a) * a)(x), (S, "real"))

# -- fft -----------------------------------------------------------------------------------
# FFT runs in complex64/float32, so these check vjp against jvp strictly and against
# finite differences loosely (as the complex elementwise cases do).
_F = dict(tol=0.05)
case("FFT", lambda x: mx.fft.fft(x), ((3, 4), "real"), **_F)
case("FFT", lambda x, y: mx.fft.ifft(x + 1j * y, n=5, axis=0), ((3, 4), "real"),
     ((3, 4), "real"), **_F)
case("FFT", lambda x, y: mx.fft.fftn(x - 2j * y, norm="ortho"), ((2, 3, 4), "real"),
     ((2, 3, 4), "real"), **_F)
case("FFT", lambda x: mx.fft.rfft(x), ((3, 6), "real"), **_F)
case("FFT", lambda x: mx.fft.rfftn(x, axes=(0, 1)), ((5, 3), "real"), **_F)
case("FFT", lambda x, y: mx.fft.irfft(x + 1j * y), ((2, 4), "real"), ((2, 4), "real"), **_F)
case("FFT", lambda x, y: mx.fft.irfft(x + 1j * y, n=7), ((3, 4), "real"), ((3, 4), "real"),
     **_F)
case("FFT", lambda x, y: mx.fft.irfft2(x + 1j * y, norm="forward"), ((3, 4), "real"),
     ((3, 4), "real"), **_F)

# -- products ------------------------------------------------------------------------------
# hadamard_transform refuses float64 (as MLX), so these go through float32.
case("Hadamard", lambda x: mx.hadamard_transform(x.astype(mx.float32)), ((3, 8), "real"), **_F)
case("Hadamard", lambda x: mx.hadamard_transform(x.astype(mx.float32), 0.25), ((2,), "real"),
     **_F)
case("Hadamard", lambda x: mx.hadamard_transform(x.astype(mx.float32), 2.0), ((), "real"),
     **_F)
case("Hadamard", lambda x: mx.hadamard_transform(x.astype(mx.float32)), ((2, 12), "real"), **_F)
case("Hadamard", lambda x: mx.hadamard_transform(x.astype(mx.float32), 0.5), ((40,), "real"),
     **_F)
case("Hadamard", lambda x: mx.hadamard_transform(x.astype(mx.float32)), ((2, 28), "real"), **_F)

# -- linalg --------------------------------------------------------------------------------
# Factorizations with a sign (or phase) freedom are checked through outputs with the
# sign fixed; symmetric-input ones through a symmetric (positive definite) matrix.
def _la_spd(x):
    return x @ mx.swapaxes(x, -1, -2) + 3.0 * mx.eye(x.shape[-1], dtype=x.dtype)


def _la_shift(x):
    return x + 3.0 * mx.eye(x.shape[-1], dtype=x.dtype)


def _la_svd_fixed(x):
    u, s, vt = mx.linalg.svd(x)
    k = s.shape[-1]
    u, vt = u[..., :, :k], vt[..., :k, :]
    sgn = mx.sign(u[..., :1, :])
    return [s, u * sgn, vt * mx.swapaxes(sgn, -1, -2)]


def _la_eigh_fixed(x, upper=False):
    w, v = mx.linalg.eigh(x + mx.swapaxes(x, -1, -2), UPLO="U" if upper else "L")
    return [w, v * mx.sign(v[..., :1, :])]


def _la_eig_fixed(x):
    w, v = mx.linalg.eig(x + mx.diag(mx.array([0.0, 4.0, 8.0], dtype=x.dtype)))
    v = v / v[..., :1, :]
    return [mx.real(w), mx.imag(w), mx.real(v), mx.imag(v)]


case("Inverse", lambda x: mx.linalg.inv(_la_shift(x)), ((3, 3), "real"))
case("Inverse", lambda x: mx.linalg.inv(_la_shift(x)), ((2, 3, 3), "real"))
case("Inverse", lambda x: mx.linalg.tri_inv(_la_shift(x), upper=True), ((3, 3), "real"))
case("Solve", lambda a, b: mx.linalg.solve(_la_shift(a), b), ((3, 3), "real"), ((3,), "real"))
case("Solve", lambda a, b: mx.linalg.solve(_la_shift(a), b), ((2, 3, 3), "real"),
     ((3, 2), "real"))
case("Solve", lambda a, b: mx.linalg.solve_triangular(_la_shift(a), b), ((3, 3), "real"),
     ((3, 2), "real"))
case("Cholesky", lambda x: mx.linalg.cholesky(_la_spd(x)), ((3, 3), "real"))
case("Cholesky", lambda x: mx.linalg.cholesky(_la_spd(x), upper=True), ((2, 3, 3), "real"))
case("Cholesky", lambda x: mx.linalg.cholesky_inv(mx.linalg.cholesky(_la_spd(x))),
     ((3, 3), "real"))
case("Eigh", _la_eigh_fixed, ((3, 3), "real"))
case("Eigh", lambda x: _la_eigh_fixed(x, upper=True), ((2, 3, 3), "real"))
case("Eigh", lambda x: mx.linalg.eigvalsh(x + mx.swapaxes(x, -1, -2)), ((4, 4), "real"))
case("Eig", _la_eig_fixed, ((3, 3), "unit"), tol=0.05)
case("Eig", lambda x: mx.real(mx.linalg.eigvals(_la_spd(x))), ((2, 3, 3), "unit"), tol=0.05)
case("SVD", _la_svd_fixed, ((3, 3), "real"))
case("SVD", _la_svd_fixed, ((4, 3), "real"))
case("SVD", _la_svd_fixed, ((2, 3, 4), "real"))
case("SVD", lambda x: mx.linalg.svd(x, compute_uv=False), ((3, 4), "real"))
case("SVD", lambda x: mx.linalg.norm(x, "nuc"), ((4, 3), "real"))
case("SVD", lambda x: mx.linalg.pinv(x), ((3, 4), "real"))
case("QR", lambda x: list(mx.linalg.qr(x)), ((3, 3), "real"))
case("QR", lambda x: list(mx.linalg.qr(x)), ((4, 3), "real"))
case("QR", lambda x: list(mx.linalg.qr(x)), ((2, 3, 4), "real"))
case("LUF", lambda x: mx.linalg.lu_factor(x)[0], ((3, 3), "real"))
case("LUF", lambda x: list(mx.linalg.lu(x)[1:]), ((2, 3, 3), "real"))
case("LUF", lambda x: mx.linalg.lu_factor(x)[0], ((3, 4), "real"), smooth=False)
case("Det", mx.linalg.det, ((3, 3), "real"))
case("Det", mx.linalg.det, ((2, 4, 4), "real"))
case("Det", lambda x: mx.linalg.det(x * mx.array([1.0, 1.0, 0.0], dtype=x.dtype)),
     ((3, 3), "real"))
case("SLogDet", lambda x: list(mx.linalg.slogdet(x)), ((3, 3), "real"))
case("SLogDet", lambda x: mx.linalg.slogdet(x)[1], ((2, 3, 3), "real"))

# -- conv ----------------------------------------------------------------------------------
case("Convolution", mx.conv1d, ((2, 5, 3), "real"), ((4, 3, 3), "real"))
case("Convolution", lambda x, w: mx.conv1d(x, w, stride=2, padding=2, dilation=2, groups=2),
     ((2, 6, 4), "real"), ((4, 2, 2), "real"))
case("Convolution", lambda x, w: mx.conv2d(x, w, stride=(2, 1), padding=(1, 0), groups=3),
     ((1, 5, 4, 3), "real"), ((3, 2, 3, 1), "real"))
case("Convolution", lambda x, w: mx.conv2d(x, w, dilation=(1, 2)), ((2, 4, 5, 2), "real"),
     ((3, 2, 2, 2), "real"))
case("Convolution", lambda x, w: mx.conv3d(x, w, stride=(1, 2, 1), padding=(0, 1, 1)),
     ((1, 3, 4, 3, 2), "real"), ((2, 2, 2, 2, 2), "real"))
case("Convolution", lambda x, w: mx.conv_general(
    x, w, stride=[2, 1], padding=([1, 0], [0, 2]), kernel_dilation=[1, 2],
    input_dilation=[2, 1], groups=2, flip=True), ((1, 3, 4, 4), "real"), ((4, 2, 2, 2), "real"))
case("Convolution", lambda x, w: mx.conv_general(x, w, padding=-1, input_dilation=3),
     ((2, 4, 2), "real"), ((3, 2, 2), "real"))
case("Convolution", lambda x, w: mx.conv_transpose2d(x, w, stride=2, padding=1,
                                                     output_padding=1),
     ((1, 3, 2, 2), "real"), ((3, 3, 2, 2), "real"))
case("Convolution", lambda x, w: mx.conv_transpose1d(x, w, stride=3, dilation=2, groups=2),
     ((2, 3, 4), "real"), ((2, 2, 2), "real"))
