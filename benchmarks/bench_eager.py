"""Eager overhead: building and evaluating graphs of many tiny ops.

1. A chain of 1,000 elementwise ops on a 16-element float32 array, one eval at the end
   (microseconds per op).
2. The MLX documentation's naive loop: [xs[i] + ys[:, i] for i in range(4096)] with
   xs 4096x100 and ys 100x4096, evaluated 100 times (seconds in total).

Run: python benchmarks/bench_eager.py
"""
import numpy as np

from common import machine, median_time, optional, report

import mlxpy.core as mx

mlx = optional("mlx.core")


def chain(lib, x, n=1000):
    for i in range(n // 4):
        x = lib.sin(x)
        x = x * 0.5
        x = x + 1.0
        x = lib.exp(x) if i % 2 else lib.tanh(x)
    return x


def chain_numpy(x, n=1000):
    for i in range(n // 4):
        x = np.sin(x)
        x = x * np.float32(0.5)
        x = x + np.float32(1.0)
        x = np.exp(x) if i % 2 else np.tanh(x)
    return x


def bench_chain():
    rows = []
    x = mx.ones((16,))
    rows.append(("mlxpy", median_time(lambda: mx.eval(chain(mx, x))) / 1000 * 1e6))
    if mlx is not None:
        y = mlx.ones((16,))
        rows.append(("mlx", median_time(lambda: mlx.eval(chain(mlx, y))) / 1000 * 1e6))
    z = np.ones(16, np.float32)
    rows.append(("numpy", median_time(lambda: chain_numpy(z)) / 1000 * 1e6))
    return report("Chain of 1,000 elementwise ops on 16 float32 (one eval)", rows, "µs per op")


def naive_add(xs, ys):
    return [xs[i] + ys[:, i] for i in range(xs.shape[0])]


class _Lazy:
    """The least a lazy Python engine can do for the naive loop, as a floor for the
    table: a node is (data, function, inputs); reads of evaluated arrays are views
    taken at once; no validation, dtypes, broadcasting, streams, memory accounting or
    handles. Any complete engine written in Python does at least this much per op."""
    __slots__ = ("data", "fn", "ins")

    @property
    def shape(self):
        return self.data.shape

    def __getitem__(self, key):
        n = _Lazy.__new__(_Lazy)
        n.data, n.fn, n.ins = self.data[key], None, None
        return n

    def __add__(self, other):
        n = _Lazy.__new__(_Lazy)
        n.data, n.fn, n.ins = None, np.add, (self, other)
        return n

    @staticmethod
    def leaf(a):
        n = _Lazy.__new__(_Lazy)
        n.data, n.fn, n.ins = a, None, None
        return n

    @staticmethod
    def eval(nodes):
        for n in nodes:
            if n.data is None:
                a, b = n.ins
                n.data = n.fn(a.data, b.data)
                n.ins = None


def bench_naive_loop(evals=100):
    rows = []
    xs_np = np.random.uniform(size=(4096, 100)).astype(np.float32)
    ys_np = np.random.uniform(size=(100, 4096)).astype(np.float32)
    xs, ys = mx.array(xs_np), mx.array(ys_np)

    def run_mlxpy():
        for _ in range(evals):
            mx.eval(naive_add(xs, ys))
    rows.append(("mlxpy", median_time(run_mlxpy, repeat=3, warmup=0)))
    if mlx is not None:
        xs_m, ys_m = mlx.array(xs_np), mlx.array(ys_np)

        def run_mlx():
            for _ in range(evals):
                mlx.eval(naive_add(xs_m, ys_m))
        rows.append(("mlx", median_time(run_mlx, repeat=1, warmup=0)))

    def run_numpy():
        for _ in range(evals):
            naive_add(xs_np, ys_np)
    rows.append(("numpy", median_time(run_numpy, repeat=3, warmup=0)))
    xs_l, ys_l = _Lazy.leaf(xs_np), _Lazy.leaf(ys_np)

    def run_floor():
        for _ in range(evals):
            _Lazy.eval(naive_add(xs_l, ys_l))
    rows.append(("lazy floor (20 lines of Python, no checks)",
                 median_time(run_floor, repeat=3, warmup=0)))
    return report(f"Naive loop xs[i] + ys[:, i], 4096 per eval, {evals} evals", rows, "seconds")


if __name__ == "__main__":
    print(f"Machine: {machine()}")
    bench_chain()
    bench_naive_loop()
