"""Learning-rate schedules: functions of the optimizer's step count.

A schedule takes the step (the optimizer passes its `uint64` step array; a Python int works
too) and returns the value for that step. Pass one as an optimizer's `learning_rate`; the
optimizer evaluates it at the current step before every update.
"""
import math

import mlxpy.core as mx

__all__ = ["exponential_decay", "step_decay", "cosine_decay", "join_schedules",
           "linear_schedule"]


def _require_positive(source, name, value):
    if value < 1:
        raise ValueError(f"[{source}] {name} must be greater than 0, but got {value}.")


def exponential_decay(init: float, decay_rate: float):
    """A schedule that starts at `init` and multiplies by `decay_rate` every step.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> schedule = optim.exponential_decay(0.1, 0.5)
    >>> schedule(mx.array(3, mx.uint64))
    array(0.0125, dtype=float32)
    """
    def schedule(step):
        return init * decay_rate ** step

    return schedule


def step_decay(init: float, decay_rate: float, step_size: int):
    """A schedule that starts at `init` and multiplies by `decay_rate` once every
    `step_size` steps.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> schedule = optim.step_decay(0.1, 0.5, step_size=10)
    >>> schedule(mx.array(25, mx.uint64))
    array(0.025, dtype=float32)
    """
    _require_positive("step_decay", "step_size", step_size)

    def schedule(step):
        return init * decay_rate ** (step // step_size)

    return schedule


def cosine_decay(init: float, decay_steps: int, end: float = 0.0):
    """A schedule that follows half a cosine from `init` down to `end` over
    `decay_steps` steps, then stays at `end`.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> schedule = optim.cosine_decay(1.0, decay_steps=100)
    >>> schedule(mx.array(50, mx.uint64))
    array(0.5, dtype=float32)
    """
    _require_positive("cosine_decay", "decay_steps", decay_steps)

    def schedule(step):
        progress = mx.minimum(step, decay_steps)
        weight = 0.5 * (1.0 + mx.cos((math.pi / decay_steps) * progress))
        return end + weight * (init - end)

    return schedule


def linear_schedule(init: float, end: float, steps: int):
    """A schedule that moves in a straight line from `init` to `end` over `steps` steps,
    then stays at `end` (a linear warmup, for example).

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> warmup = optim.linear_schedule(0.0, 1.0, steps=4)
    >>> warmup(mx.array(1, mx.uint64)), warmup(mx.array(9, mx.uint64))
    (array(0.25, dtype=float32), array(1, dtype=float32))
    """
    _require_positive("linear_schedule", "steps", steps)

    def schedule(step):
        return mx.minimum(step, steps) * ((end - init) / steps) + init

    return schedule


def join_schedules(schedules, boundaries):
    """One schedule made of several: `schedules[i + 1]` takes over at step `boundaries[i]`
    and counts its steps from that boundary.

    >>> import mlxpy.core as mx
    >>> import mlxpy.optimizers as optim
    >>> warmup = optim.linear_schedule(0.0, 1.0, steps=10)
    >>> decay = optim.exponential_decay(1.0, 0.5)
    >>> schedule = optim.join_schedules([warmup, decay], [10])
    >>> schedule(mx.array(5, mx.uint64)), schedule(mx.array(12, mx.uint64))
    (array(0.5, dtype=float32), array(0.25, dtype=float32))
    """
    if len(schedules) == 0:
        raise ValueError("[join_schedules] Must provide at least 1 schedule to join.")
    if len(schedules) != len(boundaries) + 1:
        raise ValueError(f"[join_schedules] Received {len(boundaries)} boundaries but "
                         f"expected {len(schedules) - 1} (one fewer than the schedules).")

    def schedule(step):
        value = schedules[0](step)
        # Later schedules win from their boundary on; each sees steps since its boundary.
        for boundary, later in zip(boundaries, schedules[1:]):
            value = mx.where(step < boundary, value, later(step - boundary))
        return value

    return schedule
