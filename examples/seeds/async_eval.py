"""`mx.async_eval`: start evaluating in the background and keep building graphs.

From the `mx.async_eval` reference. The call returns at once; printing (like `mx.eval`,
`item()` or `mx.synchronize()`) waits for the result. A graph built on an array that is
still being evaluated may itself be handed to `async_eval`.

Run: python examples/seeds/async_eval.py
"""
import mlxpy.core as mx

x = mx.array(1.0)
y = mx.exp(x)
mx.async_eval(y)
print(y)

y = mx.exp(x)
mx.async_eval(y)
z = y + 3
mx.async_eval(z)
print(z)
