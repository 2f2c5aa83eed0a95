"""The nn examples learn, and the very same programs run under real MLX give the same loss
curves: each example's `build(mx, nn, optim)` is called once with mlxpy's modules and
once with MLX's, the MLX model gets the mlxpy model's initial weights, and both compiled
steps see the same batches."""
import pathlib
import sys

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.nn as nn
import mlxpy.optimizers as optim
from mlxpy.utils import tree_flatten, tree_unflatten
from oracle import mlx, needs_mlx

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
try:
    import cnn_digits
    import transformer_lm
finally:
    sys.path.remove(str(EXAMPLES))

if mlx is not None:
    import mlx.nn as mlx_nn
    import mlx.optimizers as mlx_optim
    from mlx.utils import tree_flatten as mlx_tree_flatten

STEPS = 10


def rtol_at(step):
    # Float32 rounding differs between the libraries' kernels; training amplifies it a
    # little with every update.
    return 1e-3 * (1 + 0.25 * step)


def copy_weights(ours, theirs):
    """Give the MLX model our model's parameter values, after checking both trees have the
    same keys and shapes in the same order."""
    ours_flat = tree_flatten(ours.parameters())
    their_flat = mlx_tree_flatten(theirs.parameters())
    assert [(k, tuple(v.shape)) for k, v in ours_flat] == \
        [(k, tuple(v.shape)) for k, v in their_flat]
    theirs.update(tree_unflatten([(k, mlx.array(np.array(v))) for k, v in ours_flat]))


def run_side_by_side(build_args, batch_stream, build_kwargs=None):
    """Loss curves and final parameters of STEPS compiled steps of the same program in
    mlxpy and in MLX, from the same weights and batches."""
    build_kwargs = build_kwargs or {}
    mx.random.seed(0)
    ours, ours_opt, ours_step = build_args[0](mx, nn, optim, *build_args[1:], **build_kwargs)
    theirs, their_opt, their_step = build_args[0](mlx, mlx_nn, mlx_optim, *build_args[1:],
                                                  **build_kwargs)
    copy_weights(ours, theirs)
    ours_losses, their_losses = [], []
    for _ in range(STEPS):
        x, y = next(batch_stream)
        loss = ours_step(mx.array(x), mx.array(y))
        mx.eval(loss, ours.state)
        ours_losses.append(loss.item())
        loss = their_step(mlx.array(x), mlx.array(y))
        mlx.eval(loss, theirs.state)
        their_losses.append(loss.item())
    return (ours, ours_opt, ours_losses), (theirs, their_opt, their_losses)


def assert_same_training(ours_run, their_run):
    (ours, ours_opt, ours_losses), (theirs, their_opt, their_losses) = ours_run, their_run
    for i, (a, b) in enumerate(zip(ours_losses, their_losses)):
        assert a == pytest.approx(b, rel=rtol_at(i)), \
            f"step {i}: loss {a} != MLX {b}\nours {ours_losses}\nMLX  {their_losses}"
    assert ours_losses[-1] < ours_losses[0]
    # The updates themselves agree, not just the losses they lead to. Adam divides each
    # gradient element by its own running scale, so an element whose gradient is rounding
    # noise (a border pixel that is always blank) moves by up to the learning rate either
    # way: hence an absolute tolerance well under 10 steps' worth of that.
    for (key, a), (_, b) in zip(tree_flatten(ours.parameters()),
                                mlx_tree_flatten(theirs.parameters())):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=rtol_at(STEPS),
                                   atol=2e-3, err_msg=key)
    assert ours_opt.step.item() == their_opt.step.item() == STEPS
    assert ours_opt.learning_rate.item() == pytest.approx(their_opt.learning_rate.item(),
                                                          rel=1e-6)


def test_cnn_digits_learns():
    acc, losses = cnn_digits.main(steps=60, plot=False)
    assert len(losses) == 60
    assert np.mean(losses[-10:]) < losses[0] / 3
    assert acc > 0.8


def test_transformer_lm_learns():
    losses, text = transformer_lm.main(steps=40, plot=False)
    assert len(losses) == 40
    # Uniform guessing over the characters costs log(28) = 3.3 nats; the character
    # frequencies alone bring it under 3.
    assert np.mean(losses[-5:]) < min(losses[0] - 0.6, 2.9)
    _, vocab = transformer_lm.load_text()
    assert text.startswith("The ") and len(text) == 4 + 120
    assert set(text) <= set(vocab)


def test_transformer_dropout_draws_new_masks_under_compile():
    # The step captures mx.random.state: with dropout on, two steps on the same batch and
    # the same weights differ, and the random state moves on.
    tokens, vocab = transformer_lm.load_text()
    x, y = next(transformer_lm.windows(tokens, 4, 16, 0))
    losses = []
    for _ in range(2):
        mx.random.seed(0)
        model, _, step = transformer_lm.build(mx, nn, optim, len(vocab), dims=32,
                                              num_layers=1, dropout=0.5, learning_rate=0.0)
        first = step(mx.array(x), mx.array(y))
        second = step(mx.array(x), mx.array(y))
        losses.append((first.item(), second.item()))
    assert losses[0] == losses[1]  # reseeding replays the same masks
    assert losses[0][0] != losses[0][1]


@needs_mlx
def test_cnn_digits_initial_weights_match_mlx():
    mx.random.seed(3)
    mlx.random.seed(3)
    ours = cnn_digits.build(mx, nn, optim)[0]
    theirs = cnn_digits.build(mlx, mlx_nn, mlx_optim)[0]
    for (key, a), (_, b) in zip(tree_flatten(ours.parameters()),
                                mlx_tree_flatten(theirs.parameters())):
        np.testing.assert_array_equal(np.array(a), np.array(b), err_msg=key)


@needs_mlx
def test_transformer_initial_weights_match_mlx():
    # The embeddings come from mx.random.normal, which agrees with MLX to a few float32
    # ulps; every other parameter (uniform draws, ones, zeros) is bit-identical.
    mx.random.seed(3)
    mlx.random.seed(3)
    ours = transformer_lm.build(mx, nn, optim, 28)[0]
    theirs = transformer_lm.build(mlx, mlx_nn, mlx_optim, 28)[0]
    for (key, a), (_, b) in zip(tree_flatten(ours.parameters()),
                                mlx_tree_flatten(theirs.parameters())):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=0, atol=1e-6, err_msg=key)


@needs_mlx
def test_cnn_digits_loss_curve_matches_mlx():
    (xtr, ytr), _ = cnn_digits.load(0)
    stream = cnn_digits.batches(cnn_digits.images(xtr), np.asarray(ytr), 32, seed=1)
    assert_same_training(*run_side_by_side((cnn_digits.build,), stream))


@needs_mlx
def test_transformer_lm_loss_curve_matches_mlx():
    tokens, vocab = transformer_lm.load_text()
    stream = transformer_lm.windows(tokens, 8, 24, seed=1)
    # decay_steps == STEPS: the cosine schedule runs its whole course, so a wrong
    # schedule shows in the losses and in the final learning rate.
    assert_same_training(*run_side_by_side(
        (transformer_lm.build, len(vocab)), stream,
        dict(dims=32, context=24, decay_steps=STEPS)))
