"""`Module`: the base class of every layer and model.

A module is a dict. Arrays, submodules and (nested) lists or dicts of them that are assigned as
attributes become its entries, so a model is a tree that `mlxpy.utils` walks like any other,
and transforms see its parameters as ordinary arguments.
"""
import textwrap

import mlxpy.core as mx

from ...utils import tree_flatten, tree_unflatten

__all__ = ["Module"]

# Assigned attributes of these types are entries of the module dict; anything else stays a
# plain Python attribute (hyper-parameters, flags, callables).
_ENTRY_TYPES = (mx.array, dict, list, tuple)


class Module(dict):
    """Base class of neural-network layers and models.

    Arrays assigned as attributes are parameters; modules assigned as attributes are children.
    Both may also sit inside (nested) lists and dicts. Parameters are trainable unless frozen.

    >>> import mlxpy.core as mx
    >>> import mlxpy.nn as nn
    >>> class Scale(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.factor = mx.array([2.0])
    ...     def __call__(self, x):
    ...         return self.factor * x
    >>> m = Scale()
    >>> m(mx.array([1.0, 3.0]))
    array([2, 6], dtype=float32)
    >>> list(m.parameters())
    ['factor']
    """

    def __init__(self):
        self._no_grad = set()
        self._training = True

    # -- attribute protocol ------------------------------------------------------------------

    def __getattr__(self, key):
        # Only reached when normal lookup fails: entries of the dict read as attributes.
        value = self.get(key, None)
        if value is not None:
            return value
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{key}'")

    def __setattr__(self, key, value):
        if isinstance(value, _ENTRY_TYPES):
            # A plain attribute of the same name would shadow the entry; drop it.
            if key in self.__dict__:
                object.__delattr__(self, key)
            self[key] = value
        else:
            super().__setattr__(key, value)
            self.pop(key, None)

    def __delattr__(self, key):
        if self.get(key, None) is not None:
            del self[key]
        else:
            super().__delattr__(key)

    # -- state ---------------------------------------------------------------------------------

    @property
    def training(self):
        """True in training mode (see `train` and `eval`)."""
        return self._training

    @property
    def state(self):
        """The module itself: every entry, parameters included; edits show in the module."""
        return self

    def _extra_repr(self):
        return ""

    def __repr__(self):
        children = tree_flatten(self.children(), is_leaf=self.is_module)
        lines = [f"{type(self).__name__}({self._extra_repr()}"]
        for path, child in children:
            lines.append(textwrap.indent(f"({path}): {child!r}", "  "))
        return "\n".join(lines) + ("\n)" if children else ")")

    # -- filters -------------------------------------------------------------------------------

    @staticmethod
    def is_module(value):
        """Whether `value` is a Module (an `is_leaf` for tree walks that stop at modules).

        >>> import mlxpy.nn as nn
        >>> nn.Module.is_module(nn.Identity()), nn.Module.is_module({})
        (True, False)
        """
        return isinstance(value, Module)

    @staticmethod
    def valid_child_filter(module, key, value):
        """`filter_and_map` filter of `children()`: entries that may hold modules.

        >>> import mlxpy.nn as nn
        >>> nn.Module.valid_child_filter(None, "layers", [])
        True
        """
        return isinstance(value, (dict, list))

    @staticmethod
    def valid_parameter_filter(module, key, value):
        """`filter_and_map` filter of `parameters()`: arrays and containers, except entries
        whose name starts with an underscore.

        >>> import mlxpy.core as mx
        >>> import mlxpy.nn as nn
        >>> nn.Module.valid_parameter_filter(None, "_cache", mx.zeros((1,)))
        False
        """
        return isinstance(value, (dict, list, mx.array)) and not key.startswith("_")

    @staticmethod
    def trainable_parameter_filter(module, key, value):
        """`filter_and_map` filter of `trainable_parameters()`: parameters not frozen.

        >>> import mlxpy.nn as nn
        >>> layer = nn.Linear(2, 2).freeze(keys="bias")
        >>> layer.trainable_parameter_filter(layer, "bias", layer.bias)
        False
        """
        return Module.valid_parameter_filter(module, key, value) and key not in module._no_grad

    def filter_and_map(self, filter_fn, map_fn=None, is_leaf_fn=None):
        """The entries that `filter_fn(module, key, value)` keeps, recursively, as a tree of
        dicts and lists, each leaf passed through `map_fn`.

        Inside a list or dict entry the key is the dotted path from the owning module
        (`"layers.0"`); list items and dict values that are not kept stay as `{}` so that
        positions are preserved.

        >>> import mlxpy.nn as nn
        >>> model = nn.Linear(2, 3)
        >>> shapes = model.filter_and_map(model.valid_parameter_filter, lambda a: a.shape)
        >>> shapes
        {'weight': (3, 2), 'bias': (3,)}
        """
        if map_fn is None:
            map_fn = _identity
        if is_leaf_fn is None:
            is_leaf_fn = _is_plain_leaf
        return _select_entries(self, filter_fn, map_fn, is_leaf_fn)

    def parameters(self):
        """Every array in the module, recursively, as a tree of dicts and lists.

        >>> import mlxpy.nn as nn
        >>> {k: v.shape for k, v in nn.Linear(2, 3).parameters().items()}
        {'weight': (3, 2), 'bias': (3,)}
        """
        return self.filter_and_map(self.valid_parameter_filter)

    def trainable_parameters(self):
        """The arrays of `parameters()` that are not frozen.

        >>> import mlxpy.nn as nn
        >>> list(nn.Linear(2, 3).freeze(keys="bias").trainable_parameters())
        ['weight']
        """
        return self.filter_and_map(self.trainable_parameter_filter)

    def children(self):
        """The direct submodules (inside their lists and dicts).

        >>> import mlxpy.nn as nn
        >>> list(nn.Sequential(nn.Linear(2, 2)).children())
        ['layers']
        """
        return self.filter_and_map(self.valid_child_filter, is_leaf_fn=_is_module_leaf)

    def leaf_modules(self):
        """The submodules that have no submodules themselves.

        >>> import mlxpy.nn as nn
        >>> model = nn.Sequential(nn.Sequential(nn.Linear(2, 2)), nn.Identity())
        >>> model.leaf_modules()["layers"][1]
        Identity()
        """
        def has_no_children(module, key, value):
            return isinstance(value, Module) and not tree_flatten(value.children())

        return self.filter_and_map(self.valid_child_filter, is_leaf_fn=has_no_children)

    # -- replacing contents --------------------------------------------------------------------

    def update(self, parameters, strict=True):
        """Replace parameters with the arrays of `parameters`, a full or partial tree shaped
        like `parameters()`. With `strict`, every key must exist and every replacement of an
        array must be an array. Returns the module.

        >>> import mlxpy.core as mx
        >>> import mlxpy.nn as nn
        >>> layer = nn.Linear(2, 1)
        >>> layer.update({"bias": mx.array([5.0])}).bias
        array([5], dtype=float32)
        """
        _update_tree(self, parameters, strict, _replaces_parameter, "parameter")
        return self

    def update_modules(self, modules, strict=True):
        """Replace submodules with the modules of `modules`, a full or partial tree shaped
        like `children()`. Returns the module.

        >>> import mlxpy.nn as nn
        >>> model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
        >>> model.update_modules({"layers": [{}, nn.Identity()]}).layers[1]
        Identity()
        """
        _update_tree(self, modules, strict, _replaces_module, "sub-module")
        return self

    def apply(self, map_fn, filter_fn=None):
        """Replace each parameter selected by `filter_fn` (default: all) with
        `map_fn(parameter)`. Returns the module.

        >>> import mlxpy.core as mx
        >>> import mlxpy.nn as nn
        >>> nn.Linear(2, 2).apply(lambda p: p.astype(mx.float16)).weight.dtype
        mlxpy.core.float16
        """
        filter_fn = filter_fn or Module.valid_parameter_filter
        self.update(self.filter_and_map(filter_fn, map_fn))
        return self

    def apply_to_modules(self, apply_fn):
        """Call `apply_fn(path, module)` on this module (path `""`) and every submodule
        (dotted paths such as `"layers.0"`). Returns the module.

        >>> import mlxpy.nn as nn
        >>> paths = []
        >>> _ = nn.Sequential(nn.Linear(2, 2)).apply_to_modules(lambda p, m: paths.append(p))
        >>> paths
        ['', 'layers.0']
        """
        pending = [("", self)]
        while pending:
            path, module = pending.pop()
            apply_fn(path, module)
            pending.extend(tree_flatten(
                module.children(), prefix="." + path if path else "", is_leaf=self.is_module))
        return self

    def modules(self):
        """This module and all its submodules, in `apply_to_modules` order.

        >>> import mlxpy.nn as nn
        >>> len(nn.Sequential(nn.Linear(2, 2), nn.Identity()).modules())
        3
        """
        found = []
        self.apply_to_modules(lambda path, module: found.append(module))
        return found

    def named_modules(self):
        """(dotted path, module) for this module and all its submodules.

        >>> import mlxpy.nn as nn
        >>> [path for path, _ in nn.Sequential(nn.Identity()).named_modules()]
        ['', 'layers.0']
        """
        found = []
        self.apply_to_modules(lambda path, module: found.append((path, module)))
        return found

    # -- freezing and modes --------------------------------------------------------------------

    def _validate_keys(self, keys, strict):
        keys = keys if isinstance(keys, list) else [keys]
        if strict:
            for key in keys:
                if key not in self:
                    raise KeyError(f"[Module] {type(self).__name__} has no member {key!r}.")
        return keys

    def _validate_keys_recursive(self, keys):
        # A key such as "bias" need only exist somewhere in the model.
        keys = keys if isinstance(keys, list) else [keys]
        modules = self.modules()
        for key in keys:
            if not any(key in module for module in modules):
                raise KeyError(f"[Module] No module in the model has a member {key!r}.")

    def _for_self_or_all(self, recurse, keys, strict, action):
        if not recurse:
            action(self, strict)
            return self
        if strict and keys is not None:
            self._validate_keys_recursive(keys)
            strict = False
        self.apply_to_modules(lambda path, module: action(module, strict))
        return self

    def freeze(self, *, recurse=True, keys=None, strict=False):
        """Stop computing gradients for parameters: all of them, or those named by `keys`
        (a name or a list of names, looked up in every submodule when `recurse`). With
        `strict`, unknown keys raise KeyError. Returns the module.

        >>> import mlxpy.nn as nn
        >>> model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)).freeze()
        >>> model.trainable_parameters()
        {'layers': [{}, {}]}
        """
        def freeze_one(module, strict):
            local_keys = keys
            if local_keys is None:
                own = module.filter_and_map(
                    lambda m, k, v: not isinstance(v, Module) and m.valid_parameter_filter(m, k, v))
                local_keys = [path for path, _ in tree_flatten(own)]
            module._no_grad.update(module._validate_keys(local_keys, strict))

        return self._for_self_or_all(recurse, keys, strict, freeze_one)

    def unfreeze(self, *, recurse=True, keys=None, strict=False):
        """Compute gradients again for frozen parameters: all of them or those named by
        `keys` (see `freeze`). Returns the module.

        >>> import mlxpy.nn as nn
        >>> layer = nn.Linear(2, 2).freeze().unfreeze(keys="bias")
        >>> list(layer.trainable_parameters())
        ['bias']
        """
        def unfreeze_one(module, strict):
            if keys is None:
                module._no_grad.clear()
            else:
                module._no_grad.difference_update(module._validate_keys(keys, strict))

        return self._for_self_or_all(recurse, keys, strict, unfreeze_one)

    def _set_training_mode(self, mode):
        self._training = mode

    def train(self, mode=True):
        """Put the module and all its submodules in training mode (`mode=True`) or
        evaluation mode. Returns the module.

        >>> import mlxpy.nn as nn
        >>> model = nn.Sequential(nn.Dropout(0.5)).train(False)
        >>> model.layers[0].training
        False
        """
        self.apply_to_modules(lambda path, module: module._set_training_mode(mode))
        return self

    def eval(self):
        """`train(False)`: evaluation mode for the module and all its submodules.

        >>> import mlxpy.nn as nn
        >>> nn.Linear(2, 2).eval().training
        False
        """
        return self.train(False)

    def set_dtype(self, dtype, predicate=lambda d: mx.issubdtype(d, mx.floating)):
        """Cast the parameters whose dtype satisfies `predicate` (default: floating types;
        None: all) to `dtype`.

        >>> import mlxpy.core as mx
        >>> import mlxpy.nn as nn
        >>> layer = nn.Linear(2, 2)
        >>> layer.set_dtype(mx.bfloat16)
        >>> layer.weight.dtype
        mlxpy.core.bfloat16
        """
        if predicate is None:
            predicate = _always
        self.apply(lambda p: p.astype(dtype) if predicate(p.dtype) else p)

    # -- files ---------------------------------------------------------------------------------

    def load_weights(self, file_or_weights, strict=True):
        """Set parameters from a `.npz` or `.safetensors` file or from a list of
        `(dotted name, array)` pairs. With `strict` (default), the names must be exactly the
        model's and the shapes must match; otherwise only the given names are set. Returns the
        module.

        >>> import mlxpy.core as mx
        >>> import mlxpy.nn as nn
        >>> layer = nn.Linear(2, 1)
        >>> _ = layer.load_weights([("weight", mx.ones((1, 2))), ("bias", mx.zeros((1,)))])
        >>> layer(mx.array([1.0, 2.0]))
        array([3], dtype=float32)
        """
        weights = file_or_weights
        if isinstance(weights, str):
            weights = list(mx.load(weights).items())
        if strict:
            _check_weights_match(dict(weights),
                                 tree_flatten(self.parameters(), destination={}))
        if len(weights) != 0:
            self.update(tree_unflatten(list(weights)), strict=False)
        return self

    def save_weights(self, file):
        """Save the parameters to `file`: `.npz` (`mx.savez`) or `.safetensors`
        (`mx.save_safetensors`), keyed by dotted names.

        >>> import os, tempfile
        >>> import mlxpy.nn as nn
        >>> path = os.path.join(tempfile.mkdtemp(), "linear.npz")
        >>> nn.Linear(2, 1).save_weights(path)
        >>> sorted(nn.Linear(2, 1).load_weights(path).parameters())
        ['bias', 'weight']
        """
        flat = tree_flatten(self.parameters(), destination={})
        if file.endswith(".npz"):
            mx.savez(file, **flat)
        elif file.endswith(".safetensors"):
            mx.save_safetensors(file, flat)
        else:
            raise ValueError(f"[Module.save_weights] Unsupported file extension for {file}: "
                             "use '.npz' or '.safetensors'.")


def _identity(value):
    return value


def _always(_):
    return True


def _is_plain_leaf(module, key, value):
    return not isinstance(value, (Module, dict, list))


def _is_module_leaf(module, key, value):
    return isinstance(value, Module)


def _select_entries(module, keep, transform, is_leaf):
    return {key: _select(module, key, value, keep, transform, is_leaf)
            for key, value in module.items() if keep(module, key, value)}


def _select(owner, key, value, keep, transform, is_leaf):
    """One kept entry of `filter_and_map`. Below a list or dict the filter still asks the
    owning module, under the dotted path; dropped items leave `{}` in their place."""
    if is_leaf(owner, key, value):
        return transform(value)
    if isinstance(value, Module):
        return _select_entries(value, keep, transform, is_leaf)
    if isinstance(value, (dict, list)):
        positions = value.items() if isinstance(value, dict) else enumerate(value)
        picked = []
        for position, item in positions:
            path = f"{key}.{position}"
            kept = _select(owner, path, item, keep, transform, is_leaf) \
                if keep(owner, path, item) else {}
            picked.append((position, kept))
        return dict(picked) if isinstance(value, dict) else [kept for _, kept in picked]
    raise RuntimeError(f"[Module.filter_and_map] {key!r} is a {type(value).__name__}: "
                       "is_leaf_fn must accept every value that is not a module, dict or list.")


def _replaces_parameter(current, new, strict):
    """Whether `new` replaces `current` outright (True) or is walked into (False)."""
    if not isinstance(current, mx.array):
        return False
    if strict and not isinstance(new, mx.array):
        raise ValueError(f"[Module.update] Received invalid type: {type(new).__name__} "
                         "where the module holds an array.")
    return True


def _replaces_module(current, new, strict):
    if isinstance(current, Module) and isinstance(new, Module):
        return True
    if isinstance(current, (dict, list)):
        return False
    if strict and not (isinstance(new, dict) and not new):
        raise ValueError(f"[Module.update_modules] Received invalid type: {type(new).__name__} "
                         "where the module holds no sub-module.")
    return None  # neither: leave the entry alone


def _update_tree(target, new_tree, strict, replaces, what):
    """Walk `new_tree` alongside `target` (a module, dict or list), replacing the entries that
    `replaces(current, new, strict)` accepts and descending into the rest."""
    if isinstance(new_tree, dict):
        positions = list(new_tree.items())
        for key, _ in positions:
            if not (isinstance(target, dict) and key in target) and strict:
                raise ValueError(f'[Module] Module does not have {what} named "{key}".')
        positions = [(k, v) for k, v in positions if isinstance(target, dict) and k in target]
    elif isinstance(new_tree, list) and isinstance(target, list):
        if strict and len(new_tree) > len(target):
            raise ValueError(f"[Module] List index {len(target)} is out of bounds for "
                             f"destination of length {len(target)}.")
        positions = list(enumerate(new_tree))[:len(target)]
    else:
        if strict:
            raise ValueError(f"[Module] Received invalid type: {type(new_tree).__name__} "
                             f"where the module holds a {type(target).__name__}.")
        return
    for key, new in positions:
        current = target[key]
        verdict = replaces(current, new, strict)
        if verdict:
            target[key] = new
        elif verdict is False:
            _update_tree(current, new, strict, replaces, what)


def _check_weights_match(new_weights, current):
    """Raise ValueError unless `new_weights` names exactly the arrays of `current`, with the
    same shapes."""
    extra = sorted(new_weights.keys() - current.keys())
    if extra:
        raise ValueError(f"[Module.load_weights] Received {len(extra)} parameters not in "
                         "model: \n" + ",\n".join(extra) + ".")
    missing = sorted(current.keys() - new_weights.keys())
    if missing:
        raise ValueError(f"[Module.load_weights] Missing {len(missing)} parameters: \n"
                         + ",\n".join(missing) + ".")
    for name, value in current.items():
        new = new_weights[name]
        if not isinstance(new, mx.array):
            raise ValueError(f"[Module.load_weights] Expected an array but received "
                             f"{type(new).__name__} for parameter {name}.")
        if new.shape != value.shape:
            raise ValueError(f"[Module.load_weights] Expected shape {value.shape} but received "
                             f"shape {new.shape} for parameter {name}.")
