"""mlxpy.utils against real MLX's mlx.utils on many trees: nested lists, tuples and dicts,
namedtuples, empty containers, None and other non-array leaves, and nn.Module trees."""
import collections
import doctest

import numpy as np
import pytest

import mlxpy.core as mx
import mlxpy.utils as ours
from oracle import mlx, needs_mlx, raises_like

pytestmark = needs_mlx

theirs = pytest.importorskip("mlx.utils") if mlx is not None else None

Point = collections.namedtuple("Point", ["x", "y"])


class Tagged(list):
    """A list subclass: tree functions rebuild it with its own type."""


TREES = [
    1,
    None,
    "leaf",
    [],
    {},
    (),
    [[[0]]],
    [1, (2, 3), {"b": None, "c": "s"}],
    {"a": [1, 2, 3], "b": {"c": (4, 5), "d": []}, "e": {}},
    {"model": [{"w": 0, "b": 1}, {"w": 2, "b": 3}], "step": 7},
    (None, [None, {"x": None}], ()),
    [[], [[]], {"k": {}}, ((),)],
    {"p": Point(1, [2, 3]), "t": Tagged([4, 5])},
    {1: "int key", "nested": {2.5: [1]}},
    [{"deep": [[[[{"leaf": i}]]]]} for i in range(3)],
]


def test_doctests():
    result = doctest.testmod(ours, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_public_names():
    assert sorted(ours.__all__) == sorted(n for n in dir(theirs) if n.startswith("tree_"))


def _same(a, b):
    """Equal trees, with equal container types all the way down."""
    assert type(a) is type(b), f"{type(a).__name__} != {type(b).__name__}"
    if isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b) or set(a) == set(b)
        for key in a:
            _same(a[key], b[key])
    else:
        assert a == b


@pytest.mark.parametrize("tree", TREES, ids=range(len(TREES)))
def test_flatten_unflatten_map_reduce(tree):
    _same(ours.tree_flatten(tree), theirs.tree_flatten(tree))
    for prefix in ("", ".model", "x"):
        _same(ours.tree_flatten(tree, prefix), theirs.tree_flatten(tree, prefix))
    _same(ours.tree_flatten(tree, destination={}), theirs.tree_flatten(tree, destination={}))
    flat = theirs.tree_flatten(tree)
    if len({k for k, _ in flat}) == len(flat):
        _same(ours.tree_unflatten(flat), theirs.tree_unflatten(flat))
        _same(ours.tree_unflatten(dict(flat)), theirs.tree_unflatten(dict(flat)))

    def describe(*xs):
        return repr(xs)
    _same(ours.tree_map(describe, tree), theirs.tree_map(describe, tree))
    _same(ours.tree_map(describe, tree, tree), theirs.tree_map(describe, tree, tree))
    _same(ours.tree_map_with_path(describe, tree), theirs.tree_map_with_path(describe, tree))
    _same(ours.tree_map_with_path(describe, tree, path="root"),
          theirs.tree_map_with_path(describe, tree, path="root"))

    def collect(acc, x):
        return acc + [x]
    _same(ours.tree_reduce(collect, tree, []), theirs.tree_reduce(collect, tree, []))
    def pair_up(a, x):
        return (a, x)
    _same(ours.tree_reduce(pair_up, tree), theirs.tree_reduce(pair_up, tree))


@pytest.mark.parametrize("tree", TREES[6:], ids=range(6, len(TREES)))
def test_is_leaf(tree):
    def small_list(x):
        return isinstance(x, list) and len(x) <= 2

    def dict_with_b(x):
        return isinstance(x, dict) and "b" in x

    for is_leaf in (small_list, dict_with_b):
        _same(ours.tree_flatten(tree, is_leaf=is_leaf),
              theirs.tree_flatten(tree, is_leaf=is_leaf))
        _same(ours.tree_map(repr, tree, is_leaf=is_leaf),
              theirs.tree_map(repr, tree, is_leaf=is_leaf))
        _same(ours.tree_map_with_path(lambda p, x: (p, repr(x)), tree, is_leaf=is_leaf),
              theirs.tree_map_with_path(lambda p, x: (p, repr(x)), tree, is_leaf=is_leaf))
        _same(ours.tree_reduce(lambda a, x: a + [repr(x)], tree, [], is_leaf=is_leaf),
              theirs.tree_reduce(lambda a, x: a + [repr(x)], tree, [], is_leaf=is_leaf))


FLAT = [
    [],
    {},
    [("", 42)],
    [("hello.world", 42)],
    [("0", "a"), ("2", "c")],
    [("3", "d"), ("1", "b")],
    [("01", "x"), ("1", "y")],
    [("0", 1), ("a", 2)],
    [("", 1), ("a", 2)],
    [("layers.1.w", 2), ("layers.0.w", 1), ("layers.0.b", 0), ("head", 3)],
    [("a.0.0", 1), ("a.0.1", 2), ("a.1", 3), ("b.x.y.z", None)],
    [("10", "ten"), ("9", "nine")],
    {"m.0": 0, "m.1": 1, "n": {"not": "flattened"}},
]


@pytest.mark.parametrize("flat", FLAT, ids=range(len(FLAT)))
def test_unflatten(flat):
    _same(ours.tree_unflatten(flat), theirs.tree_unflatten(flat))


def test_unflatten_round_trips_arrays():
    tree = {"layers": [{"weight": mx.ones((2, 3)), "bias": mx.zeros((2,))}],
            "scale": mx.array(2.0)}
    back = ours.tree_unflatten(ours.tree_flatten(tree))
    assert list(back) == ["layers", "scale"]
    assert back["layers"][0]["weight"] is tree["layers"][0]["weight"]
    assert back["scale"] is tree["scale"]


def test_unflatten_duplicate_keys_say_so():
    # MLX recurses without end on these; mlxpy names the key.
    with pytest.raises(ValueError, match="'a.b'"):
        ours.tree_unflatten([("a.b", 1), ("a.b", 2)])
    with pytest.raises(TypeError, match="tree_unflatten"):
        ours.tree_unflatten([(0, 1)])


def test_flatten_destination():
    tree = {"a": [1, 2], "b": {"c": 3}}
    dest = [("existing", 0)]
    assert ours.tree_flatten(tree, destination=dest) is dest
    _same(dest, theirs.tree_flatten(tree, destination=[("existing", 0)]))
    d = {"a.0": "old"}
    assert ours.tree_flatten(tree, destination=d) is d
    _same(d, theirs.tree_flatten(tree, destination={"a.0": "old"}))
    raises_like(lambda: ours.tree_flatten(tree, destination=()),
                lambda: theirs.tree_flatten(tree, destination=()))
    raises_like(lambda: ours.tree_flatten([], destination="x"),
                lambda: theirs.tree_flatten([], destination="x"))


def test_flatten_is_not_limited_by_recursion_depth():
    tree = leaf = [0]
    for _ in range(5000):
        tree = [tree]
    flat = ours.tree_flatten(tree)
    assert len(flat) == 1 and flat[0][1] == 0 and flat[0][0] == ".".join(["0"] * 5001)
    assert leaf == [0]


def test_map_with_rest_trees():
    tree = {"a": [1, 2], "b": (3,)}
    rest = {"a": [10, 20], "b": (30,), "extra": "ignored"}
    _same(ours.tree_map(lambda x, y: x + y, tree, rest),
          theirs.tree_map(lambda x, y: x + y, tree, rest))
    # A leaf of `tree` receives the whole subtree of the other trees at that place.
    _same(ours.tree_map(lambda x, y: (x, y), {"a": 1}, {"a": [1, 2]}),
          theirs.tree_map(lambda x, y: (x, y), {"a": 1}, {"a": [1, 2]}))
    _same(ours.tree_map_with_path(lambda p, x, y: (p, x * y), tree, rest),
          theirs.tree_map_with_path(lambda p, x, y: (p, x * y), tree, rest))
    raises_like(lambda: ours.tree_map(lambda x, y: x, {"a": 1, "z": 2}, {"a": 1}),
                lambda: theirs.tree_map(lambda x, y: x, {"a": 1, "z": 2}, {"a": 1}))
    raises_like(lambda: ours.tree_map(lambda x, y: x, [1, 2, 3], [1]),
                lambda: theirs.tree_map(lambda x, y: x, [1, 2, 3], [1]))


def test_map_over_arrays():
    tree = {"w": mx.ones((2,)), "b": [mx.array(3.0), None]}
    out = ours.tree_map(lambda x: x if x is None else x * 2, tree)
    np.testing.assert_array_equal(np.array(out["w"]), [2, 2])
    assert out["b"][0].item() == 6.0 and out["b"][1] is None


def test_reduce():
    tree = {"a": [1, 2, 3], "b": [4, 5]}
    assert ours.tree_reduce(lambda a, x: a + x, tree, 0) == 15
    assert ours.tree_reduce(lambda a, x: a + x, tree) == 15
    for t in ([], {}, [[], {}]):
        assert ours.tree_reduce(lambda a, x: a + x, t) == theirs.tree_reduce(lambda a, x: a + x, t)
        assert ours.tree_reduce(lambda a, x: a + x, t, 7) == 7
    # A None accumulator restarts the fold at the next leaf, as in MLX.
    def drop_after_two(acc, x):
        return None if x == 2 else acc + x
    assert ours.tree_reduce(drop_after_two, [1, 2, 3, 4]) == \
        theirs.tree_reduce(drop_after_two, [1, 2, 3, 4])
    arrays = [mx.array(1.0), {"x": mx.array(2.0)}]
    assert ours.tree_reduce(lambda a, x: a + x, arrays).item() == 3.0


MERGES = [
    ({"a": 1}, {"b": 2}),
    ({"a": {"x": 1}}, {"a": {"y": 2}, "c": [3]}),
    ([1, None, 3], [None, 2]),
    ((1, None), (None, 2, 3)),
    (Point(1, None), Point(None, 2)),
    ([], []),
    ({}, {}),
    ((), ()),
    ([], {"a": 1}),
    ({"a": []}, {"a": [1]}),
    (None, [1]),
    ({"k": [1, {}]}, {"k": [None, {"z": 0}]}),
]


@pytest.mark.parametrize("a,b", MERGES, ids=range(len(MERGES)))
def test_merge(a, b):
    _same(ours.tree_merge(a, b), theirs.tree_merge(a, b))


def test_merge_conflicts():
    for a, b in [({"a": 1}, {"a": 2}), ([1], [2]), ({"a": [1]}, {"a": 3}), ([], {}),
                 ((), []), (None, None), ({"a": {}}, {"a": None})]:
        raises_like(lambda: ours.tree_merge(a, b), lambda: theirs.tree_merge(a, b))
    _same(ours.tree_merge({"a": 1, "b": [2]}, {"a": 10, "b": [20]}, lambda x, y: x + y),
          theirs.tree_merge({"a": 1, "b": [2]}, {"a": 10, "b": [20]}, lambda x, y: x + y))
    _same(ours.tree_merge({"a": None}, {"a": []}, lambda x, y: "both missing"),
          theirs.tree_merge({"a": None}, {"a": []}, lambda x, y: "both missing"))


def test_modules_are_tree_nodes():
    import mlx.nn as mnn
    import mlxpy.nn as nn

    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    oracle = mnn.Sequential(mnn.Linear(3, 4), mnn.ReLU(), mnn.Linear(4, 2))
    for tree, ref in [(model.parameters(), oracle.parameters()), (model, oracle),
                      (model.trainable_parameters(), oracle.trainable_parameters())]:
        flat, ref_flat = ours.tree_flatten(tree), theirs.tree_flatten(ref)
        assert [k for k, _ in flat] == [k for k, _ in ref_flat]
        assert [tuple(v.shape) for _, v in flat if isinstance(v, mx.array)] == \
            [tuple(v.shape) for _, v in ref_flat if isinstance(v, mlx.array)]
    shapes = ours.tree_map(lambda x: x.shape, model.parameters())
    ref_shapes = theirs.tree_map(lambda x: x.shape, oracle.parameters())
    _same(shapes, ref_shapes)
    # A Module maps to a plain dict, as in MLX.
    assert type(ours.tree_map(lambda x: x, model)) is dict
    count = ours.tree_reduce(lambda acc, x: acc + x.size, model.parameters(), 0)
    assert count == theirs.tree_reduce(lambda acc, x: acc + x.size, oracle.parameters(), 0)
    # Flatten, transform, unflatten, update: the round trip MLX programs use.
    doubled = ours.tree_unflatten([(k, v * 2) for k, v in ours.tree_flatten(model.parameters())])
    before = np.array(model.layers[0].weight)
    model.update(doubled)
    np.testing.assert_allclose(np.array(model.layers[0].weight), before * 2)
