"""Gradients of a loss with respect to one argument or another, and the loss with them.

From MLX's "Function transforms" guide and the `value_and_grad` reference. `mx.grad`
differentiates with respect to the first argument unless `argnums` picks others;
`mx.value_and_grad` returns the loss and its gradient from one pass, and a loss function
may return extra values after the loss (they come back untouched, not differentiated).

Run: python examples/seeds/loss_fn.py
"""
import mlxpy.core as mx


def loss_fn(w, x, y):
    return mx.mean(mx.square(w * x - y))


w = mx.array(1.0)
x = mx.array([0.5, -0.5])
y = mx.array([1.5, -1.5])

print("dloss/dw:", mx.grad(loss_fn)(w, x, y))
print("dloss/dx:", mx.grad(loss_fn, argnums=1)(w, x, y))

loss, dloss_dw = mx.value_and_grad(loss_fn)(w, x, y)
print("loss:", loss)
print("dloss/dw again:", dloss_dw)


# The reference's second example: a loss built from two parts, both returned for logging.
def forward(params, inputs):
    return inputs @ params["w"] + params["b"]


def lasso(params, inputs, targets, a=1.0, b=1.0):
    errors = forward(params, inputs) - targets
    mse = errors.square().mean()
    l1 = mx.abs(errors).mean()
    return a * mse + b * l1, mse, l1


params = {"w": mx.array([1.0, -1.0]), "b": mx.array(0.5)}
inputs = mx.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
targets = mx.array([0.0, 1.0, -1.0])
(loss, mse, l1), grads = mx.value_and_grad(lasso)(params, inputs, targets)
print("lasso loss, mse, l1:", loss.item(), mse.item(), l1.item())
print("lasso grads:", grads)
