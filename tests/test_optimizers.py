"""mlxpy.optimizers against real MLX: the same parameters and gradient sequence give the
same parameters and the same state tree, step after step; schedules, clipping, models,
compile and errors."""
import doctest

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.nn as nn
import mlxpy.optimizers as optim
from mlxpy.utils import tree_flatten, tree_map
from tests.oracle import assert_same, dtype_name, mlx, needs_mlx, raises_like, to_mlx

if mlx is not None:
    import mlx.nn as mlx_nn
    import mlx.optimizers as mlx_optim
    from mlx.utils import tree_flatten as mlx_tree_flatten

pytestmark = needs_mlx

# Shapes of a parameter tree with nested dicts, a list, a scalar, a matrix and a 3-D array
# (Adafactor factors and Muon flattens the latter two).
SHAPES = {"w": (3, 4), "layers": [{"a": (4,), "k": (2, 3, 2)}, {"a": (5,)}], "s": ()}


def tree_of(shapes, rng, dtype):
    return tree_map(lambda shape: rng.standard_normal(shape).astype(dtype), shapes,
                    is_leaf=lambda x: isinstance(x, tuple))


def as_ours(tree):
    return tree_map(mx.array, tree)


def as_theirs(tree):
    return tree_map(to_mlx, tree)


def assert_trees_same(ours, theirs, rtol=None, atol=None, ordered=True):
    flat_ours, flat_theirs = tree_flatten(ours), mlx_tree_flatten(theirs)
    if not ordered:  # MLX's tree_merge orders keys by a set, which varies per process
        flat_ours, flat_theirs = sorted(flat_ours), sorted(flat_theirs)
    assert [k for k, _ in flat_ours] == [k for k, _ in flat_theirs]
    for (key, a), (_, b) in zip(flat_ours, flat_theirs):
        assert isinstance(a, mx.array), key
        assert_same(a, b, rtol, atol)


# (optimizer name, keyword arguments); a callable argument is a factory given the
# optimizers module, so each library gets its own schedule.
CASES = [
    ("SGD", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.8, "weight_decay": 0.1,
             "dampening": 0.3}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True,
             "weight_decay": 0.01}),
    ("SGD", {"learning_rate": lambda o: o.exponential_decay(0.1, 0.8), "momentum": 0.5}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.02, "alpha": 0.5, "eps": 1e-3}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "eps": 0.5}),
    ("AdaDelta", {"learning_rate": 1.0}),
    ("AdaDelta", {"learning_rate": 0.5, "rho": 0.5, "eps": 1e-3}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "betas": [0.5, 0.9], "eps": 1e-4,
              "bias_correction": True}),
    ("Adam", {"learning_rate": lambda o: o.cosine_decay(0.1, 4, 0.01),
              "bias_correction": True}),
    ("AdamW", {"learning_rate": 0.01}),
    ("AdamW", {"learning_rate": 0.02, "weight_decay": 0.2, "bias_correction": True}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Adamax", {"learning_rate": 0.05, "betas": [0.8, 0.9], "eps": 1e-3}),
    ("Lion", {"learning_rate": 0.01}),
    ("Lion", {"learning_rate": 0.01, "betas": [0.5, 0.7], "weight_decay": 0.3}),
    ("Adafactor", {}),
    ("Adafactor", {"beta_1": 0.9, "weight_decay": 0.01, "warmup_init": True}),
    ("Adafactor", {"learning_rate": 0.05, "relative_step": False, "scale_parameter": False,
                   "clip_threshold": 0.5, "decay_rate": -0.5, "eps": (1e-20, 1e-2)}),
    ("Adafactor", {"learning_rate": lambda o: o.linear_schedule(0.0, 0.1, 3),
                   "relative_step": False}),
    ("Muon", {"learning_rate": 0.02}),
    ("Muon", {"learning_rate": 0.02, "momentum": 0.8, "weight_decay": 0.0,
              "nesterov": False, "ns_steps": 3}),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def build(module, name, kwargs):
    kwargs = {k: (v(module) if callable(v) else v) for k, v in kwargs.items()}
    return getattr(module, name)(**kwargs)


def run_both(name, kwargs, dtype, steps=6, shapes=SHAPES):
    """Run both libraries' optimizer over the same gradients; compare after every step."""
    rng = np.random.default_rng(7)
    params = tree_of(shapes, rng, dtype)
    ours_opt, theirs_opt = build(optim, name, kwargs), build(mlx_optim, name, kwargs)
    ours, theirs = as_ours(params), as_theirs(params)
    tol = {"float16": (5e-3, 5e-3)}.get(dtype, (2e-5, 2e-6))
    for _ in range(steps):
        grads = tree_of(shapes, rng, dtype)
        ours = ours_opt.apply_gradients(as_ours(grads), ours)
        theirs = theirs_opt.apply_gradients(as_theirs(grads), theirs)
        assert_trees_same(ours, theirs, *tol)
    assert_trees_same(ours_opt.state, theirs_opt.state, *tol)
    return ours_opt, theirs_opt


@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_steps_match_mlx_float32(name, kwargs):
    ours_opt, theirs_opt = run_both(name, kwargs, "float32")
    assert ours_opt.step.item() == 6 and dtype_name(ours_opt.step.dtype) == "uint64"


HALF_CASES = [CASES[i] for i in (1, 3, 6, 8, 10, 12, 15, 17, 19, 21)]


@pytest.mark.parametrize("name,kwargs", HALF_CASES, ids=[c[0] for c in HALF_CASES])
def test_steps_match_mlx_float16(name, kwargs):
    run_both(name, kwargs, "float16", steps=5,
             shapes={"w": (3, 4), "b": [(4,)]})


def test_state_layout_before_and_after_first_update():
    ours, theirs = optim.Adam(learning_rate=0.1), mlx_optim.Adam(learning_rate=0.1)
    assert list(ours.state) == list(theirs.state) == ["step", "learning_rate"]
    assert_same(ours.learning_rate, theirs.learning_rate)
    assert_same(ours.step, theirs.step)
    params = tree_of(SHAPES, np.random.default_rng(0), "float32")
    ours.init(as_ours(params))
    theirs.init(as_theirs(params))
    assert_trees_same(ours.state, theirs.state)
    # A second init keeps the existing state instead of resetting it.
    ours.state["w"]["m"] = mx.ones((3, 4))
    ours.init(as_ours(params))
    assert ours.state["w"]["m"].sum().item() == 12


def test_tuples_in_the_tree_are_mirrored():
    params = {"pair": (np.ones(2, np.float32), np.zeros(3, np.float32))}
    ours, theirs = optim.SGD(0.1, momentum=0.5), mlx_optim.SGD(0.1, momentum=0.5)
    new_ours = ours.apply_gradients(as_ours(params), as_ours(params))
    new_theirs = theirs.apply_gradients(as_theirs(params), as_theirs(params))
    assert type(new_ours["pair"]) is tuple and type(ours.state["pair"]) is tuple
    assert_trees_same(new_ours, new_theirs)
    assert_trees_same(ours.state, theirs.state)


def test_learning_rate_setter_and_schedule():
    ours = optim.SGD(learning_rate=optim.step_decay(0.1, 0.5, 2))
    theirs = mlx_optim.SGD(learning_rate=mlx_optim.step_decay(0.1, 0.5, 2))
    for _ in range(5):
        ours.update({}, {})
        theirs.update({}, {})
        assert_same(ours.learning_rate, theirs.learning_rate)
    ours.learning_rate = 0.25
    assert_same(ours.learning_rate, mx.array(0.25))
    ours.update({}, {})  # the schedule still drives the value
    theirs.update({}, {})
    assert_same(ours.learning_rate, theirs.learning_rate)


def test_state_setter_resumes_like_the_original():
    rng = np.random.default_rng(3)
    params = tree_of({"w": (2, 3), "b": (3,)}, rng, "float32")
    grads = [tree_of({"w": (2, 3), "b": (3,)}, rng, "float32") for _ in range(4)]
    first, resumed = optim.Adam(0.1), optim.Adam(0.1)
    p = as_ours(params)
    for g in grads[:2]:
        p = first.apply_gradients(as_ours(g), p)
    resumed.state = tree_map(lambda x: x, first.state)
    p_resumed = p
    for g in grads[2:]:
        p = first.apply_gradients(as_ours(g), p)
        p_resumed = resumed.apply_gradients(as_ours(g), p_resumed)
    assert resumed.step.item() == 4
    for key in ("w", "b"):
        np.testing.assert_array_equal(np.array(p[key]), np.array(p_resumed[key]))


SCHEDULES = [
    ("exponential_decay", (0.1, 0.9)),
    ("step_decay", (0.1, 0.7, 3)),
    ("cosine_decay", (0.1, 10)),
    ("cosine_decay", (0.5, 7, 0.05)),
    ("linear_schedule", (0.0, 0.1, 8)),
    ("linear_schedule", (1.0, 0.2, 5)),
]


@pytest.mark.parametrize("name,args", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedule_values(name, args):
    ours, theirs = getattr(optim, name)(*args), getattr(mlx_optim, name)(*args)
    for step in range(0, 25):
        assert_same(ours(mx.array(step, mx.uint64)), theirs(mlx.array(step, mlx.uint64)))
        a, b = ours(step), theirs(step)  # a Python int step, as a user may pass
        if isinstance(b, mlx.array):
            assert_same(a, b)
        else:
            assert type(a) is type(b) and a == pytest.approx(b, rel=1e-12)


def test_join_schedules_values():
    def joined(o):
        return o.join_schedules([o.linear_schedule(0.0, 0.1, 5), o.cosine_decay(0.1, 10),
                                 o.exponential_decay(0.05, 0.5)], [5, 12])
    ours, theirs = joined(optim), joined(mlx_optim)
    for step in range(0, 25):
        assert_same(ours(mx.array(step, mx.uint64)), theirs(mlx.array(step, mlx.uint64)))
    ours_opt, theirs_opt = optim.Adam(learning_rate=ours), mlx_optim.Adam(learning_rate=theirs)
    for _ in range(14):
        ours_opt.update({}, {})
        theirs_opt.update({}, {})
        assert_same(ours_opt.learning_rate, theirs_opt.learning_rate)


@pytest.mark.parametrize("make", [
    lambda o: o.step_decay(0.1, 0.9, 0),
    lambda o: o.cosine_decay(0.1, 0),
    lambda o: o.linear_schedule(0.0, 1.0, 0),
    lambda o: o.join_schedules([], []),
    lambda o: o.join_schedules([o.cosine_decay(0.1, 3)], [2]),
], ids=["step_decay", "cosine_decay", "linear_schedule", "join-empty", "join-boundaries"])
def test_schedule_errors(make):
    error = raises_like(lambda: make(optim), lambda: make(mlx_optim))
    assert str(error).startswith("[")


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3, 0.0])
def test_clip_grad_norm(dtype, max_norm):
    grads = tree_of({"a": (3, 4), "b": [(5,), {"c": (2,)}]}, np.random.default_rng(1), dtype)
    ours, ours_norm = optim.clip_grad_norm(as_ours(grads), max_norm)
    theirs, theirs_norm = mlx_optim.clip_grad_norm(as_theirs(grads), max_norm)
    assert_same(ours_norm, theirs_norm)
    assert_trees_same(ours, theirs)


def test_clip_grad_norm_integer_and_float16_overflow():
    grads = {"i": np.array([3, 4], np.int32), "h": np.array([300.0, 400.0], np.float16)}
    ours, ours_norm = optim.clip_grad_norm(as_ours(grads), 1.0)
    theirs, theirs_norm = mlx_optim.clip_grad_norm(as_theirs(grads), 1.0)
    assert_same(ours_norm, theirs_norm)  # float16 squares would overflow to inf
    assert_trees_same(ours, theirs)
    # A scale below float16's range still gives representable clipped values.
    big = {"h": np.array([60000.0, -50000.0], np.float16)}
    ours, _ = optim.clip_grad_norm(as_ours(big), 1e-3)
    theirs, _ = mlx_optim.clip_grad_norm(as_theirs(big), 1e-3)
    assert_trees_same(ours, theirs)
    assert np.all(np.array(ours["h"]) != 0)


def test_multi_optimizer_matches_mlx():
    def build_multi(o):
        return o.MultiOptimizer([o.Adam(0.01), o.SGD(0.1, momentum=0.9), o.Lion(0.01)],
                                [lambda path, _: path.startswith("layers.0"),
                                 lambda path, g: g.ndim == 2])
    rng = np.random.default_rng(5)
    params = tree_of(SHAPES, rng, "float32")
    ours_opt, theirs_opt = build_multi(optim), build_multi(mlx_optim)
    ours, theirs = as_ours(params), as_theirs(params)
    for _ in range(4):
        grads = tree_of(SHAPES, rng, "float32")
        ours = ours_opt.apply_gradients(as_ours(grads), ours)
        theirs = theirs_opt.apply_gradients(as_theirs(grads), theirs)
        assert_trees_same(ours, theirs, ordered=False)
    assert_trees_same(ours_opt.state, theirs_opt.state)
    assert_same(ours_opt.learning_rate, theirs_opt.learning_rate)
    ours_opt.learning_rate = 0.5
    assert all(o.learning_rate.item() == 0.5 for o in ours_opt.optimizers)
    error = raises_like(lambda: setattr(ours_opt, "state", {"states": []}),
                        lambda: setattr(theirs_opt, "state", {"states": []}))
    assert "[MultiOptimizer]" in str(error)


def test_linear_model_trains_like_mlx():
    ours_model, theirs_model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)), \
        mlx_nn.Sequential(mlx_nn.Linear(3, 4), mlx_nn.Linear(4, 2))
    ours_model.update(tree_map(lambda p: mx.array(np.array(p)), theirs_model.parameters()))
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((8, 3)).astype("float32"), rng.standard_normal((8, 2)).astype("float32")

    def train(model, lib, lib_nn, lib_optim, to):
        optimizer = lib_optim.AdamW(learning_rate=lib_optim.cosine_decay(0.05, 5),
                                    bias_correction=True)
        loss_and_grad = lib_nn.value_and_grad(model, lambda a, b: ((model(a) - b) ** 2).mean())
        losses = []
        for _ in range(5):
            loss, grads = loss_and_grad(to(x), to(y))
            optimizer.update(model, grads)
            losses.append(loss.item())
        return losses, optimizer

    ours_losses, ours_opt = train(ours_model, mx, nn, optim, mx.array)
    theirs_losses, theirs_opt = train(theirs_model, mlx, mlx_nn, mlx_optim, mlx.array)
    np.testing.assert_allclose(ours_losses, theirs_losses, rtol=1e-5)
    assert_trees_same(ours_model.parameters(), theirs_model.parameters())
    assert_trees_same(ours_opt.state, theirs_opt.state)


def compiled_training(compiled, initialize_first):
    """Five SGD-with-momentum steps on a small model, eagerly or as a compiled step that
    captures the model's and optimizer's state."""
    model = nn.Linear(3, 2)
    model.update({"weight": mx.array(np.linspace(-1, 1, 6, dtype="float32").reshape(2, 3)),
                  "bias": mx.array([0.1, -0.2])})
    optimizer = optim.Adam(learning_rate=optim.linear_schedule(0.0, 0.1, 3),
                           bias_correction=True)
    if initialize_first:
        optimizer.init(model.trainable_parameters())
    loss_and_grad = nn.value_and_grad(model, lambda a: (model(a) ** 2).sum())

    def step(a):
        loss, grads = loss_and_grad(a)
        optimizer.update(model, grads)
        return loss

    if compiled:
        state = [model.state, optimizer.state]
        step = mx.compile(step, inputs=state, outputs=state)
    rng = np.random.default_rng(4)
    losses = [step(mx.array(rng.standard_normal((5, 3)).astype("float32"))).item()
              for _ in range(5)]
    return losses, model, optimizer


def test_compiled_step_matches_eager_step():
    eager_losses, eager_model, eager_opt = compiled_training(False, True)
    losses, model, opt = compiled_training(True, True)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
    for (key, a), (_, b) in zip(tree_flatten(model.parameters()),
                                tree_flatten(eager_model.parameters())):
        np.testing.assert_allclose(np.array(a), np.array(b), rtol=1e-5, atol=1e-6, err_msg=key)
    assert opt.step.item() == 5
    np.testing.assert_allclose(np.array(opt.state["weight"]["v"]),
                               np.array(eager_opt.state["weight"]["v"]), rtol=1e-5)


def test_compiled_step_initializes_state_lazily():
    eager_losses, eager_model, _ = compiled_training(False, False)
    losses, model, opt = compiled_training(True, False)
    np.testing.assert_allclose(losses, eager_losses, rtol=1e-5)
    np.testing.assert_allclose(np.array(model.weight), np.array(eager_model.weight),
                               rtol=1e-5, atol=1e-6)
    assert sorted(opt.state["weight"]) == ["m", "v"]


CONSTRUCTOR_ERRORS = [
    ("SGD", {"learning_rate": 0.1, "nesterov": True}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}),
    ("RMSprop", {"learning_rate": 0.1, "alpha": -0.1}),
    ("RMSprop", {"learning_rate": 0.1, "eps": 0.0}),
    ("Adagrad", {"learning_rate": 0.1, "eps": -1.0}),
    ("AdaDelta", {"learning_rate": 0.1, "rho": -0.5}),
    ("AdaDelta", {"learning_rate": 0.1, "eps": 0.0}),
    ("Adam", {"learning_rate": 0.1, "betas": [1.0, 0.9]}),
    ("Adam", {"learning_rate": 0.1, "betas": [0.9, -0.1]}),
    ("Adam", {"learning_rate": 0.1, "eps": -1e-8}),
    ("AdamW", {"learning_rate": 0.1, "betas": [0.9, 1.5]}),
    ("Adamax", {"learning_rate": 0.1, "betas": [1.0, 0.9]}),
    ("Lion", {"learning_rate": 0.1, "betas": [0.9, 1.0]}),
]


@pytest.mark.parametrize("name,kwargs", CONSTRUCTOR_ERRORS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CONSTRUCTOR_ERRORS)])
def test_constructor_errors(name, kwargs):
    error = raises_like(lambda: getattr(optim, name)(**kwargs),
                        lambda: getattr(mlx_optim, name)(**kwargs))
    assert str(error).startswith(f"[{name}]")


def test_usage_errors():
    raises_like(lambda: optim.MultiOptimizer([optim.SGD(0.1)], [lambda *a: True]),
                lambda: mlx_optim.MultiOptimizer([mlx_optim.SGD(0.1)], [lambda *a: True]))
    raises_like(lambda: optim.clip_grad_norm({"a": mx.ones((2,))}, -1.0),
                lambda: mlx_optim.clip_grad_norm({"a": mlx.ones((2,))}, -1.0))
    # Adafactor with a fixed step size but no learning rate: KeyError, as in MLX.
    error = raises_like(
        lambda: optim.Adafactor(relative_step=False).apply_gradients(
            {"a": mx.ones((2,))}, {"a": mx.ones((2,))}),
        lambda: mlx_optim.Adafactor(relative_step=False).apply_gradients(
            {"a": mlx.ones((2,))}, {"a": mlx.ones((2,))}))
    assert "[Adafactor]" in str(error)
    raises_like(lambda: optim.SGD(0.1, momentum=0.9).apply_gradients(mx.ones((2,)),
                                                                      mx.ones((2,))),
                lambda: mlx_optim.SGD(0.1, momentum=0.9).apply_gradients(mlx.ones((2,)),
                                                                         mlx.ones((2,))))
    with pytest.raises(NotImplementedError, match=r"\[Optimizer\]"):
        optim.Optimizer().apply_gradients({"a": mx.ones((2,))}, {"a": mx.ones((2,))})


def test_public_names_match_mlx():
    theirs = {n for n in dir(mlx_optim) if not n.startswith("_") and n[0].isupper()
              or n in {"clip_grad_norm", "cosine_decay", "exponential_decay",
                       "join_schedules", "linear_schedule", "step_decay"}}
    theirs -= {"Callable", "List", "Module", "Optional", "Tuple", "Union"}  # typing imports
    assert theirs <= set(dir(optim))
    assert set(optim.optimizers.__all__) | set(optim.schedulers.__all__) == theirs


def test_docstring_examples():
    for module in (optim.optimizers, optim.schedulers):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0
