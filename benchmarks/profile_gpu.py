"""Where host time goes on the GPU: cProfile of the compiled 100-op chain and of the
eager MLP step (the two #8 targets bound by host Python), with wall times.

Run on a GPU machine: python benchmarks/profile_gpu.py [chain] [mlp] [--top N]
"""
import cProfile
import io
import os
import pstats
import sys
import time

import numpy as np

import mlxpy.core as mx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_gpu import mlp_problem  # noqa: E402

TOP = int(sys.argv[sys.argv.index("--top") + 1]) if "--top" in sys.argv else 30


def sync():
    mx.synchronize()


def timed(fn, number):
    for _ in range(3):
        fn()
    sync()
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def profile(fn, number, label):
    pr = cProfile.Profile()
    pr.enable()
    for _ in range(number):
        fn()
    sync()
    pr.disable()
    s = io.StringIO()
    st = pstats.Stats(pr, stream=s)
    st.sort_stats("tottime").print_stats(TOP)
    print(f"== {label}: cProfile by tottime, {number} calls ==")
    print(s.getvalue())


def profile_evals(ys, top):
    """cProfile of `mx.eval(y)` for each of the built arrays `ys`, by own time."""
    pr = cProfile.Profile()
    pr.enable()
    for y in ys:
        mx.eval(y)
    pr.disable()
    out = io.StringIO()
    pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())


def _chain_problem():
    """(x, body): 16 float32 and the benchmark's 100-op chain (sin, scale, cos, shift)."""
    x = mx.random.normal((16,), key=mx.random.key(1))
    mx.eval(x)

    def body(x):
        for _ in range(25):
            x = mx.cos(mx.sin(x) * 1.01) + 0.5
        return x
    return x, body

def chain():
    x, body = _chain_problem()
    f = mx.compile(body)
    call = lambda: mx.eval(f(x))  # noqa: E731
    print(f"compiled chain: {timed(call, 2000) * 1e6:.1f} us per call")
    g = lambda: f(x)  # noqa: E731
    print(f"compiled chain, call only (no eval): {timed(g, 2000) * 1e6:.1f} us")
    profile(call, 2000, "compiled chain")


def mlp():
    params, xb, yb, sgd = mlp_problem((784, 4096, 4096, 10), 1024, 0.01)
    state = {"p": params}

    def build():
        return sgd(state["p"], xb, yb)

    def step():
        loss, state["p"] = build()
        mx.eval(loss, state["p"])

    print(f"eager MLP step: {timed(step, 20) * 1e3:.2f} ms")
    t_build = t_eval = 0.0
    for _ in range(20):
        t0 = time.perf_counter()
        loss, p = build()
        t1 = time.perf_counter()
        mx.eval(loss, p)
        t2 = time.perf_counter()
        state["p"] = p
        t_build += t1 - t0
        t_eval += t2 - t1
    sync()
    print(f"  graph build {t_build / 20 * 1e3:.2f} ms, eval (host, async) {t_eval / 20 * 1e3:.2f} ms")
    profile(step, 20, "eager MLP step")
    import bench_gpu
    if bench_gpu.torch is not None:
        torch_step = bench_gpu.torch_mlp_step(params, xb, yb, 0.01)
        for _ in range(3):
            torch_step()
        bench_gpu.torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(20):
            torch_step()
        bench_gpu.torch.cuda.synchronize()
        print(f"torch eager MLP step: {(time.perf_counter() - t0) / 20 * 1e3:.2f} ms")


def _cupy_step(params, xb, yb, lr=0.01):
    """The MLP step written directly in CuPy calls: the floor of CuPy's own host cost."""
    import cupy as cp
    ps = [[cp.asarray(np.array(w)), cp.asarray(np.array(b))] for w, b in params]
    x = cp.asarray(np.array(xb))
    y = cp.asarray(np.array(yb))

    def step():
        hs = [x]
        for w, b in ps[:-1]:
            hs.append(cp.maximum(hs[-1] @ w.T + b, 0))
        w, b = ps[-1]
        logits = hs[-1] @ w.T + b
        m = logits.max(axis=-1, keepdims=True)
        e = cp.exp(logits - m)
        s = e.sum(axis=-1, keepdims=True)
        loss = (cp.log(s) + m - cp.take_along_axis(logits, y[:, None], -1)).mean()
        g = e / s
        g[cp.arange(len(y)), y] -= 1
        g /= len(y)
        for k in range(len(ps) - 1, -1, -1):
            w, b = ps[k]
            gw = g.T @ hs[k]
            gb = g.sum(axis=0)
            if k:
                g = (g @ w) * (hs[k] > 0)
            ps[k][0] = w - lr * gw
            ps[k][1] = b - lr * gb
        return loss
    return step


def _spin(cycles):
    """Keep the GPU busy for `cycles` clock cycles, so that work queued meanwhile runs
    back to back afterwards."""
    import cupy as cp
    global _spin_kernel
    if _spin_kernel is None:
        _spin_kernel = cp.RawKernel(r'''extern "C" __global__ void spin(long long cycles) {
            long long t0 = clock64(); while (clock64() - t0 < cycles) {} }''', "spin")
    _spin_kernel((1,), (1,), (cp.int64(cycles),))


_spin_kernel = None


def split():
    """Eager MLP step, mlxpy against torch: host time to queue one step and the GPU's
    own time for it (CUDA events around it, queued behind a 30 ms spin kernel, so the
    GPU runs the step's kernels back to back however slowly the host queued them)."""
    import cupy as cp
    import bench_gpu
    params, xb, yb, sgd = mlp_problem((784, 4096, 4096, 10), 1024, 0.01)
    state = {"p": params}

    def ours():
        loss, state["p"] = sgd(state["p"], xb, yb)
        mx.eval(loss, state["p"])
    cstep = mx.compile(sgd)
    cstate = {"p": params}

    def compiled():
        loss, cstate["p"] = cstep(cstate["p"], xb, yb)
        mx.eval(loss, cstate["p"])
    rows = [("mlxpy", ours), ("mlxpy compiled", compiled), ("cupy by hand", _cupy_step(params, xb, yb))]
    if bench_gpu.torch is not None:
        rows.append(("torch", bench_gpu.torch_mlp_step(params, xb, yb, 0.01)))
    for label, fn in rows:
        host, gpu = [], []
        for _ in range(12):
            sync()
            bench_gpu._sync_all()
            start, end = cp.cuda.Event(), cp.cuda.Event()
            _spin(60_000_000)
            start.record()
            t0 = time.perf_counter()
            fn()
            t1 = time.perf_counter()
            end.record()
            end.synchronize()
            bench_gpu._sync_all()
            host.append(t1 - t0)
            gpu.append(cp.cuda.get_elapsed_time(start, end) * 1e-3)
        host, gpu = sorted(host)[2:-2], sorted(gpu)[2:-2]
        print(f"split {label}: host {sum(host) / len(host) * 1e3:.2f} ms to queue a step, "
              f"GPU {sum(gpu) / len(gpu) * 1e3:.2f} ms from first launch to last")
        idle = []
        for _ in range(12):
            bench_gpu._sync_all()
            t0 = time.perf_counter()
            fn()
            idle.append(time.perf_counter() - t0)
        idle = sorted(idle)[2:-2]
        print(f"split {label}: host {sum(idle) / len(idle) * 1e3:.2f} ms to queue a step "
              "with the GPU idle")
    bench_gpu._sync_all()
    pr = cProfile.Profile()
    for _ in range(5):
        _spin(60_000_000)
        pr.enable()
        ours()
        pr.disable()
        bench_gpu._sync_all()
    out = io.StringIO()
    pstats.Stats(pr, stream=out).sort_stats("tottime").print_stats(12)
    print(out.getvalue())


def replay():
    """cProfile of the MLP step once it replays: compiled (CUDA graphs) and eager (a
    repeated graph run as a program)."""
    params, xb, yb, sgd = mlp_problem((784, 4096, 4096, 10), 1024, 0.01)
    cstep = mx.compile(sgd)
    for label, fn in (("compiled", cstep), ("eager", sgd)):
        state = {"p": params}

        def step():
            loss, state["p"] = fn(state["p"], xb, yb)
            mx.eval(loss, state["p"])
        for _ in range(5):
            step()
        sync()
        print(f"replay {label}: {timed(step, 20) * 1e3:.2f} ms per step")
        profile(step, 50, f"replay {label}")


def evalcost():
    """The compiled chain's evaluation, layer by layer: mx.eval of a built call, then
    each layer under it, per call (best of 5), and a cProfile of the evaluations."""
    from mlxpy.core import device_eval as de
    x, body = _chain_problem()
    f = mx.compile(body)
    mx.eval(f(x))
    n = 3000

    def per_call(make, run):
        best = float("inf")
        for _ in range(5):
            items = [make() for _ in range(n)]
            sync()
            t0 = time.perf_counter()
            for it in items:
                run(it)
            sync()
            best = min(best, (time.perf_counter() - t0) / n)
        return best * 1e6
    y = f(x)
    prog = y._node.prim.program
    xd = x._node.data
    step = prog.gpu_plan[0]
    args = [xd if s == 0 else prog.gpu_consts[s] for s in step[1]]
    rows = [
        ("f(x)", lambda: None, lambda _: f(x)),
        ("mx.eval(y), y built", lambda: f(x), lambda y: mx.eval(y)),
        ("run_mixed([node])", lambda: f(x)._node, lambda nd: de.run_mixed([nd], 0, None, False)),
        ("run_program_on_gpu", lambda: None, lambda _: de.run_program_on_gpu(prog, [xd])),
        (f"run_step ({type(step[0]).__name__}, {len(args)} inputs)", lambda: None,
         lambda _: de.run_step(step, args)),
    ]
    for label, make, run in rows:
        print(f"evalcost {label}: {per_call(make, run):.2f} us")
    profile_evals([f(x) for _ in range(20000)], 22)


def floor():
    """What CuPy itself costs per call: the floor under a compiled call."""
    import cupy as cp
    k = cp.RawKernel(r'''extern "C" __global__ void f(const float* x, float* y, int n) {
        int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) y[i] = x[i] + 1.0f; }''', "f")
    x = cp.ones(16, dtype=cp.float32)
    y = cp.empty_like(x)
    n = cp.int32(16)
    for label, fn in [("cp.empty(16)", lambda: cp.empty(16, dtype=cp.float32)),
                      ("RawKernel launch", lambda: k((1,), (128,), (x, y, n))),
                      ("empty + launch", lambda: k((1,), (128,), (x, cp.empty(16, cp.float32), n))),
                      ("cp.sin", lambda: cp.sin(x))]:
        print(f"{label}: {timed(fn, 5000) * 1e6:.2f} us")


def layers():
    """The compiled chain's call, layer by layer (best of 5 x 2000), and the kernel's
    own GPU time from CUDA events."""
    import cupy as cp
    from mlxpy.core import device_eval as de
    x, body = _chain_problem()

    def cheap(x):
        for _ in range(25):
            x = ((x * 1.01) + 0.5) * 0.99 - 0.25
        return x
    for name, fn in (("sin/cos chain", body), ("add/mul chain", cheap)):
        f = mx.compile(fn)
        mx.eval(f(x))
        y = f(x)
        prog = y._node.prim.program
        xd = x._node.data
        rows = [("mx.eval(f(x))", lambda: mx.eval(f(x))),
                ("f(x) only", lambda: f(x)),
                ("run_program_on_gpu", lambda: de.run_program_on_gpu(prog, [xd]))]
        for label, g in rows:
            print(f"{name}: {label}: {timed(g, 2000) * 1e6:.2f} us")
        # Queued behind a spin kernel, so the events time the GPU's own work, not the
        # rate at which the host queues it (500 launches fit the launch queue).
        start, end = cp.cuda.Event(), cp.cuda.Event()
        _spin(200_000_000)
        start.record()
        for _ in range(500):
            de.run_program_on_gpu(prog, [xd])
        end.record()
        end.synchronize()
        print(f"{name}: GPU time per program (events, 500 queued behind a spin): "
              f"{cp.cuda.get_elapsed_time(start, end) / 500 * 1e3:.2f} us")


def nodes():
    """One eager MLP step node by node, synchronizing after each: host launch time and
    GPU wait per primitive (shape), summed over the step."""
    import collections
    import cupy as cp
    from mlxpy.core import device_eval as de
    from mlxpy.core.graph import topo_sort
    params, xb, yb, sgd = mlp_problem((784, 4096, 4096, 10), 1024, 0.01)
    for rep in range(3):
        loss, new = sgd(params, xb, yb)
        roots = [loss._node] + [a._node for pair in new for a in pair]
        order = topo_sort(roots)
        host = collections.defaultdict(float)
        gpu = collections.defaultdict(float)
        count = collections.Counter()
        cp.cuda.Device().synchronize()
        for node in order:
            name = f"{type(node.prim).__name__}{getattr(node.prim, 'ufunc', '') and '.' + node.prim.ufunc} {node.shape} {node.dtype.name}"
            t0 = time.perf_counter()
            de.run_mixed([node], 0, None, False)
            t1 = time.perf_counter()
            cp.cuda.Device().synchronize()
            t2 = time.perf_counter()
            host[name] += t1 - t0
            gpu[name] += t2 - t1
            count[name] += 1
        params = new
    print(f"{len(order)} nodes; host launch {sum(host.values()) * 1e3:.2f} ms, "
          f"GPU wait {sum(gpu.values()) * 1e3:.2f} ms (last step)")
    for name in sorted(host, key=lambda k: -(host[k] + gpu[k])):
        print(f"  {count[name]:3d} x {name}: host {host[name] * 1e6:8.1f} us, "
              f"gpu {gpu[name] * 1e6:8.1f} us")


def eager():
    """One eager op's host cost against CuPy's own call for the same work."""
    import cupy as cp
    for shape, bshape in (((10,), (10,)), ((1024, 4096), (4096,))):
        a = mx.random.normal(shape, key=mx.random.key(0))
        b = mx.random.normal(bshape, key=mx.random.key(1))
        mx.eval(a, b)
        ca, cb = a._node.data, b._node.data
        print(f"eager {shape}+{bshape}: mx.eval(a + b) {timed(lambda: mx.eval(a + b), 2000) * 1e6:.2f} us, "
              f"a + b (graph only) {timed(lambda: a + b, 2000) * 1e6:.2f} us, "
              f"cp.add {timed(lambda: cp.add(ca, cb), 2000) * 1e6:.2f} us")


def ops():
    """Host time per eager op at the MLP's shapes: 50 calls queued without waiting
    (too few to fill the launch queue), best of 5, against CuPy's call for the same."""
    import cupy as cp

    def host(fn, n=50):
        best = float("inf")
        for _ in range(6):
            sync()
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            best = min(best, time.perf_counter() - t0)
        sync()
        return best / n * 1e6
    k = mx.random.split(mx.random.key(0), 6)
    h = mx.random.normal((1024, 4096), key=k[0])
    w = mx.random.normal((4096, 4096), key=k[1])
    b = mx.random.normal((4096,), key=k[2])
    logits = mx.random.normal((1024, 10), key=k[3])
    y = mx.random.randint(0, 10, (1024,), key=k[4])
    small = mx.random.normal((10,), key=k[5])
    mx.eval(h, w, b, logits, y, small)
    H, W, B, L, Y = (a._node.data for a in (h, w, b, logits, y))
    cases = [
        ("sum axis 0 (1024,4096)", lambda: mx.eval(h.sum(axis=0)), lambda: H.sum(axis=0)),
        ("sum all (1024,)", lambda: mx.eval(b[:1024].sum()), lambda: B[:1024].sum()),
        ("logsumexp (1024,10)", lambda: mx.eval(mx.logsumexp(logits, axis=-1)), None),
        ("max axis -1 (1024,10)", lambda: mx.eval(logits.max(axis=-1)), lambda: L.max(axis=-1)),
        ("matmul h @ w.T", lambda: mx.eval(h @ w.T), lambda: H @ W.T),
        ("matmul (1024,10).T @ h", lambda: mx.eval(logits.T @ h), lambda: L.T @ H),
        ("take_along_axis", lambda: mx.eval(mx.take_along_axis(logits, y[:, None], axis=-1)),
         lambda: cp.take_along_axis(L, Y[:, None].astype(cp.int64), axis=-1)),
        ("grad of take_along_axis", lambda: mx.eval(mx.grad(
            lambda l: mx.take_along_axis(l, y[:, None], axis=-1).sum())(logits)), None),
        ("h + b", lambda: mx.eval(h + b), lambda: H + B),
        ("maximum(h, 0)", lambda: mx.eval(mx.maximum(h, 0)), lambda: cp.maximum(H, 0)),
        ("h > 0 astype", lambda: mx.eval((h > 0).astype(mx.float32)), lambda: (H > 0).astype(cp.float32)),
        ("w - 0.01 * w", lambda: mx.eval(w - 0.01 * w), lambda: W - 0.01 * W),
        ("small * small", lambda: mx.eval(small * small), None),
        ("mean (1024,)", lambda: mx.eval(mx.mean(b[:1024])), None),
    ]
    for label, f, c in cases:
        line = f"op {label}: mlxpy {host(f):.1f} us"
        if c is not None:
            line += f", cupy {host(c):.1f} us"
        print(line)


def tiny():
    """Where a tiny eager op's host time goes: building, evaluating, freeing."""
    import cupy as cp
    import gc
    s = mx.random.normal((10,), key=mx.random.key(5))
    mx.eval(s)
    S = s._node.data
    n = 5000
    print(f"tiny: cp.multiply {timed(lambda: cp.multiply(S, S), n) * 1e6:.2f} us")
    print(f"tiny: build s * s {timed(lambda: s * s, n) * 1e6:.2f} us")
    for label in ("eval only", "eval only, gc off"):
        if "gc off" in label:
            gc.disable()
        best = float("inf")
        for _ in range(5):
            ys = [s * s for _ in range(n)]
            sync()
            t0 = time.perf_counter()
            for y in ys:
                mx.eval(y)
            sync()
            best = min(best, (time.perf_counter() - t0) / n)
            t1 = time.perf_counter()
            del ys, y
            free = (time.perf_counter() - t1) / n
        gc.enable()
        print(f"tiny: {label} {best * 1e6:.2f} us, freeing {free * 1e6:.2f} us")
    profile_evals([s * s for _ in range(20000)], 25)


def echain():
    """The eager 100-op chain: time and cProfile."""
    x, body = _chain_problem()
    call = lambda: mx.eval(body(x))  # noqa: E731
    print(f"eager chain: {timed(call, 50) * 1e6:.1f} us per call")
    profile(call, 50, "eager chain")


if __name__ == "__main__":
    which = [a for a in sys.argv[1:] if a in ("chain", "mlp", "split", "replay", "evalcost", "floor", "layers", "nodes", "eager", "ops", "tiny", "echain")] or ["floor", "chain", "mlp"]
    for w in which:
        globals()[w]()
