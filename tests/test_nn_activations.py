"""mlxpy.nn activations against mlx.nn: values, dtypes, gradients (kinks included),
parameters, module trees and reprs, and behaviour under vmap and compile."""
import doctest

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.nn as nn
from mlxpy.nn.layers import activations
from mlxpy.utils import tree_flatten
from oracle import assert_same, mlx, needs_mlx, raises_like, to_mlx

if mlx is not None:
    import mlx.nn as mlx_nn
    from mlx.utils import tree_flatten as mlx_tree_flatten

pytestmark = needs_mlx

# Each kink and threshold of the piecewise activations, exactly, plus smooth points.
KINKS = [-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0]


def _inputs(dtype="float32", shape=(3, 8), seed=0):
    rng = np.random.default_rng(seed)
    values = np.concatenate([np.array(KINKS), 3 * rng.standard_normal(int(np.prod(shape)) - 9)])
    values = values.reshape(shape).astype(np.float32)
    x = mx.array(values)
    if dtype != "float32":
        x = x.astype(getattr(mx, dtype))
    return x


# name -> (extra positional args for both libraries)
ELEMENTWISE = {
    "celu": (), "elu": (), "gelu": (), "gelu_approx": (), "gelu_fast_approx": (),
    "hard_shrink": (), "hard_tanh": (), "hardswish": (), "leaky_relu": (),
    "log_sigmoid": (), "log_softmax": (), "mish": (), "relu": (), "relu2": (), "relu6": (),
    "selu": (), "sigmoid": (), "silu": (), "softmax": (), "softmin": (), "softplus": (),
    "softshrink": (), "softsign": (), "step": (), "tanh": (), "glu": (),
}
WITH_ARGS = [
    ("leaky_relu", (0.2,)), ("elu", (0.7,)), ("celu", (1.9,)), ("softshrink", (1.0,)),
    ("hard_shrink", (1.0,)), ("hard_tanh", (-0.5, 3.0)), ("step", (0.5,)),
    ("softmax", (0,)), ("log_softmax", (0,)), ("softmin", (0,)), ("glu", (0,)),
]


def _weights(shape):
    return np.cos(np.arange(int(np.prod(shape)), dtype=np.float32) * 0.9).reshape(shape)


def test_all_names_exported():
    names = {n for n in dir(mlx_nn.layers.activations) if not n.startswith("_")}
    names -= {"Any", "Module", "math", "mx", "partial"}
    assert names == set(activations.__all__)
    for name in activations.__all__:
        assert getattr(nn, name) is getattr(activations, name)


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_function_values_and_dtypes(name, dtype):
    x = _inputs(dtype)
    assert_same(getattr(nn, name)(x), getattr(mlx_nn, name)(to_mlx(x)))


@pytest.mark.parametrize("name,args", WITH_ARGS, ids=[f"{n}{a}" for n, a in WITH_ARGS])
def test_function_parameters(name, args):
    x = _inputs(shape=(4, 6))
    assert_same(getattr(nn, name)(x, *args), getattr(mlx_nn, name)(to_mlx(x), *args))


def test_prelu_function_broadcasts_alpha():
    x = _inputs(shape=(3, 8))
    alpha = np.linspace(-0.5, 0.5, 8).astype(np.float32)
    assert_same(nn.prelu(x, mx.array(alpha)), mlx_nn.prelu(to_mlx(x), mlx.array(alpha)))


def test_integer_inputs_keep_mlx_dtypes():
    x = mx.array([-2, 0, 3])
    for name in ["relu", "relu2", "relu6", "leaky_relu", "step", "hard_tanh", "softsign",
                 "gelu", "elu", "hardswish", "softplus"]:
        assert_same(getattr(nn, name)(x), getattr(mlx_nn, name)(to_mlx(x)))


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_function_gradients_match_including_kinks(name):
    x = _inputs()
    w = _weights(nn.glu(x).shape if name == "glu" else x.shape)

    def ours(z):
        return (getattr(nn, name)(z) * mx.array(w)).sum()

    def theirs(z):
        return (getattr(mlx_nn, name)(z) * mlx.array(w)).sum()

    assert_same(mx.grad(ours)(x), mlx.grad(theirs)(to_mlx(x)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,args", [a for a in WITH_ARGS if a[0] != "step"],
                         ids=[f"{n}{a}" for n, a in WITH_ARGS if n != "step"])
def test_function_parameter_gradients(name, args):
    x = _inputs(shape=(4, 6))
    w = _weights(getattr(nn, name)(x, *args).shape)
    g = mx.grad(lambda z: (getattr(nn, name)(z, *args) * mx.array(w)).sum())(x)
    h = mlx.grad(lambda z: (getattr(mlx_nn, name)(z, *args) * mlx.array(w)).sum())(to_mlx(x))
    assert_same(g, h, rtol=1e-5, atol=1e-6)


def test_prelu_gradients_for_input_and_alpha():
    x = _inputs(shape=(3, 8))
    alpha = np.linspace(-0.5, 0.5, 8).astype(np.float32)
    w = _weights(x.shape)
    ours = mx.grad(lambda z, a: (nn.prelu(z, a) * mx.array(w)).sum(), argnums=(0, 1))(
        x, mx.array(alpha))
    theirs = mlx.grad(lambda z, a: (mlx_nn.prelu(z, a) * mlx.array(w)).sum(), argnums=(0, 1))(
        to_mlx(x), mlx.array(alpha))
    assert_same(list(ours), list(theirs))


def test_relu_like_gradients_at_zero():
    """MLX's choices at the kink are pinned here explicitly (maximum's tie rule)."""
    zero = mx.array([0.0])
    assert mx.grad(lambda z: nn.relu(z).sum())(zero).item() == 0.0
    assert mx.grad(lambda z: nn.leaky_relu(z).sum())(zero).item() == 1.0
    assert mx.grad(lambda z: nn.elu(z).sum())(zero).item() == 1.0
    assert mx.grad(lambda z: nn.prelu(z, mx.array([0.25])).sum())(zero).item() == 1.25


# -- modules -------------------------------------------------------------------------------

MODULES = [
    ("CELU", ()), ("CELU", (0.5,)), ("ELU", ()), ("ELU", (2.0,)), ("GELU", ()),
    ("GELU", ("precise",)), ("GELU", ("tanh",)), ("GELU", ("fast",)), ("GLU", ()),
    ("GLU", (0,)), ("HardShrink", ()), ("HardShrink", (1.0,)), ("HardTanh", ()),
    ("Hardswish", ()), ("LeakyReLU", ()), ("LeakyReLU", (0.3,)), ("LogSigmoid", ()),
    ("LogSoftmax", ()), ("Mish", ()), ("PReLU", ()), ("PReLU", (8, 0.1)), ("ReLU", ()),
    ("ReLU2", ()), ("ReLU6", ()), ("SELU", ()), ("SiLU", ()), ("Sigmoid", ()),
    ("Softmax", ()), ("Softmin", ()), ("Softplus", ()), ("Softshrink", ()),
    ("Softshrink", (0.9,)), ("Softsign", ()), ("Step", ()), ("Step", (1.0,)), ("Tanh", ()),
]


@pytest.mark.parametrize("name,args", MODULES, ids=[f"{n}{a}" for n, a in MODULES])
def test_module_matches_mlx(name, args):
    ours, theirs = getattr(nn, name)(*args), getattr(mlx_nn, name)(*args)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert sorted(ours.keys()) == sorted(theirs.keys())
    assert [(k, v.shape, str(v.dtype).split(".")[-1]) for k, v in tree_flatten(ours.parameters())] \
        == [(k, v.shape, str(v.dtype).split(".")[-1])
            for k, v in mlx_tree_flatten(theirs.parameters())]
    x = _inputs(shape=(4, 8))
    assert_same(ours(x), theirs(to_mlx(x)))


def test_prelu_weight_is_trainable_and_gets_mlx_gradients():
    ours, theirs = nn.PReLU(8, 0.3), mlx_nn.PReLU(8, 0.3)
    assert_same(ours.weight, theirs.weight)
    x, w = _inputs(), _weights((3, 8))

    def loss(lib):
        return lambda model, z: (model(z) * lib.array(w)).sum()

    value, grads = nn.value_and_grad(ours, lambda z: loss(mx)(ours, z))(x)
    their_value, their_grads = mlx_nn.value_and_grad(theirs, lambda z: loss(mlx)(theirs, z))(
        to_mlx(x))
    assert_same(value, their_value)
    assert list(grads) == ["weight"]
    assert_same(grads["weight"], their_grads["weight"])


def test_gelu_rejects_unknown_approximation():
    err = raises_like(lambda: nn.GELU("erf"), lambda: mlx_nn.GELU("erf"))
    assert "GELU" in str(err) and "erf" in str(err)


def test_glu_odd_axis_is_an_error():
    raises_like(lambda: nn.glu(mx.ones((2, 3))), lambda: mlx_nn.glu(mlx.ones((2, 3))))


# -- transforms ----------------------------------------------------------------------------

def test_compiled_where_mlx_compiles():
    compiled = type(mx.compile(lambda x: x))
    for name in activations.__all__:
        if name[0].islower():
            theirs_compiled = type(getattr(mlx_nn, name)).__name__ != "function"
            assert isinstance(getattr(nn, name), compiled) == theirs_compiled, name


def test_shapeless_compile_serves_every_shape_of_a_rank():
    before = nn.silu.trace_count
    for n in (3, 5, 7):
        nn.silu(mx.ones((n, 2)))
    assert nn.silu.trace_count - before <= 1


@pytest.mark.parametrize("name", ["gelu", "log_softmax", "softshrink", "celu", "mish"])
def test_under_vmap_grad_and_compile(name):
    x = _inputs(shape=(4, 6))
    f, g = getattr(nn, name), getattr(mlx_nn, name)
    assert_same(mx.vmap(f)(x), mlx.vmap(g)(to_mlx(x)))
    assert_same(mx.vmap(mx.grad(lambda z: f(z).sum()))(x),
                mlx.vmap(mlx.grad(lambda z: g(z).sum()))(to_mlx(x)), rtol=1e-5, atol=1e-6)
    assert_same(mx.compile(mx.grad(lambda z: (f(z) ** 2).sum()))(x),
                mlx.grad(lambda z: (g(z) ** 2).sum())(to_mlx(x)), rtol=1e-5, atol=1e-6)


def test_docstring_examples():
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    objects = [("module", activations)]
    objects += [(n, getattr(activations, n)) for n in activations.__all__]
    for name, obj in objects:
        assert obj.__doc__ and ">>>" in obj.__doc__, f"{name} has no example"
        runner.run(parser.get_doctest(obj.__doc__, {}, name, None, 0))
    assert runner.failures == 0
