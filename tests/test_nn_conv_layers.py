"""Conv1d/2d/3d and ConvTranspose1d/2d/3d against mlx.nn: weight layout, seeded init, reprs,
outputs and gradients, errors."""
import doctest

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.nn as nn
from mlxpy.nn.layers import convolution, convolution_transpose
from nn_mirror import assert_same_init, assert_same_signature, check_forward, check_grads, \
    mirror, param_shapes, seeded_twins
from oracle import mlx, needs_mlx, raises_like

if mlx is not None:
    import mlx.nn as mlx_nn

# (layer, constructor arguments, input shape)
CASES = [
    ("Conv1d", (4, 6, 3), {}, (2, 9, 4)),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, dilation=2), (2, 11, 4)),
    ("Conv1d", (4, 6, 3), dict(groups=2, bias=False), (1, 7, 4)),
    ("Conv2d", (3, 5, 3), {}, (2, 6, 7, 3)),
    ("Conv2d", (3, 5, (2, 3)), dict(stride=(2, 1), padding=(1, 0)), (1, 7, 6, 3)),
    ("Conv2d", (4, 6, 3), dict(groups=2, dilation=2, bias=False), (1, 8, 8, 4)),
    ("Conv3d", (2, 3, 2), {}, (1, 4, 5, 4, 2)),
    ("Conv3d", (2, 3, (1, 2, 3)), dict(stride=2, padding=1), (1, 5, 5, 6, 2)),
    ("ConvTranspose1d", (4, 3, 3), {}, (2, 5, 4)),
    ("ConvTranspose1d", (4, 3, 3), dict(stride=2, padding=1, output_padding=1, bias=False),
     (1, 6, 4)),
    ("ConvTranspose2d", (3, 2, 3), {}, (1, 4, 5, 3)),
    ("ConvTranspose2d", (3, 2, (2, 3)), dict(stride=2, padding=(1, 0), output_padding=1),
     (2, 3, 4, 3)),
    ("ConvTranspose3d", (2, 3, 2), dict(stride=(1, 2, 1)), (1, 3, 3, 3, 2)),
    ("ConvTranspose3d", (2, 2, 3), dict(padding=1, dilation=2, bias=False), (1, 4, 4, 4, 2)),
]
IDS = [f"{c[0]}-{i}" for i, c in enumerate(CASES)]


def inputs(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def twins(name, args, kwargs):
    return seeded_twins(getattr(nn, name), getattr(mlx_nn, name), *args, **kwargs)


@needs_mlx
@pytest.mark.parametrize("name,args,kwargs,shape", CASES, ids=IDS)
def test_parameters_init_and_repr_match_mlx(name, args, kwargs, shape):
    ours, theirs = twins(name, args, kwargs)
    assert param_shapes(ours) == param_shapes(theirs)
    assert_same_init(ours, theirs)
    assert repr(ours) == repr(theirs)


@needs_mlx
@pytest.mark.parametrize("name,args,kwargs,shape", CASES, ids=IDS)
def test_forward_and_gradients_match_mlx(name, args, kwargs, shape):
    ours, theirs = twins(name, args, kwargs)
    mirror(ours, theirs)
    # A nonzero bias, so the bias path is exercised too.
    if "bias" in theirs:
        theirs.bias = mlx.arange(theirs.bias.size).astype(mlx.float32) * 0.1
        mirror(ours, theirs)
    x = inputs(shape)
    check_forward(ours, theirs, x, rtol=1e-4, atol=1e-5)
    check_grads(ours, theirs, x)


@needs_mlx
def test_list_arguments_are_kept_as_given_like_mlx():
    ours, theirs = twins("Conv2d", (2, 3, [3, 2]), dict(stride=[1, 2]))
    assert repr(ours) == repr(theirs)
    assert ours.stride == [1, 2]


@needs_mlx
@pytest.mark.parametrize("name", ["Conv2d", "ConvTranspose1d"])
def test_half_precision_weights_match_mlx(name):
    ours, theirs = twins(name, (3, 4, 3), {})
    ours.set_dtype(mx.float16)
    theirs.set_dtype(mlx.float16)
    mirror(ours, theirs)
    shape = (1, 6, 6, 3) if name == "Conv2d" else (1, 6, 3)
    # float32 inputs with float16 weights promote to float32, as in MLX.
    check_forward(ours, theirs, inputs(shape), rtol=1e-3, atol=1e-3)
    check_forward(ours, theirs, inputs(shape).astype(np.float16), rtol=1e-2, atol=1e-2)


def test_init_distribution():
    mx.random.seed(0)
    conv = nn.Conv2d(16, 32, 3, groups=4)
    w = np.array(conv.weight)
    bound = np.sqrt(1 / (4 * 9))
    assert w.shape == (32, 3, 3, 4)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.mean()) < 0.05 * bound
    np.testing.assert_array_equal(np.array(conv.bias), np.zeros(32, np.float32))


@needs_mlx
def test_groups_not_dividing_channels_raise_like_mlx():
    e = raises_like(lambda: nn.Conv1d(3, 4, 3, groups=2), lambda: mlx_nn.Conv1d(3, 4, 3, groups=2))
    assert "[Conv1d]" in str(e)
    e = raises_like(lambda: nn.Conv2d(5, 4, 3, groups=2), lambda: mlx_nn.Conv2d(5, 4, 3, groups=2))
    assert "[Conv2d]" in str(e)


@needs_mlx
@pytest.mark.parametrize("name,bad_shape", [("Conv1d", (1, 5, 2)), ("Conv1d", (5, 3)),
                                            ("Conv2d", (1, 5, 5, 2)),
                                            ("ConvTranspose1d", (1, 5, 2))])
def test_bad_inputs_raise_like_mlx(name, bad_shape):
    ours, theirs = twins(name, (3, 4, 3), {})
    raises_like(lambda: ours(mx.ones(bad_shape)), lambda: theirs(mlx.ones(bad_shape)))


def test_compiles_and_differentiates_wrt_input():
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = mx.array(inputs((1, 5, 5, 2)))
    eager = conv(x)
    np.testing.assert_allclose(np.array(mx.compile(conv)(x)), np.array(eager), rtol=1e-5,
                               atol=1e-6)
    assert mx.grad(lambda x: conv(x).sum())(x).shape == x.shape


@needs_mlx
@pytest.mark.parametrize("name", sorted({case[0] for case in CASES}))
def test_signatures_match_mlx(name):
    for method in ("__init__", "__call__"):
        assert_same_signature(getattr(getattr(nn, name), method),
                              getattr(getattr(mlx_nn, name), method))


def test_docstring_examples():
    for module in (convolution, convolution_transpose):
        assert doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
