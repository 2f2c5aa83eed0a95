"""Shared timing helpers: medians over repeats, optional peers, markdown tables."""
import importlib
import os
import platform
import statistics
import time


def median_time(fn, repeat=7, number=1, warmup=1):
    """Median wall time of `number` calls of fn, in seconds per call."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


def optional(module):
    """Import a peer library if it is installed, else None."""
    try:
        return importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a broken install counts as missing
        return None


def machine():
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(title, rows, unit, baseline="mlxpy"):
    """A markdown table of times with ratios to `baseline` (>1: slower than mlxpy)."""
    base = dict(rows).get(baseline)
    lines = [f"### {title}", "", f"| library | {unit} | ratio to {baseline} |", "|---|---|---|"]
    for name, value in rows:
        ratio = f"{value / base:.2f}" if base else "-"
        lines.append(f"| {name} | {value:.3g} | {ratio} |")
    return "\n".join(lines) + "\n"


def report(title, rows, unit, baseline="mlxpy"):
    text = table(title, rows, unit, baseline)
    print("\n" + text)
    return text
