"""Text form of arrays, matching what MLX prints for ``repr``/``str``.

Rules (checked against mlx 0.32):

* Any axis longer than 6 is summarized independently of the others: its
  first 3 and last 3 entries are shown with ``...`` between them. There is
  no total-size threshold, so a (6, 6, 6, 6) array prints in full.
* Numbers are not padded to a common width.
* Floats print like a C++ ``ostream`` with default settings (``%g``,
  6 significant digits) of the value widened to double; NaN keeps its sign
  (``-nan``). A print precision switches to fixed notation.
* Nesting stops at the first zero-length axis, which prints as ``[]``.
"""
import numpy as np

_EDGE_ITEMS = 3
_SUMMARIZE_ABOVE = 6  # an axis longer than this is elided
_PREFIX = "array("


def _float_strings(values, fmt):
    # Widening to float64 is exact for every float dtype (bfloat16 included),
    # and ``%`` formatting of a Python float rounds like C's printf.
    with np.errstate(invalid="ignore"):  # ml_dtypes warns when casting NaN
        flat = np.asarray(values, dtype=np.float64).ravel()
    out = [fmt % v for v in flat.tolist()]
    # Python drops the sign of NaN; MLX's ostream keeps it.
    neg_nan = np.flatnonzero(np.isnan(flat) & np.signbit(flat))
    for i in neg_nan.tolist():
        out[i] = "-nan"
    return out


def _element_strings(values, dtype_name, precision):
    if dtype_name == "bool":
        return ["True" if v else "False" for v in np.asarray(values, dtype=bool).ravel().tolist()]
    if dtype_name.startswith(("int", "uint")):
        return [str(v) for v in values.ravel().tolist()]
    if precision == -1:
        fmt = "%g"
    else:
        # A negative precision other than -1 still selects fixed notation;
        # the stream then falls back to its default of 6 digits.
        fmt = "%%.%df" % (precision if precision >= 0 else 6)
    if dtype_name.startswith("complex"):
        values = np.asarray(values)
        real = _float_strings(values.real, fmt)
        imag_vals = values.imag.ravel()
        imag = _float_strings(imag_vals, fmt)
        # The '+' is written unless imag < 0, so -0 and NaN read "+-0", "+nan".
        plus = (~(imag_vals < 0)).tolist()
        return [r + ("+" if p else "") + i + "j" for r, p, i in zip(real, plus, imag)]
    return _float_strings(values, fmt)


def format_array(data, dtype_name: str, *, precision: int = -1) -> str:
    """Return MLX's ``repr`` of an array holding ``data`` with dtype ``dtype_name``.

    ``precision`` mirrors ``mx.set_printoptions``: -1 is the default ``%g``
    style; anything else prints floats in fixed notation.
    """
    a = np.asarray(data)
    suffix = ", dtype=%s)" % dtype_name
    if a.ndim == 0:
        return _PREFIX + _element_strings(a, dtype_name, precision)[0] + suffix

    shape = a.shape
    elided = [n > _SUMMARIZE_ABOVE for n in shape]
    if any(elided):
        # Gather only the edge entries so elided values are never formatted.
        keep = [
            np.r_[0:_EDGE_ITEMS, n - _EDGE_ITEMS:n] if e else np.arange(n)
            for n, e in zip(shape, elided)
        ]
        a = a[np.ix_(*keep)]
    strs = _element_strings(a, dtype_name, precision)

    sub_shape = a.shape
    ndim = len(sub_shape)
    strides = [1] * ndim
    for ax in range(ndim - 2, -1, -1):
        strides[ax] = strides[ax + 1] * sub_shape[ax + 1]
    seps = [",\n" + " " * (len(_PREFIX) + 1 + ax) for ax in range(ndim)]

    def build(axis, start):
        n = sub_shape[axis]
        if n == 0:
            return "[]"
        if axis == ndim - 1:
            items = strs[start:start + n]
            if elided[axis]:
                items = items[:_EDGE_ITEMS] + ["..."] + items[_EDGE_ITEMS:]
            return "[" + ", ".join(items) + "]"
        step = strides[axis]
        parts = [build(axis + 1, start + i * step) for i in range(n)]
        if elided[axis]:
            parts.insert(_EDGE_ITEMS, "...")
        return "[" + seps[axis].join(parts) + "]"

    return _PREFIX + build(0, 0) + suffix
