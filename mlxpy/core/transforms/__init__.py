"""Function transforms: autodiff (vjp, jvp, grad, value_and_grad), vmap, compile."""
from .autodiff import vjp, jvp, grad, value_and_grad, jacrev, jacfwd, hessian
from .vmap import vmap
from .compiler import compile, disable_compile, enable_compile, export_to_dot
from .custom import custom_function, checkpoint

__all__ = ["vjp", "jvp", "grad", "value_and_grad", "jacrev", "jacfwd", "hessian", "vmap", "compile", "disable_compile",
           "enable_compile", "export_to_dot", "custom_function", "checkpoint"]
