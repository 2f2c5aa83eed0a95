"""Core layers and nn.init against mlx.nn: same weights -> same outputs and gradients; same
seed -> same initial parameters and dropout masks; same reprs and error types."""
import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.nn as nn
from mlxpy.utils import tree_flatten
from oracle import assert_same, mlx, needs_mlx, raises_like

if mlx is not None:
    import mlx.nn as mnn
    import mlx.utils as mutils

pytestmark = needs_mlx

# (constructor arguments, input shapes, input kind) per layer; the same call builds both.
LAYERS = {
    "linear": (lambda L: L.Linear(5, 3), [(4, 5)]),
    "linear_nobias": (lambda L: L.Linear(5, 3, bias=False), [(2, 4, 5)]),
    "linear_vector": (lambda L: L.Linear(5, 3), [(5,)]),
    "bilinear": (lambda L: L.Bilinear(3, 4, 5), [(6, 3), (6, 4)]),
    "bilinear_batched": (lambda L: L.Bilinear(3, 2, 4, bias=False), [(2, 3, 3), (2, 3, 2)]),
    "identity": (lambda L: L.Identity(3, foo=1), [(2, 3)]),
    "layernorm": (lambda L: L.LayerNorm(6), [(3, 6)]),
    "layernorm_nobias": (lambda L: L.LayerNorm(6, eps=1e-3, bias=False), [(2, 3, 6)]),
    "layernorm_plain": (lambda L: L.LayerNorm(6, affine=False), [(3, 6)]),
    "rmsnorm": (lambda L: L.RMSNorm(6), [(2, 3, 6)]),
    "groupnorm": (lambda L: L.GroupNorm(2, 6), [(2, 4, 6)]),
    "groupnorm_torch": (lambda L: L.GroupNorm(3, 6, pytorch_compatible=True), [(2, 2, 3, 6)]),
    "groupnorm_plain": (lambda L: L.GroupNorm(3, 6, affine=False), [(2, 5, 6)]),
    "instancenorm": (lambda L: L.InstanceNorm(4), [(2, 3, 5, 4)]),
    "instancenorm_affine": (lambda L: L.InstanceNorm(4, affine=True), [(2, 5, 4)]),
    "batchnorm": (lambda L: L.BatchNorm(4), [(6, 4)]),
    "batchnorm_nlc": (lambda L: L.BatchNorm(4, momentum=0.3), [(3, 5, 4)]),
    "batchnorm_nhwc": (lambda L: L.BatchNorm(4, affine=False), [(2, 3, 3, 4)]),
    "batchnorm_untracked": (lambda L: L.BatchNorm(4, track_running_stats=False), [(5, 4)]),
    "sequential": (lambda L: L.Sequential(L.Linear(4, 6), L.LayerNorm(6), L.Linear(6, 2)),
                   [(3, 4)]),
}


def randomize(module, seed):
    """Give every float parameter random values (so ones/zeros init do not hide bugs)."""
    rng = np.random.default_rng(seed)
    module.update(mutils.tree_map(
        lambda p: mlx.array(rng.standard_normal(p.shape).astype(np.float32)),
        module.parameters()))
    return module


def copy_weights(theirs, ours):
    ours.load_weights([(k, mx.array(np.array(v))) for k, v in
                       mutils.tree_flatten(theirs.parameters())])
    return ours


def same_trees(ours, theirs, rtol=1e-5, atol=1e-5):
    flat_ours, flat_theirs = tree_flatten(ours), mutils.tree_flatten(theirs)
    assert [k for k, _ in flat_ours] == [k for k, _ in flat_theirs]
    for (k, a), (_, b) in zip(flat_ours, flat_theirs):
        assert_same(a, b, rtol=rtol, atol=atol)


def pair(name, seed=0):
    make, shapes = LAYERS[name]
    theirs = randomize(make(mnn), seed)
    ours = copy_weights(theirs, make(nn))
    rng = np.random.default_rng(seed + 1)
    inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return ours, theirs, inputs


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_forward_and_gradients_match_mlx(name):
    ours, theirs, inputs = pair(name)
    assert [k for k, _ in tree_flatten(ours.parameters())] == \
        [k for k, _ in mutils.tree_flatten(theirs.parameters())]
    assert repr(ours) == repr(theirs)
    x_ours = [mx.array(a) for a in inputs]
    x_theirs = [mlx.array(a) for a in inputs]
    assert_same(ours(*x_ours), theirs(*x_theirs), rtol=1e-4, atol=1e-5)

    def loss_ours(*xs):
        return mx.sum(mx.sin(ours(*xs)))

    def loss_theirs(*xs):
        return mlx.sum(mlx.sin(theirs(*xs)))

    # (MLX's grad refuses a tree without arrays, so parameter-free layers skip this part.)
    if mutils.tree_flatten(theirs.trainable_parameters()):
        value, grads = nn.value_and_grad(ours, loss_ours)(*x_ours)
        value_t, grads_t = mnn.value_and_grad(theirs, loss_theirs)(*x_theirs)
        assert_same(value, value_t, rtol=1e-4, atol=1e-4)
        same_trees(grads, grads_t, rtol=1e-4, atol=1e-4)
    # Input gradients as well.
    argnums = tuple(range(len(inputs)))
    assert_same(mx.grad(loss_ours, argnums=argnums)(*x_ours),
                mlx.grad(loss_theirs, argnums=argnums)(*x_theirs), rtol=1e-4, atol=1e-4)
    # Both sides ran in training mode the same number of times: buffers agree too.
    same_trees(ours.parameters(), theirs.parameters())


@pytest.mark.parametrize("name", ["layernorm", "rmsnorm", "groupnorm", "batchnorm", "linear"])
def test_half_precision_inputs(name):
    ours, theirs, inputs = pair(name, seed=3)
    x = inputs[0]
    out = ours(mx.array(x).astype(mx.float16))
    expected = theirs(mlx.array(x).astype(mlx.float16))
    assert_same(out, expected, rtol=1e-2, atol=1e-2)
    ours.set_dtype(mx.float16)
    theirs.set_dtype(mlx.float16)
    assert_same(ours(mx.array(x).astype(mx.float16)),
                theirs(mlx.array(x).astype(mlx.float16)), rtol=1e-2, atol=1e-2)


def test_batchnorm_running_stats_and_eval():
    ours, theirs, (x,) = pair("batchnorm_nlc", seed=5)
    for step in range(3):
        data = x * (step + 1)
        assert_same(ours(mx.array(data)), theirs(mlx.array(data)), rtol=1e-4, atol=1e-5)
    same_trees(ours.parameters(), theirs.parameters())
    ours.eval()
    theirs.eval()
    assert_same(ours(mx.array(x)), theirs(mlx.array(x)), rtol=1e-4, atol=1e-5)
    same_trees(ours.parameters(), theirs.parameters())  # eval leaves the statistics alone
    assert sorted(ours.trainable_parameters()) == ["bias", "weight"]
    assert sorted(ours.unfreeze().trainable_parameters()) == ["bias", "weight"]
    # Without running statistics, evaluation mode still normalizes with the batch's.
    ours, theirs, (x,) = pair("batchnorm_untracked")
    assert "running_mean" not in ours
    ours.eval()
    theirs.eval()
    assert_same(ours(mx.array(x)), theirs(mlx.array(x)), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make", [
    lambda L: L.Linear(7, 5), lambda L: L.Linear(3, 4, bias=False), lambda L: L.Bilinear(3, 4, 5),
    lambda L: L.Embedding(9, 6), lambda L: L.Sequential(L.Linear(2, 3), L.Linear(3, 1))])
def test_initial_parameters_match_mlx_after_same_seed(make):
    mx.random.seed(11)
    mlx.random.seed(11)
    ours, theirs = make(nn), make(mnn)
    # Uniform draws are bit-exact; normal ones (through erfinv) agree to a few ulps.
    same_trees(ours.parameters(), theirs.parameters(), rtol=1e-6, atol=1e-6)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("make", [
    lambda L: L.LayerNorm(4), lambda L: L.LayerNorm(4, bias=False),
    lambda L: L.LayerNorm(4, affine=False), lambda L: L.RMSNorm(4), lambda L: L.GroupNorm(2, 4),
    lambda L: L.InstanceNorm(4, affine=True), lambda L: L.BatchNorm(4),
    lambda L: L.BatchNorm(4, affine=False, track_running_stats=False)])
def test_norm_parameters_and_repr(make):
    ours, theirs = make(nn), make(mnn)
    same_trees(ours.parameters(), theirs.parameters(), rtol=0, atol=0)
    assert [k for k, _ in tree_flatten(ours.trainable_parameters())] == \
        [k for k, _ in mutils.tree_flatten(theirs.trainable_parameters())]
    assert repr(ours) == repr(theirs)


def test_embedding_lookup_and_as_linear():
    theirs = randomize(mnn.Embedding(10, 4), 0)
    ours = copy_weights(theirs, nn.Embedding(10, 4))
    ids = np.array([[1, 2, 9], [0, 0, 3]], dtype=np.int32)
    assert_same(ours(mx.array(ids)), theirs(mlx.array(ids)))
    h = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    assert_same(ours.as_linear(mx.array(h)), theirs.as_linear(mlx.array(h)), rtol=1e-5)
    _, g = nn.value_and_grad(ours, lambda i: ours(i).sum())(mx.array(ids))
    _, g_t = mnn.value_and_grad(theirs, lambda i: theirs(i).sum())(mlx.array(ids))
    same_trees(g, g_t)
    assert repr(ours) == repr(theirs) == "Embedding(10, 4)"


@pytest.mark.parametrize("p", [0.5, 0.1, 0.9])
@pytest.mark.parametrize("layer,shape", [("Dropout", (4, 6)), ("Dropout2d", (2, 3, 3, 5)),
                                         ("Dropout2d", (3, 3, 5)), ("Dropout3d", (2, 2, 3, 3, 5)),
                                         ("Dropout3d", (2, 3, 3, 5))])
def test_dropout_masks_match_mlx_after_same_seed(layer, shape, p):
    ours, theirs = getattr(nn, layer)(p), getattr(mnn, layer)(p)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    mx.random.seed(4)
    mlx.random.seed(4)
    assert_same(ours(mx.array(x)), theirs(mlx.array(x)))
    # Gradients go through the same mask.
    mx.random.seed(5)
    mlx.random.seed(5)
    assert_same(mx.grad(lambda a: ours(a).sum())(mx.array(x)),
                mlx.grad(lambda a: theirs(a).sum())(mlx.array(x)))
    ours.eval()
    out = ours(mx.array(x))
    assert np.array_equal(np.array(out), x)


def test_dropout_statistics_and_zero_p():
    x = mx.ones((200, 100))
    y = np.array(nn.Dropout(0.3)(x))
    assert abs((y == 0).mean() - 0.3) < 0.02
    assert np.allclose(y[y != 0], 1 / 0.7)
    channels = np.array(nn.Dropout2d(0.5)(mx.ones((8, 4, 4, 64))))
    assert (channels.min(axis=(1, 2)) == channels.max(axis=(1, 2))).all()  # whole channels
    assert np.array_equal(np.array(nn.Dropout(0.0)(x)), np.array(x))


@pytest.mark.parametrize("name,args", [
    ("constant", (0.25,)), ("constant", (3, mx.int32)), ("normal", ()), ("normal", (1.0, 0.5)),
    ("uniform", ()), ("uniform", (-2.0, 3.0)), ("identity", ()), ("glorot_normal", ()),
    ("glorot_uniform", ()), ("he_normal", ()), ("he_uniform", ()), ("sparse", (0.5,)),
    ("sparse", (0.25, 1.0, 2.0)), ("orthogonal", ()), ("orthogonal", (2.0,)),
    ("uniform", (0.0, 1.0, mx.float16)), ("normal", (0.0, 1.0, mx.bfloat16))])
@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (6, 2)])
def test_init_matches_mlx_after_same_seed(name, args, shape):
    if name == "identity" and shape[0] != shape[1]:
        shape = (3, 3)
    to_theirs = {mx.int32: mlx.int32, mx.float16: mlx.float16, mx.bfloat16: mlx.bfloat16}
    args_theirs = tuple(to_theirs.get(a, a) if isinstance(a, mx.Dtype) else a for a in args)
    mx.random.seed(7)
    mlx.random.seed(7)
    ours = getattr(nn.init, name)(*args)(mx.zeros(shape))
    theirs = getattr(mnn.init, name)(*args_theirs)(mlx.zeros(shape))
    assert_same(ours, theirs, rtol=1e-5, atol=1e-6)
    if name == "sparse":
        assert np.array_equal(np.array(ours) == 0, np.array(theirs) == 0)


@pytest.mark.parametrize("name", ["glorot_normal", "glorot_uniform", "he_normal", "he_uniform"])
@pytest.mark.parametrize("kwargs", [{}, {"gain": 3.0}, {"mode": "fan_out"},
                                    {"mode": "fan_out", "gain": 0.5}])
def test_fan_initializers_with_modes_and_gain(name, kwargs):
    if "mode" in kwargs and name.startswith("glorot"):
        kwargs = {"gain": kwargs.get("gain", 2.0)}
    mx.random.seed(8)
    mlx.random.seed(8)
    ours = getattr(nn.init, name)()(mx.zeros((6, 3, 2, 5)), **kwargs)  # conv-like weight
    theirs = getattr(mnn.init, name)()(mlx.zeros((6, 3, 2, 5)), **kwargs)
    assert_same(ours, theirs, rtol=1e-5, atol=1e-6)


def test_init_statistics():
    mx.random.seed(0)
    w = np.array(nn.init.he_normal()(mx.zeros((400, 250))))
    assert abs(w.std() - 1 / np.sqrt(250)) < 0.002
    w = np.array(nn.init.glorot_uniform()(mx.zeros((300, 200)), gain=2.0))
    limit = 2.0 * np.sqrt(6 / 500)
    assert w.max() <= limit and w.min() >= -limit and w.max() > 0.95 * limit
    q = np.array(nn.init.orthogonal()(mx.zeros((3, 6))))
    assert np.allclose(q @ q.T, np.eye(3), atol=1e-5)


def test_init_errors_match_mlx():
    cases = [
        (lambda lib, L: L.init.identity()(lib.zeros((2, 3)))),
        (lambda lib, L: L.init.glorot_normal()(lib.zeros((3,)))),
        (lambda lib, L: L.init.he_uniform()(lib.zeros((3,)))),
        (lambda lib, L: L.init.he_normal()(lib.zeros((3, 3)), mode="fan_avg")),
        (lambda lib, L: L.init.sparse(0.5)(lib.zeros((2, 2, 2)))),
        (lambda lib, L: L.init.orthogonal()(lib.zeros((4,)))),
    ]
    for case in cases:
        raises_like(lambda: case(mx, nn), lambda: case(mlx, mnn))


def test_layer_errors_match_mlx():
    cases = [
        lambda lib, L: L.Dropout(1.0), lambda lib, L: L.Dropout(-0.1),
        lambda lib, L: L.Dropout2d(1.5), lambda lib, L: L.Dropout3d(-1),
        lambda lib, L: L.Dropout2d(0.5)(lib.zeros((2, 3))),
        lambda lib, L: L.Dropout2d(0.5).eval()(lib.zeros((1, 2, 2, 2, 3))),
        lambda lib, L: L.Dropout3d(0.5)(lib.zeros((2, 3, 4))),
        lambda lib, L: L.LayerNorm(3, eps=0.0), lambda lib, L: L.RMSNorm(3, eps=-1.0),
        lambda lib, L: L.GroupNorm(3, 4), lambda lib, L: L.GroupNorm(0, 4),
        lambda lib, L: L.GroupNorm(2, 0), lambda lib, L: L.GroupNorm(2, 4, eps=0),
        lambda lib, L: L.InstanceNorm(3, eps=0),
        lambda lib, L: L.InstanceNorm(3)(lib.zeros((2, 3))),
        lambda lib, L: L.BatchNorm(3, eps=0),
        lambda lib, L: L.BatchNorm(3)(lib.zeros((3,))),
        lambda lib, L: L.BatchNorm(3)(lib.zeros((1, 2, 2, 2, 3))),
        lambda lib, L: L.BatchNorm(3)(lib.zeros((1, 3))),  # one value per channel
        lambda lib, L: L.Linear(3, 2)(lib.zeros((2, 4))),
        lambda lib, L: L.Linear(3, 2, bias=False)(lib.zeros((2, 4))),
        lambda lib, L: L.Sequential(L.Linear(3, 2), L.Linear(3, 2))(lib.zeros((1, 3))),
    ]
    for i, case in enumerate(cases):
        error = raises_like(lambda: case(mx, nn), lambda: case(mlx, mnn))
        assert str(error), i


def test_layer_error_messages_name_their_source():
    with pytest.raises(ValueError, match=r"\[Dropout2d\].*3 or 4"):
        nn.Dropout2d()(mx.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"\[GroupNorm\].*divisible"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match=r"\[BatchNorm\].*more than one value"):
        nn.BatchNorm(2)(mx.zeros((1, 2)))
    assert nn.BatchNorm(2).eval()(mx.ones((1, 2))).shape == (1, 2)  # fine outside training


def test_layers_compile_and_vmap():
    model = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Dropout(0.0), nn.Linear(8, 2))
    x = mx.array(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32))
    expected = np.array(model(x))
    assert np.allclose(np.array(mx.compile(model)(x)), expected, atol=1e-6)
    assert np.allclose(np.array(mx.vmap(model)(x)), expected, atol=1e-6)
