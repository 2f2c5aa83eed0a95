"""Run every benchmark against the installed peers and write benchmarks/RESULTS.md.

Run: python benchmarks/run.py            (writes benchmarks/RESULTS.md)
     python benchmarks/run.py --quick    (fewer repeats, for a smoke test)
"""
import datetime
import importlib
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_eager  # noqa: E402
import bench_transforms  # noqa: E402
from common import machine  # noqa: E402


def versions():
    out = []
    for name in ["mlxpy", "numpy", "mlx.core", "jax", "torch"]:
        try:
            m = importlib.import_module(name)
            out.append(f"{name} {getattr(m, '__version__', '?')}")
        except Exception:  # noqa: BLE001 - not installed
            out.append(f"{name} (not installed)")
    return ", ".join(out)


def main():
    sections = [bench_eager.bench_chain, bench_eager.bench_naive_loop] + bench_transforms.ALL
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",)
    parts = []
    for fn in sections:
        rows_or_text = fn()
        parts.append(rows_or_text if isinstance(rows_or_text, str) else "")
    header = [
        "# Benchmark results",
        "",
        f"Command: `python benchmarks/run.py` — {datetime.date.today().isoformat()}",
        "",
        f"Machine: {machine()} ({platform.processor() or platform.machine()}); "
        f"load average at start {load[0]:.2f}" if isinstance(load[0], float) else "",
        "",
        f"Versions: {versions()}",
        "",
        "Ratios are to mlxpy (or to compiled mlxpy): above 1 means slower than mlxpy.",
        "All libraries of a table ran in the same process, one after another. These",
        "2-core machines are shared: absolute times vary up to 2x between runs (NumPy's",
        "own 16-element op has measured 0.6 to 1.1 µs), so compare ratios within a table.",
        "",
    ]
    text = "\n".join(header) + "\n".join(p for p in parts if p)
    with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
        f.write(text)
    print(f"wrote {os.path.join(HERE, 'RESULTS.md')}")


if __name__ == "__main__":
    main()
