"""Every public name of real MLX's `mlx.core`, `mlx.core.linalg`, `mlx.core.fft`,
`mlx.core.random` and `mlx.core.fast` exists in mlxpy, except the deliberate omissions listed under
"## Omitted names" in docs/differences.md (read from there, so the two cannot drift)."""
import pathlib
import re

import pytest

import mlxpy.core as mx
from tests.oracle import mlx, needs_mlx

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "differences.md"
MODULES = ["", "linalg", "fft", "random", "fast"]


def omitted_names():
    """The backticked names in the bullets of the "Omitted names" section; a name of a
    submodule is written `linalg.name`."""
    text = DOC.read_text()
    match = re.search(r"^## Omitted names\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, "docs/differences.md has no '## Omitted names' section"
    names = set()
    for bullet in re.findall(r"^- (.*?)(?=^- |\Z)", match.group(1), re.S | re.M):
        names.update(re.findall(r"`([A-Za-z_][\w.]*)`", bullet.split(":")[0]))
    return names


def test_omission_list_is_readable():
    names = omitted_names()
    assert {"quantize", "distributed", "fast.metal_kernel", "save_gguf",
            "nn.QuantizedLinear"} <= names


@needs_mlx
@pytest.mark.parametrize("module", MODULES)
def test_every_mlx_name_exists(module):
    theirs = getattr(mlx, module) if module else mlx
    ours = getattr(mx, module, None) if module else mx
    assert ours is not None, f"mlxpy.core has no module {module}"
    prefix = module + "." if module else ""
    omitted = omitted_names()
    missing = [n for n in dir(theirs) if not n.startswith("_")
               and prefix + n not in omitted and not hasattr(ours, n)]
    assert not missing, f"mlxpy.core.{module or ''} lacks {missing}"


@needs_mlx
def test_omitted_names_are_real_mlx_names():
    """An omission of a name MLX does not have is a stale entry."""
    for name in omitted_names():
        if name.split(".")[0] in ("nn", "optimizers", "utils"):
            continue  # names of the Python packages: tests/test_nn_api_coverage.py
        obj = mlx
        for part in name.split("."):
            assert hasattr(obj, part), f"'{name}' in the omission list is not an MLX name"
            obj = getattr(obj, part)
