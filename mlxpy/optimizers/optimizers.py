"""Optimizers: turn gradients into parameter updates, one parameter at a time.

An optimizer keeps its whole state in one tree, `optimizer.state`: the step count, the
(possibly scheduled) hyperparameters, and for every parameter a small dict of its own
(momentum, running averages, ...) at the parameter's place in the tree. Because the state
is a plain tree of arrays that is updated in place, it can be captured by `mx.compile`
(`inputs=`/`outputs=`) and saved or loaded like any other tree.

A new optimizer subclasses `Optimizer` and writes two methods: `init_single` (the state of
one parameter) and `apply_single` (the update of one parameter).
"""
import mlxpy.core as mx
from mlxpy.utils import tree_flatten, tree_map, tree_merge, tree_reduce, tree_unflatten

__all__ = ["Optimizer", "MultiOptimizer", "SGD", "RMSprop", "Adagrad", "AdaDelta", "Adam",
           "AdamW", "Adamax", "Lion", "Adafactor", "Muon", "clip_grad_norm"]


class Optimizer:
    """The base of every optimizer: keeps the state tree and applies a per-parameter update
    (`apply_single`) over a tree of gradients.

    `schedulers` maps state names (such as ``"learning_rate"``) to schedules, functions of
    the step that are evaluated before every update.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> class HalfStep(optim.Optimizer):
    ...     def init_single(self, parameter, state):
    ...         pass
    ...     def apply_single(self, gradient, parameter, state):
    ...         return parameter - 0.5 * gradient
    >>> HalfStep().apply_gradients({"w": mx.array([2.0])}, {"w": mx.array([1.0])})
    {'w': array([0], dtype=float32)}
    """

    def __init__(self, schedulers=None):
        self._initialized = False
        self._state = {"step": mx.array(0, mx.uint64)}
        self._schedulers = dict(schedulers or {})

    def update(self, model, gradients: dict):
        """Apply `gradients` to the parameters of `model` (an `nn.Module`) in place.

        >>> import mlxpy.core as mx
        >>> import mlxpy.nn as nn
        >>> import mlxpy.optimizers as optim
        >>> model = nn.Linear(2, 1)
        >>> model.update({"weight": mx.zeros((1, 2)), "bias": mx.zeros((1,))})
        Linear(input_dims=2, output_dims=1, bias=True)
        >>> grads = {"weight": mx.ones((1, 2)), "bias": mx.ones((1,))}
        >>> optim.SGD(learning_rate=0.5).update(model, grads)
        >>> model.bias
        array([-0.5], dtype=float32)
        """
        model.update(self.apply_gradients(gradients, model))

    def init(self, parameters: dict):
        """Create the state of every parameter of `parameters` that has none yet.

        Optional: the first update initializes the state itself. Call it to see or
        capture `state` (for `mx.compile`, say) before the first update.

        >>> import mlxpy.core as mx
        >>> import mlxpy.optimizers as optim
        >>> optimizer = optim.SGD(learning_rate=0.1, momentum=0.9)
        >>> optimizer.init({"w": mx.zeros((2,))})
        >>> list(optimizer.state)
        ['step', 'learning_rate', 'w']
        """
        if not isinstance(parameters, dict):
            raise TypeError(f"[{type(self).__name__}] The parameters must be a dict tree "
                            f"(as Module.parameters() returns), got "
                            f"{type(parameters).__name__}.")
        self._mirror(parameters, self._state)
        self._initialized = True

    def _mirror(self, parameters, state):
        """`state` grown to the shape of the `parameters` tree: a state dict per parameter,
        made by `init_single` where missing, existing entries kept. Dicts are filled in
        place, so a tree that `mx.compile` captured keeps its identity."""
        if isinstance(parameters, (list, tuple)):
            entries = list(state) if isinstance(state, (list, tuple)) else []
            entries += [None] * (len(parameters) - len(entries))
            grown = [self._mirror(p, s) for p, s in zip(parameters, entries)]
            grown += entries[len(parameters):]
            if hasattr(parameters, "_fields"):
                return type(parameters)(*grown)
            return type(parameters)(grown)
        if isinstance(parameters, dict):
            if not isinstance(state, dict):
                state = {}
            for key, value in parameters.items():
                state[key] = self._mirror(value, state.get(key))
            return state
        if not isinstance(state, dict):
            state = {}
        if not state:
            self.init_single(parameters, state)
        return state

    def init_single(self, parameter, state: dict):
        """Fill `state` (an empty dict) with the state of one `parameter`. Subclasses
        write it."""
        raise NotImplementedError(f"[{type(self).__name__}] Optimizers must implement "
                                  "init_single(parameter, state).")

    def apply_gradients(self, gradients: dict, parameters: dict):
        """The updated parameters: a tree shaped like `gradients` (`parameters` may hold
        more). `update` is `model.update(opt.apply_gradients(grads, model))`.

        >>> import mlxpy.core as mx
        >>> import mlxpy.optimizers as optim
        >>> optimizer = optim.SGD(learning_rate=0.1)
        >>> optimizer.apply_gradients({"w": mx.array([1.0, 2.0])}, {"w": mx.zeros((2,))})
        {'w': array([-0.1, -0.2], dtype=float32)}
        """
        if not self._initialized:
            self.init(gradients)
        # Scheduled values are those of the step about to be taken (counted from 0).
        for name, schedule in self._schedulers.items():
            self.state[name] = schedule(self.step)
        self.state["step"] = self.step + 1
        return tree_map(self.apply_single, gradients, parameters, self.state)

    def apply_single(self, gradient, parameter, state: dict):
        """The updated `parameter` given its `gradient`; updates `state` in place.
        Subclasses write it."""
        raise NotImplementedError(f"[{type(self).__name__}] Optimizers must implement "
                                  "apply_single(gradient, parameter, state).")

    @property
    def state(self):
        """The optimizer's state tree: ``step``, scheduled or set hyperparameters such as
        ``learning_rate``, and one dict per parameter."""
        return self._state

    @state.setter
    def state(self, state: dict):
        # A loaded state may lack entries for some parameters: the next update adds them.
        self._initialized = False
        self._state = state

    @property
    def step(self):
        """The number of updates taken, a `uint64` array."""
        return self.state["step"]

    @property
    def learning_rate(self):
        """The current learning rate, an array (a schedule's value at the last step)."""
        if "learning_rate" not in self.state:
            raise KeyError(f"[{type(self).__name__}] This optimizer has no learning_rate "
                           "(none was given).")
        return self.state["learning_rate"]

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.state["learning_rate"] = mx.array(learning_rate)

    def _maybe_schedule(self, name: str, value):
        """Store hyperparameter `name` in the state: a constant, or a schedule (a callable
        of the step) that `apply_gradients` re-evaluates before every update."""
        if callable(value):
            self._schedulers[name] = value
            value = value(self.step)
        else:
            value = mx.array(value)
        self.state[name] = value

    def _lr(self, dtype):
        """The learning rate in the dtype of the parameter being updated."""
        return self.learning_rate.astype(dtype)


def _check_betas(source, betas):
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"[{source}] beta{i + 1} should be in [0, 1), {beta} was "
                             "provided instead.")


def _check_positive(source, name, value):
    if value <= 0.0:
        raise ValueError(f"[{source}] {name} should be > 0, {value} was provided instead.")


class MultiOptimizer(Optimizer):
    """Several optimizers, each updating the parameters that its filter selects.

    `filters` holds one predicate ``(path, array) -> bool`` for every optimizer but the
    last; a parameter goes to the first optimizer whose filter accepts its dotted path
    (``"layers.0.weight"``), and the last optimizer takes the rest.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.MultiOptimizer([optim.SGD(0.1), optim.SGD(1.0)],
    ...                                  [lambda path, _: path.endswith("bias")])
    >>> grads = {"weight": mx.ones((2,)), "bias": mx.ones((2,))}
    >>> params = {"weight": mx.zeros((2,)), "bias": mx.zeros((2,))}
    >>> new = optimizer.apply_gradients(grads, params)
    >>> new["bias"], new["weight"]
    (array([-0.1, -0.1], dtype=float32), array([-1, -1], dtype=float32))
    """

    def __init__(self, optimizers, filters: list = []):  # noqa: B006 - never mutated
        super().__init__()
        self._state = {}
        if len(filters) != len(optimizers) - 1:
            raise ValueError(f"[MultiOptimizer] Given {len(filters)} filters but "
                             f"{len(optimizers) - 1} needed (one per optimizer but the "
                             "last, which takes the remaining parameters).")
        self.optimizers = optimizers
        self.filters = list(filters) + [lambda *args, **kwargs: True]

    def _split(self, tree):
        """`tree` cut into one tree per optimizer (an empty dict where none matches)."""
        if len(self.optimizers) == 1:
            return [tree]
        parts = [[] for _ in self.optimizers]
        for path, leaf in tree_flatten(tree):
            owner = next(i for i, accepts in enumerate(self.filters) if accepts(path, leaf))
            parts[owner].append((path, leaf))
        return [tree_unflatten(part) if part else {} for part in parts]

    def init(self, parameters: dict):
        for optimizer, part in zip(self.optimizers, self._split(parameters)):
            optimizer.init(part)

    def apply_gradients(self, gradients: dict, parameters: dict):
        updated = {}
        for optimizer, part in zip(self.optimizers, self._split(gradients)):
            updated = tree_merge(updated, optimizer.apply_gradients(part, parameters))
        return updated

    @property
    def state(self):
        """``{"states": [state of each optimizer]}``."""
        return {"states": [optimizer.state for optimizer in self.optimizers]}

    @state.setter
    def state(self, state: dict):
        if (not isinstance(state, dict) or "states" not in state
                or len(state["states"]) != len(self.optimizers)):
            raise ValueError("[MultiOptimizer] Invalid state provided: expected "
                             f"{{'states': [...]}} with {len(self.optimizers)} states.")
        for optimizer, sub_state in zip(self.optimizers, state["states"]):
            optimizer.state = sub_state

    @property
    def learning_rate(self):
        """The first optimizer's learning rate (setting it sets every optimizer's)."""
        return self.optimizers[0].learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        for optimizer in self.optimizers:
            optimizer.learning_rate = learning_rate


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum, dampening, Nesterov momentum
    and weight decay (an L2 penalty added to the gradient):

    ``v = momentum * v + (1 - dampening) * g``; ``w = w - learning_rate * v``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.SGD(learning_rate=0.1, momentum=0.9)
    >>> w = mx.array([1.0])
    >>> for _ in range(2):
    ...     w = optimizer.apply_gradients({"w": mx.array([1.0])}, {"w": w})["w"]
    >>> w
    array([0.71], dtype=float32)
    """

    def __init__(self, learning_rate, momentum: float = 0.0, weight_decay: float = 0.0,
                 dampening: float = 0.0, nesterov: bool = False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("[SGD] Nesterov momentum requires a momentum and zero "
                             f"dampening (got momentum={momentum}, dampening={dampening}).")
        super().__init__()
        self._maybe_schedule("learning_rate", learning_rate)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.dampening = dampening
        self.nesterov = nesterov

    def init_single(self, parameter, state: dict):
        state["v"] = mx.zeros_like(parameter)

    def apply_single(self, gradient, parameter, state: dict):
        if self.weight_decay != 0:
            gradient = gradient + self.weight_decay * parameter
        lr = self._lr(gradient.dtype)
        if self.momentum <= 0:
            return parameter - lr * gradient
        velocity = self.momentum * state.get("v")
        if self.dampening > 0:
            velocity = velocity + (1 - self.dampening) * gradient
        else:
            velocity = velocity + gradient
        state["v"] = velocity
        step = gradient + self.momentum * velocity if self.nesterov else velocity
        return parameter - lr * step


class RMSprop(Optimizer):
    r"""RMSprop (Tieleman and Hinton, 2012): divide the gradient by a running root mean
    square of recent gradients.

    ``v = alpha * v + (1 - alpha) * g**2``; ``w = w - lr * g / (sqrt(v) + eps)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.RMSprop(learning_rate=0.01, alpha=0.75)
    >>> optimizer.apply_gradients({"w": mx.array([2.0])}, {"w": mx.array([1.0])})
    {'w': array([0.98], dtype=float32)}
    """

    def __init__(self, learning_rate, alpha: float = 0.99, eps: float = 1e-8):
        super().__init__()
        self._maybe_schedule("learning_rate", learning_rate)
        self.alpha = alpha
        self.eps = eps
        if self.alpha < 0.0:
            raise ValueError(f"[RMSprop] alpha should be >= 0, {self.alpha} was provided "
                             "instead.")
        _check_positive("RMSprop", "epsilon", self.eps)

    def init_single(self, parameter, state: dict):
        state["v"] = mx.zeros_like(parameter)

    def apply_single(self, gradient, parameter, state: dict):
        lr = self._lr(gradient.dtype)
        v = self.alpha * state["v"] + (1 - self.alpha) * mx.square(gradient)
        state["v"] = v
        return parameter - lr * gradient / (mx.sqrt(v) + self.eps)


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan and Singer, 2011): scale each coordinate by the root of its
    summed squared gradients.

    ``v = v + g**2``; ``w = w - lr * g / (sqrt(v) + eps)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.Adagrad(learning_rate=0.1)
    >>> optimizer.apply_gradients({"w": mx.array([3.0])}, {"w": mx.array([1.0])})
    {'w': array([0.9], dtype=float32)}
    """

    def __init__(self, learning_rate, eps: float = 1e-8):
        super().__init__()
        self._maybe_schedule("learning_rate", learning_rate)
        self.eps = eps
        _check_positive("Adagrad", "epsilon", self.eps)

    def init_single(self, parameter, state: dict):
        state["v"] = mx.zeros_like(parameter)

    def apply_single(self, gradient, parameter, state: dict):
        lr = self._lr(gradient.dtype)
        v = state["v"] + mx.square(gradient)
        state["v"] = v
        return parameter - lr * gradient / (mx.sqrt(v) + self.eps)


class AdaDelta(Optimizer):
    r"""AdaDelta (Zeiler, 2012), with a learning rate: steps sized by the ratio of running
    RMS values of past steps and of gradients.

    ``v = rho * v + (1 - rho) * g**2``;
    ``d = sqrt(u + eps) / sqrt(v + eps) * g``;
    ``u = rho * u + (1 - rho) * d**2``; ``w = w - lr * d``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.AdaDelta(learning_rate=1.0, rho=0.0, eps=1.0)
    >>> optimizer.apply_gradients({"w": mx.array([0.0])}, {"w": mx.array([1.0])})
    {'w': array([1], dtype=float32)}
    """

    def __init__(self, learning_rate, rho: float = 0.9, eps: float = 1e-6):
        super().__init__()
        self._maybe_schedule("learning_rate", learning_rate)
        self.rho = rho
        self.eps = eps
        if self.rho < 0.0:
            raise ValueError(f"[AdaDelta] rho should be >= 0, {self.rho} was provided "
                             "instead.")
        _check_positive("AdaDelta", "epsilon", self.eps)

    def init_single(self, parameter, state: dict):
        state["v"] = mx.zeros_like(parameter)
        state["u"] = mx.zeros_like(parameter)

    def apply_single(self, gradient, parameter, state: dict):
        lr = self._lr(gradient.dtype)
        rho, eps = self.rho, self.eps
        v = rho * state["v"] + (1 - rho) * mx.square(gradient)
        delta = mx.sqrt(state["u"] + eps) / mx.sqrt(v + eps) * gradient
        state["u"] = rho * state["u"] + (1 - rho) * mx.square(delta)
        state["v"] = v
        return parameter - lr * delta


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015): running averages of the gradient and its square.

    ``m = b1 * m + (1 - b1) * g``; ``v = b2 * v + (1 - b2) * g**2``;
    ``w = w - lr * m / (sqrt(v) + eps)``. With ``bias_correction=True``, ``m`` and ``v``
    are divided by ``1 - b1**t`` and ``1 - b2**t`` (MLX leaves it off by default).

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.Adam(learning_rate=0.1, bias_correction=True)
    >>> optimizer.apply_gradients({"w": mx.array([0.5])}, {"w": mx.array([1.0])})
    {'w': array([0.900001], dtype=float32)}
    """

    def __init__(self, learning_rate, betas: list = [0.9, 0.999],  # noqa: B006
                 eps: float = 1e-8, bias_correction: bool = False):
        super().__init__()
        _check_betas(type(self).__name__, betas)
        if not 0.0 <= eps:
            raise ValueError(f"[{type(self).__name__}] epsilon should be >= 0, {eps} was "
                             "provided instead.")
        self._maybe_schedule("learning_rate", learning_rate)
        self.betas = betas
        self.eps = eps
        self.bias_correction = bias_correction

    def init_single(self, parameter, state: dict):
        state["m"] = mx.zeros_like(parameter)
        state["v"] = mx.zeros_like(parameter)

    def apply_single(self, gradient, parameter, state: dict):
        lr = self._lr(gradient.dtype)
        b1, b2 = self.betas
        m = b1 * state["m"] + (1 - b1) * gradient
        v = b2 * state["v"] + (1 - b2) * mx.square(gradient)
        state["m"] = m
        state["v"] = v
        if not self.bias_correction:
            return parameter - lr * m / (mx.sqrt(v) + self.eps)
        step = self.step
        # The corrections fold into the step size and the denominator's scale.
        step_size = (lr / (1 - b1 ** step)).astype(gradient.dtype)
        inv_root_correction = mx.rsqrt(1 - b2 ** step).astype(gradient.dtype)
        return parameter - step_size * m / (mx.sqrt(v) * inv_root_correction + self.eps)


class AdamW(Adam):
    r"""AdamW (Loshchilov and Hutter, 2019): Adam with decoupled weight decay, which
    shrinks the weights by ``1 - lr * weight_decay`` before the Adam step.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.AdamW(learning_rate=0.1, weight_decay=0.5)
    >>> optimizer.apply_gradients({"w": mx.array([0.0])}, {"w": mx.array([1.0])})
    {'w': array([0.95], dtype=float32)}
    """

    def __init__(self, learning_rate, betas: list = [0.9, 0.999],  # noqa: B006
                 eps: float = 1e-8, weight_decay: float = 0.01,
                 bias_correction: bool = False):
        super().__init__(learning_rate=learning_rate, betas=betas, eps=eps,
                         bias_correction=bias_correction)
        self.weight_decay = weight_decay

    def apply_single(self, gradient, parameter, state: dict):
        decayed = parameter * (1 - self._lr(gradient.dtype) * self.weight_decay)
        return super().apply_single(gradient, decayed, state)


class Adamax(Adam):
    r"""Adamax (Kingma and Ba, 2015): Adam with the infinity norm in place of the root
    mean square.

    ``m = b1 * m + (1 - b1) * g``; ``v = max(b2 * v, |g|)``; ``w = w - lr * m / (v + eps)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.Adamax(learning_rate=0.1, eps=0.0)
    >>> optimizer.apply_gradients({"w": mx.array([-2.0])}, {"w": mx.array([1.0])})
    {'w': array([1.01], dtype=float32)}
    """

    def __init__(self, learning_rate, betas: list = [0.9, 0.999],  # noqa: B006
                 eps: float = 1e-8):
        super().__init__(learning_rate, betas, eps)

    def apply_single(self, gradient, parameter, state: dict):
        lr = self._lr(gradient.dtype)
        b1, b2 = self.betas
        m = b1 * state["m"] + (1 - b1) * gradient
        v = mx.maximum(b2 * state["v"], mx.abs(gradient))
        state["m"] = m
        state["v"] = v
        return parameter - lr * m / (v + self.eps)


class Lion(Optimizer):
    r"""Lion (Chen et al., 2023): steps of fixed size along the sign of an interpolated
    momentum, with decoupled weight decay. Its steps are large: use a learning rate some
    3-10x smaller, and a weight decay 3-10x larger, than for AdamW.

    ``c = b1 * m + (1 - b1) * g``; ``m = b2 * m + (1 - b2) * g``;
    ``w = w * (1 - lr * weight_decay) - lr * sign(c)``.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.Lion(learning_rate=0.25)
    >>> optimizer.apply_gradients({"w": mx.array([-3.0, 0.5])}, {"w": mx.zeros((2,))})
    {'w': array([0.25, -0.25], dtype=float32)}
    """

    def __init__(self, learning_rate, betas: list = [0.9, 0.99],  # noqa: B006
                 weight_decay: float = 0.0):
        super().__init__()
        _check_betas("Lion", betas)
        self._maybe_schedule("learning_rate", learning_rate)
        self.betas = betas
        self.weight_decay = weight_decay

    def init_single(self, parameter, state: dict):
        state["m"] = mx.zeros_like(parameter)

    def apply_single(self, gradient, parameter, state: dict):
        lr = self._lr(gradient.dtype)
        b1, b2 = self.betas
        m = state["m"]
        direction = b1 * m + (1 - b1) * gradient
        state["m"] = b2 * m + (1 - b2) * gradient
        if self.weight_decay > 0:
            parameter = (1 - lr * self.weight_decay) * parameter
        return parameter - lr * mx.sign(direction)


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer and Stern, 2018): Adam-like steps whose second-moment estimate
    of a matrix is kept factored, as row and column means (sublinear memory).

    By default the step size is relative (``min(1e-2, 1 / sqrt(t))``, or ``1e-6 * t``
    with `warmup_init`), scaled by the parameter's RMS (`scale_parameter`, at least
    ``eps[1]``); pass ``relative_step=False`` and a `learning_rate` to set it instead.
    Updates are clipped to an RMS of `clip_threshold`; `beta_1` adds a first moment.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.Adafactor()
    >>> new = optimizer.apply_gradients({"w": mx.ones((2, 3))}, {"w": mx.ones((2, 3))})
    >>> new["w"][0]
    array([0.99, 0.99, 0.99], dtype=float32)
    >>> sorted(optimizer.state["w"])
    ['exp_avg_sq_col', 'exp_avg_sq_row']
    """

    def __init__(self, learning_rate=None, eps: tuple = (1e-30, 1e-3),
                 clip_threshold: float = 1.0, decay_rate: float = -0.8,
                 beta_1: float = None, weight_decay: float = 0.0,
                 scale_parameter: bool = True, relative_step: bool = True,
                 warmup_init: bool = False):
        super().__init__()
        if learning_rate is not None:
            self._maybe_schedule("learning_rate", learning_rate)
        self.eps = eps
        self.clip_threshold = clip_threshold
        self.decay_rate = decay_rate
        self.beta_1 = beta_1
        self.weight_decay = weight_decay
        self.scale_parameter = scale_parameter
        self.relative_step = relative_step
        self.warmup_init = warmup_init

    def init_single(self, parameter, state: dict):
        shape, dtype = parameter.shape, parameter.dtype
        if parameter.ndim >= 2:
            state["exp_avg_sq_row"] = mx.zeros(shape[:-1], dtype=dtype)
            state["exp_avg_sq_col"] = mx.zeros(shape[:-2] + shape[-1:], dtype=dtype)
        else:
            state["exp_avg_sq"] = mx.zeros_like(parameter)
        if self.beta_1 is not None:
            state["exp_avg"] = mx.zeros_like(parameter)

    @staticmethod
    def _rms(x):
        return mx.sqrt(mx.mean(mx.square(x)))

    def _step_size(self, parameter_rms):
        if self.relative_step:
            ceiling = 1e-6 * self.step if self.warmup_init else 1e-2
            size = mx.minimum(ceiling, mx.rsqrt(self.step))
        else:
            size = self.learning_rate
        size = size.astype(parameter_rms.dtype)
        if self.scale_parameter:
            return mx.maximum(self.eps[1], parameter_rms) * size
        return size

    def apply_single(self, gradient, parameter, state: dict):
        parameter_rms = self._rms(parameter)
        step_size = self._step_size(parameter_rms)
        beta_2 = 1.0 - (self.step ** self.decay_rate).astype(parameter_rms.dtype)
        squared = mx.square(gradient) + self.eps[0]
        if gradient.ndim >= 2:
            rows = beta_2 * state["exp_avg_sq_row"] + (1 - beta_2) * mx.mean(squared, axis=-1)
            cols = beta_2 * state["exp_avg_sq_col"] + (1 - beta_2) * mx.mean(squared, axis=-2)
            state["exp_avg_sq_row"] = rows
            state["exp_avg_sq_col"] = cols
            # The rank-1 estimate of 1/sqrt(v): row factors normalized by their mean.
            row_factor = mx.rsqrt(rows / mx.mean(rows, axis=-1, keepdims=True))
            col_factor = mx.rsqrt(cols)
            update = mx.expand_dims(row_factor, -1) * mx.expand_dims(col_factor, -2)
            update = update * gradient
        else:
            second_moment = beta_2 * state["exp_avg_sq"] + (1 - beta_2) * squared
            state["exp_avg_sq"] = second_moment
            update = mx.rsqrt(second_moment) * gradient
        update = update / mx.maximum(1.0, self._rms(update) / self.clip_threshold)
        update = step_size * update
        if self.beta_1 is not None:
            update = self.beta_1 * state["exp_avg"] + (1 - self.beta_1) * update
            state["exp_avg"] = update
        if self.weight_decay != 0:
            parameter = parameter + parameter * (-self.weight_decay * step_size)
        return parameter - update


# Coefficients of the quintic Newton-Schulz iteration that Muon's authors tuned to
# push singular values towards 1 in few steps.
_NEWTON_SCHULZ = (3.4445, -4.7750, 2.0315)


def _orthogonalize(matrix, steps):
    """An approximation of U V^T for the SVD U S V^T of a 2-D `matrix`."""
    a, b, c = _NEWTON_SCHULZ
    tall = matrix.shape[-2] > matrix.shape[-1]
    x = matrix.T if tall else matrix  # iterate on the smaller Gram matrix
    x = x / (mx.linalg.norm(x, keepdims=True) + 1e-7)
    for _ in range(steps):
        gram = x @ x.T
        poly = mx.addmm(b * gram, gram, gram, alpha=c, beta=1.0)
        x = mx.addmm(a * x, poly, x, alpha=1.0, beta=1.0)
    return x.T if tall else x


class Muon(Optimizer):
    r"""Muon (MomentUm Orthogonalized by Newton-Schulz; Jordan et al., 2024): SGD momentum
    whose step for a matrix is orthogonalized by a few Newton-Schulz iterations. Arrays
    of more than 2 dimensions are flattened to ``(shape[0], -1)``; 0-D and 1-D
    parameters take the plain momentum step. Meant for hidden layers: optimize
    embeddings, output layers and biases with another optimizer (see `MultiOptimizer`).

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> optimizer = optim.Muon(learning_rate=0.1, weight_decay=0.0, nesterov=False)
    >>> optimizer.apply_gradients({"w": mx.eye(2)}, {"w": mx.zeros((2, 2))})["w"]
    array([[-0.110811, 0],
           [0, -0.110811]], dtype=float32)
    """

    def __init__(self, learning_rate, momentum: float = 0.95, weight_decay: float = 0.01,
                 nesterov: bool = True, ns_steps: int = 5):
        super().__init__()
        self._maybe_schedule("learning_rate", learning_rate)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.nesterov = nesterov
        self.ns_steps = ns_steps

    def init_single(self, parameter, state: dict):
        state["v"] = mx.zeros_like(parameter)

    def apply_single(self, gradient, parameter, state: dict):
        if self.weight_decay != 0:
            gradient = gradient + self.weight_decay * parameter
        v = self.momentum * state["v"] + (1 - self.momentum) * gradient
        state["v"] = v
        if self.nesterov:
            update = gradient * (1 - self.momentum) + v * self.momentum
        else:
            update = v
        lr = self._lr(gradient.dtype)
        if update.ndim >= 2:
            shape = update.shape
            update = _orthogonalize(update.reshape(shape[0], -1), self.ns_steps)
            update = update.reshape(shape)
            # Rescale so tall matrices take steps of the same RMS as wide ones.
            lr = lr * max(1, shape[-2] / shape[-1]) ** 0.5
        return parameter - lr * update


def clip_grad_norm(grads, max_norm):
    """Scale a tree of gradients down so that their global L2 norm is at most `max_norm`;
    returns ``(clipped_grads, total_norm)`` where `total_norm` is the norm before clipping.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> grads = {"w": mx.array([3.0, 0.0]), "b": [mx.array([4.0])]}
    >>> clipped, norm = optim.clip_grad_norm(grads, max_norm=1.0)
    >>> norm, clipped["b"][0]
    (array(5, dtype=float32), array([0.8], dtype=float32))
    """
    if max_norm < 0:
        raise ValueError(f"[clip_grad_norm] max_norm should be >= 0, {max_norm} was "
                         "provided instead.")

    def add_squares(total, g):
        # float16 squares are summed in float32, where they cannot overflow.
        if g.dtype == mx.float16:
            g = g.astype(mx.float32)
        return total + mx.square(g).sum()

    total_norm = mx.sqrt(tree_reduce(add_squares, grads, 0.0))
    scale = mx.minimum(max_norm / (total_norm + 1e-6), 1.0)

    def rescale(g):
        # Scaling in float32 before casting back keeps small scales from underflowing.
        if mx.issubdtype(g.dtype, mx.floating):
            return (g * scale).astype(g.dtype)
        return g * scale

    return tree_map(rescale, grads), total_norm
