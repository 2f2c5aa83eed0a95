"""mx.vmap's API against real MLX: axes trees, errors, composition, extensions."""
import warnings

import numpy as np
import pytest

import mlxpy.core as mx
from oracle import mlx, needs_mlx, assert_same

pytestmark = needs_mlx
RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4)).astype(np.float32)
B = RNG.normal(size=(4, 3)).astype(np.float32)
C = RNG.normal(size=(4,)).astype(np.float32)
D = RNG.normal(size=(2, 3, 4)).astype(np.float32)
E = RNG.normal(size=(2, 4)).astype(np.float32)


def both(prog):
    return prog(mx), prog(mlx)


PROGRAMS = [
    ("default", lambda lib: lib.vmap(lambda x, y: x * y)(lib.array(A), lib.array(A))),
    ("in_axes tuple", lambda lib: lib.vmap(lambda x, y: x + y, in_axes=(0, 1))(lib.array(A), lib.array(B))),
    ("negative axis", lambda lib: lib.vmap(lambda x, y: x - y, in_axes=(-1, 0))(lib.array(B), lib.array(B.T))),
    ("unmapped", lambda lib: lib.vmap(lambda x, y: x * y, in_axes=(0, None))(lib.array(A), lib.array(C))),
    ("out_axes 1", lambda lib: lib.vmap(lambda x: lib.exp(x), out_axes=1)(lib.array(A))),
    ("out_axes -1", lambda lib: lib.vmap(lambda x: x * 2, in_axes=1, out_axes=-1)(lib.array(A))),
    ("dict argument", lambda lib: lib.vmap(lambda d: d["a"] * d["b"])({"a": lib.array(A), "b": lib.array(B.T)})),
    ("tuple outputs", lambda lib: list(lib.vmap(lambda x: (x.sum(), x * 2), out_axes=(0, 1))(lib.array(A)))),
    ("constant output broadcast", lambda lib: lib.vmap(lambda x: lib.ones(3))(lib.array(A))),
    ("reduce inside", lambda lib: lib.vmap(lambda x: lib.softmax(x, axis=-1))(lib.array(A))),
    ("matmul", lambda lib: lib.vmap(lambda x, w: x @ w, in_axes=(0, None))(lib.array(A), lib.array(B))),
    ("nested", lambda lib: lib.vmap(lib.vmap(lambda x, y: x * y + 1, in_axes=(0, None)), in_axes=(0, 0))(
        lib.array(D), lib.array(E))),
    ("per-example grads", lambda lib: lib.vmap(lib.grad(lambda w, x: (lib.sum(w * x)) ** 2), in_axes=(None, 0))(
        lib.array(C), lib.array(A))),
    ("grad of vmap", lambda lib: lib.grad(lambda w: lib.vmap(lambda x: lib.sum(lib.sin(x * w)))(lib.array(A)).sum())(
        lib.array(C))),
    ("vmap of jvp", lambda lib: lib.vmap(lambda x: lib.jvp(lib.sin, [x], [lib.ones_like(x)])[1][0])(lib.array(A))),
    ("indexing", lambda lib: lib.vmap(lambda x, i: x[i], in_axes=(0, 0))(lib.array(A), lib.array([0, 3, 1]))),
]


@pytest.mark.parametrize("name,prog", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_programs_match_mlx(name, prog):
    ours, theirs = both(prog)
    assert_same(ours, theirs, rtol=1e-5, atol=1e-6)


ERRORS = [
    ("all None", lambda lib: lib.vmap(lambda x, y: x + y, in_axes=(None, None))(lib.ones((2, 3)), lib.ones(3))),
    ("inconsistent sizes", lambda lib: lib.vmap(lambda x, y: x + y)(lib.ones((2, 3)), lib.ones((3, 3)))),
    ("non-array argument", lambda lib: lib.vmap(lambda x, y: x + y)(lib.ones((2, 3)), 1.0)),
    ("bad axis type", lambda lib: lib.vmap(lambda x, y: x + y, in_axes=(0, "a"))(lib.ones((2, 3)), lib.ones((2, 3)))),
    ("axis out of range", lambda lib: lib.vmap(lambda x, y: x + y, in_axes=(0, 2))(lib.ones((2, 3)), lib.ones((2, 3)))),
    ("eval inside", lambda lib: lib.vmap(lambda x: x.sum().item())(lib.ones((2, 3)))),
]


@pytest.mark.parametrize("name,prog", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_mlx_types(name, prog):
    with pytest.raises(Exception) as theirs:
        prog(mlx)
    with pytest.raises(type(theirs.value)):
        prog(mx)


def test_inconsistent_sizes_message():
    with pytest.raises(ValueError, match=r"\[vmap\] Inconsistent axis sizes: 2 and 3"):
        mx.vmap(lambda x, y: x + y)(mx.ones((2, 3)), mx.ones((3, 3)))


def test_dict_prefix_axes():
    # MLX rejects a dict inside in_axes here ("not a valid prefix"); mlxpy matches the
    # dict against the argument, which is what the prefix rule means.
    out = mx.vmap(lambda d: d["a"] * d["b"], in_axes=({"a": 0, "b": None},))(
        {"a": mx.array(A), "b": mx.array(C)})
    np.testing.assert_allclose(np.array(out), A * C, rtol=1e-6)


def test_out_axes_none_returns_an_unmapped_output():
    # mlxpy extension: MLX rejects out_axes=None.
    x, c = mx.vmap(lambda x: (x * 2, mx.ones(3)), out_axes=(0, None))(mx.array(A))
    assert x.shape == (3, 4) and c.shape == (3,)
    with pytest.raises(ValueError):
        mx.vmap(lambda x: x * 2, out_axes=None)(mx.array(A))


def test_keyword_arguments_pass_through_unmapped():
    # mlxpy extension: MLX rejects keyword arguments to the vmapped function.
    out = mx.vmap(lambda x, scale=1.0: x * scale)(mx.array(A), scale=mx.array(C))
    np.testing.assert_allclose(np.array(out), A * C, rtol=1e-6)


def test_loop_fallback_warns_once_and_is_right():
    from mlxpy.core.primitives.base import Primitive
    from mlxpy.core.ops._core import make

    class NoRule(Primitive):
        """A test-only primitive without a vmap rule."""
        __slots__ = ()
        abstract = True   # keep it out of the registry sweep

        def infer(self, inputs):
            return inputs[0].shape, inputs[0].dtype

        def eval(self, xp, inputs):
            return xp.cumsum(inputs[0], axis=-1).astype(inputs[0].dtype)

    op = lambda x: make(NoRule(), [x._node], x._node.stream)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = mx.vmap(op, in_axes=1)(mx.array(A))
        mx.vmap(op)(mx.array(A))
    np.testing.assert_allclose(np.array(out), np.cumsum(A.T, axis=-1), rtol=1e-6)
    assert sum("no batching rule" in str(x.message) for x in w) == 1


def test_jacobians_and_hessian():
    W = mx.array(RNG.normal(size=(3, 4)).astype(np.float32))
    f = lambda x: mx.tanh(W @ x)
    x = mx.array(C)
    jr, jf = mx.jacrev(f)(x), mx.jacfwd(f)(x)
    assert jr.shape == (3, 4)
    np.testing.assert_allclose(np.array(jr), np.array(jf), rtol=1e-5, atol=1e-6)
    xn = np.array(C, np.float64)
    Wn = np.array(W, np.float64)
    want = (1 - np.tanh(Wn @ xn) ** 2)[:, None] * Wn
    np.testing.assert_allclose(np.array(jr), want, rtol=1e-4, atol=1e-5)
    h = mx.hessian(lambda x: (x ** 3).sum() + (x[0] * x[1]))(mx.array([1.0, 2.0]))
    np.testing.assert_allclose(np.array(h), [[6.0, 1.0], [1.0, 12.0]], rtol=1e-6)
    # pytrees and several argnums
    g = lambda p, q: {"o": p["a"] * q.sum()}
    J = mx.jacrev(g, argnums=(0, 1))({"a": mx.ones(2)}, mx.ones(3))
    assert J["o"][0]["a"].shape == (2, 2) and J["o"][1].shape == (2, 3)
