"""Transforms of elementwise primitives against real MLX.

grad / vjp / jvp / vmap (in_axes, out_axes, nested, vmap of grad, grad of vmap) of the
unary and binary math ops, comparisons, logic, `where`, casts, `stop_gradient`,
`depends` and `full`, compared on values, dtypes and shapes: float32, float16,
bfloat16, integer, bool and complex64 inputs, broadcasting, and edge values (zeros,
infinities, nan, ties). Where MLX has no rule or a wrong one (docs/differences.md), the
tests check mlxpy against finite differences or against the rule's definition.
"""
import numpy as np
import pytest

import mlxpy.core as mx
from oracle import sample_domain, assert_same, mlx, needs_mlx

pytestmark = [needs_mlx, pytest.mark.filterwarnings("ignore::RuntimeWarning")]

nan, inf = float("nan"), float("inf")
TOL = {"float16": (5e-3, 5e-3), "bfloat16": (3e-2, 3e-2), "float32": (2e-5, 2e-6),
       "complex64": (2e-5, 2e-6)}


@pytest.fixture(autouse=True)
def no_loop_fallback(monkeypatch):
    """Every vmap here must use the primitives' batching rules, never the slow loop."""
    import importlib
    vmap_module = importlib.import_module("mlxpy.core.transforms.vmap")

    def refuse(node, *args):
        raise AssertionError(f"vmap fell back to a loop for {node.prim.name}")
    monkeypatch.setattr(vmap_module, "_loop_fallback", refuse)


def pair(h, dtype="float32"):
    """The same values as (mlxpy, MLX) arrays of `dtype`."""
    h = np.asarray(h)
    if dtype == "complex64":
        h = h.astype(np.complex64)
        return mx.array(h), mlx.array(h)
    if dtype in ("int32", "bool_", "uint8"):
        h = h.astype(getattr(np, dtype))
        return mx.array(h), mlx.array(h)
    h = h.astype(np.float32)
    return mx.array(h).astype(getattr(mx, dtype)), mlx.array(h).astype(getattr(mlx, dtype))


def same(ours, theirs, dtype=None):
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            same(o, t, dtype)
        return
    rtol, atol = TOL.get(dtype or str(theirs.dtype).split(".")[-1], (None, None))
    assert_same(ours, theirs, rtol=rtol, atol=atol)


def sample(shape, domain, seed):
    return sample_domain(shape, domain, np.random.default_rng(seed))


def run_both(program):
    """program(lib) run with mlxpy and with MLX."""
    return program(mx), program(mlx)


# -- unary ops ------------------------------------------------------------------------

UNARY = {
    "abs": "nonzero", "negative": "real", "square": "real", "sqrt": "pos", "rsqrt": "pos",
    "reciprocal": "nonzero", "exp": "real", "expm1": "real", "log": "pos", "log1p": "pos",
    "log2": "pos", "log10": "pos", "sin": "real", "cos": "real", "tan": "unit",
    "sinh": "real", "cosh": "real", "tanh": "real", "arcsin": "unit", "arccos": "unit",
    "arctan": "real", "arcsinh": "real", "arccosh": "gt1", "arctanh": "unit",
    "sigmoid": "real", "erf": "real", "erfinv": "unit", "sign": "nonzero", "floor": "real",
    "ceil": "real", "trunc": "real", "round": "real", "conjugate": "real",
    "stop_gradient": "real", "degrees": "real", "radians": "real",
}


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_grad_and_jvp_match_mlx(name, dtype):
    x, x_ = pair(sample((2, 3), UNARY[name], 1), dtype)
    t, t_ = pair(sample((2, 3), "real", 2), dtype)
    w, w_ = pair(sample((2, 3), "real", 3), dtype)
    f, f_ = getattr(mx, name), getattr(mlx, name)
    same(mx.grad(lambda x: (f(x) * w).sum())(x), mlx.grad(lambda x: (f_(x) * w_).sum())(x_))
    same(mx.jvp(f, [x], [t]), mlx.jvp(f_, [x_], [t_]))


EDGE = np.array([0.0, -0.0, inf, -inf, nan, 1.0, -1.0, 0.5, -0.5, 2.0, 1e-30, 1e30])


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_edge_gradients_match_mlx(name, dtype):
    # Zeros, infinities and nan: the derivative formulas are MLX's, so are the results.
    x, x_ = pair(EDGE, dtype)
    f, f_ = getattr(mx, name), getattr(mlx, name)
    same(mx.grad(lambda x: f(x).sum())(x), mlx.grad(lambda x: f_(x).sum())(x_))
    same(mx.jvp(f, [x], [mx.ones_like(x)]), mlx.jvp(f_, [x_], [mlx.ones_like(x_)]))


COMPLEX_UNARY = ["negative", "square", "sqrt", "rsqrt", "reciprocal", "exp", "log", "log1p",
                 "log2", "log10", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin",
                 "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "conjugate", "abs",
                 "sign", "real", "imag", "round", "stop_gradient"]


@pytest.mark.parametrize("name", COMPLEX_UNARY)
def test_complex_unary_vjp_and_jvp_match_mlx(name):
    # vjp is g * conj(f'(z)) for holomorphic f; abs, real, imag and conj are not
    # holomorphic and have their own rules. MLX agrees on every one of these.
    z, z_ = pair(sample((5,), "complex", 4), "complex64")
    t, t_ = pair(sample((5,), "complex", 5), "complex64")
    f, f_ = getattr(mx, name), getattr(mlx, name)
    out_dtype = "float32" if name in ("abs", "real", "imag") else "complex64"
    g, g_ = pair(sample((5,), "complex" if out_dtype == "complex64" else "real", 6), out_dtype)
    same(mx.vjp(f, [z], [g]), mlx.vjp(f_, [z_], [g_]))
    same(mx.jvp(f, [z], [t]), mlx.jvp(f_, [z_], [t_]))


def test_complex_conventions_by_hand():
    z = mx.array(1 + 2j)
    one = mx.array(1 + 0j)
    assert mx.vjp(lambda z: z * (2 + 3j), [z], [one])[1][0].item() == pytest.approx(2 - 3j)
    assert mx.jvp(lambda z: z * z, [z], [one])[1][0].item() == pytest.approx(2 + 4j)
    assert mx.vjp(mx.imag, [z], [mx.array(1.0)])[1][0].item() == pytest.approx(1j)
    assert mx.vjp(mx.real, [z], [mx.array(1.0)])[1][0].item() == pytest.approx(1 + 0j)
    assert mx.vjp(mx.conj, [z], [mx.array(1 + 1j)])[1][0].item() == pytest.approx(1 - 1j)
    assert mx.grad(lambda x: mx.imag(x * (1 + 2j)))(mx.array(1.0)).item() == 2.0
    g = mx.vjp(mx.abs, [mx.array([0j, 3 + 4j])], [mx.array([2.0, 2.0])])[1][0]
    assert g.dtype == mx.complex64 and np.allclose(np.array(g), [0, 1.2 + 1.6j])


# -- binary ops -----------------------------------------------------------------------

BINARY = {
    "add": ("real", "real"), "subtract": ("real", "real"), "multiply": ("real", "real"),
    "divide": ("real", "nonzero"), "maximum": ("real", "real"), "minimum": ("real", "real"),
    "power": ("pos", "real"), "arctan2": ("real", "nonzero"), "logaddexp": ("real", "real"),
    "remainder": ("real", "nonzero"), "floor_divide": ("real", "nonzero"),
    "equal": ("real", "real"), "not_equal": ("real", "real"), "less": ("real", "real"),
    "less_equal": ("real", "real"), "greater": ("real", "real"),
    "greater_equal": ("real", "real"),
}
SHAPES = [((2, 3), (2, 3)), ((3, 1), (4,)), ((), (2, 3)), ((2, 1, 3), ())]


def _weighted(f, w):
    return lambda a, b: (f(a, b).astype(w.dtype) * w).sum()


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grad_and_jvp_match_mlx(name, shapes):
    (sa, sb), (da, db) = shapes, BINARY[name]
    a, a_ = pair(sample(sa, da, 7))
    b, b_ = pair(sample(sb, db, 8))
    ta, ta_ = pair(sample(sa, "real", 9))
    tb, tb_ = pair(sample(sb, "real", 10))
    out_shape = np.broadcast_shapes(sa, sb)
    w, w_ = pair(sample(out_shape, "real", 11))
    f, f_ = getattr(mx, name), getattr(mlx, name)
    same(mx.grad(_weighted(f, w), argnums=(0, 1))(a, b),
         mlx.grad(_weighted(f_, w_), argnums=(0, 1))(a_, b_))
    same(mx.jvp(f, [a, b], [ta, tb]), mlx.jvp(f_, [a_, b_], [ta_, tb_]))
    # One differentiated side only: the other is a constant of the function.
    same(mx.jvp(lambda a: f(a, b), [a], [ta]), mlx.jvp(lambda a: f_(a, b_), [a_], [ta_]))
    same(mx.vjp(lambda b: f(a, b), [b], [w.astype(f(a, b).dtype)]),
         mlx.vjp(lambda b: f_(a_, b), [b_], [w_.astype(f_(a_, b_).dtype)]))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "maximum",
                                  "minimum", "power", "arctan2", "logaddexp", "remainder"])
def test_binary_half_precision_stays_half(name, dtype):
    da, db = BINARY[name]
    a, a_ = pair(sample((3, 1), da, 12), dtype)
    b, b_ = pair(sample((4,), db, 13), dtype)
    f, f_ = getattr(mx, name), getattr(mlx, name)
    ours = mx.grad(lambda a, b: f(a, b).sum(), argnums=(0, 1))(a, b)
    theirs = mlx.grad(lambda a, b: f_(a, b).sum(), argnums=(0, 1))(a_, b_)
    assert [o.dtype for o in ours] == [getattr(mx, dtype)] * 2
    same(ours, theirs, dtype)


@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "maximum",
                                  "minimum", "floor_divide"])
def test_complex_binary_matches_mlx(name):
    a, a_ = pair(sample((3, 1), "complex", 14), "complex64")
    b, b_ = pair(sample((4,), "complex", 15), "complex64")
    g, g_ = pair(sample((3, 4), "complex", 16), "complex64")
    ta, ta_ = pair(sample((3, 1), "complex", 17), "complex64")
    tb, tb_ = pair(sample((4,), "complex", 18), "complex64")
    f, f_ = getattr(mx, name), getattr(mlx, name)
    same(mx.vjp(f, [a, b], [g]), mlx.vjp(f_, [a_, b_], [g_]))
    same(mx.jvp(f, [a, b], [ta, tb]), mlx.jvp(f_, [a_, b_], [ta_, tb_]))


@pytest.mark.parametrize("name", ["power", "logaddexp"])
def test_complex_power_and_logaddexp_follow_the_conjugate_convention(name):
    # MLX 0.32's power vjp drops the conjugate and its logaddexp refuses complex
    # (docs/differences.md); mlxpy's vjp is the adjoint of its jvp, as elsewhere.
    a = mx.array(np.array([0.25 + 0.5j, 1.5 - 0.3j], dtype=np.complex64))
    b = mx.array(np.array([-0.7 + 0.3j, 0.4 + 0.2j], dtype=np.complex64))
    f = getattr(mx, name)
    g = mx.array(np.array([0.75 - 0.375j, -0.2 + 1j], dtype=np.complex64))
    _, (ga, gb) = mx.vjp(f, [a, b], [g])
    h = 1e-2
    da = (np.array(f(a + h, b)) - np.array(f(a - h, b))) / (2 * h)
    db = (np.array(f(a, b + h)) - np.array(f(a, b - h))) / (2 * h)
    np.testing.assert_allclose(np.array(ga), np.array(g) * np.conj(da), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(np.array(gb), np.array(g) * np.conj(db), rtol=1e-3, atol=1e-4)
    _, (t,) = mx.jvp(f, [a, b], [mx.ones_like(a), mx.ones_like(b)])
    np.testing.assert_allclose(np.array(t), da + db, rtol=1e-3, atol=1e-4)


EDGE_BINARY = {
    # ties go to b for maximum and minimum; nan on either side sends the gradient nowhere
    "maximum ties": ("maximum", [1.0, 2.0, nan, 1.0, -inf], [1.0, 1.0, 0.0, nan, -inf]),
    "minimum ties": ("minimum", [1.0, 2.0, nan, 1.0, inf], [1.0, 1.0, 0.0, nan, inf]),
    "power at 0": ("power", [0.0, 0.0, 0.0, 0.0, -2.0, 2.0, -0.0],
                   [0.0, 2.0, 0.5, -1.0, 2.0, 3.0, 3.0]),
    "power at inf": ("power", [inf, inf, -inf, 1.0, nan], [2.0, -1.0, 2.0, inf, 1.0]),
    "remainder": ("remainder", [3.0, -3.0, 5.0, 0.0, inf], [2.0, 2.0, -2.0, 1.0, 2.0]),
    "divide by 0": ("divide", [1.0, 0.0, -1.0, inf], [0.0, 0.0, 0.0, inf]),
    "logaddexp infinities": ("logaddexp", [0.0, -inf, inf, inf, 1.0, -inf],
                             [0.0, -inf, 1.0, inf, nan, 2.0]),
    "arctan2 origin": ("arctan2", [0.0, 1.0, inf, 0.0], [0.0, 0.0, 1.0, -0.0]),
    "multiply inf": ("multiply", [0.0, inf, nan], [inf, 2.0, 1.0]),
}


@pytest.mark.parametrize("case", sorted(EDGE_BINARY))
def test_binary_edge_gradients_match_mlx(case):
    name, ha, hb = EDGE_BINARY[case]
    a, a_ = pair(ha)
    b, b_ = pair(hb)
    f, f_ = getattr(mx, name), getattr(mlx, name)
    same(mx.grad(lambda a, b: f(a, b).sum(), argnums=(0, 1))(a, b),
         mlx.grad(lambda a, b: f_(a, b).sum(), argnums=(0, 1))(a_, b_))
    same(mx.jvp(f, [a, b], [mx.ones_like(a), mx.ones_like(b)]),
         mlx.jvp(f_, [a_, b_], [mlx.ones_like(a_), mlx.ones_like(b_)]))


def test_masks_multiply_an_infinite_cotangent_as_mlx():
    # 0 * inf is nan on the unselected side of maximum and where, in MLX and here.
    def program(lib):
        c = lib.array([inf, inf])
        m = lib.vjp(lib.maximum, [lib.array([1.0, 0.0]), lib.array([0.0, 1.0])], [c])[1]
        w = lib.vjp(lambda x, y: lib.where(lib.array([True, False]), x, y),
                    [lib.array([1.0, 1.0]), lib.array([0.0, 0.0])], [c])[1]
        return m + w
    ours, theirs = run_both(program)
    same(ours, theirs)


def test_zero_derivatives_propagate_nan_like_mlx():
    # Rounding and comparisons give explicit zeros, so 0 * inf upstream is nan, as in
    # MLX; stop_gradient gives nothing at all, so nothing upstream is differentiated.
    def program(lib):
        x = lib.array([0.0, 1.0])
        fns = [lambda x: lib.floor(lib.log(x)).sum(),
               lambda x: (lib.log(x) > 0).astype(lib.float32).sum(),
               lambda x: lib.sign(lib.log(x)).sum(),
               lambda x: lib.stop_gradient(lib.log(x)).sum(),
               lambda x: lib.round(lib.log(x), 1).sum()]
        grads = [lib.grad(f)(x) for f in fns]
        jvps = [lib.jvp(lambda x: lib.log(lib.floor(x)), [x], [lib.ones_like(x)])[1][0],
                lib.jvp(lambda x: lib.log(lib.stop_gradient(x)), [x], [lib.ones_like(x)])[1][0]]
        return grads + jvps
    ours, theirs = run_both(program)
    same(ours, theirs)


# -- where ------------------------------------------------------------------------------

@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((3,), (2, 1), ()),
                                    ((2, 1), (), (3,)), ((), (2,), (2,))], ids=str)
def test_where_matches_mlx(shapes):
    sc, sx, sy = shapes
    c, c_ = pair(sample(sc, "real", 19) > 0, "bool_")
    x, x_ = pair(sample(sx, "real", 20))
    y, y_ = pair(sample(sy, "real", 21))
    tx, tx_ = pair(sample(sx, "real", 22))
    ty, ty_ = pair(sample(sy, "real", 23))
    w, w_ = pair(sample(np.broadcast_shapes(sc, sx, sy), "real", 24))
    same(mx.grad(lambda x, y: (mx.where(c, x, y) * w).sum(), argnums=(0, 1))(x, y),
         mlx.grad(lambda x, y: (mlx.where(c_, x, y) * w_).sum(), argnums=(0, 1))(x_, y_))
    same(mx.jvp(lambda x, y: mx.where(c, x, y), [x, y], [tx, ty]),
         mlx.jvp(lambda x, y: mlx.where(c_, x, y), [x_, y_], [tx_, ty_]))
    same(mx.jvp(lambda y: mx.where(c, x, y), [y], [ty]),
         mlx.jvp(lambda y: mlx.where(c_, x_, y), [y_], [ty_]))


def test_where_with_a_differentiated_condition():
    def program(lib):
        x = lib.array([-2.0, 0.5, 3.0])
        f = lambda x: lib.where(x > 0, x * x, -x).sum()
        g = lib.grad(lambda c, x: lib.where(c, x, 0.0).sum(), argnums=(0, 1))(
            lib.array([1.0, 0.0, 2.0]), x)
        return [lib.grad(f)(x), lib.jvp(f, [x], [lib.ones_like(x)])[1][0], *g]
    ours, theirs = run_both(program)
    same(ours, theirs)


# -- integer, bool and mixed dtypes ---------------------------------------------------------

INT_PROGRAMS = {
    "square": lambda lib, x: (x * x).sum(),
    "sin": lambda lib, x: lib.sin(x).sum(),
    "sqrt": lambda lib, x: lib.sqrt(lib.abs(x) + 1).sum(),
    "divide": lambda lib, x: (x / 3).sum(),
    "power": lambda lib, x: (x ** 2).sum(),
    "abs": lambda lib, x: lib.abs(x).sum(),
    "negative": lambda lib, x: (-x).sum(),
    "maximum": lambda lib, x: lib.maximum(x, 0).sum(),
    "compare": lambda lib, x: (x > 0).sum(),
    "floor_divide": lambda lib, x: (x // 2).sum(),
    "remainder": lambda lib, x: (x % 3).sum(),
    "where": lambda lib, x: lib.where(x > 0, x, 2 * x).sum(),
    "bitwise": lambda lib, x: ((x & 3) + (x << 1) + (x ^ x)).sum(),
    "sign": lambda lib, x: (lib.sign(x) * x).sum(),
    "astype": lambda lib, x: (x.astype(lib.float32) * 2.5).sum(),
}


@pytest.mark.parametrize("name", sorted(INT_PROGRAMS))
def test_integer_inputs_match_mlx(name):
    f = INT_PROGRAMS[name]
    x, x_ = pair([1, -2, 3, 0], "int32")
    same(mx.grad(lambda x: f(mx, x))(x), mlx.grad(lambda x: f(mlx, x))(x_))


@pytest.mark.parametrize("program", [
    lambda lib, x: lib.logical_not(x).astype(lib.float32).sum(),
    lambda lib, x: (lib.logical_and(x, x) | x).astype(lib.float32).sum(),
    lambda lib, x: x.astype(lib.float32).sum(),
    lambda lib, x: lib.where(x, 1.0, 2.0).sum(),
], ids=["logical_not", "logical", "astype", "where"])
def test_bool_inputs_match_mlx(program):
    x, x_ = pair([True, False, True], "bool_")
    same(mx.grad(lambda x: program(mx, x))(x), mlx.grad(lambda x: program(mlx, x))(x_))


DISCRETE = [(name, dtype) for dtype in ["float16", "float32", "int32"]
            for name in ["less", "equal", "not_equal", "greater_equal", "isnan", "isinf",
                         "isfinite", "isposinf", "isneginf", "floor", "sign", "floor_divide",
                         "bitwise_and", "left_shift", "logical_or", "logical_not"]
            if not (name in ("bitwise_and", "left_shift") and dtype != "int32")
            and not (name == "floor" and dtype == "int32")]


@pytest.mark.parametrize("name,dtype", DISCRETE)
def test_tangent_dtypes_of_discrete_ops_match_mlx(name, dtype):
    # Comparisons give zeros of the tangent's dtype, logical ops (and isinf, isfinite,
    # which MLX composes from them) bool zeros, broadcast to the output's shape.
    x, x_ = pair([[3.0, 1.0, -2.0]], dtype)
    y, y_ = pair([[2.0], [1.0]], dtype)
    f, f_ = getattr(mx, name), getattr(mlx, name)
    if name in ("isnan", "isinf", "isfinite", "isposinf", "isneginf", "floor", "sign",
                "logical_not"):
        same(mx.jvp(f, [x], [x]), mlx.jvp(f_, [x_], [x_]))
        same(mx.vjp(f, [x], [f(x)]), mlx.vjp(f_, [x_], [f_(x_)]))
        return
    same(mx.jvp(f, [x, y], [x, y]), mlx.jvp(f_, [x_, y_], [x_, y_]))
    same(mx.jvp(lambda x: f(x, y), [x], [x]), mlx.jvp(lambda x: f_(x, y_), [x_], [x_]))
    if name != "logical_or":  # MLX's vjp raises here, through its cast to bool
        same(mx.vjp(f, [x, y], [f(x, y)]), mlx.vjp(f_, [x_, y_], [f_(x_, y_)]))


CASTS = ["float32", "float16", "bfloat16", "int32", "uint8", "bool_", "complex64"]


@pytest.mark.parametrize("dst", CASTS)
@pytest.mark.parametrize("src", ["float32", "float16", "int32", "bool_", "complex64"])
def test_astype_vjp_and_jvp_match_mlx(src, dst):
    h = [1.5, -2.0, 0.0] if src != "complex64" else [1.5 + 1j, -2.0 - 0.5j, 0j]
    x, x_ = pair(h, src)
    ct, ct_ = pair([2.5, 1.0, -3.0] if dst != "complex64" else [2.5 + 3j, 1 - 1j, -3j], dst)
    cast, cast_ = (lambda x: x.astype(getattr(mx, dst))), (lambda x: x.astype(getattr(mlx, dst)))
    same(mx.vjp(cast, [x], [ct]), mlx.vjp(cast_, [x_], [ct_]))
    t, t_ = pair(h, src)
    same(mx.jvp(cast, [x], [t]), mlx.jvp(cast_, [x_], [t_]))


# -- stop_gradient, depends, full -------------------------------------------------------------

def test_stop_gradient_matches_mlx():
    def program(lib):
        x = lib.array([1.0, -2.0, 0.0], dtype=lib.float16)
        f = lambda x: (lib.stop_gradient(x * x) * x + lib.sin(lib.stop_gradient(x))).sum()
        return [lib.grad(f)(x), lib.jvp(f, [x], [lib.ones_like(x)])[1][0],
                lib.vmap(lambda x: lib.stop_gradient(x) * 2, in_axes=1)(lib.ones((2, 3))),
                lib.grad(lambda x: lib.stop_gradient(x).sum())(lib.array([1, 2]))]
    ours, theirs = run_both(program)
    same(ours, theirs)


def test_depends_matches_mlx_and_passes_tangents():
    def program(lib):
        x, y = lib.array([1.0, 2.0]), lib.array([3.0])
        g = lib.grad(lambda x, y: (lib.depends(x * 2, y * 3) * x).sum(), argnums=(0, 1))(x, y)
        outs, vjps = lib.vjp(lambda x, y, z: lib.depends([x, y * y], [z]),
                             [x, y, lib.array([1, 2])], [lib.array([1.0, 5.0]), y])
        return [*g, *outs, *vjps]
    ours, theirs = run_both(program)
    same(ours, theirs)
    # MLX has no jvp or vmap for depends; each output is its input, so tangents and
    # batch axes pass through unchanged.
    x, y = mx.array([1.0, 2.0]), mx.array([3.0])
    _, (tx, ty) = mx.jvp(lambda x, y: mx.depends([x * 2, y], [y * x]), [x, y],
                         [mx.array([1.0, 1.0]), mx.array([2.0])])
    assert np.array(tx).tolist() == [2.0, 2.0] and np.array(ty).tolist() == [2.0]
    _, (t,) = mx.jvp(lambda x, y: mx.depends(x, y * 5), [x, y], [mx.zeros_like(x), mx.ones_like(y)])
    assert np.array(t).tolist() == [0.0, 0.0]
    v = mx.vmap(lambda x, y: mx.depends([x * 2, y], [x + y]), in_axes=(1, None))(
        mx.array([[1.0, 2.0, 3.0]]), mx.array([7.0]))
    assert np.array(v[0]).tolist() == [[2.0], [4.0], [6.0]]
    assert np.array(v[1]).tolist() == [[7.0]] * 3  # unbatched, so broadcast like any output


@pytest.mark.parametrize("shape,vshape", [((2, 3), ()), ((2, 3), (3,)), ((4, 2, 3), (2, 1)),
                                          ((2, 3), (2, 3))], ids=str)
def test_full_rules(shape, vshape):
    v, v_ = pair(sample(vshape, "real", 25))
    t, t_ = pair(sample(vshape, "real", 26))
    same(mx.jvp(lambda v: mx.full(shape, v), [v], [t]),
         mlx.jvp(lambda v: mlx.full(shape, v), [v_], [t_]))
    # MLX 0.32's vjp multiplies the cotangent by the value (docs/differences.md); the
    # derivative of broadcasting is summing back, which agrees with the jvp.
    w = sample(shape, "real", 27).astype(np.float32)
    g = mx.grad(lambda v: (mx.full(shape, v) * mx.array(w)).sum())(v)
    lead = w.ndim - len(vshape)
    want = w.sum(axis=tuple(range(lead)))
    want = want.sum(axis=tuple(i for i, d in enumerate(vshape) if d == 1), keepdims=True)
    np.testing.assert_allclose(np.array(g), want.reshape(vshape), rtol=1e-5, atol=1e-5)
    # vmap over the value: each example fills its own array.
    bv, bv_ = pair(sample((3,) + vshape, "real", 28))
    same(mx.vmap(lambda v: mx.full(shape, v))(bv), mlx.vmap(lambda v: mlx.full(shape, v))(bv_))
    same(mx.vmap(lambda v: mx.full(shape, v) * 2, in_axes=0, out_axes=-1)(bv),
         mlx.vmap(lambda v: mlx.full(shape, v) * 2, in_axes=0, out_axes=-1)(bv_))


# -- vmap, and transforms of transforms ---------------------------------------------------------

def composite(lib, x, y):
    """Most elementwise primitives in one function of two arrays."""
    u = lib.sin(x) * y + lib.maximum(x, y) ** 2 / (1 + lib.abs(y)) - lib.minimum(x, 0.5)
    u = u + lib.where(x > y, lib.exp(x), lib.log1p(y * y)) + lib.arctan2(x, y + 3)
    u = u + lib.logaddexp(x, y) * lib.sigmoid(y) + lib.tanh(x) % 1.5 + lib.erf(y)
    u = u + lib.sqrt(lib.square(x) + 1) - lib.rsqrt(y * y + 2) + lib.floor(x) * lib.sign(y)
    return u + (x.astype(lib.float16) * 2).astype(lib.float32) - lib.stop_gradient(y) * x


@pytest.mark.parametrize("in_axes,out_axes,sx,sy", [
    ((0, 0), 0, (3, 4), (3, 4)),
    ((1, None), 0, (4, 3), (4,)),
    ((None, 1), -1, (2, 4), (2, 3, 4)),
    ((-1, 0), 1, (2, 4, 3), (3, 4)),
    ((0, -1), -1, (3,), (3,)),
    ((2, 0), 0, (2, 4, 3), (3, 1, 4)),
], ids=str)
def test_vmap_matches_mlx(in_axes, out_axes, sx, sy):
    x, x_ = pair(sample(sx, "real", 29))
    y, y_ = pair(sample(sy, "real", 30))
    same(mx.vmap(lambda x, y: composite(mx, x, y), in_axes, out_axes)(x, y),
         mlx.vmap(lambda x, y: composite(mlx, x, y), in_axes, out_axes)(x_, y_))


def test_nested_vmap_matches_mlx():
    x, x_ = pair(sample((2, 3, 4), "real", 31))
    y, y_ = pair(sample((4, 3), "real", 32))
    inner = lambda lib: lib.vmap(lambda x, y: composite(lib, x, y), in_axes=(0, 1), out_axes=1)
    outer = lambda lib: lib.vmap(inner(lib), in_axes=(0, None), out_axes=-1)
    same(outer(mx)(x, y), outer(mlx)(x_, y_))


def test_vmap_of_grad_and_grad_of_vmap_match_mlx():
    x, x_ = pair(sample((3, 4), "real", 33))
    y, y_ = pair(sample((4,), "real", 34))

    def program(lib, x, y):
        f = lambda x, y: composite(lib, x, y).sum()
        per_row = lib.vmap(lib.grad(f, argnums=(0, 1)), in_axes=(0, None))(x, y)
        through = lib.grad(lambda x, y: lib.vmap(f, in_axes=(1, None))(x.T, y).sum(),
                           argnums=(0, 1))(x, y)
        tangents = lib.jvp(lambda x: lib.vmap(lambda r: composite(lib, r, y))(x),
                           [x], [lib.ones_like(x)])[1]
        return [*per_row, *through, *tangents]
    same(program(mx, x, y), program(mlx, x_, y_))


@pytest.mark.parametrize("name", ["sin", "tanh", "sigmoid", "erf", "log", "sqrt", "exp",
                                  "arctan", "reciprocal", "abs", "square", "erfinv"])
def test_second_and_third_derivatives_match_mlx(name):
    dom = {"log": "pos", "sqrt": "pos", "reciprocal": "nonzero", "erfinv": "unit",
           "abs": "nonzero"}.get(name, "real")
    x, x_ = pair(sample((5,), dom, 35))

    def program(lib, x):
        f = lambda x: getattr(lib, name)(x).sum()
        d2 = lib.grad(lambda x: lib.grad(f)(x).sum())
        d3 = lib.vmap(lib.grad(lambda x: lib.grad(lambda x: lib.grad(
            lambda x: getattr(lib, name)(x))(x))(x)))
        hvp = lib.jvp(lib.grad(f), [x], [lib.ones_like(x)])[1][0]
        return [d2(x), d3(x), hvp]
    same(program(mx, x), program(mlx, x_))


def test_binary_second_derivatives_match_mlx():
    a, a_ = pair(sample((4,), "pos", 36))
    b, b_ = pair(sample((4,), "real", 37))

    def program(lib, a, b):
        f = lambda a, b: (lib.power(a, b) + lib.logaddexp(a, b) * lib.arctan2(a, b)
                          + a / (b * b + 1)).sum()
        ga = lambda a, b: lib.grad(f, argnums=0)(a, b).sum()
        return list(lib.grad(ga, argnums=(0, 1))(a, b))
    same(program(mx, a, b), program(mlx, a_, b_))
