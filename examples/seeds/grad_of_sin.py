"""Derivatives of the sine to any order, by applying `mx.grad` to its own result.

From MLX's "Function transforms" guide. `mx.grad(mx.sin)` is a new function, the
derivative of the sine, which is the cosine; `mx.grad` of that function is the second
derivative, minus the sine, and so on.

Run: python examples/seeds/grad_of_sin.py
"""
import mlxpy.core as mx

dfdx = mx.grad(mx.sin)                # the cosine
d2fdx2 = mx.grad(mx.grad(mx.sin))     # minus the sine

x = mx.array(mx.pi)
print("grad(sin)(pi)          ", dfdx(x))
print("cos(pi)                ", mx.cos(x))

x = mx.array(mx.pi / 2)
print("grad(grad(sin))(pi/2)  ", d2fdx2(x))
print("sin(pi/2)              ", mx.sin(x))

# Nothing stops at two: four derivatives bring the sine back.
d4 = mx.grad(mx.grad(mx.grad(mx.grad(mx.sin))))
x = mx.array(0.5)
print("4th derivative at 0.5  ", d4(x))
print("sin(0.5)               ", mx.sin(x))
