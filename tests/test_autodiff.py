"""grad, value_and_grad, vjp, jvp: the API against real MLX, and composition."""
import numpy as np
import pytest

import mlxpy.core as mx
from oracle import mlx, needs_mlx, to_mlx, assert_same

pytestmark = needs_mlx


def both(fn_builder):
    """Run the same program on mlxpy and on MLX."""
    return fn_builder(mx), fn_builder(mlx)


def test_grad_of_sin_to_fourth_order():
    x = mx.array(0.7)
    f = mx.sin
    for _ in range(4):
        f = mx.grad(f)
    assert abs(f(x).item() - np.sin(0.7)) < 1e-6
    assert abs(mx.grad(mx.grad(mx.sin))(x).item() + np.sin(0.7)) < 1e-6


@pytest.mark.parametrize("argnums", [None, 0, 1, (0, 1), (1, 0), [1]])
def test_argnums_match_mlx(argnums):
    def run(lib):
        f = lambda x, y: (lib.sin(x) * y).sum()
        x = lib.array([0.5, 1.0, 2.0])
        y = lib.array([3.0, -1.0, 0.5])
        return lib.grad(f, argnums=argnums)(x, y)
    ours, theirs = both(run)
    assert_same(ours, theirs)


def test_argnames_and_mixed():
    def run(lib):
        f = lambda x, w=None, b=None: (x * w + b).sum()
        x = lib.array([1.0, 2.0])
        w = lib.array([3.0, 4.0])
        b = lib.array([0.5, 0.5])
        g1 = lib.grad(f, argnames=["w"])(x, w=w, b=b)
        g2 = lib.grad(f, argnums=0, argnames=["w", "b"])(x, w=w, b=b)
        return g1, g2
    ours, theirs = both(run)
    assert ours[0][0] is None and theirs[0][0] is None
    assert_same(ours[0][1]["w"], theirs[0][1]["w"])
    assert_same(ours[1][0], theirs[1][0])
    assert set(ours[1][1]) == set(theirs[1][1]) == {"w", "b"}
    for k in ("w", "b"):
        assert_same(ours[1][1][k], theirs[1][1][k])


def test_pytree_arguments():
    def run(lib):
        params = {"w": [lib.array([1.0, 2.0]), lib.array(3.0)], "b": (lib.array([0.5]),)}
        f = lambda p, x: (p["w"][0] * x).sum() * p["w"][1] + p["b"][0].sum()
        return lib.grad(f)(params, lib.array([2.0, 5.0]))
    ours, theirs = both(run)
    assert isinstance(ours, dict) and isinstance(ours["w"], list) and isinstance(ours["b"], tuple)
    assert_same(ours["w"][0], theirs["w"][0])
    assert_same(ours["w"][1], theirs["w"][1])
    assert_same(ours["b"][0], theirs["b"][0])


def test_value_and_grad_with_auxiliary_outputs():
    def run(lib):
        f = lambda x: ((x * x).sum(), x * 2, "aux", 3)
        return lib.value_and_grad(f)(lib.array([1.0, 2.0]))
    (v, g), (tv, tg) = both(run)
    assert_same(v[0], tv[0])
    assert_same(v[1], tv[1])
    assert v[2:] == ("aux", 3) == tv[2:]
    assert_same(g, tg)


def test_integer_inputs_give_integer_gradients():
    def run(lib):
        return lib.grad(lambda x: (x * x).sum())(lib.array([1, 2]))
    ours, theirs = both(run)
    assert_same(ours, theirs)


ERROR_CASES = [
    ("no argument", lambda lib: lib.grad(lambda x: x.sum(), argnums=[])(lib.ones(2))),
    ("negative", lambda lib: lib.grad(lambda x: x.sum(), argnums=-1)(lib.ones(2))),
    ("duplicate", lambda lib: lib.grad(lambda x, y: x.sum(), argnums=[0, 0])(lib.ones(2), lib.ones(2))),
    ("beyond", lambda lib: lib.grad(lambda x: x.sum(), argnums=2)(lib.ones(2))),
    ("missing kw", lambda lib: lib.grad(lambda x, w=None: x.sum(), argnames=["w"])(lib.ones(2))),
    ("non scalar", lambda lib: lib.grad(lambda x: x)(lib.ones(3))),
    ("list out", lambda lib: lib.value_and_grad(lambda x: [x.sum()])(lib.ones(3))),
    ("float out", lambda lib: lib.value_and_grad(lambda x: 3.0)(lib.ones(3))),
    ("empty tuple", lambda lib: lib.value_and_grad(lambda x: ())(lib.ones(3))),
    ("tuple first not array", lambda lib: lib.value_and_grad(lambda x: (1, x))(lib.ones(3))),
    ("grad tuple", lambda lib: lib.grad(lambda x: (x.sum(), 1))(lib.ones(3))),
    ("non-array leaf", lambda lib: lib.grad(lambda d: d["a"].sum())({"a": lib.ones(2), "b": 3})),
    ("vjp count", lambda lib: lib.vjp(lambda x: x * 2, [lib.ones(2)], [])),
    ("vjp shape", lambda lib: lib.vjp(lambda x: x * 2, [lib.ones(2)], [lib.ones(3)])),
    ("jvp shape", lambda lib: lib.jvp(lambda x: x * 2, [lib.ones(2)], [lib.ones(3)])),
]


@pytest.mark.parametrize("name,prog", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_errors_match_mlx_types(name, prog):
    with pytest.raises(Exception) as theirs:
        prog(mlx)
    with pytest.raises(type(theirs.value)) as ours:
        prog(mx)
    assert str(ours.value).startswith("["), ours.value


def test_non_scalar_message_says_to_reduce():
    with pytest.raises(ValueError, match="sum"):
        mx.grad(lambda x: x * 2)(mx.ones(3))


def test_vjp_and_jvp_match_mlx():
    def run(lib):
        f = lambda x, y: [lib.sin(x) * y, lib.exp(x) + y]
        prim = [lib.array([0.1, 0.2]), lib.array([1.5, -2.0])]
        outs, vjps = lib.vjp(f, prim, [lib.array([1.0, 2.0]), lib.array([-1.0, 0.5])])
        outs2, jvps = lib.jvp(f, prim, [lib.array([1.0, 0.0]), lib.array([0.5, 0.5])])
        return outs + vjps + outs2 + jvps
    ours, theirs = both(run)
    assert_same(ours, theirs)


def test_hessian_vector_product_via_jvp_of_grad():
    A = np.random.default_rng(0).normal(size=(5, 5)).astype(np.float32)
    x0 = np.random.default_rng(1).normal(size=5).astype(np.float32)
    v = np.ones(5, np.float32)

    def run(lib):
        a = lib.array(A)
        f = lambda x: (lib.tanh(a @ x) ** 2).sum()
        return lib.jvp(lib.grad(f), [lib.array(x0)], [lib.array(v)])[1][0]
    ours, theirs = both(run)
    assert_same(ours, theirs, rtol=1e-4, atol=1e-5)


def test_vjp_of_jvp():
    def run(lib):
        f = lambda x: lib.sin(x) * x
        g = lambda x: lib.jvp(f, [x], [lib.ones_like(x)])[1][0]
        return lib.vjp(g, [lib.array([0.3, 1.2])], [lib.array([1.0, 1.0])])[1][0]
    ours, theirs = both(run)
    assert_same(ours, theirs)


def test_control_flow_on_evaluated_values_inside_grad():
    def run(lib):
        def f(x):
            y = x * 2
            if (y.sum() > 0).item():
                return (y * y).sum()
            return y.sum()
        return lib.grad(f)(lib.array([1.0, 2.0])), lib.grad(f)(lib.array([-1.0, -2.0]))
    ours, theirs = both(run)
    assert_same(ours, theirs)


def test_eval_inside_grad_keeps_the_graph():
    def run(lib):
        def f(x):
            y = lib.sin(x)
            lib.eval(y)
            return (y * x).sum()
        return lib.grad(f)(lib.array([0.5, 1.0]))
    ours, theirs = both(run)
    assert_same(ours, theirs)


def test_stop_gradient():
    def run(lib):
        f = lambda x: (lib.stop_gradient(x * x) * x).sum()
        return lib.grad(f)(lib.array([1.0, 3.0])), lib.jvp(f, [lib.array([1.0, 3.0])], [lib.array([1.0, 1.0])])[1][0]
    ours, theirs = both(run)
    assert_same(ours, theirs)


def test_complex_conventions_match_mlx():
    def run(lib):
        z = lib.array(1 + 2j)
        out = []
        out += lib.vjp(lambda z: z * (3 + 4j), [z], [lib.array(1 + 0j)])[1]
        out += lib.vjp(lambda z: lib.imag(z), [z], [lib.array(1.0)])[1]
        out += lib.vjp(lambda z: lib.real(z), [z], [lib.array(1.0)])[1]
        out += lib.vjp(lambda z: lib.conj(z), [z], [lib.array(1 + 1j)])[1]
        out += lib.vjp(lambda z: lib.exp(z), [z], [lib.array(1 + 0j)])[1]
        out += lib.vjp(lambda z: lib.abs(z), [z], [lib.array(1.0)])[1]
        out += lib.jvp(lambda z: z * z, [z], [lib.array(1 + 0j)])[1]
        out.append(lib.grad(lambda x: lib.imag(x * (1 + 2j)))(lib.array(1.0)))
        return out
    ours, theirs = both(run)
    assert_same(ours, theirs)


EDGE_GRADS = [
    ("maximum tie", lambda lib: lib.grad(lambda x: lib.maximum(x, 1.0).sum())(lib.array([1.0, 2.0, 0.0]))),
    ("minimum tie", lambda lib: lib.grad(lambda x: lib.minimum(x, 1.0).sum())(lib.array([1.0, 2.0, 0.0]))),
    ("abs at 0", lambda lib: lib.grad(lambda x: lib.abs(x))(lib.array(0.0))),
    ("pow base 0", lambda lib: lib.grad(lambda x: x ** 2.0)(lib.array(0.0))),
    ("pow exp at base 0", lambda lib: lib.grad(lambda x, y: x ** y, argnums=1)(lib.array(0.0), lib.array(2.0))),
    ("pow negative base", lambda lib: lib.grad(lambda x: x ** 3.0)(lib.array(-2.0))),
    ("floor", lambda lib: lib.grad(lambda x: lib.floor(x))(lib.array(1.5))),
    ("floor_divide", lambda lib: lib.grad(lambda x: x // 2.0)(lib.array(3.0))),
    ("remainder", lambda lib: lib.grad(lambda x, y: x % y, argnums=(0, 1))(lib.array(3.0), lib.array(2.0))),
    ("where", lambda lib: lib.grad(lambda x: lib.where(x > 0, x * x, -x).sum())(lib.array([-1.0, 2.0]))),
    ("sigmoid", lambda lib: lib.grad(lambda x: lib.sigmoid(x).sum())(lib.array([-30.0, 0.0, 30.0]))),
    ("float16", lambda lib: lib.grad(lambda x: (lib.sin(x) * x).sum())(lib.array([0.5, 1.0], lib.float16))),
    ("bfloat16", lambda lib: lib.grad(lambda x: (x * x).sum())(lib.array([0.5, 1.0], lib.bfloat16))),
]


@pytest.mark.parametrize("name,prog", EDGE_GRADS, ids=[c[0] for c in EDGE_GRADS])
def test_edge_gradients_match_mlx(name, prog):
    ours, theirs = prog(mx), prog(mlx)
    assert_same(ours, theirs)
