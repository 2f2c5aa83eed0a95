"""Following the README on a fresh machine works as written.

A copy of the repository (a clean checkout: no .git, no build outputs, no installed egg
info) gets a fresh virtual environment, and the README's two commands run in it: the
first (install, then the main example) in full; the second (install the test extras,
then the tests) with the pytest run narrowed to a small part of the suite. The commands
are read from README.md, so the test follows the README as it stands.

It installs packages from PyPI and takes a minute or more, so it runs only when
MLXPY_FRESH_VENV_TEST=1 is set.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = "<!-- test-command -->"
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)
# What a clean clone does not have: version control, build outputs, installed metadata,
# caches, and plots the examples write.
NOT_IN_A_CLONE = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__",
                                        ".pytest_cache", ".venv", "venv", "*_loss.png")
# The narrowed test run: the README's own code blocks and the seed examples (which also
# exercise the real-MLX oracle the extras install).
SMALL_PART = ["tests/test_seed_examples.py", "tests/test_docs.py", "-k", "README or seed"]

pytestmark = pytest.mark.skipif(
    os.environ.get("MLXPY_FRESH_VENV_TEST") != "1",
    reason="installs from PyPI into a fresh venv (a minute or more); "
           "set MLXPY_FRESH_VENV_TEST=1 to run it")


def readme_commands():
    """(install and run the main example, install and run the tests): the README's two
    shell commands, one line each."""
    text = (ROOT / "README.md").read_text()
    first = BASH_BLOCK.search(text)
    assert first is not None, "README.md has no ```bash block"
    assert MARKER in text, f"README.md lost its {MARKER} marker"
    second = BASH_BLOCK.search(text, text.index(MARKER))
    assert second is not None, f"no ```bash block after {MARKER} in README.md"
    commands = [block.group(1).strip() for block in (first, second)]
    assert all("\n" not in c for c in commands), commands
    return commands


def run_in_venv(command, venv, cwd, timeout):
    """Run a README command with `bash` as an activated `venv` would, in `cwd`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("PYTEST_")}
    env["VIRTUAL_ENV"] = str(venv)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    # The example's loss-curve plot needs no display.
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def narrowed(test_command):
    """The README's test command with its pytest run limited to SMALL_PART."""
    install, sep, tests = test_command.rpartition("&&")
    assert sep and "pytest" in tests and "pip install" in install, test_command
    return f"{install}&& {tests.strip()} " + " ".join(
        f"'{a}'" if " " in a else a for a in SMALL_PART)


def test_readme_commands_work_in_a_fresh_venv(tmp_path):
    install_and_run, install_and_test = readme_commands()
    assert "examples/" in install_and_run
    clone = tmp_path / "mlxpy"
    shutil.copytree(ROOT, clone, ignore=NOT_IN_A_CLONE)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)

    started = time.perf_counter()
    out = run_in_venv(install_and_run, venv, clone, timeout=900)
    assert out.returncode == 0, f"`{install_and_run}` failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    accuracy = re.search(r"test accuracy (\d\.\d+)", out.stdout)
    assert accuracy, f"no accuracy printed:\n{out.stdout[-2000:]}"
    assert float(accuracy.group(1)) > 0.9

    command = narrowed(install_and_test)
    out = run_in_venv(command, venv, clone, timeout=1200)
    assert out.returncode == 0, f"`{command}` failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    summary = out.stdout.strip().splitlines()[-1]
    assert re.search(r"\d+ passed", summary), out.stdout[-2000:]
    # Nothing failed, and nothing skipped for want of the oracle the extras install.
    assert not re.search(r"\d+ (failed|skipped|error)", summary), out.stdout[-2000:]
    print(f"README followed in a fresh venv in {time.perf_counter() - started:.0f} s: {summary}")
