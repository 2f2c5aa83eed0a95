"""Train a small MLP on handwritten digits with mlxpy: value_and_grad, compile, SGD.

Run: python examples/train_digits.py [--steps N]

The data (1,797 8x8 digits) ships with the repository, so nothing is downloaded. The
program prints a progress bar and the test accuracy, and saves the loss curve to
`digits_loss.png` when matplotlib is installed.
"""
import argparse
import os
import sys
import time

import numpy as np

import mlxpy.core as mx

HERE = os.path.dirname(os.path.abspath(__file__))


def load(seed=0):
    with np.load(os.path.join(HERE, "data", "digits.npz")) as f:
        x = f["images"].reshape(-1, 64).astype(np.float32) / 16.0
        y = f["labels"].astype(np.int32)
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    split = int(0.8 * len(x))
    return (mx.array(x[:split]), mx.array(y[:split])), (mx.array(x[split:]), mx.array(y[split:]))


def init_params(key, sizes=(64, 128, 10)):
    params = []
    for k, (n_in, n_out) in zip(mx.random.split(key, len(sizes) - 1), zip(sizes, sizes[1:])):
        w = mx.random.normal((n_in, n_out), key=k) * (2.0 / n_in) ** 0.5
        params.append({"w": w, "b": mx.zeros((n_out,))})
    return params


def forward(params, x):
    for layer in params[:-1]:
        x = mx.maximum(x @ layer["w"] + layer["b"], 0.0)
    return x @ params[-1]["w"] + params[-1]["b"]


def loss_fn(params, x, y):
    logits = forward(params, x)
    picked = mx.take_along_axis(logits, y[:, None], axis=1)[:, 0]
    return (mx.logsumexp(logits, axis=-1) - picked).mean()


def accuracy(params, x, y):
    return (mx.argmax(forward(params, x), axis=-1) == y).astype(mx.float32).mean().item()


def progress(step, total, loss, width=30):
    done = int(width * step / total)
    sys.stdout.write(f"\r[{'#' * done}{'.' * (width - done)}] step {step}/{total} loss {loss:.4f}")
    sys.stdout.flush()


def main(steps=300, batch=128, lr=0.5, seed=0, plot=True):
    (xtr, ytr), (xte, yte) = load(seed)
    params = init_params(mx.random.key(seed))
    grad_fn = mx.value_and_grad(loss_fn)

    @mx.compile
    def step(params, x, y):
        loss, grads = grad_fn(params, x, y)
        new = [{k: p[k] - lr * g[k] for k in p} for p, g in zip(params, grads)]
        return loss, new

    rng = np.random.default_rng(seed)
    losses = []
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        idx = mx.array(rng.integers(0, xtr.shape[0], size=batch).astype(np.int32))
        loss, params = step(params, xtr[idx], ytr[idx])
        mx.eval(loss, params)
        losses.append(loss.item())
        if i % 10 == 0 or i == steps:
            progress(i, steps, losses[-1])
    elapsed = time.perf_counter() - t0
    acc = accuracy(params, xte, yte)
    print(f"\ntest accuracy {acc:.3f} after {steps} steps ({elapsed:.1f} s)")
    if plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            pass
        else:
            plt.plot(losses)
            plt.xlabel("step")
            plt.ylabel("training loss")
            plt.title("mlxpy: MLP on digits")
            plt.savefig("digits_loss.png", dpi=100)
            print("loss curve saved to digits_loss.png")
    return acc, losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    main(args.steps)
