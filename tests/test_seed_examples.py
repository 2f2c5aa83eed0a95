"""The examples of MLX's documentation (the seed documents), as runnable files in
examples/seeds/: each prints what MLX's documentation says it prints, and prints exactly
what the very same file prints under real MLX (its `import mlxpy.core as mx` line swapped
for `import mlx.core as mx`), timings aside."""
import contextlib
import io
import pathlib
import re
import sys

import pytest

from oracle import mlx, needs_mlx

SEEDS = pathlib.Path(__file__).resolve().parent.parent / "examples" / "seeds"
OUR_IMPORT = "import mlxpy.core as mx\n"
# Numbers that are timings: "0.123 s", "=0.000123s", "(35x faster)".
TIMING = re.compile(r"\d+\.\d+ ?s\b|\(\d+x faster\)")
# The timed examples run this many calls per version instead of the documented 100.
QUICK = ["--number", "2"]

def run_example(name, *argv, library="mlxpy"):
    """(what examples/seeds/`name` prints, the exception it raised or None), run in this
    process with `argv`; under real MLX when `library` is "mlx"."""
    path = SEEDS / name
    source = path.read_text()
    assert source.count(OUR_IMPORT) == 1, f"{name} must import mlxpy.core as mx once"
    if library == "mlx":
        source = source.replace(OUR_IMPORT, "import mlx.core as mx\n")
    printed, error = io.StringIO(), None
    saved_argv, sys.argv = sys.argv, [str(path), *argv]
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(source, str(path), "exec"), {"__name__": "__main__", "__file__": str(path)})
    except Exception as e:  # noqa: BLE001 -- reported to the test, which decides
        error = e
    finally:
        sys.argv = saved_argv
    return printed.getvalue(), error


def lines_of(name, *argv, library="mlxpy"):
    printed, error = run_example(name, *argv, library=library)
    if error is not None:
        raise AssertionError(f"{name} raised {type(error).__name__}: {error}\n{printed}")
    return printed.splitlines()


# What MLX's documentation says these print (and what real MLX prints).
EXPECTED = {
    "grad_of_sin.py": [
        "grad(sin)(pi)           array(-1, dtype=float32)",
        "cos(pi)                 array(-1, dtype=float32)",
        "grad(grad(sin))(pi/2)   array(-1, dtype=float32)",
        "sin(pi/2)               array(1, dtype=float32)",
        "4th derivative at 0.5   array(0.479426, dtype=float32)",
        "sin(0.5)                array(0.479426, dtype=float32)",
    ],
    "loss_fn.py": [
        "dloss/dw: array(-1, dtype=float32)",
        "dloss/dx: array([-1, 1], dtype=float32)",
        "loss: array(1, dtype=float32)",
        "dloss/dw again: array(-1, dtype=float32)",
        "lasso loss, mse, l1: 1.75 0.9166666865348816 0.8333333730697632",
        "lasso grads: {'w': array([-1.33333, -2.66667], dtype=float32), "
        "'b': array(-1.33333, dtype=float32)}",
    ],
    "params_dict.py": [
        "{'weight': array(-1, dtype=float32), 'bias': array(0, dtype=float32)}",
        "{'weight': array(-1, dtype=float32), 'bias': array(0, dtype=float32)}",
    ],
    "transforms_basics.py": [
        "my_sum: array([5, 7, 9], dtype=int32)",
        "grad: array(-1, dtype=float32)",
        "value_and_grad: array(1, dtype=float32) array(-1, dtype=float32)",
        "vmap(x * 2): array([[2, 4],",
        "       [6, 8]], dtype=int32)",
        "vmap(scalar_fn): array([1, 13, 41, 85], dtype=float32)",
        "vmap(grad(scalar_fn)): array([[0, 2],",
        "       [4, 6],",
        "       [8, 10],",
        "       [12, 14]], dtype=float32)",
        "random least squares: loss > 0: True | grad shape: (16,)",
    ],
    "async_eval.py": [
        "array(2.71828, dtype=float32)",
        "array(5.71828, dtype=float32)",
    ],
    "custom_function.py": [
        "f(x, y): array(0.958851, dtype=float32)",
        "vjp: df/dx = 1.7551651000976562 (2 cos 0.5) | df/dy = 0.4794255495071411 (sin 0.5)",
        "jvp along x: 1.7551651000976562",
        "vmap over x: array([0, 0.958851], dtype=float32)",
        "vmap over both: array([[0, 1.9177],",
        "       [1.68294, 4.98747],",
        "       [2.72789, 3.59083]], dtype=float32)",
        "same as vmap of the plain function: True",
        "g(x, y): array(6, dtype=float32)",
        "grad with respect to x calls the vjp, which raises: Abort!",
        "grad with respect to the captured y: array(0, dtype=float32)",
    ],
}
ARGV = {"vmap_add.py": QUICK}
ALL = sorted(p.name for p in SEEDS.glob("*.py"))


def test_every_seed_example_is_checked():
    assert set(ALL) == set(EXPECTED) | {"vmap_add.py", "compile_timing.py"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_prints_the_documented_values(name):
    assert lines_of(name) == EXPECTED[name]


def test_custom_function_rules_before_the_captured_case():
    # The corrected vjp, the jvp and the vmap rule, whatever the last line does.
    printed, _ = run_example("custom_function.py")
    assert printed.splitlines()[:10] == EXPECTED["custom_function.py"][:10]


def test_vmap_add_agrees_with_the_loop_and_is_faster():
    out = lines_of("vmap_add.py", *QUICK)
    assert out[0] == "result shape: (4096, 100) | loop, vmap and xs + ys.T agree: True"
    naive_s, vmap_s = (float(re.search(r"(\d+\.\d+) s", line).group(1)) for line in out[1:3])
    assert "for 2 calls" in out[1] and "for 2 calls" in out[2]
    # Thousands of small ops against one: the margin is wide (16x to 35x measured).
    assert vmap_s < naive_s


def test_compile_timing_traces_once_and_agrees():
    out = lines_of("compile_timing.py")
    _, first, cached = map(float, re.findall(r"=(\d+\.\d+)s", out[0]))
    assert cached < first          # the first compiled call also traces
    assert out[1] == ("results: array(2.36788, dtype=float32) array(2.36788, dtype=float32) "
                      "array(2.36788, dtype=float32)")
    assert out[2] == "all equal exp(-1) + 2: True"


@needs_mlx
@pytest.mark.parametrize("name", ALL)
def test_prints_what_real_mlx_prints(name):
    argv = ARGV.get(name, [])
    ours = [TIMING.sub("<time>", line) for line in lines_of(name, *argv)]
    theirs = [TIMING.sub("<time>", line) for line in lines_of(name, *argv, library="mlx")]
    assert ours == theirs
