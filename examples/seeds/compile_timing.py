"""`mx.compile`: the first call traces the function, later calls replay the trace.

From the `mx.compile` notes in MLX's transform reference: one uncompiled call, the first
compiled call (which traces and compiles), and a second compiled call with the same
input shapes and dtypes (which reuses that work). The compiled function returns what the
function returns.

Run: python examples/seeds/compile_timing.py
"""
import time

import mlxpy.core as mx


def fun(x, y):
    return mx.exp(-x) + y


x, y = mx.array(1.0), mx.array(2.0)

t0 = time.perf_counter(); r0 = fun(x, y); mx.eval(r0); t1 = time.perf_counter()
cf = mx.compile(fun)
t2 = time.perf_counter(); r1 = cf(x, y); mx.eval(r1); t3 = time.perf_counter()
t4 = time.perf_counter(); r2 = cf(x, y); mx.eval(r2); t5 = time.perf_counter()

print(f"regular={t1 - t0:.6f}s first={t3 - t2:.6f}s cached={t5 - t4:.6f}s")
print("results:", r0, r1, r2)
print("all equal exp(-1) + 2:", all(abs(r.item() - 2.3678794503) < 1e-6 for r in (r0, r1, r2)))
