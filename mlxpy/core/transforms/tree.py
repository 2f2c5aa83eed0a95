"""Pytrees as the transforms see them: lists, tuples and dicts, with arrays as leaves."""
from ..array import array


def is_container(x):
    return type(x) in (list, tuple, dict) or isinstance(x, (list, tuple, dict))


def flatten_arrays(tree, strict=False, where="tree_flatten"):
    """The arrays of `tree` in depth-first order (dicts in insertion order).

    With `strict`, any leaf that is not an array raises ValueError; otherwise such
    leaves are skipped.
    """
    if type(tree) is array:
        return [tree]
    out = []
    stack = [tree]
    while stack:
        t = stack.pop()
        if isinstance(t, array):
            out.append(t)
        elif isinstance(t, (list, tuple)):
            stack.extend(reversed(t))
        elif isinstance(t, dict):
            stack.extend(reversed(list(t.values())))
        elif strict:
            raise ValueError(f"[{where}] The argument should contain only arrays, but it "
                             f"contains a {type(t).__name__}.")
    return out


def replace_arrays(tree, arrays):
    """`tree` with its array leaves replaced, in flatten order, by items of `arrays`."""
    it = iter(arrays)
    return _replace(tree, it)


def _replace(t, it):
    if isinstance(t, array):
        return next(it)
    if isinstance(t, tuple):
        items = [_replace(x, it) for x in t]
        return type(t)(*items) if hasattr(t, "_fields") else tuple(items)
    if isinstance(t, list):
        return [_replace(x, it) for x in t]
    if isinstance(t, dict):
        return {k: _replace(v, it) for k, v in t.items()}
    return t


def tree_leaves(tree, is_leaf=None):
    """All leaves (arrays or not) in flatten order."""
    out = []
    stack = [tree]
    while stack:
        t = stack.pop()
        if is_leaf is not None and is_leaf(t):
            out.append(t)
        elif isinstance(t, (list, tuple)):
            stack.extend(reversed(t))
        elif isinstance(t, dict):
            stack.extend(reversed(list(t.values())))
        else:
            out.append(t)
    return out


def replace_leaves(tree, leaves, is_leaf=None):
    it = iter(leaves)

    def rec(t):
        if is_leaf is not None and is_leaf(t):
            return next(it)
        if isinstance(t, tuple):
            items = [rec(x) for x in t]
            return type(t)(*items) if hasattr(t, "_fields") else tuple(items)
        if isinstance(t, list):
            return [rec(x) for x in t]
        if isinstance(t, dict):
            return {k: rec(v) for k, v in t.items()}
        return next(it)
    return rec(tree)
