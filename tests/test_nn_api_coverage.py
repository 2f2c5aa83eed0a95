"""Every public name that real MLX defines in `mlx.nn`, `mlx.nn.losses`, `mlx.nn.init`,
`mlx.nn.utils`, `mlx.optimizers` and `mlx.utils` exists in the mlxpy module of the
same name, except the omissions listed (as `nn.Name`, `optimizers.Name`, ...) under
"## Omitted names" in docs/differences.md. Names a module merely imports from
elsewhere (typing helpers, `mx`, tree utilities re-exported) are not its own."""
import importlib
import types

import pytest

from tests.oracle import mlx, needs_mlx
from tests.test_api_coverage import omitted_names

PACKAGES = ["nn", "nn.losses", "nn.init", "nn.utils", "optimizers", "utils"]


def own_names(module):
    """Public names whose object MLX defines in this module (or, for a package, in it
    or its submodules)."""
    is_package = hasattr(module, "__path__")
    names = []
    for n in dir(module):
        if n.startswith("_"):
            continue
        obj = getattr(module, n)
        where = obj.__name__ if isinstance(obj, types.ModuleType) else getattr(obj, "__module__", "")
        where = str(where)
        if where == module.__name__ or (is_package and where.startswith(module.__name__ + ".")):
            names.append(n)
    return names


@needs_mlx
@pytest.mark.parametrize("name", PACKAGES)
def test_every_mlx_name_exists(name):
    theirs = importlib.import_module("mlx." + name)
    ours = importlib.import_module("mlxpy." + name)
    omitted = omitted_names()
    missing = [n for n in own_names(theirs)
               if f"{name}.{n}" not in omitted and not hasattr(ours, n)]
    assert not missing, f"mlxpy.{name} lacks {missing}"


@needs_mlx
def test_omitted_package_names_are_real_mlx_names():
    for entry in omitted_names():
        root = entry.split(".")[0]
        if root not in ("nn", "optimizers", "utils"):
            continue
        obj = importlib.import_module("mlx." + root)
        for part in entry.split(".")[1:]:
            assert hasattr(obj, part), f"'{entry}' in the omission list is not an MLX name"
            obj = getattr(obj, part)
