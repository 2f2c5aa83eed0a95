"""Transform benchmarks: grad, higher-order grad, Hessian-vector products, an MLP
training step, per-example gradients with vmap, the vmapped add, and compile.

Each compares mlxpy with real MLX, JAX and PyTorch when they are installed, in the
same run. Run: python benchmarks/bench_transforms.py
"""
import numpy as np

from common import machine, median_time, optional, report

import mlxpy.core as mx

mlx = optional("mlx.core")
jax = optional("jax")
jnp = optional("jax.numpy")
torch = optional("torch")
if torch is not None:
    torch.set_num_threads(2)

RNG = np.random.default_rng(0)


def us(t):
    return t * 1e6


def bench_grad_small():
    x = RNG.normal(size=16).astype(np.float32)
    rows = []
    g = mx.grad(lambda x: (mx.sin(x) * x).sum())
    xa = mx.array(x)
    rows.append(("mlxpy", us(median_time(lambda: mx.eval(g(xa)), number=200))))
    if mlx is not None:
        gm = mlx.grad(lambda x: (mlx.sin(x) * x).sum())
        xm = mlx.array(x)
        rows.append(("mlx", us(median_time(lambda: mlx.eval(gm(xm)), number=200))))
    if jax is not None:
        gj = jax.grad(lambda x: (jnp.sin(x) * x).sum())
        xj = jnp.array(x)
        rows.append(("jax (no jit)", us(median_time(lambda: gj(xj).block_until_ready(), number=50))))
    if torch is not None:
        xt = torch.tensor(x)

        def tg():
            v = xt.clone().requires_grad_(True)
            (torch.sin(v) * v).sum().backward()
            return v.grad
        rows.append(("torch", us(median_time(tg, number=200))))
    return report("grad of sum(sin(x) * x), 16 elements", rows, "µs per call")


def bench_grad4():
    rows = []
    f = mx.grad(mx.grad(mx.grad(mx.grad(mx.sin))))
    x = mx.array(0.3)
    rows.append(("mlxpy", us(median_time(lambda: mx.eval(f(x)), number=50))))
    if mlx is not None:
        fm = mlx.grad(mlx.grad(mlx.grad(mlx.grad(mlx.sin))))
        xm = mlx.array(0.3)
        rows.append(("mlx", us(median_time(lambda: mlx.eval(fm(xm)), number=50))))
    if jax is not None:
        fj = jax.grad(jax.grad(jax.grad(jax.grad(jnp.sin))))
        rows.append(("jax (no jit)", us(median_time(lambda: fj(0.3).block_until_ready(), number=10))))
    return report("4th-order grad of sin", rows, "µs per call")


def bench_hvp():
    A = (RNG.normal(size=(1000, 1000)) / 30).astype(np.float32)
    x = RNG.normal(size=1000).astype(np.float32)
    v = RNG.normal(size=1000).astype(np.float32)
    rows = []
    Am, xa, va = mx.array(A), mx.array(x), mx.array(v)
    f = lambda x: (mx.tanh(Am @ x) ** 2).sum()
    rows.append(("mlxpy", us(median_time(lambda: mx.eval(mx.jvp(mx.grad(f), [xa], [va])[1]), number=5))))
    if mlx is not None:
        Al, xl, vl = mlx.array(A), mlx.array(x), mlx.array(v)
        fl = lambda x: (mlx.tanh(Al @ x) ** 2).sum()
        rows.append(("mlx", us(median_time(lambda: mlx.eval(mlx.jvp(mlx.grad(fl), [xl], [vl])[1]), number=5))))
    if jax is not None:
        Aj, xj, vj = jnp.array(A), jnp.array(x), jnp.array(v)
        fj = lambda x: (jnp.tanh(Aj @ x) ** 2).sum()
        hvp = jax.jit(lambda x, v: jax.jvp(jax.grad(fj), (x,), (v,))[1])
        rows.append(("jax jit", us(median_time(lambda: hvp(xj, vj).block_until_ready(), number=5))))
    if torch is not None:
        At, xt, vt = torch.tensor(A), torch.tensor(x), torch.tensor(v)
        ft = lambda x: (torch.tanh(At @ x) ** 2).sum()
        rows.append(("torch", us(median_time(
            lambda: torch.autograd.functional.hvp(ft, xt, vt)[1], number=5))))
    return report("Hessian-vector product of sum(tanh(A @ x) ** 2), A 1000x1000", rows, "µs per call")


def _mlp_data():
    W1 = (RNG.normal(size=(784, 512)) * 0.05).astype(np.float32)
    W2 = (RNG.normal(size=(512, 10)) * 0.05).astype(np.float32)
    X = RNG.normal(size=(256, 784)).astype(np.float32)
    Y = RNG.integers(0, 10, size=256)
    return W1, W2, X, Y


def mlp_step_lib(lib, compiled=False):
    W1, W2, X, Y = _mlp_data()
    params = {"w1": lib.array(W1), "b1": lib.zeros((512,)), "w2": lib.array(W2), "b2": lib.zeros((10,))}
    x = lib.array(X)
    onehot = lib.array(np.eye(10, dtype=np.float32)[Y])

    def loss(p, x, y):
        h = lib.maximum(x @ p["w1"] + p["b1"], 0.0)
        logits = h @ p["w2"] + p["b2"]
        return (lib.logsumexp(logits, axis=-1) - (logits * y).sum(axis=-1)).mean()

    vg = lib.value_and_grad(loss)

    def step(p, x, y):
        l, g = vg(p, x, y)
        return l, {k: p[k] - 0.1 * g[k] for k in p}

    if compiled:
        step = lib.compile(step)
    state = {"p": params}

    def run():
        l, state["p"] = step(state["p"], x, onehot)
        lib.eval(l, state["p"])
    return run


def bench_mlp(compiled=False):
    rows = [("mlxpy", 1e3 * median_time(mlp_step_lib(mx, compiled), repeat=7))]
    if mlx is not None:
        rows.append(("mlx", 1e3 * median_time(mlp_step_lib(mlx, compiled), repeat=7)))
    if jax is not None:
        W1, W2, X, Y = _mlp_data()
        p = {"w1": jnp.array(W1), "b1": jnp.zeros(512), "w2": jnp.array(W2), "b2": jnp.zeros(10)}
        x = jnp.array(X)
        y = jnp.array(np.eye(10, dtype=np.float32)[Y])

        def loss(p, x, y):
            h = jnp.maximum(x @ p["w1"] + p["b1"], 0.0)
            logits = h @ p["w2"] + p["b2"]
            return (jax.nn.logsumexp(logits, axis=-1) - (logits * y).sum(axis=-1)).mean()

        @jax.jit
        def step(p, x, y):
            l, g = jax.value_and_grad(loss)(p, x, y)
            return l, jax.tree_util.tree_map(lambda a, b: a - 0.1 * b, p, g)
        box = {"p": p}

        def run():
            l, box["p"] = step(box["p"], x, y)
            l.block_until_ready()
        rows.append(("jax jit", 1e3 * median_time(run, repeat=7)))
    if torch is not None:
        W1, W2, X, Y = _mlp_data()
        ps = [torch.tensor(W1, requires_grad=True), torch.zeros(512, requires_grad=True),
              torch.tensor(W2, requires_grad=True), torch.zeros(10, requires_grad=True)]
        x = torch.tensor(X)
        y = torch.tensor(Y)

        def run():
            h = torch.relu(x @ ps[0] + ps[1])
            l = torch.nn.functional.cross_entropy(h @ ps[2] + ps[3], y)
            for q in ps:
                q.grad = None
            l.backward()
            with torch.no_grad():
                for q in ps:
                    q -= 0.1 * q.grad
        rows.append(("torch eager", 1e3 * median_time(run, repeat=7)))
    kind = "compiled" if compiled else "eager"
    return report(f"MLP training step 784-512-10, batch 256 ({kind} mlxpy/mlx)", rows, "ms per step")


def bench_per_example_grads():
    w = RNG.normal(size=100).astype(np.float32)
    X = RNG.normal(size=(256, 100)).astype(np.float32)
    Y = RNG.normal(size=256).astype(np.float32)
    rows = []

    def run_lib(lib):
        loss = lambda w, x, y: (lib.sum(w * x) - y) ** 2
        pe = lib.vmap(lib.grad(loss), in_axes=(None, 0, 0))
        wa, xa, ya = lib.array(w), lib.array(X), lib.array(Y)
        return lambda: lib.eval(pe(wa, xa, ya))
    rows.append(("mlxpy", us(median_time(run_lib(mx), number=20))))
    if mlx is not None:
        rows.append(("mlx", us(median_time(run_lib(mlx), number=20))))
    if jax is not None:
        loss = lambda w, x, y: (jnp.sum(w * x) - y) ** 2
        pe = jax.vmap(jax.grad(loss), in_axes=(None, 0, 0))
        wj, xj, yj = jnp.array(w), jnp.array(X), jnp.array(Y)
        rows.append(("jax (no jit)", us(median_time(lambda: pe(wj, xj, yj).block_until_ready(), number=5))))
        pej = jax.jit(pe)
        rows.append(("jax jit", us(median_time(lambda: pej(wj, xj, yj).block_until_ready(), number=20))))
    return report("Per-example gradients: vmap(grad(loss)), linear model, 100 features, batch 256",
                  rows, "µs per call")


def bench_vmap_add():
    xs = RNG.uniform(size=(4096, 100)).astype(np.float32)
    ys = RNG.uniform(size=(100, 4096)).astype(np.float32)
    rows = []

    def run_lib(lib):
        f = lib.vmap(lambda x, y: x + y, in_axes=(0, 1))
        a, b = lib.array(xs), lib.array(ys)

        def run():
            for _ in range(100):
                lib.eval(f(a, b))
        return run
    rows.append(("mlxpy", median_time(run_lib(mx), repeat=5)))
    if mlx is not None:
        rows.append(("mlx", median_time(run_lib(mlx), repeat=5)))
    rows.append(("numpy xs + ys.T", median_time(lambda: [xs + ys.T for _ in range(100)], repeat=5)))
    return report("vmap(lambda x, y: x + y, in_axes=(0, 1)), 4096x100, 100 evaluations", rows,
                  "seconds")


def gelu_of(lib):
    return lambda x: 0.5 * x * (1 + lib.tanh(0.79788456 * (x + 0.044715 * x ** 3)))


def bench_gelu():
    x = RNG.normal(size=4 * 1024 * 1024).astype(np.float32)
    rows = []
    g = mx.compile(gelu_of(mx))
    xa = mx.array(x)
    rows.append(("mlxpy compiled", 1e3 * median_time(lambda: mx.eval(g(xa)), repeat=9)))
    rows.append(("mlxpy eager", 1e3 * median_time(lambda: mx.eval(gelu_of(mx)(xa)), repeat=5)))
    if mlx is not None:
        gm = mlx.compile(gelu_of(mlx))
        xm = mlx.array(x)
        rows.append(("mlx compiled", 1e3 * median_time(lambda: mlx.eval(gm(xm)), repeat=5)))
    if jax is not None:
        gj = jax.jit(gelu_of(jnp))
        xj = jnp.array(x)
        rows.append(("jax jit", 1e3 * median_time(lambda: gj(xj).block_until_ready(), repeat=9)))
    if torch is not None:
        xt = torch.tensor(x)
        rows.append(("torch eager", 1e3 * median_time(lambda: gelu_of(torch)(xt), repeat=5)))
    rows.append(("numpy", 1e3 * median_time(lambda: gelu_of(np)(x), repeat=5)))
    return report("tanh-gelu on 4M float32", rows, "ms per call", baseline="mlxpy compiled")


def bench_tiny_compiled():
    def f(lib):
        def fn(x):
            for i in range(10):
                x = lib.sin(x) * 0.5 + 1.0
                x = x - 0.25
                x = lib.exp(x * 0.1)
            return x
        return fn
    rows = []
    c = mx.compile(f(mx))
    x = mx.array(0.5)
    rows.append(("mlxpy compiled", us(median_time(lambda: mx.eval(c(x)), number=200))))
    if mlx is not None:
        cm = mlx.compile(f(mlx))
        xm = mlx.array(0.5)
        rows.append(("mlx compiled", us(median_time(lambda: mlx.eval(cm(xm)), number=200))))
    if jax is not None:
        cj = jax.jit(f(jnp))
        xj = jnp.array(0.5)
        rows.append(("jax jit", us(median_time(lambda: cj(xj).block_until_ready(), number=200))))
    return report("Compiled function of 50 tiny elementwise ops on a scalar", rows, "µs per call",
                  baseline="mlxpy compiled")


ALL = [bench_grad_small, bench_grad4, bench_hvp, bench_mlp, lambda: bench_mlp(True),
       bench_per_example_grads, bench_vmap_add, bench_gelu, bench_tiny_compiled]

if __name__ == "__main__":
    print(f"Machine: {machine()}")
    for b in ALL:
        b()
