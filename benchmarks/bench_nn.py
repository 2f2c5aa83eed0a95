"""Training-step benchmarks of the nn examples: the CNN of examples/cnn_digits.py on
28x28 images and the character transformer of examples/transformer_lm.py.

The mlxpy and MLX rows run the very same program (each example's `build(mx, nn, optim)`
given either library's modules); the PyTorch row is the same architecture and optimizer
written with torch.nn, run eagerly. Run: python benchmarks/bench_nn.py
"""
import os
import sys

import numpy as np

from common import machine, median_time, optional, report

import mlxpy.core as mx
import mlxpy.nn as nn
import mlxpy.optimizers as optim

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples"))
import cnn_digits  # noqa: E402
import transformer_lm  # noqa: E402

mlx = optional("mlx.core")
mlx_nn = optional("mlx.nn")
mlx_optim = optional("mlx.optimizers")
torch = optional("torch")
if torch is not None:
    torch.set_num_threads(2)

RNG = np.random.default_rng(0)
# Compiled steps trace on the first call and again on the second, once the optimizer
# state exists; the warm-up calls keep both traces out of the timings.
WARMUP = 3


def ms_per_step(lib, build, batch):
    """Median milliseconds of `lib`'s training step on one fixed batch."""
    model, _, step = build()
    x, y = lib.array(batch[0]), lib.array(batch[1])

    def run():
        loss = step(x, y)
        lib.eval(loss, model.state)
    return 1e3 * median_time(run, repeat=7, warmup=WARMUP)


def library_rows(build_for, batch):
    """(name, ms) rows for mlxpy eager and compiled, then MLX eager and compiled."""
    libs = [("mlxpy", (mx, nn, optim))]
    if mlx is not None:
        libs.append(("mlx", (mlx, mlx_nn, mlx_optim)))
    rows = []
    for name, modules in libs:
        for compiled in (False, True):
            kind = "compiled" if compiled else "eager"
            build = lambda: build_for(*modules, compiled=compiled)  # noqa: E731
            rows.append((f"{name} {kind}", ms_per_step(modules[0], build, batch)))
    return rows


def torch_ms_per_step(model, optimizer, loss_fn, x, y, scheduler=None):
    def run():
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        return loss.item()
    return 1e3 * median_time(run, repeat=7, warmup=WARMUP)


def bench_cnn(batch_size=128, side=28):
    images = RNG.normal(size=(batch_size, side, side, 1)).astype(np.float32)
    labels = RNG.integers(0, 10, size=batch_size).astype(np.int32)
    rows = library_rows(
        lambda mx, nn, optim, compiled: cnn_digits.build(mx, nn, optim, image_size=side,
                                                         compiled=compiled),
        (images, labels))
    if torch is not None:
        tnn = torch.nn
        model = tnn.Sequential(
            tnn.Conv2d(1, 16, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Conv2d(16, 32, 3, padding=1), tnn.ReLU(), tnn.MaxPool2d(2),
            tnn.Flatten(), tnn.Linear(32 * (side // 4) ** 2, 10))
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
        x = torch.tensor(images).permute(0, 3, 1, 2).contiguous()  # torch convolves NCHW
        rows.append(("torch eager", torch_ms_per_step(
            model, optimizer, tnn.functional.cross_entropy, x, torch.tensor(labels).long())))
    return report(f"CNN training step (conv 1-16-32, 3x3, Adam), batch {batch_size} of "
                  f"{side}x{side}", rows, "ms per step", baseline="mlxpy compiled")


def bench_transformer(batch_size=16, context=64, dims=128, num_layers=2, num_heads=4):
    tokens, vocab = transformer_lm.load_text()
    inputs, targets = next(transformer_lm.windows(tokens, batch_size, context, seed=0))
    settings = dict(dims=dims, num_heads=num_heads, num_layers=num_layers, context=context)
    rows = library_rows(
        lambda mx, nn, optim, compiled: transformer_lm.build(mx, nn, optim, len(vocab),
                                                             compiled=compiled, **settings),
        (inputs, targets))
    if torch is not None:
        tnn = torch.nn

        class TorchLM(tnn.Module):
            def __init__(self):
                super().__init__()
                self.token_embedding = tnn.Embedding(len(vocab), dims)
                self.position_embedding = tnn.Embedding(context, dims)
                self.layers = tnn.ModuleList(
                    tnn.TransformerEncoderLayer(dims, num_heads, 4 * dims, dropout=0.0,
                                                batch_first=True, norm_first=True)
                    for _ in range(num_layers))
                self.norm = tnn.LayerNorm(dims)
                self.head = tnn.Linear(dims, len(vocab))

            def forward(self, tokens):
                length = tokens.shape[1]
                mask = tnn.Transformer.generate_square_subsequent_mask(length)
                x = self.token_embedding(tokens) + self.position_embedding(
                    torch.arange(length))
                for layer in self.layers:
                    x = layer(x, src_mask=mask, is_causal=True)
                return self.head(self.norm(x))

        model = TorchLM()
        optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=300,
                                                               eta_min=3e-4)

        def loss_fn(logits, y):
            return tnn.functional.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
        rows.append(("torch eager", torch_ms_per_step(
            model, optimizer, loss_fn, torch.tensor(inputs).long(),
            torch.tensor(targets).long(), scheduler)))
    return report(f"Transformer LM training step ({num_layers} layers, dims {dims}, AdamW), "
                  f"batch {batch_size} x context {context}", rows, "ms per step",
                  baseline="mlxpy compiled")


ALL = [bench_cnn, bench_transformer]

if __name__ == "__main__":
    print(f"Machine: {machine()}")
    for b in ALL:
        b()
