"""Run every benchmark against the installed peers and write benchmarks/RESULTS.md.

Run: python benchmarks/run.py            (the CPU benchmarks: RESULTS.md up to "## GPU")
     python benchmarks/run.py --gpu      (on an NVIDIA machine: the "## GPU" section;
                                          MLXPY_GPU_SUITE may hold the GPU test-suite
                                          summary line to record with it)
Each command rewrites its own part of RESULTS.md and keeps the other.
"""
import datetime
import importlib
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_eager  # noqa: E402
import bench_nn  # noqa: E402
import bench_transforms  # noqa: E402
from common import machine  # noqa: E402


def versions():
    out = []
    for name in ["mlxpy", "numpy", "mlx.core", "jax", "torch"]:
        if name == "mlx.core" and "--gpu" in sys.argv:
            continue
        try:
            m = importlib.import_module(name)
            out.append(f"{name} {getattr(m, '__version__', '?')}")
        except Exception:  # noqa: BLE001 - not installed
            out.append(f"{name} (not installed)")
    return ", ".join(out)


def chart(tables, path):
    """A PNG of every table's ratios (time of each library / time of mlxpy), log scale."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = []
    for title, table in tables:
        base = None
        for name, value in table:
            if name.startswith("mlxpy") and base is None:
                base = value
        for name, value in table:
            if not name.startswith("mlxpy") and base:
                rows.append((f"{title[:62]} | {name}", value / base))
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(11, 0.28 * len(rows) + 1))
    labels = [r[0] for r in rows]
    ratios = [r[1] for r in rows]
    ax.barh(range(len(rows)), ratios, color=["#4c72b0" if r >= 1 else "#dd8452" for r in ratios])
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("time of peer / time of mlxpy  (right of 1: mlxpy is faster)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def _parse(text):
    """(title, [(library, value)]) from one markdown table written by common.table."""
    lines = text.strip().splitlines()
    title = lines[0].lstrip("# ").strip()
    rows = []
    for line in lines[4:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) >= 2:
            rows.append((cells[0], float(cells[1])))
    return title, rows


GPU_MARK = "\n## GPU"


def _split_results(path):
    """(cpu part, gpu part) of the current RESULTS.md."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return "", ""
    i = text.find(GPU_MARK)
    return (text, "") if i < 0 else (text[:i], text[i:])


def main_gpu():
    import bench_gpu
    path = os.path.join(HERE, "RESULTS.md")
    parts = [fn() for fn in bench_gpu.ALL]
    suite = os.environ.get("MLXPY_GPU_SUITE", "").strip()
    header = [
        "",
        "## GPU",
        "",
        f"Command: `python benchmarks/run.py --gpu` — {datetime.date.today().isoformat()}, "
        f"on {bench_gpu.device_summary()}",
        "",
        f"Versions: {versions()}, cupy {getattr(bench_gpu.cp, '__version__', '-')}",
        "",
        "Every library of a table ran in the same process on the same GPU. Rates (TB/s,",
        "TFLOP/s): higher is better; times: lower is better; ratios are value / mlxpy's.",
        "",
    ]
    if suite:
        header += [f"Test suite with the GPU as the default device: {suite}", ""]
    cpu, _ = _split_results(path)
    with open(path, "w") as f:
        f.write(cpu.rstrip("\n") + "\n" + "\n".join(header) + "\n".join(parts))
    print(f"wrote the GPU section of {path}")


def main():
    if "--gpu" in sys.argv:
        return main_gpu()
    sections = ([bench_eager.bench_chain, bench_eager.bench_naive_loop] + bench_transforms.ALL
                + bench_nn.ALL)
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
    if chart([_parse(p) for p in parts if p], os.path.join(HERE, "results.png")):
        text += "\n![ratios to mlxpy](results.png)\n"
    path = os.path.join(HERE, "RESULTS.md")
    _, gpu = _split_results(path)
    with open(path, "w") as f:
        f.write(text + gpu)
    print(f"wrote {os.path.join(HERE, 'RESULTS.md')}")


if __name__ == "__main__":
    main()
