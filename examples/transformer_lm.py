"""Train a small character-level transformer language model with mlxpy.nn.

Run: python examples/transformer_lm.py [--steps N]

Token and position embeddings, two pre-norm `nn.TransformerEncoderLayer`s under a causal
mask, a final `nn.LayerNorm` and a linear head predicting the next character; trained
with `nn.losses.cross_entropy`, AdamW on a cosine-decay schedule and one `mx.compile`d
step that captures the model, optimizer and random state. The text
(`data/tiny_text.txt`, sentences from a small grammar, see `data/README.md`) ships with
the repository. Prints the loss, the validation loss and a sampled continuation, and
saves the loss curve to `transformer_lm_loss.png` when matplotlib is installed.

The model, loss and step are built by `build(mx, nn, optim, ...)` from whichever
library's modules it is given, so the same program also runs under real MLX (the tests
do that).
"""
import argparse
import os
import time

import numpy as np

import mlxpy.core as mx
import mlxpy.nn as nn
import mlxpy.optimizers as optim

from cnn_digits import save_loss_curve  # sibling examples
from train_digits import progress

HERE = os.path.dirname(os.path.abspath(__file__))


def load_text(path=os.path.join(HERE, "data", "tiny_text.txt")):
    """(int32 NumPy token ids, vocabulary string): one token per distinct character."""
    with open(path) as f:
        text = f.read()
    vocab = "".join(sorted(set(text)))
    lookup = {c: i for i, c in enumerate(vocab)}
    return np.array([lookup[c] for c in text], dtype=np.int32), vocab


def windows(tokens, batch, context, seed):
    """An endless stream of (inputs, targets) NumPy batches of random text windows; each
    target row is its input row shifted by one character."""
    rng = np.random.default_rng(seed)
    offsets = np.arange(context)
    while True:
        starts = rng.integers(0, len(tokens) - context - 1, size=batch)
        rows = tokens[starts[:, None] + offsets]
        yield rows, tokens[starts[:, None] + offsets + 1]


def build(mx, nn, optim, vocab_size, dims=64, num_heads=4, num_layers=2, context=32,
          dropout=0.0, learning_rate=3e-3, decay_steps=300, compiled=True):
    """(model, optimizer, step) from the given `mlx.core`, `mlx.nn`, `mlx.optimizers`.

    `step(inputs, targets)` takes int32 token windows (N, L) with L <= `context`, updates
    the model in place and returns the mean next-character cross-entropy before the
    update; `compiled=False` gives the same step run eagerly (the benchmarks time both).
    """

    class CharTransformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.token_embedding = nn.Embedding(vocab_size, dims)
            self.position_embedding = nn.Embedding(context, dims)
            self.layers = [
                nn.TransformerEncoderLayer(dims, num_heads, mlp_dims=4 * dims, dropout=dropout,
                                           norm_first=True)
                for _ in range(num_layers)
            ]
            self.norm = nn.LayerNorm(dims)
            self.head = nn.Linear(dims, vocab_size)

        def __call__(self, tokens):
            length = tokens.shape[1]
            # Each position attends to itself and earlier ones only.
            mask = nn.MultiHeadAttention.create_additive_causal_mask(length)
            x = self.token_embedding(tokens) + self.position_embedding(mx.arange(length))
            for layer in self.layers:
                x = layer(x, mask)
            return self.head(self.norm(x))

    model = CharTransformer()
    schedule = optim.cosine_decay(learning_rate, decay_steps, learning_rate / 10)
    optimizer = optim.AdamW(learning_rate=schedule)

    def loss_fn(model, inputs, targets):
        return nn.losses.cross_entropy(model(inputs), targets, reduction="mean")

    loss_and_grad = nn.value_and_grad(model, loss_fn)
    # The random state is captured too, so that dropout draws fresh masks on every call.
    state = [model.state, optimizer.state, mx.random.state]

    def step(inputs, targets):
        loss, grads = loss_and_grad(model, inputs, targets)
        optimizer.update(model, grads)
        return loss

    if compiled:
        step = mx.compile(step, inputs=state, outputs=state)
    return model, optimizer, step


def sample(mx, model, prompt, vocab, length=120, context=32, temperature=0.7, seed=0):
    """`prompt` continued by `length` characters drawn from the model, one at a time."""
    lookup = {c: i for i, c in enumerate(vocab)}
    tokens = [lookup[c] for c in prompt]
    key = mx.random.key(seed)
    for _ in range(length):
        key, subkey = mx.random.split(key)
        window = mx.array([tokens[-context:]], dtype=mx.int32)
        logits = model(window)[0, -1]
        tokens.append(mx.random.categorical(logits / temperature, key=subkey).item())
    return "".join(vocab[t] for t in tokens)


def main(steps=300, batch=32, context=32, dims=64, learning_rate=3e-3, seed=0, plot=True):
    tokens, vocab = load_text()
    split = int(0.9 * len(tokens))
    train, valid = tokens[:split], tokens[split:]
    mx.random.seed(seed)
    model, _, step = build(mx, nn, optim, len(vocab), dims=dims, context=context,
                           learning_rate=learning_rate, decay_steps=steps)
    mx.eval(model.parameters())

    losses = []
    stream = windows(train, batch, context, seed)
    t0 = time.perf_counter()
    for i in range(1, steps + 1):
        inputs, targets = next(stream)
        loss = step(mx.array(inputs), mx.array(targets))
        mx.eval(loss, model.state)
        losses.append(loss.item())
        if i % 10 == 0 or i == steps:
            progress(i, steps, losses[-1])
    elapsed = time.perf_counter() - t0

    model.eval()
    inputs, targets = next(windows(valid, 64, context, seed + 1))
    logits = model(mx.array(inputs))
    valid_loss = nn.losses.cross_entropy(logits, mx.array(targets), reduction="mean").item()
    print(f"\ntrain loss {losses[-1]:.3f}, validation loss {valid_loss:.3f} "
          f"after {steps} steps ({elapsed:.1f} s)")
    text = sample(mx, model, "The ", vocab, context=context, seed=seed)
    print(f"sample: {text!r}")
    if plot:
        save_loss_curve(losses, "mlxpy: character transformer", "transformer_lm_loss.png")
    return losses, text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    main(args.steps)
