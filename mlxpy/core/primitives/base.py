"""The primitive contract.

A primitive is one class holding every rule of one operation:

- ``infer(inputs)``: output shape and dtype from the input nodes (a list of
  ``(shape, dtype)`` pairs when ``num_outputs > 1``). Ops call it to build nodes,
  and shapeless compile calls it again at replay with new input shapes.
- ``eval(xp, inputs)``: the computation, written once against an array module
  ``xp`` (NumPy or CuPy); returns one array, or a tuple for several outputs.
- ``vjp(primals, cotangents, argnums, outputs)``, ``jvp(primals, tangents, argnums)``
  and ``vmap(inputs, axes)``: transform rules written with public ops on
  ``array`` handles, so that every rule's output is itself a graph.
- ``params()``: the frozen parameters, which make primitives comparable and
  hashable (CSE and compile-cache keys).

Subclasses register themselves in ``REGISTRY`` by class name, so tests can sweep
every primitive.
"""

REGISTRY = {}


class TransformError(ValueError):
    """A transform reached a primitive that has no rule for it."""


def _param_names(cls):
    """The public slots of `cls` and its bases, base first: the primitive's parameters."""
    names = []
    for k in reversed(cls.__mro__):
        for name in k.__dict__.get("__slots__", ()):
            if not name.startswith("_") and name not in names:
                names.append(name)
    return tuple(names)


def _give_parameters(cls):
    """Generate `__init__(self, *params)` and `params()` from the slots, unless the class
    (or a base below Primitive) writes its own. Generated as code, once per class, so
    constructing a primitive on an op's hot path costs what a hand-written one does."""
    names = _param_names(cls)
    if not names:
        return
    own_init = any("__init__" in k.__dict__ and not getattr(k.__dict__["__init__"], "_generated", False)
                   for k in cls.__mro__ if k is not Primitive and issubclass(k, Primitive))
    own_params = any("params" in k.__dict__ and not getattr(k.__dict__["params"], "_generated", False)
                     for k in cls.__mro__ if k is not Primitive and issubclass(k, Primitive))
    args = ", ".join(names)
    ns = {}
    if not own_init:
        body = "\n".join(f"    self.{n} = {n}" for n in names)
        exec(f"def __init__(self, {args}):\n{body}\n", ns)  # noqa: S102 - from slot names
        ns["__init__"]._generated = True
        cls.__init__ = ns["__init__"]
    if not own_params:
        exec(f"def params(self):\n    return ({', '.join('self.' + n for n in names)},)\n", ns)  # noqa: S102
        ns["params"]._generated = True
        cls.params = ns["params"]


class Primitive:
    __slots__ = ()
    num_outputs = 1
    # The name of the array-module function that `eval` is exactly (a ufunc of the
    # inputs, nothing else), so the evaluation loop can call it without the method.
    direct_ufunc = None
    # Whether the primitive's outputs may be a NumPy view of an input.
    abstract = False
    # On a GPU stream, run `eval` on the host (NumPy) and move the result to the GPU:
    # MLX itself runs these (the linalg decompositions) on the CPU only.
    host_only = False
    # ...and for these dtypes only (where CuPy's results differ from NumPy's).
    host_dtypes = ()
    # On a GPU stream, an `eval` that fails with what CuPy lacks may retry on the host
    # (device_eval.py). Off for primitives that run whole programs.
    gpu_fallback = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _give_parameters(cls)
        # Abstract bases, and primitives that only live inside compiled programs (which
        # transforms never see, since a compiled function runs `fun` under them), are
        # not swept.
        if not cls.__dict__.get("abstract", False) and not cls.__dict__.get("compiled_only", False):
            REGISTRY[cls.__name__] = cls

    @property
    def name(self):
        return type(self).__name__

    def params(self):
        return ()

    def __eq__(self, other):
        return type(self) is type(other) and self.params() == other.params()

    def __hash__(self):
        return hash((type(self), self.params()))

    def __repr__(self):
        p = self.params()
        return f"{self.name}{p!r}" if p else self.name

    def infer(self, inputs):
        raise NotImplementedError(f"{self.name}.infer")

    def eval(self, xp, inputs):
        raise NotImplementedError(f"{self.name}.eval")

    def vjp(self, primals, cotangents, argnums, outputs):
        raise TransformError(f"[vjp] The primitive {self.name} has no vjp rule.")

    def jvp(self, primals, tangents, argnums):
        raise TransformError(f"[jvp] The primitive {self.name} has no jvp rule.")

    def vmap(self, inputs, axes):
        raise TransformError(f"[vmap] The primitive {self.name} has no vmap rule.")
