"""RNN, GRU and LSTM against mlx.nn: parameter trees, seeded inits, outputs, gradients."""
import doctest
import re

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.nn as nn
from mlxpy.nn.layers import recurrent
from nn_mirror import assert_same_init, assert_same_signature, check_forward, check_grads, \
    mirror, param_shapes, seeded_twins
from oracle import mlx, needs_mlx, raises_like

if mlx is not None:
    import mlx.nn as mlx_nn

LAYERS = ["RNN", "GRU", "LSTM"]


def twins(name, *args, **kwargs):
    ours, theirs = seeded_twins(getattr(nn, name), getattr(mlx_nn, name), *args, **kwargs)
    return mirror(ours, theirs), theirs


def sequence(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@needs_mlx
@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("bias", [True, False])
def test_parameter_tree_and_seeded_init_match_mlx(name, bias):
    ours, theirs = seeded_twins(getattr(nn, name), getattr(mlx_nn, name), 3, 5, bias=bias)
    assert param_shapes(ours) == param_shapes(theirs)
    assert_same_init(ours, theirs)


@needs_mlx
@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("shape", [(2, 4, 3), (4, 3), (2, 2, 3, 3)])
@pytest.mark.parametrize("bias", [True, False])
def test_forward_matches_mlx(name, shape, bias):
    ours, theirs = twins(name, 3, 5, bias=bias)
    check_forward(ours, theirs, sequence(shape))


@needs_mlx
@pytest.mark.parametrize("name", LAYERS)
def test_half_precision_matches_mlx(name):
    ours, theirs = twins(name, 3, 4)
    ours.set_dtype(mx.bfloat16)
    theirs.set_dtype(mlx.bfloat16)
    check_forward(ours, theirs, sequence((2, 3, 3)).astype(np.float16), rtol=3e-2, atol=3e-2)


@needs_mlx
@pytest.mark.parametrize("name", LAYERS)
def test_initial_states_match_mlx(name):
    ours, theirs = twins(name, 3, 4)
    x = sequence((2, 3, 3))
    hidden = sequence((2, 4), seed=1)
    check_forward(ours, theirs, x, hidden)
    # An unbatched hidden state with a batched input: GRU broadcasts it; MLX's addmm
    # refuses to (RNN, LSTM), and so must we.
    lone = sequence((4,), seed=2)
    if name == "GRU":
        check_forward(ours, theirs, x, lone)
    else:
        raises_like(lambda: ours(mx.array(x), mx.array(lone)),
                    lambda: theirs(mlx.array(x), mlx.array(lone)))
    if name == "LSTM":
        cell = sequence((2, 4), seed=3)
        check_forward(ours, theirs, x, hidden, cell)
        check_forward(ours, theirs, x, None, cell)


@needs_mlx
@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("bias", [True, False])
def test_gradients_match_mlx(name, bias):
    ours, theirs = twins(name, 3, 4, bias=bias)
    check_grads(ours, theirs, sequence((2, 3, 3)), sequence((2, 4), seed=1))


@needs_mlx
def test_gradients_wrt_input_and_state_match_mlx():
    ours, theirs = twins("LSTM", 3, 4)
    x, h, c = sequence((2, 3, 3)), sequence((2, 4), seed=1), sequence((2, 4), seed=2)

    def loss(model, lib):
        return lambda x, h, c: sum((out ** 2).sum() for out in model(x, h, c))

    got = mx.grad(loss(ours, mx), argnums=(0, 1, 2))(mx.array(x), mx.array(h), mx.array(c))
    want = mlx.grad(loss(theirs, mlx), argnums=(0, 1, 2))(mlx.array(x), mlx.array(h),
                                                          mlx.array(c))
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.array(g), np.array(w), rtol=1e-4, atol=1e-5)


@needs_mlx
def test_rnn_custom_nonlinearity_matches_mlx():
    mx.random.seed(1)
    ours = nn.RNN(3, 4, nonlinearity=nn.relu)
    mlx.random.seed(1)
    theirs = mlx_nn.RNN(3, 4, nonlinearity=mlx_nn.relu)
    mirror(ours, theirs)
    check_forward(ours, theirs, sequence((2, 5, 3)))
    assert ours.nonlinearity is nn.relu


@needs_mlx
@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("bias", [True, False])
def test_repr_matches_mlx(name, bias):
    ours, theirs = twins(name, 3, 4, bias=bias)
    # The RNN repr prints the nonlinearity, whose address differs between processes.
    def scrub(text):
        return re.sub(r" at 0x[0-9a-f]+", "", text)
    assert scrub(repr(ours)) == scrub(repr(theirs))


def test_bias_free_layers_have_no_bias_entries():
    assert [k for k, _ in param_shapes(nn.GRU(2, 3, bias=False))] == ["Wx", "Wh"]
    assert nn.LSTM(2, 3, bias=False).bias is None


@needs_mlx
@pytest.mark.parametrize("name", LAYERS)
def test_bad_inputs_raise_like_mlx(name):
    ours, theirs = twins(name, 3, 4)
    # No time axis.
    raises_like(lambda: ours(mx.ones((3,))), lambda: theirs(mlx.ones((3,))))
    # Wrong feature size.
    raises_like(lambda: ours(mx.ones((2, 5, 2))), lambda: theirs(mlx.ones((2, 5, 2))))
    # Hidden state of the wrong size.
    raises_like(lambda: ours(mx.ones((2, 5, 3)), mx.ones((2, 3))),
                lambda: theirs(mlx.ones((2, 5, 3)), mlx.ones((2, 3))))


@needs_mlx
def test_non_callable_nonlinearity_raises_like_mlx():
    e = raises_like(lambda: nn.RNN(3, 4, nonlinearity="relu"),
                    lambda: mlx_nn.RNN(3, 4, nonlinearity="relu"))
    assert "[RNN]" in str(e)


def test_empty_sequence_says_so():
    with pytest.raises(ValueError, match=r"\[GRU\].*empty"):
        nn.GRU(3, 4)(mx.ones((2, 0, 3)))


def test_works_under_compile_and_vmap():
    lstm = nn.LSTM(3, 4)
    x = mx.array(sequence((2, 5, 3)))
    hidden, _ = lstm(x)
    compiled = mx.compile(lambda x: lstm(x)[0])
    np.testing.assert_allclose(np.array(compiled(x)), np.array(hidden), rtol=1e-5, atol=1e-6)
    mapped = mx.vmap(lambda seq: lstm(seq)[0])(x)
    np.testing.assert_allclose(np.array(mapped), np.array(hidden), rtol=1e-5, atol=1e-6)


@needs_mlx
@pytest.mark.parametrize("name", LAYERS)
def test_signatures_match_mlx(name):
    for method in ("__init__", "__call__"):
        assert_same_signature(getattr(getattr(nn, name), method),
                              getattr(getattr(mlx_nn, name), method))


def test_docstring_examples():
    assert doctest.testmod(recurrent, optionflags=doctest.NORMALIZE_WHITESPACE).failed == 0
