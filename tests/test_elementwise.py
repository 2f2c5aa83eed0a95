"""Elementwise ops against real MLX: values, dtypes, shapes and exception types.

Each sweep loops over dtypes inside one test and reports every mismatch at once, which
keeps the file fast (one pytest item per op, not per op and dtype pair).
"""
import operator
import warnings

import numpy as np
import pytest

import mlxpy.core as mx
from oracle import mlx, needs_mlx, to_mlx, to_numpy, assert_same, raises_like, DTYPE_NAMES, ON_GPU

pytestmark = needs_mlx

nan, inf = float("nan"), float("inf")

FLOAT_VALUES = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -3.5, 0.25, 1.5, -2.0, 3.0, 7.75, -0.999,
                1e-3, 100.0, -100.0, 1e30, -1e30, 1e-30, nan, inf, -inf]
COMPLEX_VALUES = [0, 1 + 2j, -1.5 + 0.5j, 3 - 4j, -2j, 0.5, -1, 2.5 + 0j, 1j]
INT_EXTRA = [0, 1, -1, 2, -2, 3, -3, 7, -7, 100, -100]
UINT_EXTRA = [0, 1, 2, 3, 7, 100, 200]


def values(name, small=False):
    """A NumPy array of edge values for dtype `name` (bounds included for integers)."""
    d = getattr(mx, name).np
    if name == "bool_":
        return np.array([True, False])
    if d.kind in "iu":
        info = np.iinfo(d)
        vals = UINT_EXTRA if d.kind == "u" else INT_EXTRA
        vals = [v for v in vals if info.min <= v <= info.max]
        if not small:
            vals = vals + [int(info.min), int(info.max), int(info.max) - 1]
        return np.array(vals, dtype=d)
    if d.kind == "c":
        return np.array(COMPLEX_VALUES[:5] if small else COMPLEX_VALUES, dtype=d)
    vals = FLOAT_VALUES[:12] + [nan, inf, -inf] if small else FLOAT_VALUES
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array(vals, dtype=np.float64).astype(d)


# MLX's CPU backend dies with SIGFPE on integer division by zero (and INT_MIN // -1), so
# integer divisors of these ops leave out 0 and -1. Shifts by negative amounts or by the
# bit width or more are undefined (MLX's results depend on the vector path taken).
INT_DIVISION = {"floor_divide", "remainder", "divmod"}
SHIFTS = {"left_shift", "right_shift"}


def divisor_values(op, name, small=False):
    h = values(name, small)
    if op in INT_DIVISION and h.dtype.kind in "iub":
        h = h[(h != 0) & (h.astype(np.int64) != -1) if h.dtype.kind == "i" else (h != 0)]
    if op in SHIFTS and h.dtype.kind in "iu":
        h = h[(h.astype(np.float64) >= 0) & (h.astype(np.float64) < 8)]
    return h


def both(h, name):
    """(mlxpy array, MLX array) holding the NumPy values `h` as dtype `name`."""
    ours = mx.array(h, dtype=getattr(mx, name))
    return ours, to_mlx(ours)


def outcome(fn):
    """('ok', evaluated result) or ('raise', exception type name)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn()
            for x in (r if isinstance(r, (tuple, list)) else (r,)):
                to_numpy(x)
        return "ok", r
    except Exception as e:  # noqa: BLE001 - compared by type
        return "raise", type(e).__name__ + ": " + str(e).split("\n")[0][:90]


TOL = {"float16": (2e-3, 2e-3), "bfloat16": (1e-2, 1e-2), "float32": (2e-5, 1e-6),
       "complex64": (2e-5, 1e-6), "float64": (1e-12, 0)}


def compare(label, ours_fn, theirs_fn, problems, tol=None):
    """Run both, and record in `problems` any difference in raising, dtype, shape, values."""
    o_kind, o = outcome(ours_fn)
    t_kind, t = outcome(theirs_fn)
    if t_kind == "raise" or o_kind == "raise":
        if o_kind != t_kind or o.split(":")[0] != t.split(":")[0]:
            problems.append(f"{label}: ours {o_kind} {o if o_kind == 'raise' else ''} / "
                            f"mlx {t_kind} {t if t_kind == 'raise' else ''}")
        return
    try:
        if isinstance(t, (tuple, list)):
            assert isinstance(o, type(t)) and len(o) == len(t), f"{type(o)} != {type(t)}"
            for a, b in zip(o, t):
                _check(a, b, tol)
        else:
            _check(o, t, tol)
    except AssertionError as e:
        problems.append(f"{label}: {str(e).strip()[:600]}")


def _check(o, t, tol):
    name = str(t.dtype).split(".")[-1]
    if o.dtype.name == name and tuple(o.shape) == tuple(t.shape):
        a, b = to_numpy(o), to_numpy(t)
        if a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"):
            return  # identical: skip the slower tolerance check
    rtol, atol = (tol or {}).get(name, TOL.get(name, (0, 0)))
    assert_same(o, t, rtol=rtol, atol=atol)


def report(problems):
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:40])


# -- unary ops -------------------------------------------------------------------------

UNARY = ["abs", "negative", "positive", "square", "sqrt", "rsqrt", "reciprocal", "exp", "expm1",
         "log", "log1p", "log2", "log10", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin",
         "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "sigmoid", "erf", "erfinv", "floor",
         "ceil", "trunc", "sign", "logical_not", "bitwise_invert", "conj", "conjugate", "real",
         "imag", "isnan", "isinf", "isfinite", "isposinf", "isneginf", "round", "degrees",
         "radians", "nan_to_num", "stop_gradient"]

# Transcendental functions of huge or complex arguments: implementations legitimately
# differ by more than the default tolerance. MLX evaluates some float64 functions (exp,
# sin, cos, erf, ...) with float32-grade approximations, so float64 is compared loosely
# here; test_erf_accuracy and test_float64_precision hold mlxpy to float64 accuracy.
LOOSE = {"float32": (1e-4, 1e-5), "complex64": (1e-4, 1e-5), "float64": (2e-6, 1e-30),
         "float16": (4e-3, 2e-3), "bfloat16": (2e-2, 1e-2)}


# MLX computes these in float32 even for float64 input (sin(1e30) and exp(100) come out
# as float32 would give them); mlxpy keeps float64 accuracy, checked against NumPy and
# SciPy in test_float64_precision instead.
F64_IN_FLOAT32 = {"exp", "sin", "cos", "erf", "erfinv", "sigmoid", "logaddexp"}


@pytest.mark.parametrize("op", UNARY)
def test_unary_sweep(op):
    if ON_GPU and op in ("rsqrt", "reciprocal"):
        pytest.xfail("CuPy's kernels lose the sign of a 0-d -0.0 (docs/differences.md, GPU)")
    problems = []
    for name in DTYPE_NAMES:
        if name == "float64" and op in F64_IN_FLOAT32:
            continue
        h = values(name)
        a, b = both(h, name)
        compare(f"{op}({name})", lambda: getattr(mx, op)(a), lambda: getattr(mlx, op)(b),
                problems, LOOSE)
        # A 0-d input and an empty one.
        a0, b0 = both(h[1], name)
        compare(f"{op}({name} 0-d)", lambda: getattr(mx, op)(a0), lambda: getattr(mlx, op)(b0),
                problems, LOOSE)
        ae, be = both(h[:0].reshape(0, 3), name)
        compare(f"{op}({name} empty)", lambda: getattr(mx, op)(ae), lambda: getattr(mlx, op)(be),
                problems)
    # Python scalars are accepted where MLX accepts them.
    for s in (2, -1.5, True, 1 + 1j):
        compare(f"{op}({s!r})", lambda: getattr(mx, op)(s), lambda: getattr(mlx, op)(s),
                problems, LOOSE)
    report(problems)


@pytest.mark.parametrize("decimals", [0, 1, 2, -1, -2, 5])
def test_round_decimals(decimals):
    problems = []
    for name in DTYPE_NAMES:
        h = values(name)
        if h.dtype.kind == "f":
            h = np.concatenate([h, np.array([0.125, 2.675, -1.005, 12345.678, 0.5, 1.5, 2.5, -2.5,
                                             15.0, 25.0, -35.0, 149.0], dtype=h.dtype)])
        a, b = both(h, name)
        compare(f"round({name}, {decimals})", lambda: mx.round(a, decimals),
                lambda: mlx.round(b, decimals), problems)
        compare(f"{name}.round({decimals})", lambda: a.round(decimals),
                lambda: b.round(decimals), problems)
    report(problems)


# -- binary ops ------------------------------------------------------------------------

BINARY = ["add", "subtract", "multiply", "divide", "floor_divide", "remainder", "power",
          "maximum", "minimum", "arctan2", "logaddexp", "equal", "not_equal", "less",
          "less_equal", "greater", "greater_equal", "logical_and", "logical_or", "logical_xor",
          "bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift"]


@pytest.mark.parametrize("op", BINARY + ["divmod"])
def test_binary_same_dtype(op):
    """Every pair of edge values of one dtype, through an outer broadcast."""
    problems = []
    for name in DTYPE_NAMES:
        a, b = both(values(name).reshape(-1, 1), name)
        c, d = both(divisor_values(op, name).reshape(1, -1), name)
        compare(f"{op}({name}, {name})", lambda: getattr(mx, op)(a, c),
                lambda: getattr(mlx, op)(b, d), problems, LOOSE)
    report(problems)


@pytest.mark.parametrize("op", BINARY)
def test_binary_dtype_pairs(op):
    """Every ordered pair of dtypes: promotion, and values on a small grid."""
    problems = []
    for n1 in DTYPE_NAMES:
        a, b = both(values(n1, small=True).reshape(-1, 1), n1)
        for n2 in DTYPE_NAMES:
            if n1 == n2:
                continue
            c, d = both(divisor_values(op, n2, small=True).reshape(1, -1), n2)
            compare(f"{op}({n1}, {n2})", lambda: getattr(mx, op)(a, c),
                    lambda: getattr(mlx, op)(b, d), problems, LOOSE)
    report(problems)


SCALARS = [True, False, 0, 1, -1, 3, 300, -300, 2 ** 40, 0.5, -2.5, 1e10, nan, inf, 1 + 2j]


@pytest.mark.parametrize("op", BINARY)
def test_binary_with_python_scalars(op):
    """Python scalars are weakly typed, on either side."""
    problems = []
    for name in DTYPE_NAMES:
        a, b = both(values(name, small=True), name)
        c, d = both(divisor_values(op, name, small=True), name)
        for s in SCALARS:
            if op in SHIFTS and not (type(s) is bool or (type(s) is int and 0 <= s < 8)):
                continue
            # (A bool array turns a big int into int32 with wrap-around: 2**40 is 0.)
            if not (op in INT_DIVISION and (s in (0, -1) or (name == "bool_" and s == 2 ** 40))
                    and name != "complex64" and (type(s) is not float or name == "bool_")):
                compare(f"{op}({name}, {s!r})", lambda: getattr(mx, op)(a, s),
                        lambda: getattr(mlx, op)(b, s), problems, LOOSE)
            compare(f"{op}({s!r}, {name})", lambda: getattr(mx, op)(s, c),
                    lambda: getattr(mlx, op)(s, d), problems, LOOSE)
    for s1, s2 in [(1, 2), (1.5, 2), (True, 3), (2, 0.5), (1j, 2)]:
        compare(f"{op}({s1!r}, {s2!r})", lambda: getattr(mx, op)(s1, s2),
                lambda: getattr(mlx, op)(s1, s2), problems, LOOSE)
    report(problems)


# -- astype --------------------------------------------------------------------------

# Out-of-range float -> integer casts (nan, inf, 1e30 -> int8, ...) are undefined in C;
# mlxpy and MLX both use the compiler's conversion, which on x86 gives the type's minimum
# (or the low bits of int32 for narrow types). One corner, -2**63 -> uint32, differs.
@pytest.mark.parametrize("src", DTYPE_NAMES)
def test_astype_all_pairs(src):
    problems = []
    h = values(src)
    if h.dtype.kind == "f" or src == "bfloat16":
        extra = np.array([300.7, -300.7, 65535.9, 1e10, -1e10, 4e9, 2.0 ** 31, 2.0 ** 63, 1e19,
                          -129.0, 128.5, 0.99, -0.99], np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            h = np.concatenate([h, extra.astype(h.dtype)])
    a, b = both(h, src)
    for dst in DTYPE_NAMES:
        compare(f"astype({src} -> {dst})", lambda: a.astype(getattr(mx, dst)),
                lambda: b.astype(getattr(mlx, dst)), problems)
        compare(f"mx.astype({src} -> {dst})", lambda: mx.astype(a, getattr(mx, dst)),
                lambda: mlx.astype(b, getattr(mlx, dst)), problems)
    report(problems)


def test_astype_arguments():
    x = mx.array([1.5, -2.5])
    y = mlx.array([1.5, -2.5])
    raises_like(lambda: mx.astype(x, "int8"), lambda: mlx.astype(y, "int8"))
    raises_like(lambda: mx.astype(x, np.int8), lambda: mlx.astype(y, np.int8))
    raises_like(lambda: mx.astype(3, mx.int8), lambda: mlx.astype(3, mlx.int8))
    raises_like(lambda: mx.astype(x, mx.int8, mx.cpu), lambda: mlx.astype(y, mlx.int8, mlx.cpu))
    assert_same(x.astype(mx.int8, mx.cpu), y.astype(mlx.int8, mlx.cpu))
    assert_same(mx.astype(x, mx.int8, stream=mx.cpu), mlx.astype(y, mlx.int8, stream=mlx.cpu))
    # Same dtype: a new handle on the same values; in-place updates of x leave it alone.
    z = x.astype(mx.float32)
    assert z is not x
    x += 1
    assert_same(z, y)


# -- shapes and broadcasting -------------------------------------------------------------

SHAPE_PAIRS = [((), ()), ((0,), (0,)), ((5,), (5,)), ((3, 4), (3, 4)), ((3, 1), (1, 4)),
               ((2, 1, 3), (4, 1)), ((), (3, 4)), ((3, 4), ()), ((0,), (1,)), ((1,), (0,)),
               ((2, 0, 3), (1, 3)), ((1, 1), (5,))]


@pytest.mark.parametrize("op", ["add", "multiply", "divide", "power", "maximum", "less",
                                "logical_and", "bitwise_xor", "arctan2", "remainder"])
def test_binary_shapes(op):
    problems = []
    rng = np.random.RandomState(1)
    for sa, sb in SHAPE_PAIRS + [((2,), (3,)), ((3, 4), (4, 3)), ((2, 3), (3, 2, 1))]:
        for name in ("int32", "float32"):
            ha = (rng.uniform(1, 5, sa)).astype(name)
            hb = (rng.uniform(1, 5, sb)).astype(name)
            a, b = both(ha, name)
            c, d = both(hb, name)
            compare(f"{op}{sa}{sb} {name}", lambda: getattr(mx, op)(a, c),
                    lambda: getattr(mlx, op)(b, d), problems)
    report(problems)


@pytest.mark.parametrize("op", ["sqrt", "abs", "negative", "exp", "sign", "isnan", "round",
                                "logical_not", "floor", "erf", "sigmoid"])
def test_unary_shapes(op):
    problems = []
    rng = np.random.RandomState(2)
    for shape in [(), (0,), (5,), (3, 4), (2, 0, 3), (2, 3, 4)]:
        h = rng.uniform(0.5, 3, shape).astype(np.float32)
        a, b = both(h, "float32")
        compare(f"{op}{shape}", lambda: getattr(mx, op)(a), lambda: getattr(mlx, op)(b),
                problems)
        # A non-contiguous input (a transposed view) goes through the same path.
        if len(shape) == 2:
            compare(f"{op}{shape}.T", lambda: getattr(mx, op)(a.T),
                    lambda: getattr(mlx, op)(b.T), problems)
    report(problems)


def test_where_sweep():
    problems = []
    cond = np.array([[True], [False], [True]])
    for n1 in DTYPE_NAMES:
        x, xm = both(values(n1, small=True)[:4].reshape(1, -1), n1)
        for n2 in DTYPE_NAMES:
            y, ym = both(values(n2, small=True)[:4].reshape(1, -1), n2)
            c, cm = both(cond, "bool_")
            compare(f"where(c, {n1}, {n2})", lambda: mx.where(c, x, y),
                    lambda: mlx.where(cm, xm, ym), problems)
        for s in (0, 1.5, True, 300, -1, 1j):
            compare(f"where(c, {n1}, {s!r})", lambda: mx.where(c, x, s),
                    lambda: mlx.where(cm, xm, s), problems)
            compare(f"where(c, {s!r}, {n1})", lambda: mx.where(c, s, x),
                    lambda: mlx.where(cm, s, xm), problems)
        # A non-bool condition: nonzero is true.
        compare(f"where({n1}, 1, 2)", lambda: mx.where(x, 1, 2), lambda: mlx.where(xm, 1, 2),
                problems)
    for args in [(True, 1, 2.5), (0, 1, 2), (1.5, mx.array([1, 2]), 3), ([True], 1, 2),
                 (None, 1, 2), (mx.array([True, False]), mx.array([1, 2, 3]), 0),
                 (mx.array([True]), "a", 2), (mx.array([True]), None, 2)]:
        theirs = tuple(to_mlx(v) for v in args)
        compare(f"where{args!r}", lambda: mx.where(*args), lambda: mlx.where(*theirs), problems)
    report(problems)


def test_clip():
    problems = []
    for name in DTYPE_NAMES:
        if name in ("bool_", "complex64"):
            continue
        a, b = both(values(name), name)
        for lo, hi in [(0, 5), (-1, 2), (None, 3), (2, None), (2.5, 7.5), (7, 2), (300, 400),
                       (None, None), (mx.array([1, 2]), 3)]:
            lo_t, hi_t = to_mlx(lo), to_mlx(hi)
            compare(f"clip({name}, {lo!r}, {hi!r})", lambda: mx.clip(a, lo, hi),
                    lambda: mlx.clip(b, lo_t, hi_t), problems)
    # Broadcasting bounds, the keyword form, and a scalar `a` (refused: it must be an array).
    a, b = both(np.arange(6, dtype=np.float32).reshape(2, 3), "float32")
    lo, lo_t = both(np.array([[1.0], [2.0]], np.float32), "float32")
    compare("clip(2d, col, 4)", lambda: mx.clip(a, lo, 4), lambda: mlx.clip(b, lo_t, 4), problems)
    compare("clip(kw)", lambda: mx.clip(a, a_min=1, a_max=4), lambda: mlx.clip(b, a_min=1, a_max=4),
            problems)
    compare("clip(scalar)", lambda: mx.clip(3, 1, 2), lambda: mlx.clip(3, 1, 2), problems)
    compare("clip(complex)", lambda: mx.clip(mx.array([1 + 1j, 5]), 2, 7),
            lambda: mlx.clip(mlx.array([1 + 1j, 5]), 2, 7), problems)
    report(problems)


def test_nan_to_num():
    problems = []
    for name in DTYPE_NAMES:
        a, b = both(values(name), name)
        for kwargs in [{}, {"nan": 5.5}, {"posinf": 7, "neginf": -7}, {"posinf": 1e6},
                       {"nan": True}, {"nan": None}, {"nan": 1j}]:
            compare(f"nan_to_num({name}, {kwargs})", lambda: mx.nan_to_num(a, **kwargs),
                    lambda: mlx.nan_to_num(b, **kwargs), problems)
    compare("nan_to_num(positional)", lambda: mx.nan_to_num(mx.array([nan, inf]), 1.0, 2.0, 3.0),
            lambda: mlx.nan_to_num(mlx.array([nan, inf]), 1.0, 2.0, 3.0), problems)
    for s in (nan, 2.5, 3):
        compare(f"nan_to_num({s})", lambda: mx.nan_to_num(s), lambda: mlx.nan_to_num(s), problems)
    report(problems)


def test_round_arguments():
    x, y = both(np.array([1.25, 2.5, -3.75], np.float32), "float32")
    assert_same(mx.round(x, decimals=1), mlx.round(y, decimals=1))
    assert_same(mx.round(x, True), mlx.round(y, True))
    assert_same(mx.round(x, np.int64(1)), mlx.round(y, np.int64(1)))
    raises_like(lambda: mx.round(x, 1.5), lambda: mlx.round(y, 1.5))
    raises_like(lambda: mx.round(x, None), lambda: mlx.round(y, None))
    raises_like(lambda: mx.round(x, 1, mx.cpu), lambda: mlx.round(y, 1, mlx.cpu))
    # Integers go through float32 when decimals != 0, so large values lose precision
    # exactly as in MLX.
    big, big_t = both(np.array([2 ** 31 - 1, 16777217, -16777217, 123456789]), "int32")
    for d in (1, -1, -3):
        assert_same(mx.round(big, d), mlx.round(big_t, d))


# -- Python operators ----------------------------------------------------------------------

BINARY_OPERATORS = [operator.add, operator.sub, operator.mul, operator.truediv,
                    operator.floordiv, operator.mod, operator.pow, operator.and_, operator.or_,
                    operator.xor, operator.lshift, operator.rshift, operator.eq, operator.ne,
                    operator.lt, operator.le, operator.gt, operator.ge]
OPERATOR_DTYPES = ["bool_", "uint8", "int8", "int32", "float16", "float32", "complex64"]
OPERAND_SCALARS = [True, 2, -1, 1.5, 1j]


def _operand_values(name):
    h = values(name, small=True)
    if name not in ("bool_", "complex64") and h.dtype.kind != "f":
        h = h[(h.astype(np.float64) > 0) & (h.astype(np.float64) < 8)]  # safe divisors/shifts
    if name == "bool_":
        h = np.array([True, True])
    return h


@pytest.mark.parametrize("op", BINARY_OPERATORS, ids=lambda f: f.__name__)
def test_operators(op):
    problems = []
    for n1 in OPERATOR_DTYPES:
        a, b = both(_operand_values(n1), n1)
        for n2 in OPERATOR_DTYPES:
            c, d = both(_operand_values(n2)[:1], n2)
            compare(f"{n1} {op.__name__} {n2}", lambda: op(a, c), lambda: op(b, d), problems,
                    LOOSE)
        for s in OPERAND_SCALARS:
            if op in (operator.lshift, operator.rshift) and s == -1:
                continue  # a negative shift is undefined
            compare(f"{n1} {op.__name__} {s!r}", lambda: op(a, s), lambda: op(b, s), problems,
                    LOOSE)
            compare(f"{s!r} {op.__name__} {n1}", lambda: op(s, a), lambda: op(s, b), problems,
                    LOOSE)
    report(problems)


@pytest.mark.parametrize("op", [operator.neg, operator.pos, operator.abs, operator.invert],
                         ids=lambda f: f.__name__)
def test_unary_operators(op):
    problems = []
    for name in DTYPE_NAMES:
        a, b = both(values(name, small=True), name)
        compare(f"{op.__name__}({name})", lambda: op(a), lambda: op(b), problems)
    report(problems)


INPLACE = [("+=", operator.iadd), ("-=", operator.isub), ("*=", operator.imul),
           ("/=", operator.itruediv), ("//=", operator.ifloordiv), ("%=", operator.imod),
           ("**=", operator.ipow), ("&=", operator.iand), ("|=", operator.ior),
           ("^=", operator.ixor), ("<<=", operator.ilshift), (">>=", operator.irshift)]


@pytest.mark.parametrize("symbol,op", INPLACE, ids=[s for s, _ in INPLACE])
def test_inplace_operators(symbol, op):
    """In-place operators rebind the array object: every name bound to it sees the new
    value (and dtype), while arrays computed from it earlier keep the old one."""
    problems = []
    for n1, h1 in [("int32", [1, 2]), ("float32", [1.5, 2.0]), ("bool_", [True, False]),
                   ("uint8", [3, 4]), ("float16", [1.0, 2.0])]:
        for other in (2, 1.5, True, ("int8", [1, 2]), ("float16", [0.5, 2.0])):
            x, xm = both(np.array(h1), n1)
            if isinstance(other, tuple):
                o, om = both(np.array(other[1]), other[0])
            else:
                o = om = other
            alias, alias_m = x, xm
            before, before_m = mx.add(x, 0), mlx.add(xm, 0)
            label = f"{n1} {symbol} {other!r}"
            o_kind, o_res = outcome(lambda: op(x, o))
            t_kind, t_res = outcome(lambda: op(xm, om))
            same_error = o_kind == "raise" and o_res.split(":")[0] == t_res.split(":")[0]
            if o_kind != t_kind or (o_kind == "raise" and not same_error):
                problems.append(f"{label}: ours {o_kind} {o_res if o_kind == 'raise' else ''} / "
                                f"mlx {t_kind} {t_res if t_kind == 'raise' else ''}")
                continue
            if o_kind == "ok":
                if o_res is not x or t_res is not xm:
                    problems.append(f"{label}: did not return the same object")
                compare(label, lambda: alias, lambda: alias_m, problems)
                compare(label + " (earlier result)", lambda: before, lambda: before_m, problems)
    report(problems)


def test_operator_protocol_edges():
    x, xm = both(np.array([1, 2, 3]), "int32")
    f, fm = both(np.array([1.5, -2.5]), "float32")
    cases = [
        ("x == None", lambda a: a == None),  # noqa: E711
        ("x != None", lambda a: a != None),  # noqa: E711
        ("None == x", lambda a: None == a),  # noqa: E711
        ("x < None", lambda a: a < None),
        ("x + None", lambda a: a + None),
        ("None + x", lambda a: None + a),
        ("x & None", lambda a: a & None),
        ("x + 'a'", lambda a: a + "a"),
        ("'a' + x", lambda a: "a" + a),
        ("x * [1]", lambda a: a * [1]),
        ("[1] + x", lambda a: [1] + a),
        ("x < 'a'", lambda a: a < "a"),
        ("x < [1]", lambda a: a < [1]),
        ("2 << x", lambda a: 2 << a),
        ("1 & x", lambda a: 1 & a),
        ("1 | x", lambda a: 1 | a),
        ("1 ^ x", lambda a: 1 ^ a),
        ("1 >> x", lambda a: 1 >> a),
        ("2 @ x", lambda a: 2 @ a),
        ("divmod(x, 2)", lambda a: divmod(a, 2)),
        ("divmod(7, x)", lambda a: divmod(7, a)),
        ("x ** -1", lambda a: a ** -1),
        ("x.__div__(2)", lambda a: a.__div__(2)),
        ("x.__rdiv__(2)", lambda a: a.__rdiv__(2)),
        ("x.__radd__(2)", lambda a: a.__radd__(2)),
    ]
    for label, fn in cases:
        o_kind, o = outcome(lambda: fn(x))
        t_kind, t = outcome(lambda: fn(xm))
        assert o_kind == t_kind, f"{label}: ours {o_kind} {o} / mlx {t_kind} {t}"
        if o_kind == "raise":
            assert o.split(":")[0] == t.split(":")[0], f"{label}: {o} / {t}"
        else:
            assert_same(o, t)
    # Uncomparable objects: == is False and != is True (Python bools), as in MLX.
    for other in ["a", [1, 2, 3], (1, 2, 3), object()]:
        assert (x == other) is False and (xm == other) is False
        assert (x != other) is True and (xm != other) is True
    # ~ and bitwise operators refuse floats with ValueError; the functions RuntimeError.
    raises_like(lambda: ~f, lambda: ~fm)
    raises_like(lambda: x & 1.5, lambda: xm & 1.5)
    raises_like(lambda: x << f, lambda: xm << fm)
    raises_like(lambda: mx.bitwise_and(x, 1.5), lambda: mlx.bitwise_and(xm, 1.5))
    assert_same(x & np.float32(1), xm & np.float32(1))  # NumPy scalars take x's dtype
    # Arrays hash by identity.
    assert hash(x) == hash(x) and hash(x) != hash(mx.array([1, 2, 3]))


def test_numpy_interop():
    """A NumPy operand next to an mlxpy array takes the array's dtype (as MLX); with NumPy
    on the left, NumPy's operator runs and the result is a NumPy array, as with MLX."""
    problems = []
    nds = [np.array([1.5, 2.5], np.float32), np.array([3], np.int64), np.array([300], np.int32),
           np.array([[1.5]]), np.array([True, False]), np.float32(1.5), np.int64(3),
           np.float64(2.5), np.bool_(True), np.array([1 + 2j], np.complex64)]
    for name in ("int8", "float16", "float32", "bool_", "uint8", "complex64"):
        a, b = both(values(name, small=True)[:2], name)
        for nd in nds:
            for op in (operator.add, operator.mul, operator.lt, operator.eq):
                compare(f"{name} {op.__name__} {nd!r}", lambda: op(a, nd), lambda: op(b, nd),
                        problems)
                compare(f"mx.{op.__name__}({name}, {nd!r})",
                        lambda: getattr(mx, op.__name__)(a, nd),
                        lambda: getattr(mlx, op.__name__)(b, nd), problems)
                compare(f"mx.{op.__name__}({nd!r}, {name})",
                        lambda: getattr(mx, op.__name__)(nd, a),
                        lambda: getattr(mlx, op.__name__)(nd, b), problems)
    report(problems)
    for nd in [np.array([1.5, 2.5], np.float32), np.array([3]), np.float32(1.5),
               np.float64(2.5), np.int64(3)]:
        for op in (operator.add, operator.mul, operator.lt):
            ours = op(nd, mx.array([1, 2], dtype=mx.float16))
            theirs = op(nd, mlx.array([1, 2], dtype=mlx.float16))
            assert type(ours) is type(theirs) is np.ndarray, (nd, op, type(ours), type(theirs))
            assert ours.dtype == theirs.dtype
            np.testing.assert_array_equal(ours, theirs)
    # Two NumPy operands (no mlxpy array): plain promotion; float64 arrays read as float32.
    for a_, b_ in [(np.array([1.5]), np.array([2.5])), (np.array([1], np.int8), 1),
                   (np.array([1], np.float16), 1.5), (1.5, np.array([1], np.int8))]:
        assert_same(mx.add(a_, b_), mlx.add(a_, b_))


# -- argument handling -------------------------------------------------------------------

ARGUMENTS = [("int", 2), ("float", 1.5), ("ndarray", np.array([1.0], np.float32)),
             ("np.float32", np.float32(1.0)), ("list", [1.0]), ("tuple", (1.0,)), ("None", None),
             ("object", object()), ("str", "a")]


@pytest.mark.parametrize("op", UNARY)
def test_unary_argument_types(op):
    """Lists, strings and objects give ValueError, None TypeError; ops MLX types as
    `array` only (positive, trunc, stop_gradient) refuse every non-array with TypeError."""
    problems = []
    for label, v in ARGUMENTS:
        compare(f"{op}({label})", lambda: getattr(mx, op)(v), lambda: getattr(mlx, op)(v),
                problems, LOOSE)
    report(problems)


@pytest.mark.parametrize("op", ["add", "power", "equal", "logical_and", "bitwise_or", "where",
                                "divmod", "array_equal"])
def test_binary_argument_types(op):
    problems = []
    x, xm = both(np.array([1, 2]), "int32")

    def call(mod, arr, v, first):
        fn = getattr(mod, op)
        if op == "where":
            return fn(arr, v, 1) if first else fn(v, arr, 1)
        return fn(v, arr) if first else fn(arr, v)

    for label, v in ARGUMENTS + [("huge int", 2 ** 64), ("big int", 2 ** 63)]:
        for first in (True, False):
            compare(f"{op}({label}, first={first})", lambda: call(mx, x, v, first),
                    lambda: call(mlx, xm, v, first), problems)
    report(problems)


def test_signatures():
    """Operands are positional-only and stream keyword-only, as in MLX."""
    x, xm = both(np.array([1.0, 2.0]), "float32")
    for ours, theirs in [
            (lambda: mx.add(a=x, b=x), lambda: mlx.add(a=xm, b=xm)),
            (lambda: mx.add(x, x, mx.cpu), lambda: mlx.add(xm, xm, mlx.cpu)),
            (lambda: mx.exp(a=x), lambda: mlx.exp(a=xm)),
            (lambda: mx.exp(x, mx.cpu), lambda: mlx.exp(xm, mlx.cpu)),
            (lambda: mx.isnan(x, mx.cpu), lambda: mlx.isnan(xm, mlx.cpu)),
            (lambda: mx.array_equal(x, x, True), lambda: mlx.array_equal(xm, xm, True)),
            (lambda: mx.isclose(x, x, 1e-5, 1e-8, True),
             lambda: mlx.isclose(xm, xm, 1e-5, 1e-8, True)),
            (lambda: mx.where(x, x, x, mx.cpu), lambda: mlx.where(xm, xm, xm, mlx.cpu)),
            (lambda: mx.clip(x, 0, 1, mx.cpu), lambda: mlx.clip(xm, 0, 1, mlx.cpu))]:
        raises_like(ours, theirs)
    for name in ["add", "exp", "where", "clip", "round", "nan_to_num", "isclose", "astype",
                 "logical_not", "bitwise_invert", "divmod", "stop_gradient"]:
        args = {"where": (x, x, x), "clip": (x, 0, 1), "astype": (x, mx.int32),
                "isclose": (x, x), "divmod": (x, x), "add": (x, x)}.get(name, (x,))
        if name in ("bitwise_invert",):
            args = (mx.array([1, 2]),)
        out = getattr(mx, name)(*args, stream=mx.cpu)
        assert out is not None
        out = getattr(mx, name)(*args, stream=mx.default_stream(mx.cpu))
    # Methods: x.abs(), x.round(1), x.astype(dtype, stream) and the real/imag properties.
    c, cm = both(np.array([1 + 2j, -3 - 1j], np.complex64), "complex64")
    for meth in ["abs", "square", "sqrt", "rsqrt", "reciprocal", "exp", "log", "log1p", "log2",
                 "log10", "sin", "cos", "conj"]:
        assert_same(getattr(x, meth)(), getattr(xm, meth)())
        assert_same(getattr(c, meth)(), getattr(cm, meth)(), *LOOSE["complex64"])
        assert_same(getattr(x, meth)(stream=mx.cpu), getattr(xm, meth)(stream=mlx.cpu))
    assert_same(x.round(1), xm.round(1))
    assert_same(c.real, cm.real)
    assert_same(c.imag, cm.imag)
    assert_same(x.real, xm.real)
    assert_same(x.imag, xm.imag)


def test_aliases():
    for alias, name in [("asin", "arcsin"), ("acos", "arccos"), ("atan", "arctan"),
                        ("asinh", "arcsinh"), ("acosh", "arccosh"), ("atanh", "arctanh"),
                        ("atan2", "arctan2"), ("pow", "power"), ("conj", "conjugate"),
                        ("bitwise_left_shift", "left_shift"),
                        ("bitwise_right_shift", "right_shift")]:
        assert hasattr(mlx, alias) and getattr(mx, alias) is getattr(mx, name), alias


def test_error_messages_name_the_op():
    x = mx.array([True, False])
    for fn, where in [(lambda: mx.negative(x), "[negative]"),
                      (lambda: mx.bitwise_invert(mx.array([1.5])), "[bitwise_invert]"),
                      (lambda: mx.remainder(mx.array([1j]), 2), "[remainder]"),
                      (lambda: mx.erf(mx.array([1j])), "[erf]"),
                      (lambda: mx.add(mx.array([1], dtype=mx.uint8), -1), "[add]"),
                      (lambda: mx.add(mx.array([1, 2]), mx.array([1, 2, 3])),
                       "[broadcast_shapes]"),  # MLX's message, word for word
                      (lambda: mx.bitwise_or(mx.array([1.5]), 1), "[bitwise_or]"),
                      (lambda: mx.exp([1.0]), "[exp]"),
                      (lambda: mx.clip(mx.array([1]), None, None), "[clip]")]:
        with pytest.raises(Exception) as info:
            fn()
        assert str(info.value).startswith(where), str(info.value)


# -- isclose, allclose, array_equal, stop_gradient, depends ----------------------------------

CLOSE_PAIRS = [
    ([1.0, 1.0, 1e-9, 0.0, nan, nan, inf, -inf, inf, 1e38, 100.0],
     [1.0 + 1e-6, 1.1, 0.0, 1e-8, nan, 1.0, inf, inf, 1e38, inf, 100.001]),
]


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64", "int32", "uint8",
                                  "bool_", "complex64"])
def test_isclose_allclose(name):
    problems = []
    ha, hb = (np.array(v, np.float64) for v in CLOSE_PAIRS[0])
    if name in ("int32", "uint8", "bool_"):
        ha, hb = np.nan_to_num(ha, posinf=5, neginf=3), np.nan_to_num(hb, posinf=5, neginf=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = both(ha.astype(getattr(mx, name).np), name)
        c, d = both(hb.astype(getattr(mx, name).np), name)
    for kwargs in [{}, {"equal_nan": True}, {"rtol": 0.0, "atol": 0.0}, {"rtol": 1e-2},
                   {"atol": 1.0}]:
        compare(f"isclose({name}, {kwargs})", lambda: mx.isclose(a, c, **kwargs),
                lambda: mlx.isclose(b, d, **kwargs), problems)
        compare(f"allclose({name}, {kwargs})", lambda: mx.allclose(a, c, **kwargs),
                lambda: mlx.allclose(b, d, **kwargs), problems)
        compare(f"allclose({name}, self, {kwargs})", lambda: mx.allclose(a, a, **kwargs),
                lambda: mlx.allclose(b, b, **kwargs), problems)
    report(problems)


def test_isclose_arguments():
    problems = []
    x, xm = both(np.array([1.0, 2.0]), "float32")
    for label, ours, theirs in [
            ("broadcast", lambda: mx.isclose(x, mx.array([[1.0], [2.0]])),
             lambda: mlx.isclose(xm, mlx.array([[1.0], [2.0]]))),
            ("allclose broadcast", lambda: mx.allclose(x, mx.array([[1.0, 2.0]])),
             lambda: mlx.allclose(xm, mlx.array([[1.0, 2.0]]))),
            ("bad shapes", lambda: mx.allclose(x, mx.array([1.0, 2.0, 3.0])),
             lambda: mlx.allclose(xm, mlx.array([1.0, 2.0, 3.0]))),
            ("scalar", lambda: mx.isclose(x, 2.0), lambda: mlx.isclose(xm, 2.0)),
            ("numpy", lambda: mx.isclose(x, np.array([1.0])),
             lambda: mlx.isclose(xm, np.array([1.0]))),
            ("rtol None", lambda: mx.isclose(x, x, rtol=None),
             lambda: mlx.isclose(xm, xm, rtol=None)),
            ("empty", lambda: mx.allclose(mx.array([]), mx.array([])),
             lambda: mlx.allclose(mlx.array([]), mlx.array([]))),
            ("mixed dtypes", lambda: mx.isclose(mx.array([1, 2], dtype=mx.int8), x),
             lambda: mlx.isclose(mlx.array([1, 2], dtype=mlx.int8), xm))]:
        compare(label, ours, theirs, problems)
    report(problems)


def test_array_equal():
    problems = []
    pairs = [([1.0, 2.0], [1, 2]), ([1.0, 2.0], [[1, 2]]), ([nan], [nan]), ([1.0], [1.5]),
             ([], []), ([257], [1]), ([2 ** 24 + 1], [2 ** 24]), ([1 + 0j], [1]),
             ([True, False], [1, 0]), ([[1, 2], [3, 4]], [[1, 2], [3, 5]])]
    dtypes = [("float32", "int32"), ("float32", "int32"), ("float32", "float32"),
              ("int8", "float32"), ("float32", "float32"), ("int32", "uint8"),
              ("int32", "float32"), ("complex64", "int32"), ("bool_", "int32"),
              ("int64", "int64")]
    for (va, vb), (da, db) in zip(pairs, dtypes):
        a, b = both(np.array(va, getattr(mx, da).np), da)
        c, d = both(np.array(vb, getattr(mx, db).np), db)
        for kw in ({}, {"equal_nan": True}):
            compare(f"array_equal({va}, {vb}, {kw})", lambda: mx.array_equal(a, c, **kw),
                    lambda: mlx.array_equal(b, d, **kw), problems)
    for s1, s2 in [(1, 1.0), (mx.array([1]), 1), (2, 3)]:
        t1, t2 = to_mlx(s1), to_mlx(s2)
        compare(f"array_equal({s1!r}, {s2!r})", lambda: mx.array_equal(s1, s2),
                lambda: mlx.array_equal(t1, t2), problems)
    report(problems)


def test_stop_gradient_and_depends():
    x, xm = both(np.array([1.5, -2.0]), "float32")
    assert_same(mx.stop_gradient(x), mlx.stop_gradient(xm))
    assert type(mx.stop_gradient(x)._node.prim).__name__ == "StopGradient"
    raises_like(lambda: mx.stop_gradient(1.0), lambda: mlx.stop_gradient(1.0))
    a, am = both(np.array([1, 2]), "int32")
    b, bm = both(np.array([3.5]), "float32")
    out = mx.depends(a, b)
    assert isinstance(out, mx.array) and out is not a
    assert_same(out, mlx.depends(am, bm))
    outs = mx.depends([a, x], [b])
    assert isinstance(outs, list)
    assert_same(outs, mlx.depends([am, xm], [bm]))
    assert_same(mx.depends((a,), b), mlx.depends((am,), bm))
    assert_same(mx.depends(a, []), mlx.depends(am, []))
    raises_like(lambda: mx.depends(1, b), lambda: mlx.depends(1, bm))
    raises_like(lambda: mx.depends(a, 1), lambda: mlx.depends(am, 1))
    # The dependency is evaluated when the output is, even though its value is unused.
    dep = mx.exp(mx.array([1.0]))
    y = mx.depends(mx.array([1.0]) + 1, dep)
    assert dep._node.data is None
    mx.eval(y)
    assert dep._node.data is not None


# -- accuracy beyond what the oracle offers --------------------------------------------------

@pytest.mark.xfail(ON_GPU, reason="CuPy flushes float32 subnormals to zero "
                                   "(docs/differences.md, GPU)", strict=False)
def test_erf_accuracy():
    """erf and erfinv: float64 within a few ulp of SciPy; float32/float16/bfloat16 within
    one ulp of the correctly rounded value (SciPy's float64 result, rounded)."""
    special = pytest.importorskip("scipy.special")
    rng = np.random.RandomState(3)
    x = np.concatenate([rng.uniform(-7, 7, 3000), rng.uniform(-1.1, 1.1, 1000),
                        10.0 ** rng.uniform(-300, 0, 300), -(10.0 ** rng.uniform(-300, 0, 300)),
                        np.linspace(5.8, 6.2, 50), [0.0, -0.0, 1.0, -1.0, 6.0, inf, -inf, nan]])
    got = np.array(mx.erf(mx.array(x, dtype=mx.float64)))
    ref = special.erf(x)
    np.testing.assert_allclose(got, ref, rtol=1e-15, atol=0)
    assert np.signbit(got[x == 0]).tolist() == np.signbit(x[x == 0]).tolist()
    y = np.concatenate([rng.uniform(-1, 1, 3000), 1 - 10.0 ** rng.uniform(-16, 0, 500),
                        -(1 - 10.0 ** rng.uniform(-16, 0, 300)), 10.0 ** rng.uniform(-300, 0, 300),
                        [0.0, -0.0, 1.0, -1.0, 1.5, -2.0, inf, -inf, nan]])
    got = np.array(mx.erfinv(mx.array(y, dtype=mx.float64)))
    np.testing.assert_allclose(got, special.erfinv(y), rtol=1e-15, atol=0)
    for name in ("float32", "float16", "bfloat16"):
        d = getattr(mx, name)
        for fn, ref_fn, vals in [(mx.erf, special.erf, x), (mx.erfinv, special.erfinv, y)]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = vals.astype(d.np)
            ours = to_numpy(fn(mx.array(v, dtype=d))).astype(np.float64)
            with np.errstate(all="ignore"):
                correct = ref_fn(v.astype(np.float64)).astype(d.np)
                ulp = np.spacing(np.abs(correct).astype(d.np)).astype(np.float64)
                off = np.abs(ours - correct.astype(np.float64))
            finite = np.isfinite(correct.astype(np.float64))
            assert np.all(off[finite] <= ulp[finite]), (name, fn.__name__)
            assert np.array_equal(np.isnan(ours), np.isnan(correct.astype(np.float64)))


def test_float64_precision():
    """The ops MLX computes in float32 even for float64 keep float64 accuracy here."""
    rng = np.random.RandomState(4)
    x = np.concatenate([rng.uniform(-50, 50, 200), [0.0, -0.0, 1e-30, 1e30, 700.0, -745.0]])
    h = mx.array(x, dtype=mx.float64)
    special = pytest.importorskip("scipy.special")
    for op, ref in [(mx.exp, np.exp), (mx.sin, np.sin), (mx.cos, np.cos),
                    (mx.sigmoid, special.expit)]:
        out = op(h)
        assert out.dtype == mx.float64
        with np.errstate(over="ignore"):
            expected = ref(x)
        np.testing.assert_allclose(np.array(out), expected, rtol=1e-14, atol=1e-300)
    out = mx.logaddexp(h, mx.array(x[::-1].copy(), dtype=mx.float64))
    np.testing.assert_allclose(np.array(out), np.logaddexp(x, x[::-1]), rtol=1e-14)


def test_doctests():
    import doctest
    import importlib
    for name in ["mlxpy.core.ops.elementwise", "mlxpy.core.ops.misc", "mlxpy.core.ops.operators",
                 "mlxpy.core.dtypes"]:
        result = doctest.testmod(importlib.import_module(name))
        assert result.failed == 0 and result.attempted > 3, name
