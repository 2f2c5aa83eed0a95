"""Loss functions with MLX's signatures, defaults and `reduction` ('none' | 'mean' | 'sum').

>>> import mlxpy.core as mx
>>> import mlxpy.nn as nn
>>> nn.losses.mse_loss(mx.array([1.0, 2.0]), mx.array([1.0, 4.0]))
array(2, dtype=float32)
"""
import math
from typing import Literal, Optional

import mlxpy.core as mx

__all__ = [
    "binary_cross_entropy", "cosine_similarity_loss", "cross_entropy", "gaussian_nll_loss",
    "hinge_loss", "huber_loss", "kl_div_loss", "l1_loss", "log_cosh_loss",
    "margin_ranking_loss", "mse_loss", "nll_loss", "smooth_l1_loss", "triplet_loss",
]

Reduction = Literal["none", "mean", "sum"]
_REDUCTIONS = ("none", "mean", "sum")


def _reduce(loss, reduction, where):
    if reduction == "mean":
        return mx.mean(loss)
    if reduction == "sum":
        return mx.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"[{where}] Invalid reduction {reduction!r}. Must be one of {_REDUCTIONS}.")


def _same_shape(a, b, names, where):
    if a.shape != b.shape:
        raise ValueError(f"[{where}] {names[0]} shape {a.shape} does not match "
                         f"{names[1]} shape {b.shape}.")


def _weighted(loss, weights, where):
    if weights is None:
        return loss
    if weights.shape != loss.shape:
        raise ValueError(f"[{where}] Weights with shape {weights.shape} is not the same as "
                         f"output loss with shape {loss.shape}.")
    return loss * weights


def cross_entropy(logits, targets, weights: Optional[mx.array] = None, axis: int = -1,
                  label_smoothing: float = 0.0, reduction: Reduction = "none"):
    """Cross entropy between `logits` (unnormalized) and `targets` along `axis`.

    `targets` are class indices (one dimension fewer than `logits`) or probabilities
    (the shape of `logits`). With ``label_smoothing = s`` the target distribution mixes
    ``1 - s`` of the true class with ``s`` spread uniformly over all classes.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> logits = mx.array([[2.0, 0.0], [0.0, 2.0]])
    >>> nn.losses.cross_entropy(logits, mx.array([0, 0]))
    array([0.126928, 2.12693], dtype=float32)
    >>> nn.losses.cross_entropy(logits, mx.array([[1.0, 0.0], [0.5, 0.5]]), reduction="mean")
    array(0.626928, dtype=float32)
    """
    where = "cross_entropy"
    if not 0 <= label_smoothing < 1:
        raise ValueError(f"[{where}] Label smoothing must be in [0, 1), got {label_smoothing}.")
    probabilities = targets.ndim == logits.ndim
    if probabilities:
        expected = logits.shape
    else:
        if not -logits.ndim <= axis < logits.ndim:
            raise IndexError(f"[{where}] axis {axis} is out of bounds for logits with "
                             f"{logits.ndim} dimensions.")
        expected = list(logits.shape)
        expected.pop(axis)
        expected = tuple(expected)
    if targets.shape != expected:
        raise ValueError(f"[{where}] Targets shape {targets.shape} does not match logits "
                         f"shape {logits.shape}.")

    # The shift by the (gradient-free) maximum keeps exp from overflowing; it cancels.
    logits = logits - mx.stop_gradient(mx.max(logits, axis=axis, keepdims=True))
    if probabilities:
        target_score = mx.sum(logits * targets, axis=axis)
    else:
        picked = mx.take_along_axis(logits, mx.expand_dims(targets, axis), axis)
        target_score = mx.squeeze(picked, axis)
    normalizer = mx.logsumexp(logits, axis=axis)
    if label_smoothing > 0:
        uniform_score = mx.mean(logits, axis=axis)
        loss = (normalizer - (1 - label_smoothing) * target_score
                + -uniform_score * label_smoothing)
    else:
        loss = normalizer - target_score
    return _reduce(_weighted(loss, weights, where), reduction, where)


def binary_cross_entropy(inputs, targets, weights: Optional[mx.array] = None,
                         with_logits: bool = True, reduction: Reduction = "mean"):
    """Binary cross entropy of `targets` (0..1) under `inputs`, which are logits
    (``with_logits=True``, computed stably) or probabilities (logs clipped at -100).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.losses.binary_cross_entropy(mx.array([0.0, 0.0]), mx.array([0.0, 1.0]))
    array(0.693147, dtype=float32)
    >>> probs = mx.array([0.5, 0.9])
    >>> nn.losses.binary_cross_entropy(probs, mx.array([1.0, 1.0]), with_logits=False,
    ...                                reduction="none")
    array([0.693147, 0.105361], dtype=float32)
    """
    where = "binary_cross_entropy"
    _same_shape(inputs, targets, ("Inputs", "targets"), where)
    if with_logits:
        loss = mx.logaddexp(0.0, inputs) - inputs * targets
    else:
        # Clipping the logs keeps a probability of exactly 0 or 1 from giving inf.
        log_p = mx.clip(mx.log(inputs), -100, None)
        log_not_p = mx.clip(mx.log(1 - inputs), -100, None)
        loss = -(targets * log_p + (1 - targets) * log_not_p)
    return _reduce(_weighted(loss, weights, where), reduction, where)


def l1_loss(predictions, targets, reduction: Reduction = "mean"):
    """Mean (by default) absolute error.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.losses.l1_loss(mx.array([1.0, 2.0]), mx.array([2.0, 4.0]))
    array(1.5, dtype=float32)
    """
    _same_shape(predictions, targets, ("Predictions", "targets"), "l1_loss")
    return _reduce(mx.abs(predictions - targets), reduction, "l1_loss")


def mse_loss(predictions, targets, reduction: Reduction = "mean"):
    """Mean (by default) squared error.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.losses.mse_loss(mx.array([1.0, 2.0]), mx.array([2.0, 4.0]), reduction="sum")
    array(5, dtype=float32)
    """
    _same_shape(predictions, targets, ("Predictions", "targets"), "mse_loss")
    return _reduce(mx.square(predictions - targets), reduction, "mse_loss")


def nll_loss(inputs, targets, axis: int = -1, reduction: Reduction = "none"):
    """Negative log likelihood: minus the log-probability in `inputs` of each target
    class index along `axis`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> logp = mx.log(mx.array([[0.25, 0.75], [0.5, 0.5]]))
    >>> nn.losses.nll_loss(logp, mx.array([1, 0]))
    array([0.287682, 0.693147], dtype=float32)
    """
    picked = mx.take_along_axis(inputs, mx.expand_dims(targets, axis), axis)
    return _reduce(-mx.squeeze(picked, axis), reduction, "nll_loss")


def gaussian_nll_loss(inputs, targets, vars, full: bool = False, eps: float = 1e-6,
                      reduction: Reduction = "mean"):
    """Negative log likelihood of `targets` under normals with means `inputs` and
    variances `vars` (clamped below at `eps`); ``full`` adds the constant
    ``0.5 * log(2 * pi)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.losses.gaussian_nll_loss(mx.array([0.0]), mx.array([1.0]), mx.array([1.0]))
    array(0.5, dtype=float32)
    """
    where = "gaussian_nll_loss"
    _same_shape(inputs, targets, ("Inputs", "targets"), where)
    _same_shape(inputs, vars, ("Inputs", "vars"), where)
    vars = mx.maximum(vars, eps)
    loss = 0.5 * (mx.log(vars) + mx.square(targets - inputs) / vars)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction, where)


def kl_div_loss(inputs, targets, axis: int = -1, reduction: Reduction = "none"):
    """Kullback-Leibler divergence ``sum(exp(targets) * (targets - inputs))`` along
    `axis`; both arguments are log-probabilities.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> p = mx.log(mx.array([0.5, 0.5]))
    >>> nn.losses.kl_div_loss(p, p)
    array(0, dtype=float32)
    """
    loss = mx.sum(mx.exp(targets) * (targets - inputs), axis)
    return _reduce(loss, reduction, "kl_div_loss")


def smooth_l1_loss(predictions, targets, beta: float = 1.0, reduction: Reduction = "mean"):
    """Squared error (scaled by ``0.5 / beta``) below `beta`, absolute error minus
    ``0.5 * beta`` above it.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.losses.smooth_l1_loss(mx.array([0.5, 3.0]), mx.array([0.0, 0.0]), reduction="none")
    array([0.125, 2.5], dtype=float32)
    """
    where = "smooth_l1_loss"
    _same_shape(predictions, targets, ("Predictions", "targets"), where)
    distance = mx.abs(predictions - targets)
    loss = mx.where(distance < beta, 0.5 * mx.square(distance) / beta,
                    mx.abs(distance) - 0.5 * beta)
    return _reduce(loss, reduction, where)


def triplet_loss(anchors, positives, negatives, axis: int = -1, p: int = 2,
                 margin: float = 1.0, eps: float = 1e-6, reduction: Reduction = "none"):
    """``max(d(a, p) - d(a, n) + margin, 0)``, with d the p-norm distance along `axis`
    (`eps` added under the root for a finite gradient at zero distance).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> a = mx.array([[0.0, 0.0]])
    >>> nn.losses.triplet_loss(a, mx.array([[3.0, 4.0]]), mx.array([[0.0, 1.0]]))
    array([5], dtype=float32)
    """
    def distance(other):
        return mx.power(mx.sum(mx.power(mx.abs(anchors - other), p), axis) + eps, 1.0 / p)

    loss = mx.maximum(distance(positives) - distance(negatives) + margin, 0)
    return _reduce(loss, reduction, "triplet_loss")


def hinge_loss(inputs, targets, reduction: Reduction = "none"):
    """``max(1 - inputs * targets, 0)``, targets in {-1, 1}.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.losses.hinge_loss(mx.array([0.5, 2.0]), mx.array([1.0, -1.0]))
    array([0.5, 3], dtype=float32)
    """
    return _reduce(mx.maximum(1 - inputs * targets, 0), reduction, "hinge_loss")


def huber_loss(inputs, targets, delta: float = 1.0, reduction: Reduction = "none"):
    """Half the squared error up to `delta`, growing linearly (slope `delta`) beyond.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.losses.huber_loss(mx.array([0.5, 3.0]), mx.array([0.0, 0.0]))
    array([0.125, 2.5], dtype=float32)
    """
    distance = mx.abs(inputs - targets)
    quadratic_part = mx.minimum(distance, delta)
    linear_part = distance - quadratic_part
    loss = 0.5 * quadratic_part**2 + delta * linear_part
    return _reduce(loss, reduction, "huber_loss")


def log_cosh_loss(inputs, targets, reduction: Reduction = "none"):
    """``log(cosh(inputs - targets))``, computed stably via ``logaddexp``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.losses.log_cosh_loss(mx.array([0.0, 1.0]), mx.array([0.0, 0.0]))
    array([0, 0.433781], dtype=float32)
    """
    error = inputs - targets
    loss = mx.logaddexp(error, -error) - math.log(2)
    return _reduce(loss, reduction, "log_cosh_loss")


def cosine_similarity_loss(x1, x2, axis: int = 1, eps: float = 1e-8,
                           reduction: Reduction = "none"):
    """Cosine similarity of `x1` and `x2` along `axis` (norm product clamped at `eps`).

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.losses.cosine_similarity_loss(mx.array([[1.0, 0.0]]), mx.array([[1.0, 1.0]]))
    array([0.707107], dtype=float32)
    """
    norms = mx.linalg.norm(x1, axis=axis) * mx.linalg.norm(x2, axis=axis)
    loss = mx.sum(x1 * x2, axis=axis) / mx.maximum(norms, eps)
    return _reduce(loss, reduction, "cosine_similarity_loss")


def margin_ranking_loss(inputs1, inputs2, targets, margin: float = 0.0,
                        reduction: Reduction = "none"):
    """``max(0, -targets * (inputs1 - inputs2) + margin)``: targets of 1 ask for
    `inputs1` to rank higher, -1 for `inputs2`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> nn.losses.margin_ranking_loss(mx.array([1.0, 1.0]), mx.array([2.0, 0.0]),
    ...                               mx.array([1.0, 1.0]))
    array([1, 0], dtype=float32)
    """
    if not inputs1.shape == inputs2.shape == targets.shape:
        raise ValueError("[margin_ranking_loss] The shapes of the arguments do not match. "
                         f"The provided shapes are inputs1.shape={inputs1.shape}, "
                         f"inputs2.shape={inputs2.shape}, and targets.shape={targets.shape}.")
    loss = mx.maximum(0, -targets * (inputs1 - inputs2) + margin)
    return _reduce(loss, reduction, "margin_ranking_loss")
