"""Train a small convolutional network on handwritten digits with mlxpy.nn.

Run: python examples/cnn_digits.py [--steps N]

Two 3x3 convolutions (1 -> 16 -> 32 channels) with ReLU and 2x2 max pooling, then a
linear classifier, trained with `nn.value_and_grad`, Adam, and one `mx.compile`d step that
captures the model and optimizer state (MLX's idiom). The 8x8 digits ship with the
repository. Prints a progress bar and the test accuracy, and saves the loss curve to
`cnn_digits_loss.png` when matplotlib is installed.

The model, loss and step are built by `build(mx, nn, optim)` from whichever library's
modules it is given, so the same program also runs under real MLX (the tests do that).
"""
import argparse
import time

import numpy as np

import mlxpy.core as mx
import mlxpy.nn as nn
import mlxpy.optimizers as optim

from train_digits import load, progress  # the sibling example: same data, same progress bar


def build(mx, nn, optim, learning_rate=1e-2, image_size=8, compiled=True):
    """(model, optimizer, step) from the given `mlx.core`, `mlx.nn`, `mlx.optimizers`.

    `step(x, y)` takes a batch of images (N, image_size, image_size, 1) and int32 labels
    (N,), updates the model in place and returns the mean cross-entropy before the update;
    `compiled=False` gives the same step run eagerly (the benchmarks time both).
    """

    class DigitsCNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)
            self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)
            self.pool = nn.MaxPool2d(kernel_size=2)
            # Each pooling halves the image side: 8x8 digits reach the head as 2x2 maps.
            self.head = nn.Linear(32 * (image_size // 4) ** 2, 10)

        def __call__(self, x):
            x = self.pool(nn.relu(self.conv1(x)))
            x = self.pool(nn.relu(self.conv2(x)))
            return self.head(x.reshape(x.shape[0], -1))

    model = DigitsCNN()
    optimizer = optim.Adam(learning_rate=learning_rate)

    def loss_fn(model, x, y):
        return nn.losses.cross_entropy(model(x), y, reduction="mean")

    loss_and_grad = nn.value_and_grad(model, loss_fn)
    # Everything the step reads and writes besides its arguments: the compiled function
    # takes these as hidden inputs and writes the new values back after each call.
    state = [model.state, optimizer.state]

    def step(x, y):
        loss, grads = loss_and_grad(model, x, y)
        optimizer.update(model, grads)
        return loss

    if compiled:
        step = mx.compile(step, inputs=state, outputs=state)
    return model, optimizer, step


def images(x):
    """Flat 64-pixel rows as NumPy (N, 8, 8, 1) images: channels last, as MLX convolves."""
    return np.asarray(x).reshape(-1, 8, 8, 1)


def batches(x, y, batch, seed):
    """An endless stream of random NumPy batches (with replacement), the same for a seed."""
    rng = np.random.default_rng(seed)
    while True:
        idx = rng.integers(0, len(x), size=batch)
        yield x[idx], y[idx]


def save_loss_curve(losses, title, path):
    """Plot `losses` to `path` when matplotlib is installed; True if saved."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots()
    ax.plot(losses)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    print(f"loss curve saved to {path}")
    return True


def main(steps=200, batch=64, learning_rate=1e-2, seed=0, plot=True):
    (xtr, ytr), (xte, yte) = load(seed)
    xtr, ytr = images(xtr), np.asarray(ytr)
    mx.random.seed(seed)
    model, _, step = build(mx, nn, optim, learning_rate)
    mx.eval(model.parameters())

    losses = []
    t0 = time.perf_counter()
    stream = batches(xtr, ytr, batch, seed)
    for i in range(1, steps + 1):
        x, y = next(stream)
        loss = step(mx.array(x), mx.array(y))
        mx.eval(loss, model.state)
        losses.append(loss.item())
        if i % 10 == 0 or i == steps:
            progress(i, steps, losses[-1])
    elapsed = time.perf_counter() - t0
    predictions = mx.argmax(model(mx.array(images(xte))), axis=-1)
    acc = (predictions == yte).astype(mx.float32).mean().item()
    print(f"\ntest accuracy {acc:.3f} after {steps} steps ({elapsed:.1f} s)")
    if plot:
        save_loss_curve(losses, "mlxpy: CNN on digits", "cnn_digits_loss.png")
    return acc, losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    main(args.steps)
