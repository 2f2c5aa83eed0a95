"""The fuse pass: elementwise regions of a compiled program become one primitive.

A `FusedElementwise` node runs its region, on the CPU, as
- a 0-d float region: generated Python on Python floats;
- a large region (or one whose kernel is compiled already): a generated C kernel
  (backend/cpu_fusion.py), one pass over memory spread over threads;
- otherwise generated straight-line Python over NumPy:
  - small arrays: one call per step, no blocking (the overhead is the Python calls);
  - large arrays: the region's leading axis is cut into cache-sized blocks, each
    block runs every step with NumPy's `out=` into preallocated scratch buffers, and
    the blocks are spread over a thread pool (NumPy's ufunc loops release the GIL).
An intermediate of the region never exists at full size.
"""
import threading

from ..backend import cpu_fusion
from ..primitives.base import Primitive
from ..primitives import elementwise as E
from .compiler import Instr, Value

# Elements per block. Smaller blocks stay in L1/L2, but every ufunc call hands the GIL
# over; on 2 threads 128K elements per call measured fastest for a 9-step gelu on 4M
# float32 (7.3 ms, against 9.6 ms at 32K and 10.9 ms on one thread).
BLOCK_ELEMENTS = 1 << 17
# Below this many elements a region runs unblocked on one thread.
PARALLEL_MIN_ELEMENTS = 1 << 18
# A region of at least this many elements compiles a C kernel (a compilation takes
# ~0.1-0.5 s once, then comes from the disk cache)...
NATIVE_MIN_ELEMENTS = 1 << 16
# ...and one of at least this many elements times steps uses a kernel that is compiled
# already: a call costs ~4 us, as much as a few NumPy ufunc calls on small arrays (2
# steps: even at 4K elements, ahead at 16K; 9 steps: ahead from 1K).
NATIVE_CACHED_MIN_WORK = 1 << 13


def _is_elementwise(prim):
    return isinstance(prim, (E.Unary, E.Binary, E.Select))


def _plain_ufunc(prim):
    """The ufunc name when the primitive's eval is exactly that ufunc (so `out=` works)."""
    t = type(prim)
    if isinstance(prim, E.Unary) and t.eval is E.Unary.eval:
        return prim.ufunc
    if isinstance(prim, E.Binary) and t.eval is E.Binary.eval:
        return prim.ufunc
    return None


class FusedElementwise(Primitive):
    """A region of elementwise steps evaluated together.

    `steps` are (prim, input refs, output ref) with refs ('in', k) for region inputs
    and ('t', k) for the region's values; `outputs` are the refs it returns.
    """
    compiled_only = True
    __slots__ = ("steps", "outputs", "out_specs", "shape", "value_dtypes", "in_shapes",
                 "_small", "_block", "_scalar", "_cuda", "_native")

    def __init__(self, steps, outputs, out_specs, shape):
        self.steps = steps
        self.outputs = outputs
        self.out_specs = out_specs
        self.shape = shape
        self._small = None
        self._block = None
        self._scalar = None
        self._cuda = None  # per-layout CUDA kernels (backend/cuda_fusion.py), or False
        self._native = None  # per-layout C kernels (backend/cpu_fusion.py), or False
        self.in_shapes = None

    @property
    def num_outputs(self):
        return len(self.outputs)

    def params(self):
        return (id(self),)

    def infer(self, inputs):
        from ..ops._core import broadcast_shapes
        shape = broadcast_shapes(*[i.shape for i in inputs]) if inputs else self.shape
        return [(shape, d) for _, d in self.out_specs]

    def __repr__(self):
        return "Fused[" + ", ".join(p.name for p, _, _ in self.steps) + "]"

    # -- code generation ------------------------------------------------------------
    def _compile_small(self):
        lines = ["def run(xp, ins, P):"]
        n_in = 1 + max([r[1] for _, refs, _ in self.steps for r in refs if r[0] == "in"], default=-1)
        for k in range(n_in):
            lines.append(f"    i{k} = ins[{k}]")
        for j, (prim, refs, out) in enumerate(self.steps):
            args = ", ".join(("i" if r[0] == "in" else "t") + str(r[1]) for r in refs)
            uf = _plain_ufunc(prim)
            if uf:
                lines.append(f"    t{out[1]} = xp.{uf}({args})")
            else:
                lines.append(f"    t{out[1]} = P[{j}].eval(xp, [{args}])")
        rets = ", ".join(("i" if r[0] == "in" else "t") + str(r[1]) for r in self.outputs)
        lines.append(f"    return ({rets},)")
        ns = {}
        exec("\n".join(lines), ns)  # noqa: S102 - generated from the program's own steps
        return ns["run"]

    def _compile_block(self):
        """run(xp, ins, outs, lo, hi, scratch): the region on rows lo:hi, written into outs."""
        last_use = {}
        for j, (_, refs, _) in enumerate(self.steps):
            for r in refs:
                if r[0] == "t":
                    last_use[r[1]] = j
        out_index = {r: k for k, r in enumerate(self.outputs) if r[0] == "t"}
        lines = ["def run(xp, ins, outs, lo, hi, bufs, P, sliced):"]
        n_in = 1 + max([r[1] for _, refs, _ in self.steps for r in refs if r[0] == "in"], default=-1)
        for k in range(n_in):
            lines.append(f"    i{k} = ins[{k}][lo:hi] if sliced[{k}] else ins[{k}]")
        free = {}  # dtype -> list of free scratch names
        n_scratch = 0
        scratch_dtypes = []
        name_of = {}
        for j, (prim, refs, out) in enumerate(self.steps):
            args = ", ".join(("i" + str(r[1])) if r[0] == "in" else name_of[r[1]] for r in refs)
            dtype = self.value_dtypes[out[1]]
            if ("t", out[1]) in out_index:
                dest = f"outs[{out_index[('t', out[1])]}][lo:hi]"
            else:
                pool = free.setdefault(dtype, [])
                if pool:
                    dest = pool.pop()
                else:
                    dest = f"s{n_scratch}"
                    n_scratch += 1
                    scratch_dtypes.append(dtype)
                    lines.append(f"    {dest} = bufs[{n_scratch - 1}][:hi - lo]")
            uf = _plain_ufunc(prim)
            if uf:
                lines.append(f"    xp.{uf}({args}, out={dest})")
            else:
                lines.append(f"    {dest}[...] = P[{j}].eval(xp, [{args}])")
            name_of[out[1]] = dest
            # Free scratch whose value has had its last use.
            for r in refs:
                if r[0] == "t" and last_use.get(r[1]) == j and ("t", r[1]) not in out_index:
                    nm = name_of[r[1]]
                    if nm.startswith("s"):
                        free.setdefault(self.value_dtypes[r[1]], []).append(nm)
        for k, r in enumerate(self.outputs):
            if r[0] == "in":
                lines.append(f"    outs[{k}][lo:hi] = i{r[1]}")
        ns = {}
        exec("\n".join(lines), ns)  # noqa: S102
        return ns["run"], scratch_dtypes

    def _compile_scalar(self):
        """run(xp, ins) on Python floats for 0-d float regions, or None if a step has no
        float form. NumPy calls on 0-d arrays cost ~0.5 us each; a Python float
        operation ~50 ns. The region computes in double precision and rounds once at
        the end, which is never less accurate than rounding after every step."""
        if self.shape != () or any(d.name not in ("float32", "float64")
                                   for d in self.value_dtypes):
            return None
        n_in = 1 + max([r[1] for _, refs, _ in self.steps for r in refs if r[0] == "in"],
                       default=-1)
        # None for inputs that are not 0-d (a shapeless replay): the general path.
        # The functions bound as defaults: a local is read faster than a global.
        bound = ", ".join(f"{n}={n}" for n in _SCALAR_NAMESPACE)
        lines = [f"def run(xp, ins, {bound}):",
                 "    if " + " or ".join(f"ins[{k}].shape" for k in range(n_in) or [0]) + ":",
                 "        return None"]
        for k in range(n_in):
            lines.append(f"    i{k} = ins[{k}].item()")
        for prim, refs, out in self.steps:
            template = _SCALAR_FORMS.get(type(prim).__name__)
            if template is None:
                return None
            args = [("i" if r[0] == "in" else "t") + str(r[1]) for r in refs]
            lines.append(f"    t{out[1]} = " + template.format(*args))
        rets = ", ".join(f"xp.asarray({'i' if r[0] == 'in' else 't'}{r[1]}, dtype=_d{k})"
                         for k, r in enumerate(self.outputs))
        lines.append(f"    return ({rets},)")
        ns = dict(_SCALAR_NAMESPACE)
        ns.update({f"_d{k}": d.np for k, (_, d) in enumerate(self.out_specs)})
        exec("\n".join(lines), ns)  # noqa: S102 - generated from the region's own steps
        return ns["run"]

    # -- evaluation ----------------------------------------------------------------
    def eval(self, xp, inputs):
        if xp.name == "cupy":
            outs = xp.run_fused(self, inputs)
            if outs is not None:
                return outs[0] if len(outs) == 1 else outs
        scalar = self._scalar
        if scalar is None:
            scalar = self._scalar = self._compile_scalar() or False
        if scalar:
            try:
                outs = scalar(xp, inputs)
            except (ArithmeticError, ValueError):
                outs = None  # inf/nan territory: the NumPy path gives IEEE results
            if outs is not None:
                return outs[0] if len(outs) == 1 else outs
        in_shapes = self.in_shapes
        if in_shapes is not None and len(inputs) == len(in_shapes) and all(
                x.shape == s for x, s in zip(inputs, in_shapes)):
            shape = self.shape
        else:
            shape = self.infer([_Shape(x.shape) for x in inputs])[0][0]
        size = 1
        for d in shape:
            size *= d
        if size * len(self.steps) >= NATIVE_CACHED_MIN_WORK and self._native is not False \
                and xp.name == "numpy" and cpu_fusion.enabled:
            outs = cpu_fusion.run_fused(self, inputs, shape, size,
                                        size >= NATIVE_MIN_ELEMENTS)
            if outs is not None:
                return outs[0] if len(outs) == 1 else outs
        P = [p for p, _, _ in self.steps]
        if size < PARALLEL_MIN_ELEMENTS or not shape or xp.name != "numpy":
            if self._small is None:
                self._small = self._compile_small()
            outs = self._small(xp, inputs, P)
            outs = [xp.broadcast_to(o, shape) if o.shape != shape else o for o in outs]
            return outs[0] if len(outs) == 1 else outs
        if self._block is None:
            self._block = self._compile_block()
        run, scratch_dtypes = self._block
        rows = shape[0]
        row_size = size // rows if rows else 0
        rows_per_block = max(1, BLOCK_ELEMENTS // max(row_size, 1))
        outs = [xp.empty(shape, dtype=d.np) for _, d in self.out_specs]
        nd = len(shape)
        sliced = [x.ndim == nd and x.shape[0] == rows and rows > 1 for x in inputs]
        ins = [x if s or x.ndim == nd else x.reshape((1,) * (nd - x.ndim) + x.shape)
               for x, s in zip(inputs, sliced)]
        bounds = list(range(0, rows, rows_per_block)) + [rows]
        chunks = [(bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1)]
        block_shape = (rows_per_block,) + shape[1:]
        scratch = threading.local()

        def work(k):
            bufs = getattr(scratch, "bufs", None)
            if bufs is None:
                bufs = scratch.bufs = [xp.empty(block_shape, dtype=d.np) for d in scratch_dtypes]
            run(xp, ins, outs, chunks[k][0], chunks[k][1], bufs, P, sliced)

        cpu_fusion.run_parallel(work, len(chunks))
        return outs[0] if len(outs) == 1 else outs


_SCALAR_FORMS = {
    "Add": "({0} + {1})", "Subtract": "({0} - {1})", "Multiply": "({0} * {1})",
    "Divide": "({0} / {1})", "Negative": "(-{0})", "Square": "({0} * {0})",
    "Abs": "abs({0})", "Sqrt": "_sqrt({0})", "Rsqrt": "(1.0 / _sqrt({0}))",
    "Reciprocal": "(1.0 / {0})", "Exp": "_exp({0})", "Expm1": "_expm1({0})",
    "Log": "_log({0})", "Log1p": "_log1p({0})", "Sin": "_sin({0})", "Cos": "_cos({0})",
    "Tan": "_tan({0})", "Tanh": "_tanh({0})", "Sinh": "_sinh({0})", "Cosh": "_cosh({0})",
    "ArcTan": "_atan({0})", "Sigmoid": "(1.0 / (1.0 + _exp(-{0})))",
    "Maximum": "_maximum({0}, {1})", "Minimum": "_minimum({0}, {1})",
}


def _maximum(a, b):
    # NaN wins, as NumPy's maximum does.
    return a if a > b or a != a else b


def _minimum(a, b):
    return a if a < b or a != a else b


def _scalar_namespace():
    import math
    ns = {f"_{n}": getattr(math, n) for n in
          ("sqrt", "exp", "expm1", "log", "log1p", "sin", "cos", "tan", "tanh", "sinh",
           "cosh", "atan")}
    ns["_maximum"] = _maximum
    ns["_minimum"] = _minimum
    return ns


_SCALAR_NAMESPACE = _scalar_namespace()


class _Shape:
    __slots__ = ("shape",)

    def __init__(self, shape):
        self.shape = shape


def fuse_elementwise(prog):
    """Group connected elementwise steps into FusedElementwise steps."""
    group_of = {}     # slot -> group id, for slots produced by a grouped step
    groups = []       # group id -> list of instr
    depends = {}      # slot -> frozenset of group ids it depends on
    producer = {}
    for ins in prog.instrs:
        for o in ins.outs:
            producer[o] = ins
    for ins in prog.instrs:
        in_deps = set()
        for s in ins.ins:
            in_deps |= depends.get(s, frozenset())
        if len(ins.outs) == 1 and _is_elementwise(ins.prim):
            out_shape = prog.values[ins.outs[0]].shape
            candidates = {group_of[s] for s in ins.ins if s in group_of and
                          prog.values[s].shape == out_shape}
            target = None
            for g in sorted(candidates):
                # Joining g is safe when no input reaches g only through outside steps.
                if all(group_of.get(s) == g or g not in depends.get(s, frozenset())
                       for s in ins.ins):
                    target = g
                    break
            if target is None:
                target = len(groups)
                groups.append([])
            else:
                # Merge the other candidate groups into the target where no path
                # between them leaves the region.
                for g in sorted(candidates - {target}):
                    if _mergeable(groups, group_of, depends, target, g) and all(
                            group_of.get(s) in (g, target) or
                            not ({g, target} & depends.get(s, frozenset())) for s in ins.ins):
                        for m in groups[g]:
                            group_of[m.outs[0]] = target
                        groups[target].extend(groups[g])
                        groups[g] = []
                        in_deps.discard(g)
                        for k in depends:
                            if g in depends[k]:
                                depends[k] = (depends[k] - {g}) | {target}
            groups[target].append(ins)
            group_of[ins.outs[0]] = target
            depends[ins.outs[0]] = frozenset(in_deps | {target})
        else:
            for o in ins.outs:
                depends[o] = frozenset(in_deps)
    position = {id(ins): k for k, ins in enumerate(prog.instrs)}
    for members in groups:
        members.sort(key=lambda m: position[id(m)])
    # Build fused steps for groups of two or more.
    consumers = {}
    for ins in prog.instrs:
        for s in ins.ins:
            consumers.setdefault(s, []).append(ins)
    fused_for = {}
    for g, members in enumerate(groups):
        if len(members) < 2:
            continue
        member_ids = {id(m) for m in members}
        produced = {m.outs[0] for m in members}
        region_inputs = []
        steps = []
        ref = {}
        for m in members:
            refs = []
            for s in m.ins:
                if s in produced:
                    refs.append(ref[s])
                else:
                    if s not in region_inputs:
                        region_inputs.append(s)
                    refs.append(("in", region_inputs.index(s)))
            ref[m.outs[0]] = ("t", len(steps))
            steps.append((m.prim, refs, ("t", len(steps))))
        outputs = [s for s in (m.outs[0] for m in members)
                   if s in prog.outputs or any(id(c) not in member_ids for c in consumers.get(s, []))]
        shape = prog.values[members[-1].outs[0]].shape
        prim = FusedElementwise(steps, [ref[s] for s in outputs],
                                [(prog.values[s].shape, prog.values[s].dtype) for s in outputs], shape)
        prim.value_dtypes = [prog.values[m.outs[0]].dtype for m in members]
        prim.in_shapes = [prog.values[s].shape for s in region_inputs]
        fused_for[id(members[-1])] = Instr(prim, region_inputs, outputs)
        for m in members[:-1]:
            fused_for[id(m)] = None
    if not fused_for:
        return prog
    for members in groups:
        members.sort(key=lambda m: position[id(m)])
    out = []
    for ins in prog.instrs:
        if id(ins) in fused_for:
            f = fused_for[id(ins)]
            if f is not None:
                out.append(f)
        else:
            out.append(ins)
    prog.instrs = _topological(out, prog)
    return prog


def _mergeable(groups, group_of, depends, a, b):
    """Groups a and b may merge: neither reaches the other through an outside step."""
    for x, y in ((a, b), (b, a)):
        for m in groups[x]:
            for s in m.ins:
                if group_of.get(s) in (a, b):
                    continue
                if y in depends.get(s, frozenset()):
                    return False
    return True


def _topological(instrs, prog):
    """Order steps so every slot is written before it is read (fusion moves steps)."""
    ready = set(range(prog.n_inputs)) | set(prog.consts)
    pending = list(instrs)
    out = []
    while pending:
        rest = []
        for ins in pending:
            if all(s in ready for s in ins.ins):
                out.append(ins)
                ready.update(ins.outs)
            else:
                rest.append(ins)
        if len(rest) == len(pending):
            raise RuntimeError("[compile] internal error: fused program has a cycle")
        pending = rest
    return out
