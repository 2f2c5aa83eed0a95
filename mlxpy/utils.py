"""Pytree utilities with the semantics of MLX's `mlx.utils`.

A tree is any nesting of lists, tuples and dicts (subclasses included, so an `nn.Module`,
which is a dict, is a tree node); everything else is a leaf. Flat keys join the path with
dots: `"layers.0.weight"`.

>>> from mlxpy.utils import tree_flatten, tree_unflatten
>>> flat = tree_flatten({"layers": [{"w": 1}, {"w": 2}]})
>>> flat
[('layers.0.w', 1), ('layers.1.w', 2)]
>>> tree_unflatten(flat)
{'layers': [{'w': 1}, {'w': 2}]}
"""
from collections import defaultdict
from itertools import zip_longest

from .core.transforms.tree import tree_leaves

__all__ = ["tree_map", "tree_map_with_path", "tree_flatten", "tree_unflatten", "tree_reduce",
           "tree_merge"]


def _rebuild(like, children):
    """A sequence of `like`'s type holding `children` (namedtuples take them as fields)."""
    kind = type(like)
    return kind(*children) if hasattr(like, "_fields") else kind(children)


def _join(path, name):
    """The dotted path of child `name` under `path` (a falsy path is the root)."""
    return f"{path}.{name}" if path else f"{name}"


def tree_map(fn, tree, *rest, is_leaf=None):
    """`tree` with every leaf `x` replaced by `fn(x, *matching leaves of rest)`.

    The trees in `rest` must hold at least the structure of `tree`: at each leaf of
    `tree` their whole subtree there is passed to `fn`. Dicts come back as plain dicts;
    lists and tuples keep their type. `is_leaf(node)` returning True stops the descent.

    >>> import mlxpy.core as mx
    >>> from mlxpy.utils import tree_map
    >>> tree_map(lambda a, b: a + b, {"w": [1, 2]}, {"w": [10, 20]})
    {'w': [11, 22]}
    >>> tree_map(lambda x: x * 2, (mx.array(1.0),))
    (array(2, dtype=float32),)
    """
    if is_leaf is not None and is_leaf(tree):
        return fn(tree, *rest)
    if isinstance(tree, (list, tuple)):
        return _rebuild(tree, [tree_map(fn, child, *(r[i] for r in rest), is_leaf=is_leaf)
                               for i, child in enumerate(tree)])
    if isinstance(tree, dict):
        return {key: tree_map(fn, child, *(r[key] for r in rest), is_leaf=is_leaf)
                for key, child in tree.items()}
    return fn(tree, *rest)


def tree_map_with_path(fn, tree, *rest, is_leaf=None, path=None):
    """Like `tree_map`, but `fn` gets the leaf's dotted path first: `fn(path, x, *rest)`.

    `path` is the path of `tree` itself (None at the root, so a bare leaf gets None).

    >>> from mlxpy.utils import tree_map_with_path
    >>> tree_map_with_path(lambda path, x: path, {"model": [{"w": 0}, {"w": 0}]})
    {'model': [{'w': 'model.0.w'}, {'w': 'model.1.w'}]}
    """
    if is_leaf is not None and is_leaf(tree):
        return fn(path, tree, *rest)
    if isinstance(tree, (list, tuple)):
        return _rebuild(tree, [
            tree_map_with_path(fn, child, *(r[i] for r in rest), is_leaf=is_leaf,
                               path=_join(path, i))
            for i, child in enumerate(tree)])
    if isinstance(tree, dict):
        return {key: tree_map_with_path(fn, child, *(r[key] for r in rest), is_leaf=is_leaf,
                                        path=_join(path, key))
                for key, child in tree.items()}
    return fn(path, tree, *rest)


def tree_flatten(tree, prefix="", is_leaf=None, destination=None):
    """The leaves of `tree` as `(dotted key, leaf)` pairs, depth first.

    Each key is `prefix` followed by `.name` for every step down, with the first
    character of the whole dropped (so the default prefix gives `"a.b"`, and a bare
    leaf gets the key `""`). `destination`, a list or a dict, receives the pairs (a
    dict keeps the last of equal keys) and is returned; by default a new list.

    >>> from mlxpy.utils import tree_flatten
    >>> tree_flatten([[[0]]])
    [('0.0.0', 0)]
    >>> tree_flatten({"a": {"b": 1}}, destination={})
    {'a.b': 1}
    >>> tree_flatten({"a": 1}, prefix=".model")
    [('model.a', 1)]
    """
    if destination is None:
        destination = []
    if isinstance(destination, list):
        add = destination.append
    elif isinstance(destination, dict):
        def add(pair):
            destination[pair[0]] = pair[1]
    else:
        raise ValueError("[tree_flatten] destination should be a list, a dict or None, "
                         f"not {type(destination).__name__}.")
    # An explicit stack, children pushed in reverse, visits leaves in depth-first
    # order without Python's recursion limit.
    stack = [(prefix, tree)]
    while stack:
        key, node = stack.pop()
        if is_leaf is not None and is_leaf(node):
            add((key[1:], node))
        elif isinstance(node, (list, tuple)):
            stack.extend((f"{key}.{i}", child) for i, child in reversed(list(enumerate(node))))
        elif isinstance(node, dict):
            stack.extend((f"{key}.{name}", child) for name, child in reversed(node.items()))
        else:
            add((key[1:], node))
    return destination


def tree_unflatten(tree):
    """Rebuild a tree from `(dotted key, value)` pairs (a list, or a dict of them).

    A level whose keys are all integers (with no two spelling the same number, like
    "1" and "01") becomes a list in numeric order, its gaps filled with empty dicts;
    any other level becomes a dict in first-seen key order. A single pair with the key
    `""` is a bare leaf; no pairs at all give `[]`.

    >>> from mlxpy.utils import tree_unflatten
    >>> tree_unflatten([("hello.world", 42)])
    {'hello': {'world': 42}}
    >>> tree_unflatten({"layers.1.w": 2, "layers.0.w": 1})
    {'layers': [{'w': 1}, {'w': 2}]}
    """
    pairs = list(tree.items()) if isinstance(tree, dict) else list(tree)
    for pair in pairs:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2
                and isinstance(pair[0], str)):
            raise TypeError("[tree_unflatten] Expected (key, value) pairs with string keys, "
                            f"got {pair!r}.")
    return _unflatten_level(pairs)


def _unflatten_level(pairs, path=""):
    if len(pairs) == 1 and pairs[0][0] == "":
        return pairs[0][1]
    if sum(key == "" for key, _ in pairs) > 1:
        raise ValueError(f"[tree_unflatten] The key '{path}' is given more than once.")
    groups = defaultdict(list)
    for key, value in pairs:
        head, _, tail = key.partition(".")
        groups[head].append((tail, value))
    indices = {}
    for head in groups:
        try:
            indices[int(head)] = head
        except ValueError:
            break
    if len(indices) != len(groups):
        return {head: _unflatten_level(members, _join(path, head))
                for head, members in groups.items()}
    out = []
    for index, head in sorted(indices.items()):
        out.extend({} for _ in range(index - len(out)))
        out.append(_unflatten_level(groups[head], _join(path, head)))
    return out


def tree_reduce(fn, tree, initializer=None, is_leaf=None):
    """Fold the leaves of `tree`, in flatten order, with `acc = fn(acc, leaf)`.

    Without `initializer` the first leaf starts the fold (whenever the accumulator is
    None, the next leaf replaces it); a tree without leaves gives `initializer`.

    >>> from mlxpy.utils import tree_reduce
    >>> tree_reduce(lambda acc, x: acc + x, {"a": [1, 2, 3], "b": [4, 5]}, 0)
    15
    """
    accumulator = initializer
    for leaf in tree_leaves(tree, is_leaf):
        accumulator = leaf if accumulator is None else fn(accumulator, leaf)
    return accumulator


def tree_merge(tree_a, tree_b, merge_fn=None):
    """One tree with the contents of both, like a recursive `dict.update`.

    None and empty containers count as missing subtrees. Where both trees have a leaf
    (or a leaf faces a subtree, or both are missing), `merge_fn(a, b)` decides; without
    it that is an error.
    Sequences merge position by position, dicts key by key (keys of `tree_a` first).

    >>> from mlxpy.utils import tree_merge
    >>> tree_merge({"a": 1, "c": [1]}, {"b": 2, "c": [None, 3]})
    {'a': 1, 'c': [1, 3], 'b': 2}
    """
    empty_a = isinstance(tree_a, (dict, list, tuple)) and len(tree_a) == 0
    empty_b = isinstance(tree_b, (dict, list, tuple)) and len(tree_b) == 0
    if empty_a and empty_b:
        if type(tree_a) is not type(tree_b):
            raise ValueError(f"[tree_merge] Cannot merge an empty {type(tree_a).__name__} "
                             f"with an empty {type(tree_b).__name__}.")
        return type(tree_a)()
    if empty_a:
        tree_a = None
    if empty_b:
        tree_b = None
    # Two missing values still reach merge_fn, as in MLX.
    if tree_a is None and tree_b is not None:
        return tree_b
    if tree_b is None and tree_a is not None:
        return tree_a
    if isinstance(tree_a, (list, tuple)) and isinstance(tree_b, (list, tuple)):
        return _rebuild(tree_a, [tree_merge(a, b, merge_fn)
                                 for a, b in zip_longest(tree_a, tree_b)])
    if isinstance(tree_a, dict) and isinstance(tree_b, dict):
        keys = list(tree_a) + [k for k in tree_b if k not in tree_a]
        return {k: tree_merge(tree_a.get(k), tree_b.get(k), merge_fn) for k in keys}
    if merge_fn is None:
        raise ValueError("[tree_merge] Both trees hold values at the same place; pass "
                         "merge_fn to combine them.")
    return merge_fn(tree_a, tree_b)
