"""Dtypes against real MLX: the promotion table, weak Python scalars, limits, categories."""
import copy
import pickle
import warnings

import pytest

import mlxpy.core as mx
from oracle import mlx, needs_mlx, to_mlx, to_numpy, assert_same, raises_like, DTYPE_NAMES

pytestmark = needs_mlx

CATEGORIES = ["complexfloating", "floating", "inexact", "signedinteger", "unsignedinteger",
              "integer", "number", "generic"]


def ours(name):
    return getattr(mx, name)


def theirs(name):
    return getattr(mlx, name)


def name_of(d):
    return str(d).split(".")[-1]


def _sample(name, lib):
    """A small array of `name` in `lib` (values every dtype can hold)."""
    return lib.array([1, 0, 1], dtype=getattr(lib, name)) if name != "bool_" else \
        lib.array([True, False, True])


# -- promotion -------------------------------------------------------------------------------

@pytest.mark.parametrize("a", DTYPE_NAMES)
def test_promotion_table(a):
    """Every ordered pair: result_type of dtypes and of arrays, promote_types, and the
    dtype (and values) of a + b on arrays."""
    for b in DTYPE_NAMES:
        expected = name_of(mlx.result_type(theirs(a), theirs(b)))
        assert mx.promote_types(ours(a), ours(b)).name == expected, (a, b)
        assert mx.result_type(ours(a), ours(b)).name == expected, (a, b)
        x, y = _sample(a, mx), _sample(b, mx)
        assert mx.result_type(x, y).name == expected
        assert mx.result_type(x, ours(b)).name == expected
        assert_same(x + y, _sample(a, mlx) + _sample(b, mlx))


def test_result_type_many_and_errors():
    names = ["int8", "uint8", "float16", "bfloat16", "uint64", "complex64", "bool_"]
    for i in range(len(names)):
        for j in range(i, len(names)):
            group = names[i:j + 1]
            assert mx.result_type(*map(ours, group)).name == \
                name_of(mlx.result_type(*map(theirs, group)))
    raises_like(lambda: mx.result_type(), lambda: mlx.result_type())
    raises_like(lambda: mx.result_type(mx.array([1]), 1.5),
                lambda: mlx.result_type(mlx.array([1]), 1.5))
    raises_like(lambda: mx.result_type(mx.floating), lambda: mlx.result_type(mlx.floating))
    raises_like(lambda: mx.result_type("int8"), lambda: mlx.result_type("int8"))


SCALARS = [True, False, 0, 1, -1, 127, 128, 255, 256, -128, -129, 300, -300, 65535, 65536,
           2 ** 31 - 1, 2 ** 31, -2 ** 31, -2 ** 31 - 1, 2 ** 32, 2 ** 40, 2 ** 62, 2 ** 63 - 1,
           -2 ** 63, 2 ** 63, 2 ** 64, -2 ** 63 - 1, 0.5, -2.5, 1e10, 1e40, -0.0,
           float("nan"), float("inf"), 65504.0, 70000.0, 1e-40, 1 + 2j, -1j]


def _outcome(fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = fn()
            to_numpy(r)  # evaluate
        return "ok", r
    except Exception as e:  # noqa: BLE001 - compared by type
        return "raise", type(e).__name__


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_weak_python_scalars(name):
    """A Python scalar takes the array's dtype where it can (MLX's weak typing): ints
    check for overflow (ValueError), ints beyond int64 raise RuntimeError, floats move
    integer arrays to float32, complex makes complex64; on both sides of the operator."""
    problems = []
    a, b = _sample(name, mx), _sample(name, mlx)
    for s in SCALARS:
        for label, f_ours, f_theirs in [
                (f"{name} + {s!r}", lambda: a + s, lambda: b + s),
                (f"{s!r} + {name}", lambda: s + a, lambda: s + b),
                (f"multiply({name}, {s!r})", lambda: mx.multiply(a, s),
                 lambda: mlx.multiply(b, s)),
                (f"maximum({s!r}, {name})", lambda: mx.maximum(s, a), lambda: mlx.maximum(s, b))]:
            ko, o = _outcome(f_ours)
            kt, t = _outcome(f_theirs)
            if ko != kt or (ko == "raise" and o != t):
                problems.append(f"{label}: ours {ko} {o if ko == 'raise' else ''}, mlx {kt} "
                                f"{t if kt == 'raise' else ''}")
            elif ko == "ok":
                try:
                    assert_same(o, t)
                except AssertionError as e:
                    problems.append(f"{label}: {str(e)[:300]}")
    assert not problems, "\n".join(problems[:30])


def test_overflow_errors():
    for ours_fn, theirs_fn in [
            (lambda: mx.array([1], dtype=mx.int8) + 300,
             lambda: mlx.array([1], dtype=mlx.int8) + 300),
            (lambda: mx.array([1], dtype=mx.uint8) + -1,
             lambda: mlx.array([1], dtype=mlx.uint8) + -1),
            (lambda: -1 + mx.array([1], dtype=mx.uint8),
             lambda: -1 + mlx.array([1], dtype=mlx.uint8)),
            (lambda: mx.array([1]) < 2 ** 40, lambda: mlx.array([1]) < 2 ** 40),
            (lambda: mx.array([1.0]) + 2 ** 64, lambda: mlx.array([1.0]) + 2 ** 64)]:
        e = raises_like(ours_fn, theirs_fn)
        assert str(e).startswith("["), str(e)
    # uint64 takes negative Python ints (they wrap), but nothing past int64.
    assert_same(mx.array([1], dtype=mx.uint64) + -1, mlx.array([1], dtype=mlx.uint64) + -1)
    raises_like(lambda: mx.array([1], dtype=mx.uint64) + 2 ** 63,
                lambda: mlx.array([1], dtype=mlx.uint64) + 2 ** 63)


def test_python_scalars_alone():
    """With no array operand, scalars are not weak: 1 is int32, 1.5 float32."""
    for s1, s2 in [(1, 2), (1, 2.5), (True, 2), (2 ** 40, 1), (2 ** 40, 1.5), (True, False),
                   (1j, True), (1.5, 1j), (-1, 2 ** 31)]:
        assert_same(mx.add(s1, s2), mlx.add(s1, s2))
        assert_same(mx.multiply(s2, s1), mlx.multiply(s2, s1))


# -- limits ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_finfo_iinfo(name):
    d, m = ours(name), theirs(name)
    for cls in ("finfo", "iinfo"):
        try:
            t = getattr(mlx, cls)(m)
        except ValueError:
            with pytest.raises(ValueError):
                getattr(mx, cls)(d)
            continue
        o = getattr(mx, cls)(d)
        assert repr(o) == repr(t) and str(o) == str(t)
        fields = ["min", "max", "dtype"]
        if cls == "finfo":
            fields += ["bits", "eps", "smallest_normal"]
        for f in fields:
            ov, tv = getattr(o, f), getattr(t, f)
            if f == "dtype":
                assert ov.name == name_of(tv), (name, cls, f)
            else:
                assert ov == tv and type(ov) is type(tv), (name, cls, f, ov, tv)


def test_limits_need_a_dtype():
    for cls in ("finfo", "iinfo"):
        for bad in ["float32", mx.floating, 1.0, None]:
            with pytest.raises(TypeError):
                getattr(mx, cls)(bad)
            with pytest.raises(TypeError):
                getattr(mlx, cls)(to_mlx(bad) if bad is not mx.floating else mlx.floating)
        raises_like(lambda: getattr(mx, cls)(mx.array([1.0])),
                    lambda: getattr(mlx, cls)(mlx.array([1.0])))


# -- categories ------------------------------------------------------------------------------

def test_issubdtype_all_pairs():
    items = DTYPE_NAMES + CATEGORIES
    for a in items:
        for b in items:
            expected = mlx.issubdtype(theirs(a), theirs(b))
            assert mx.issubdtype(ours(a), ours(b)) is expected, (a, b)


def test_issubdtype_errors():
    for a, b in [("int", mx.integer), (mx.int32, "int"), (mx.int32, int), (mx.bool_, bool),
                 (None, mx.integer), (mx.int8, None), (mx.int8, float)]:
        raises_like(lambda: mx.issubdtype(a, b),
                    lambda: mlx.issubdtype(to_mlx_dtype(a), to_mlx_dtype(b)))


def to_mlx_dtype(x):
    if isinstance(x, (mx.Dtype, mx.DtypeCategory)):
        return theirs("bool_" if x is mx.bool_ else x.name)
    return x


KINDS = ["bool", "signed integer", "unsigned integer", "integral", "real floating",
         "complex floating", "numeric"]


def test_isdtype():
    for name in DTYPE_NAMES:
        d, m = ours(name), theirs(name)
        for kind in KINDS:
            assert mx.isdtype(d, kind) is mlx.isdtype(m, kind), (name, kind)
        for other in DTYPE_NAMES:
            assert mx.isdtype(d, ours(other)) is mlx.isdtype(m, theirs(other))
        for combo in [("bool", "integral"), ("real floating", mx.complex64), ()]:
            mcombo = tuple(theirs("complex64") if c is mx.complex64 else c for c in combo)
            assert mx.isdtype(d, combo) is mlx.isdtype(m, mcombo), (name, combo)
    for kind in ["foo", 3, [mx.int8], ("foo",), (mx.integer,), None]:
        mkind = ([mlx.int8] if isinstance(kind, list)
                 else (mlx.integer,) if kind == (mx.integer,) else kind)
        raises_like(lambda: mx.isdtype(mx.int8, kind), lambda: mlx.isdtype(mlx.int8, mkind))
    raises_like(lambda: mx.isdtype(mx.floating, "numeric"),
                lambda: mlx.isdtype(mlx.floating, "numeric"))
    raises_like(lambda: mx.isdtype(mx.array([1]), "numeric"),
                lambda: mlx.isdtype(mlx.array([1]), "numeric"))


def test_can_cast_all_pairs():
    for a in DTYPE_NAMES:
        for b in DTYPE_NAMES:
            expected = mlx.can_cast(theirs(a), theirs(b))
            assert mx.can_cast(ours(a), ours(b)) is expected, (a, b)
            assert mx.can_cast(_sample(a, mx), ours(b)) is expected
    raises_like(lambda: mx.can_cast("int8", mx.int16), lambda: mlx.can_cast("int8", mlx.int16))
    raises_like(lambda: mx.can_cast(mx.int8, "int16"), lambda: mlx.can_cast(mlx.int8, "int16"))
    raises_like(lambda: mx.can_cast(mx.int8, mx.array([1])),
                lambda: mlx.can_cast(mlx.int8, mlx.array([1])))


# -- the Dtype objects -----------------------------------------------------------------------

def test_dtype_objects():
    for name in DTYPE_NAMES:
        d, m = ours(name), theirs(name)
        # Same text but for the module: mlxpy.core.float32 vs mlx.core.float32.
        assert repr(d).replace("mlxpy.core", "mlx.core") == repr(m)
        assert str(d).replace("mlxpy.core", "mlx.core") == str(m)
        assert d.size == m.size
        assert d == d and d != ours("complex64" if name != "complex64" else "int8")
        assert (d == name) is (m == name) is False
        assert copy.deepcopy(d) is d and copy.copy(d) is d
        assert pickle.loads(pickle.dumps(d)) is d  # (MLX's dtypes do not pickle at all)
        assert hash(d) == hash(d)
    assert mx.bool is mx.bool_
    for c in CATEGORIES:
        assert repr(ours(c)) == repr(theirs(c)) and str(ours(c)) == str(theirs(c))
        assert ours(c).value == theirs(c).value and ours(c).name == theirs(c).name
        assert ours(c) == ours(c) and ours(c) != mx.float32
    with pytest.raises(TypeError):
        mx.float32 < mx.float64  # noqa: B015 - unordered, as in MLX
    assert len({hash(ours(n)) for n in DTYPE_NAMES}) == len(DTYPE_NAMES)
