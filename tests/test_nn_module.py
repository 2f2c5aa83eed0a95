"""nn.Module against mlx.nn.Module: parameter trees, freezing, modes, updates, repr, weight
files and nn.value_and_grad / checkpoint, with the same weights on both sides."""
import doctest
import importlib

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.nn as nn
from mlxpy.nn.utils import checkpoint
from mlxpy.utils import tree_flatten, tree_map
from oracle import assert_same, mlx, needs_mlx, raises_like, to_mlx

if mlx is not None:
    import mlx.nn as mnn
    import mlx.utils as mutils

OUR_MODULES = ["mlxpy.nn.layers.base", "mlxpy.nn.layers.containers", "mlxpy.nn.layers.linear",
               "mlxpy.nn.layers.embedding", "mlxpy.nn.layers.dropout",
               "mlxpy.nn.layers.normalization", "mlxpy.nn.init", "mlxpy.nn.utils"]


def make_net(lib, L):
    """The same model in either library: submodules in lists and dicts, a bare list of
    arrays, a private array, a non-trainable buffer, an integer parameter."""

    class Net(L.Module):
        def __init__(self):
            super().__init__()
            self.blocks = [L.Linear(2, 3), {"norm": L.LayerNorm(3), "drop": L.Dropout(0.1)}]
            self.seq = L.Sequential(L.Linear(3, 3), L.BatchNorm(3))
            self.ws = [lib.zeros((2,)), lib.ones((1,))]
            self._hidden = lib.zeros((1,))
            self.steps = lib.array([0], dtype=lib.int32)
            self.emb = L.Embedding(5, 3)
            self.norms = [L.RMSNorm(3), L.GroupNorm(1, 3, pytorch_compatible=True)]
            self.depth = 2

        def __call__(self, x):
            x = self.blocks[0](x)
            x = self.blocks[1]["norm"](x)
            return self.seq(x)

    return Net()


def flat_keys(tree):
    return [k for k, _ in tree_flatten(tree)]


def mlx_keys(tree):
    return [k for k, _ in mutils.tree_flatten(tree)]


def copy_weights(theirs, ours):
    """Load MLX module `theirs`'s parameters into `ours` (through our own load_weights)."""
    flat = mutils.tree_flatten(theirs.parameters())
    ours.load_weights([(k, mx.array(np.array(v))) for k, v in flat])
    return ours


@pytest.fixture
def nets():
    return make_net(mx, nn), make_net(mlx, mnn)


def test_doctests():
    for name in OUR_MODULES:
        result = doctest.testmod(importlib.import_module(name),
                                 optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, name
        assert result.attempted > 0, name


def test_all_names_exported():
    for name in ["Module", "Sequential", "Identity", "Linear", "Bilinear", "Embedding", "Dropout",
                 "Dropout2d", "Dropout3d", "LayerNorm", "RMSNorm", "GroupNorm", "InstanceNorm",
                 "BatchNorm", "value_and_grad", "average_gradients", "init"]:
        assert hasattr(nn, name), name


@needs_mlx
def test_parameter_tree_matches_mlx(nets):
    ours, theirs = nets
    flat_ours = tree_flatten(ours.parameters())
    flat_theirs = mutils.tree_flatten(theirs.parameters())
    assert [k for k, _ in flat_ours] == [k for k, _ in flat_theirs]
    for (k, a), (_, b) in zip(flat_ours, flat_theirs):
        assert a.shape == b.shape, k
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1], k
    assert "_hidden" not in ours.parameters() and "depth" not in ours.parameters()
    assert ours.depth == 2 and ours._hidden.shape == (1,)


@needs_mlx
def test_trainable_children_leaves_modules_match_mlx(nets):
    ours, theirs = nets
    assert flat_keys(ours.trainable_parameters()) == mlx_keys(theirs.trainable_parameters())
    assert "seq.layers.1.running_mean" not in flat_keys(ours.trainable_parameters())
    assert repr(ours.children()) == repr(theirs.children())
    assert repr(ours.leaf_modules()) == repr(theirs.leaf_modules())
    assert [p for p, _ in ours.named_modules()] == [p for p, _ in theirs.named_modules()]
    assert [type(m).__name__ for m in ours.modules()] == \
        [type(m).__name__ for m in theirs.modules()]


@needs_mlx
def test_repr_matches_mlx(nets):
    ours, theirs = nets
    assert repr(ours) == repr(theirs)
    assert repr(nn.Sequential()) == repr(mnn.Sequential()) == "Sequential()"


@needs_mlx
@pytest.mark.parametrize("how", [
    dict(), dict(keys="bias"), dict(keys=["weight", "ws.0"]), dict(recurse=False),
    dict(recurse=False, keys="ws.1"), dict(keys="bias", strict=True)])
def test_freeze_unfreeze_match_mlx(nets, how):
    ours, theirs = nets
    assert ours.freeze(**how) is ours
    theirs.freeze(**how)
    assert flat_keys(ours.trainable_parameters()) == mlx_keys(theirs.trainable_parameters())
    assert repr(ours.trainable_parameters().keys()) == repr(theirs.trainable_parameters().keys())
    ours.unfreeze(keys="weight")
    theirs.unfreeze(keys="weight")
    assert flat_keys(ours.trainable_parameters()) == mlx_keys(theirs.trainable_parameters())
    ours.unfreeze()
    theirs.unfreeze()
    # A recursive unfreeze reaches BatchNorm's bookkeeping directly, so MLX (and we) make the
    # running statistics trainable here; BatchNorm.unfreeze itself keeps them frozen.
    assert flat_keys(ours.trainable_parameters()) == mlx_keys(theirs.trainable_parameters())
    ours.seq.layers[1].unfreeze()
    theirs.seq.layers[1].unfreeze()
    assert flat_keys(ours.trainable_parameters()) == mlx_keys(theirs.trainable_parameters())


@needs_mlx
def test_freeze_strict_errors_match_mlx(nets):
    ours, theirs = nets
    raises_like(lambda: ours.freeze(keys="nope", strict=True),
                lambda: theirs.freeze(keys="nope", strict=True))
    raises_like(lambda: ours.unfreeze(keys=["weight", "nope"], strict=True),
                lambda: theirs.unfreeze(keys=["weight", "nope"], strict=True))
    raises_like(lambda: ours.freeze(keys="bias", recurse=False, strict=True),
                lambda: theirs.freeze(keys="bias", recurse=False, strict=True))
    ours.freeze(keys="nope")  # not strict: nothing to freeze, no error
    assert "nope" in ours._no_grad


@needs_mlx
def test_train_eval_propagate(nets):
    ours, theirs = nets
    assert ours.training
    assert ours.eval() is ours
    theirs.eval()
    assert [m.training for m in ours.modules()] == [m.training for m in theirs.modules()]
    assert not any(m.training for m in ours.modules())
    ours.seq.train()
    assert ours.seq.layers[1].training and not ours.training and not ours.blocks[0].training
    ours.train(True)
    assert all(m.training for m in ours.modules())


def test_attribute_protocol():
    layer = nn.Linear(2, 3)
    layer.scale = 3.0  # not an array: a plain attribute, not an entry
    assert "scale" not in layer and layer.scale == 3.0
    layer.extra = mx.zeros((2,))
    assert "extra" in layer.parameters()
    layer.extra = None  # replacing an entry with a plain value removes the entry
    assert "extra" not in layer and layer.extra is None
    layer.cfg = (1, 2)  # tuples are entries, but neither parameters nor children
    assert layer["cfg"] == (1, 2) and "cfg" not in layer.parameters()
    assert "cfg" not in layer.children()
    del layer.bias
    assert "bias" not in layer and layer(mx.ones((1, 2))).shape == (1, 3)
    with pytest.raises(AttributeError):
        layer.missing
    with pytest.raises(AttributeError):
        del layer.missing
    assert layer.state is layer
    assert not hasattr(layer, "missing")


@needs_mlx
def test_missing_attribute_error_type_matches_mlx():
    raises_like(lambda: nn.Linear(2, 2).missing, lambda: mnn.Linear(2, 2).missing)


@needs_mlx
def test_update_partial_and_strict_errors(nets):
    ours, theirs = nets
    new = mx.full((3, 2), 7.0)
    assert ours.update({"blocks": [{"weight": new}]}) is ours
    assert ours.blocks[0].weight is new
    ours.update({"ws": [mx.zeros((2,)), mx.array([5.0])],
                 "seq": {"layers": [{}, {"bias": mx.ones((3,))}]}})
    assert ours.ws[1].item() == 5.0 and ours.seq.layers[1].bias.tolist() == [1, 1, 1]
    bad_updates = [
        ({"nope": mx.zeros((1,))}, {"nope": mlx.zeros((1,))}),
        ({"emb": {"weight": 3}}, {"emb": {"weight": 3}}),
        ({"ws": [{}, {}, mx.zeros((1,))]}, {"ws": [{}, {}, mlx.zeros((1,))]}),
        ({"seq": mx.zeros((1,))}, {"seq": mlx.zeros((1,))}),
        # An array's place cannot be skipped with {} when strict (MLX's rule).
        ({"ws": [{}, mx.zeros((1,))]}, {"ws": [{}, mlx.zeros((1,))]}),
    ]
    for bad_ours, bad_theirs in bad_updates:
        raises_like(lambda: ours.update(bad_ours), lambda: theirs.update(bad_theirs))
        # Not strict: unknown keys and extra list items are skipped.
        ours.update(bad_ours, strict=False)
        theirs.update(bad_theirs, strict=False)
    assert flat_keys(ours.parameters()) == mlx_keys(theirs.parameters())
    # A list where the module holds a dict: MLX indexes the dict and fails with KeyError;
    # we say what is wrong (strict) or skip it (not strict).
    with pytest.raises(ValueError, match="where the module holds a Embedding"):
        ours.update({"emb": [1]})
    ours.update({"emb": [1]}, strict=False)
    assert ours.emb.weight == 3 and theirs.emb.weight == 3  # not strict: any value goes in


@needs_mlx
def test_update_modules(nets):
    ours, theirs = nets
    swap = nn.Identity()
    ours.update_modules({"blocks": [swap, {"drop": nn.Dropout(0.3)}], "seq": {}})
    theirs.update_modules({"blocks": [mnn.Identity(), {"drop": mnn.Dropout(0.3)}], "seq": {}})
    assert ours.blocks[0] is swap
    assert repr(ours) == repr(theirs)
    for bad in [{"nope": swap}, {"blocks": [swap, {}, swap]}, {"ws": [nn.Linear(1, 1)]}, 3]:
        bad_theirs = mutils.tree_map(lambda m: mnn.Linear(1, 1), bad,
                                     is_leaf=lambda m: isinstance(m, nn.Module))
        raises_like(lambda: ours.update_modules(bad), lambda: theirs.update_modules(bad_theirs))
    ours.update_modules({"nope": swap}, strict=False)
    assert "nope" not in ours


@needs_mlx
def test_apply_set_dtype_filter_and_map(nets):
    ours, theirs = nets
    for m, lib in ((ours, mx), (theirs, mlx)):
        m.set_dtype(lib.float16)
    assert [(k, str(v.dtype).split(".")[-1]) for k, v in tree_flatten(ours.parameters())] == \
        [(k, str(v.dtype).split(".")[-1]) for k, v in mutils.tree_flatten(theirs.parameters())]
    assert ours.steps.dtype == mx.int32  # integers are left alone by default
    ours.set_dtype(mx.float32, predicate=None)
    assert ours.steps.dtype == mx.float32
    ours.apply(lambda p: p * 0, filter_fn=lambda m, k, v: k != "bias")
    assert ours.blocks[0].weight.abs().sum().item() == 0
    assert ours.blocks[0].bias.abs().sum().item() > 0  # filtered out: untouched
    shapes = ours.filter_and_map(ours.valid_parameter_filter, map_fn=lambda p: p.shape)
    assert shapes["blocks"][0] == {"weight": (3, 2), "bias": (3,)}
    with pytest.raises(RuntimeError, match="filter_and_map"):
        ours.filter_and_map(lambda m, k, v: True, is_leaf_fn=lambda m, k, v: False)


@needs_mlx
@pytest.mark.parametrize("ext", ["npz", "safetensors"])
def test_weights_round_trip_with_mlx(nets, tmp_path, ext):
    ours, theirs = nets
    ours.ws[1] = mx.array([4.0])
    ours.set_dtype(mx.float32)
    path = str(tmp_path / f"ours.{ext}")
    ours.save_weights(path)
    theirs.load_weights(path)
    for (k, a), (_, b) in zip(tree_flatten(ours.parameters()),
                              mutils.tree_flatten(theirs.parameters())):
        assert_same(a, b)
    fresh = make_net(mx, nn)
    back = str(tmp_path / f"theirs.{ext}")
    theirs.save_weights(back)
    assert fresh.load_weights(back) is fresh
    for (k, a), (_, b) in zip(tree_flatten(fresh.parameters()),
                              mutils.tree_flatten(theirs.parameters())):
        assert_same(a, b)
    assert fresh.ws[1].item() == 4.0


@needs_mlx
def test_load_weights_errors_match_mlx(nets, tmp_path):
    ours, theirs = nets
    full_ours = tree_flatten(ours.parameters())
    full_theirs = mutils.tree_flatten(theirs.parameters())
    cases = [
        (full_ours[1:], full_theirs[1:]),  # missing
        (full_ours + [("nope", mx.zeros((1,)))], full_theirs + [("nope", mlx.zeros((1,)))]),
        ([(k, v.reshape(-1) if k == "blocks.0.weight" else v) for k, v in full_ours],
         [(k, v.reshape(-1) if k == "blocks.0.weight" else v) for k, v in full_theirs]),
        ([(k, 1.0 if k == "emb.weight" else v) for k, v in full_ours],
         [(k, 1.0 if k == "emb.weight" else v) for k, v in full_theirs]),
    ]
    for bad_ours, bad_theirs in cases:
        error = raises_like(lambda: ours.load_weights(bad_ours),
                            lambda: theirs.load_weights(bad_theirs))
        assert "[Module.load_weights]" in str(error)
    # Not strict: a partial list loads what it names.
    new = mx.full((5, 3), 2.0)
    ours.load_weights([("emb.weight", new)], strict=False)
    assert ours.emb.weight is new
    assert ours.load_weights([], strict=False) is ours
    raises_like(lambda: ours.save_weights(str(tmp_path / "w.bin")),
                lambda: theirs.save_weights(str(tmp_path / "w.bin")))


def mlp(L):
    return L.Sequential(L.Linear(4, 8), L.ReLU() if hasattr(L, "ReLU") else L.Identity(),
                        L.Linear(8, 8), L.LayerNorm(8), L.Linear(8, 2))


@needs_mlx
def test_value_and_grad_mlp_matches_mlx():
    theirs = mlp(mnn)
    ours = copy_weights(theirs, mlp(nn))
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 4)).astype(np.float32), rng.standard_normal((5, 2))
    y = y.astype(np.float32)

    def loss_ours(a, b):
        return mx.mean(mx.square(ours(a) - b))

    def loss_theirs(a, b):
        return mlx.mean(mlx.square(theirs(a) - b))

    value, grads = nn.value_and_grad(ours, loss_ours)(mx.array(x), mx.array(y))
    value_t, grads_t = mnn.value_and_grad(theirs, loss_theirs)(mlx.array(x), mlx.array(y))
    assert_same(value, value_t)
    assert flat_keys(grads) == mlx_keys(grads_t)
    for (k, g), (_, g_t) in zip(tree_flatten(grads), mutils.tree_flatten(grads_t)):
        assert_same(g, g_t, rtol=1e-4, atol=1e-5)
    # The model keeps concrete arrays afterwards, not the transform's placeholders.
    assert_same(ours(mx.array(x)), theirs(mlx.array(x)), rtol=1e-5, atol=1e-5)

    ours.freeze(keys="bias")
    theirs.freeze(keys="bias")
    _, grads = nn.value_and_grad(ours, loss_ours)(mx.array(x), mx.array(y))
    _, grads_t = mnn.value_and_grad(theirs, loss_theirs)(mlx.array(x), mlx.array(y))
    assert flat_keys(grads) == mlx_keys(grads_t)
    assert "layers.0.bias" not in flat_keys(grads)


@needs_mlx
def test_value_and_grad_training_loop_with_buffers():
    """BatchNorm writes its running statistics during the traced call; they must come out
    concrete and equal to MLX's after a few plain SGD steps."""
    theirs = mnn.Sequential(mnn.Linear(3, 4), mnn.BatchNorm(4), mnn.Linear(4, 1))
    ours = copy_weights(theirs, nn.Sequential(nn.Linear(3, 4), nn.BatchNorm(4), nn.Linear(4, 1)))
    x = np.random.default_rng(1).standard_normal((6, 3)).astype(np.float32)
    step_ours = nn.value_and_grad(ours, lambda a: ours(a).sum())
    step_theirs = mnn.value_and_grad(theirs, lambda a: theirs(a).sum())
    for _ in range(3):
        _, g = step_ours(mx.array(x))
        _, g_t = step_theirs(mlx.array(x))
        ours.update(tree_map(lambda p, d: p - 0.1 * d, ours.trainable_parameters(), g))
        theirs.update(mutils.tree_map(lambda p, d: p - 0.1 * d,
                                      theirs.trainable_parameters(), g_t))
    for (k, a), (_, b) in zip(tree_flatten(ours.parameters()),
                              mutils.tree_flatten(theirs.parameters())):
        assert_same(a, b, rtol=1e-4, atol=1e-5)


@needs_mlx
def test_checkpoint_gradients_match_mlx():
    theirs = mlp(mnn)
    ours = copy_weights(theirs, mlp(nn))
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    ck_ours, ck_theirs = checkpoint(ours), mnn.utils.checkpoint(theirs)
    assert_same(ck_ours(mx.array(x)), ck_theirs(mlx.array(x)), rtol=1e-5, atol=1e-6)
    _, g = nn.value_and_grad(ours, lambda a: ck_ours(a).sum())(mx.array(x))
    _, g_t = mnn.value_and_grad(theirs, lambda a: ck_theirs(a).sum())(mlx.array(x))
    for (k, a), (_, b) in zip(tree_flatten(g), mutils.tree_flatten(g_t)):
        assert_same(a, b, rtol=1e-4, atol=1e-5)
    # With an explicit function and an input gradient too.
    square = checkpoint(ours, lambda a: mx.square(ours(a)).sum())
    grad_x = mx.grad(square)(mx.array(x))
    grad_x_t = mlx.grad(mnn.utils.checkpoint(theirs, lambda a: mlx.square(theirs(a)).sum()))(
        mlx.array(x))
    assert_same(grad_x, grad_x_t, rtol=1e-4, atol=1e-5)


def test_value_and_grad_under_compile():
    model = nn.Linear(3, 2)
    loss_and_grad = nn.value_and_grad(model, lambda a: model(a).sum())
    x = mx.ones((4, 3))
    expected_value, expected = loss_and_grad(x)
    value, grads = mx.compile(lambda a: loss_and_grad(a))(x)
    assert value.item() == pytest.approx(expected_value.item(), rel=1e-6)
    assert np.allclose(np.array(grads["weight"]), np.array(expected["weight"]))
    assert isinstance(model.weight, mx.array) and model.weight.shape == (2, 3)


@needs_mlx
def test_average_gradients_single_process():
    grads = {"a": [mx.ones((2,))], "b": mx.zeros((1,))}
    assert nn.average_gradients(grads) is grads
    theirs = {"a": [mlx.ones((2,))]}
    assert mnn.average_gradients(theirs) is theirs
    import inspect
    assert list(inspect.signature(nn.average_gradients).parameters) == \
        list(inspect.signature(mnn.average_gradients).parameters)


@needs_mlx
def test_signatures_match_mlx():
    import inspect
    for name in ["update", "update_modules", "apply", "apply_to_modules", "freeze", "unfreeze",
                 "train", "set_dtype", "load_weights", "save_weights", "filter_and_map"]:
        ours = inspect.signature(getattr(nn.Module, name))
        theirs = inspect.signature(getattr(mnn.Module, name))
        assert [(p.name, p.kind, p.default if not callable(p.default) else "fn")
                for p in ours.parameters.values()] == \
            [(p.name, p.kind, p.default if not callable(p.default) else "fn")
             for p in theirs.parameters.values()], name


def test_module_is_a_tree_for_transforms():
    model = nn.Linear(3, 2)
    x = mx.ones((3,))
    grads = mx.grad(lambda p: (p["weight"] @ x + p["bias"]).sum())(model.parameters())
    assert set(grads) == {"weight", "bias"} and grads["weight"].shape == (2, 3)
    batched = mx.vmap(model)(mx.ones((5, 3)))
    assert batched.shape == (5, 2)


def test_copy_and_independent_instances():
    import copy
    a = nn.Linear(2, 2)
    b = copy.deepcopy(a)
    assert isinstance(b, nn.Linear) and b.training and b._no_grad == set()
    b.weight = mx.zeros((2, 2))
    assert a.weight.abs().sum().item() > 0
    a.freeze()
    assert nn.Linear(2, 2).trainable_parameters().keys() == {"weight", "bias"}
