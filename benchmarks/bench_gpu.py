"""GPU benchmarks: mlxpy on CuPy against CuPy, PyTorch and JAX on the same GPU.

Run on a machine with an NVIDIA GPU: python benchmarks/run.py --gpu
(writes the GPU section of benchmarks/RESULTS.md). `--smoke` runs every benchmark at
toy sizes on whatever device is there, to check the script itself.

Timing: each library's work is queued `number` times and the GPU is synchronized
once, so launch overhead overlaps with execution as it does in a real program; the
median over `repeat` such batches is reported per call.
"""
import os
import sys
import time
import statistics

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from common import optional, report  # noqa: E402

import mlxpy.core as mx  # noqa: E402

SMOKE = "--smoke" in sys.argv
cp = optional("cupy")
torch = optional("torch")
jax = optional("jax")
if torch is not None and not torch.cuda.is_available():
    torch = None


def _sync_all():
    if cp is not None:
        cp.cuda.Device().synchronize()
    if torch is not None:
        torch.cuda.synchronize()


def gpu_time(fn, number, repeat=5, warmup=2):
    """Median seconds per call of fn, queued `number` times between synchronizations."""
    for _ in range(warmup):
        fn()
    _sync_all()
    samples = []
    for _ in range(repeat):
        _sync_all()
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        _sync_all()
        samples.append((time.perf_counter() - t0) / number)
    return statistics.median(samples)


# -- 1. compiled tanh-gelu on 64M float32, against the copy bandwidth --------------------

def bench_gelu():
    n = (1 << 12) if SMOKE else (64 << 20)
    number = 3 if SMOKE else 20
    moved = 2 * 4 * n  # bytes read and written
    rows = []

    def tb_per_s(seconds):
        return moved / seconds / 1e12

    c = 0.7978845608028654

    def gelu_mx(x):
        return 0.5 * x * (1 + mx.tanh(c * (x + 0.044715 * x * x * x)))

    x = mx.random.normal((n,), key=mx.random.key(0))
    mx.eval(x)
    f = mx.compile(gelu_mx)
    rows.append(("mlxpy compiled", tb_per_s(gpu_time(lambda: mx.eval(f(x)), number))))
    if cp is not None:
        a = cp.random.standard_normal(n, dtype=cp.float32)
        b = cp.empty_like(a)
        rows.append(("device copy (cupy)", tb_per_s(gpu_time(lambda: cp.copyto(b, a), number))))
        k = cp.ElementwiseKernel(
            "float32 x", "float32 y",
            "y = 0.5f * x * (1.0f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x)))",
            "mlxpy_bench_gelu")
        rows.append(("cupy ElementwiseKernel", tb_per_s(gpu_time(lambda: k(a, b), number))))
    if torch is not None:
        t = torch.randn(n, device="cuda")
        g = torch.nn.functional.gelu
        rows.append(("torch gelu (native)", tb_per_s(gpu_time(
            lambda: g(t, approximate="tanh"), number))))
        try:
            tc = torch.compile(lambda x: 0.5 * x * (1 + torch.tanh(c * (x + 0.044715 * x ** 3))))
            rows.append(("torch.compile", tb_per_s(gpu_time(lambda: tc(t), number))))
        except Exception as e:  # noqa: BLE001 - report what could be measured
            print("torch.compile unavailable:", e)
    if jax is not None:
        jnp = jax.numpy
        jx = jax.random.normal(jax.random.key(0), (n,), dtype=jnp.float32)
        jf = jax.jit(lambda x: 0.5 * x * (1 + jnp.tanh(c * (x + 0.044715 * x ** 3))))
        rows.append(("jax.jit", tb_per_s(gpu_time(lambda: jf(jx).block_until_ready(), number))))
    text = report(f"tanh-gelu on {n:,} float32 (bytes read + written per second)", rows,
                  "TB/s", baseline="mlxpy compiled")
    copy = dict(rows).get("device copy (cupy)")
    ours = dict(rows)["mlxpy compiled"]
    if copy:
        text += f"\nmlxpy compiled reaches {100 * ours / copy:.0f}% of the copy bandwidth.\n"
    return text


# -- 2. per-op overhead: a chain of 100 ops on 16 elements -------------------------------

def _chain(lib_ops, x):
    sin, cos, add, mul = lib_ops
    for i in range(25):
        x = sin(x)
        x = mul(x, 1.01)
        x = cos(x)
        x = add(x, 0.5)
    return x


def bench_chain():
    number = 5 if SMOKE else 200
    rows = []
    x = mx.random.normal((16,), key=mx.random.key(1))
    mx.eval(x)
    mx_ops = (mx.sin, mx.cos, lambda a, b: a + b, lambda a, b: a * b)
    rows.append(("mlxpy eager", gpu_time(lambda: mx.eval(_chain(mx_ops, x)), number // 10 + 1) * 1e6))
    f = mx.compile(lambda x: _chain(mx_ops, x))
    rows.append(("mlxpy compiled", gpu_time(lambda: mx.eval(f(x)), number) * 1e6))
    if cp is not None:
        a = cp.random.standard_normal(16, dtype=cp.float32)
        ops = (cp.sin, cp.cos, lambda a, b: a + b, lambda a, b: a * b)
        rows.append(("cupy", gpu_time(lambda: _chain(ops, a), number // 10 + 1) * 1e6))
    if torch is not None:
        t = torch.randn(16, device="cuda")
        ops = (torch.sin, torch.cos, lambda a, b: a + b, lambda a, b: a * b)
        rows.append(("torch eager", gpu_time(lambda: _chain(ops, t), number // 10 + 1) * 1e6))
    if jax is not None:
        jnp = jax.numpy
        jx = jnp.ones(16, dtype=jnp.float32)
        ops = (jnp.sin, jnp.cos, lambda a, b: a + b, lambda a, b: a * b)
        jf = jax.jit(lambda x: _chain(ops, x))
        rows.append(("jax.jit", gpu_time(lambda: jf(jx).block_until_ready(), number) * 1e6))
    return report("Chain of 100 elementwise ops on 16 float32, per call", rows, "µs",
                  baseline="mlxpy compiled")


# -- 3. MLP training step ------------------------------------------------------------------

def mlp_problem(sizes, batch, lr):
    """(params, x, y, step): a seeded MLP classifier, its batch, and one SGD step
    `step(params, x, y) -> (loss, new params)`, all evaluated but the step."""
    keys = mx.random.split(mx.random.key(0), 4)
    params = [(mx.random.normal((o, i), key=keys[j]) * (1 / i ** 0.5), mx.zeros((o,)))
              for j, (i, o) in enumerate(zip(sizes[:-1], sizes[1:]))]
    xb = mx.random.normal((batch, sizes[0]), key=keys[3])
    yb = mx.random.randint(0, 10, (batch,), key=keys[2])
    mx.eval(params, xb, yb)

    def loss_fn(params, x, y):
        for w, b in params[:-1]:
            x = mx.maximum(x @ w.T + b, 0)
        w, b = params[-1]
        logits = x @ w.T + b
        return mx.mean(mx.logsumexp(logits, axis=-1)
                       - mx.take_along_axis(logits, y[:, None], axis=-1)[:, 0])

    grad_fn = mx.value_and_grad(loss_fn)

    def step(params, x, y):
        loss, grads = grad_fn(params, x, y)
        return loss, [(w - lr * gw, b - lr * gb) for (w, b), (gw, gb) in zip(params, grads)]
    return params, xb, yb, step


def bench_mlp():
    sizes = (784, 4096, 4096, 10)
    batch = 1024
    if SMOKE:
        sizes, batch = (16, 32, 32, 10), 8
    number = 2 if SMOKE else 20
    lr = 0.01
    rows = []
    params, xb, yb, step = mlp_problem(sizes, batch, lr)

    state = {"p": params}

    def run_eager():
        loss, state["p"] = step(state["p"], xb, yb)
        mx.eval(loss, state["p"])

    rows.append(("mlxpy eager", gpu_time(run_eager, number) * 1e3))
    cstep = mx.compile(step)

    def run_compiled():
        loss, state["p"] = cstep(state["p"], xb, yb)
        mx.eval(loss, state["p"])

    rows.append(("mlxpy compiled", gpu_time(run_compiled, number) * 1e3))
    if torch is not None:
        torch_step = torch_mlp_step(params, xb, yb, lr)
        rows.append(("torch eager", gpu_time(torch_step, number) * 1e3))
    return report(f"MLP training step {'-'.join(map(str, sizes))}, batch {batch}, float32",
                  rows, "ms per step", baseline="mlxpy eager")



def torch_mlp_step(params, xb, yb, lr):
    """The same SGD step in PyTorch eager, on copies of the same weights and batch."""
    tp = [(torch.tensor(np_(w), device="cuda", requires_grad=True),
           torch.tensor(np_(b), device="cuda", requires_grad=True)) for w, b in params]
    tx = torch.tensor(np_(xb), device="cuda")
    ty = torch.tensor(np_(yb), device="cuda").long()

    def torch_step():
        h = tx
        for w, b in tp[:-1]:
            h = torch.relu(h @ w.T + b)
        w, b = tp[-1]
        loss = torch.nn.functional.cross_entropy(h @ w.T + b, ty)
        loss.backward()
        with torch.no_grad():
            for w, b in tp:
                w -= lr * w.grad
                b -= lr * b.grad
                w.grad = None
                b.grad = None
    return torch_step

def np_(a):
    import numpy as np
    return np.array(a)


# -- 4. float32 matmul ---------------------------------------------------------------------

def bench_matmul():
    n = 256 if SMOKE else 8192
    number = 2 if SMOKE else 10
    flop = 2 * n ** 3
    rows = []
    a = mx.random.normal((n, n), key=mx.random.key(0))
    b = mx.random.normal((n, n), key=mx.random.key(1))
    mx.eval(a, b)
    rows.append(("mlxpy", flop / gpu_time(lambda: mx.eval(a @ b), number) / 1e12))
    if cp is not None:
        ca, cb = cp.asarray(np_(a)), cp.asarray(np_(b))
        rows.append(("cupy", flop / gpu_time(lambda: ca @ cb, number) / 1e12))
    if torch is not None:
        ta, tb = torch.tensor(np_(a), device="cuda"), torch.tensor(np_(b), device="cuda")
        tf32 = torch.backends.cuda.matmul.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = False
        rows.append(("torch (no tf32)", flop / gpu_time(lambda: ta @ tb, number) / 1e12))
        torch.backends.cuda.matmul.allow_tf32 = tf32
    return report(f"float32 matmul {n}x{n} @ {n}x{n}", rows, "TFLOP/s")


ALL = [bench_gelu, bench_chain, bench_mlp, bench_matmul]


def device_summary():
    info = mx.device_info(mx.gpu) if mx.is_available(mx.gpu) else {}
    return info.get("device_name", "no GPU")


if __name__ == "__main__":
    for fn in ALL:
        fn()
