"""mlxpy.nn.losses against mlx.nn.losses: values for every reduction, dtypes, gradients
with respect to every differentiable argument, and errors."""
import doctest

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.nn as nn
from mlxpy.nn import losses
from oracle import assert_same, mlx, needs_mlx, raises_like, to_mlx

if mlx is not None:
    import mlx.nn as mlx_nn

pytestmark = needs_mlx

REDUCTIONS = ["none", "mean", "sum"]


def _normal(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _uniform(shape, seed, low=0.05, high=0.95):
    return np.random.default_rng(seed).uniform(low, high, shape).astype(np.float32)


def _signs(shape, seed):
    return np.where(np.random.default_rng(seed).random(shape) > 0.5, 1.0, -1.0).astype(np.float32)


def _classes(shape, n, seed):
    return np.random.default_rng(seed).integers(0, n, shape).astype(np.int32)


def _log_probs(shape, seed):
    z = _normal(shape, seed)
    return (z - np.log(np.exp(z).sum(-1, keepdims=True))).astype(np.float32)


def _probs(shape, seed):
    z = np.exp(_normal(shape, seed))
    return (z / z.sum(-1, keepdims=True)).astype(np.float32)


# (case id, loss name, positional NumPy arguments, keyword arguments, indices of the
# arguments to differentiate)
CASES = [
    ("ce_indices", "cross_entropy", [_normal((4, 5), 0), _classes((4,), 5, 1)], {}, [0]),
    ("ce_probs", "cross_entropy", [_normal((4, 5), 0), _probs((4, 5), 1)], {}, [0, 1]),
    ("ce_axis0", "cross_entropy", [_normal((5, 4), 0), _classes((4,), 5, 1)], {"axis": 0}, [0]),
    ("ce_smooth", "cross_entropy", [_normal((4, 5), 0), _classes((4,), 5, 1)],
     {"label_smoothing": 0.2}, [0]),
    ("ce_smooth_probs", "cross_entropy", [_normal((2, 3, 5), 0), _probs((2, 3, 5), 1)],
     {"label_smoothing": 0.3}, [0, 1]),
    ("ce_weights", "cross_entropy", [_normal((4, 5), 0), _classes((4,), 5, 1)],
     {"weights": _uniform((4,), 2)}, [0]),
    ("bce_logits", "binary_cross_entropy", [_normal((3, 4), 0), _uniform((3, 4), 1)], {},
     [0, 1]),
    ("bce_probs", "binary_cross_entropy", [_uniform((3, 4), 0), _uniform((3, 4), 1)],
     {"with_logits": False}, [0, 1]),
    ("bce_probs_edges", "binary_cross_entropy",
     [np.array([0.0, 1.0, 0.5, 1.0], np.float32), np.array([1.0, 0.0, 1.0, 1.0], np.float32)],
     {"with_logits": False}, []),
    ("bce_weights", "binary_cross_entropy", [_normal((3, 4), 0), _uniform((3, 4), 1)],
     {"weights": _uniform((3, 4), 2)}, [0]),
    ("l1", "l1_loss", [_normal((3, 4), 0), _normal((3, 4), 1)], {}, [0, 1]),
    ("mse", "mse_loss", [_normal((3, 4), 0), _normal((3, 4), 1)], {}, [0, 1]),
    ("nll", "nll_loss", [_log_probs((4, 5), 0), _classes((4,), 5, 1)], {}, [0]),
    ("nll_axis0", "nll_loss", [_log_probs((5, 4), 0), _classes((4,), 5, 1)], {"axis": 0}, [0]),
    ("gauss", "gaussian_nll_loss", [_normal((3, 4), 0), _normal((3, 4), 1), _uniform((3, 4), 2)],
     {}, [0, 1, 2]),
    ("gauss_full", "gaussian_nll_loss",
     [_normal((3, 4), 0), _normal((3, 4), 1), _uniform((3, 4), 2, 0.0, 1e-5)],
     {"full": True, "eps": 1e-4}, [0, 1]),
    ("kl", "kl_div_loss", [_log_probs((3, 4), 0), _log_probs((3, 4), 1)], {}, [0, 1]),
    ("kl_axis0", "kl_div_loss", [_log_probs((3, 4), 0), _log_probs((3, 4), 1)], {"axis": 0},
     [0, 1]),
    ("smooth_l1", "smooth_l1_loss", [2 * _normal((3, 4), 0), _normal((3, 4), 1)], {}, [0, 1]),
    ("smooth_l1_beta", "smooth_l1_loss", [2 * _normal((3, 4), 0), _normal((3, 4), 1)],
     {"beta": 0.5}, [0, 1]),
    ("triplet", "triplet_loss", [_normal((3, 4), 0), _normal((3, 4), 1), _normal((3, 4), 2)],
     {}, [0, 1, 2]),
    ("triplet_p1", "triplet_loss", [_normal((3, 4), 0), _normal((3, 4), 1), _normal((3, 4), 2)],
     {"p": 1, "margin": 2.0, "axis": 0}, [0, 1, 2]),
    ("hinge", "hinge_loss", [_normal((3, 4), 0), _signs((3, 4), 1)], {}, [0]),
    ("huber", "huber_loss", [2 * _normal((3, 4), 0), _normal((3, 4), 1)], {}, [0, 1]),
    ("huber_delta", "huber_loss", [2 * _normal((3, 4), 0), _normal((3, 4), 1)],
     {"delta": 0.3}, [0, 1]),
    ("log_cosh", "log_cosh_loss", [3 * _normal((3, 4), 0), _normal((3, 4), 1)], {}, [0, 1]),
    ("cosine", "cosine_similarity_loss", [_normal((3, 4), 0), _normal((3, 4), 1)], {}, [0, 1]),
    ("cosine_axis", "cosine_similarity_loss",
     [_normal((3, 4), 0), np.zeros((3, 4), np.float32)], {"axis": -1}, [0]),
    ("margin", "margin_ranking_loss", [_normal((5,), 0), _normal((5,), 1), _signs((5,), 2)],
     {"margin": 0.5}, [0, 1]),
]


def _call(lib_losses, lib, name, args, kwargs, reduction=None):
    conv = [lib.array(a) if isinstance(a, np.ndarray) else a for a in args]
    kw = {k: lib.array(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    if reduction is not None:
        kw["reduction"] = reduction
    return getattr(lib_losses, name)(*conv, **kw)


def test_all_names_exported():
    names = {n for n in dir(mlx_nn.losses) if not n.startswith("_")}
    names -= {"Literal", "Optional", "Reduction", "get_args", "math", "mx"}
    assert names == set(losses.__all__)
    assert nn.losses is losses


@pytest.mark.parametrize("reduction", [None] + REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_values_match_mlx(case, reduction):
    _, name, args, kwargs, _ = case
    assert_same(_call(losses, mx, name, args, kwargs, reduction),
                _call(mlx_nn.losses, mlx, name, args, kwargs, reduction))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradients_match_mlx(case):
    _, name, args, kwargs, argnums = case
    if not argnums:
        return

    def make(lib_losses, lib):
        def f(*diff):
            full = list(args)
            for i, value in zip(argnums, diff):
                full[i] = value
            conv = [a if not isinstance(a, np.ndarray) else lib.array(a) for a in full]
            kw = {k: lib.array(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
            return getattr(lib_losses, name)(*conv, reduction="sum", **kw)
        return f

    ours = mx.grad(make(losses, mx), argnums=tuple(range(len(argnums))))(
        *(mx.array(args[i]) for i in argnums))
    theirs = mlx.grad(make(mlx_nn.losses, mlx), argnums=tuple(range(len(argnums))))(
        *(mlx.array(args[i]) for i in argnums))
    assert_same(list(ours), list(theirs), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("case", [c for c in CASES if c[0] in
                                  ("ce_indices", "ce_smooth", "bce_logits", "mse", "l1", "kl",
                                   "gauss", "cosine", "huber", "triplet", "log_cosh")],
                         ids=lambda c: c[0])
def test_half_precision_dtypes(case, dtype):
    _, name, args, kwargs, _ = case
    ours_args = [mx.array(a).astype(getattr(mx, dtype)) if a.dtype == np.float32 else mx.array(a)
                 for a in args]
    theirs_args = [to_mlx(a) for a in ours_args]
    for reduction in REDUCTIONS:
        assert_same(getattr(losses, name)(*ours_args, **kwargs, reduction=reduction),
                    getattr(mlx_nn.losses, name)(*theirs_args, **kwargs, reduction=reduction))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_reduction(case):
    _, name, args, kwargs, _ = case
    err = raises_like(lambda: _call(losses, mx, name, args, kwargs, "average"),
                      lambda: _call(mlx_nn.losses, mlx, name, args, kwargs, "average"))
    assert "reduction" in str(err) and name in str(err)


def _a(*shape):
    return np.ones(shape, np.float32)


SHAPE_ERRORS = [
    ("cross_entropy", [_a(3, 4), np.zeros((2,), np.int32)], {}),
    ("cross_entropy", [_a(3, 4), _a(3, 5)], {}),
    ("cross_entropy", [_a(3, 4), np.zeros((3,), np.int32)], {"label_smoothing": 1.0}),
    ("cross_entropy", [_a(3, 4), np.zeros((3,), np.int32)], {"label_smoothing": -0.1}),
    ("cross_entropy", [_a(3, 4), np.zeros((3,), np.int32)], {"weights": _a(4)}),
    ("cross_entropy", [_a(3, 4), np.zeros((3,), np.int32)], {"axis": 3}),
    ("binary_cross_entropy", [_a(3, 4), _a(3, 5)], {}),
    ("binary_cross_entropy", [_a(3, 4), _a(3, 4)], {"weights": _a(4)}),
    ("l1_loss", [_a(3, 4), _a(4)], {}),
    ("mse_loss", [_a(3, 4), _a(3, 1)], {}),
    ("gaussian_nll_loss", [_a(3, 4), _a(3, 5), _a(3, 4)], {}),
    ("gaussian_nll_loss", [_a(3, 4), _a(3, 4), _a(3, 5)], {}),
    ("smooth_l1_loss", [_a(3, 4), _a(2, 4)], {}),
    ("margin_ranking_loss", [_a(3), _a(3), _a(4)], {}),
    ("nll_loss", [_a(3, 4), np.zeros((2,), np.int32)], {}),
    ("hinge_loss", [_a(3, 4), _a(3, 5)], {}),
    ("huber_loss", [_a(3, 4), _a(3, 5)], {}),
    ("kl_div_loss", [_a(3, 4), _a(3, 5)], {}),
    ("triplet_loss", [_a(3, 4), _a(3, 4), _a(2, 4)], {}),
    ("cosine_similarity_loss", [_a(3, 4), _a(3, 5)], {}),
    ("log_cosh_loss", [_a(3, 4), _a(3, 5)], {}),
]


@pytest.mark.parametrize("name,args,kwargs", SHAPE_ERRORS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(SHAPE_ERRORS)])
def test_shape_errors(name, args, kwargs):
    err = raises_like(lambda: _call(losses, mx, name, args, kwargs),
                      lambda: _call(mlx_nn.losses, mlx, name, args, kwargs))
    assert str(err).startswith("[")


def test_losses_compose_with_vmap_and_compile():
    logits, targets = _normal((6, 4, 5), 0), _classes((6, 4), 5, 1)
    ours = mx.vmap(lambda l, t: losses.cross_entropy(l, t, reduction="mean"))(
        mx.array(logits), mx.array(targets))
    theirs = mlx.vmap(lambda l, t: mlx_nn.losses.cross_entropy(l, t, reduction="mean"))(
        mlx.array(logits), mlx.array(targets))
    assert_same(ours, theirs)
    step = mx.compile(mx.grad(lambda l: losses.cross_entropy(l, mx.array(targets),
                                                             label_smoothing=0.1).sum()))
    want = mlx.grad(lambda l: mlx_nn.losses.cross_entropy(l, mlx.array(targets),
                                                          label_smoothing=0.1).sum())
    assert_same(step(mx.array(logits)), want(mlx.array(logits)), rtol=1e-5, atol=1e-6)


def test_docstring_examples():
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for name, obj in [("module", losses)] + [(n, getattr(losses, n)) for n in losses.__all__]:
        assert obj.__doc__ and ">>>" in obj.__doc__, f"{name} has no example"
        runner.run(parser.get_doctest(obj.__doc__, {}, name, None, 0))
    assert runner.tries > 20 and runner.failures == 0
