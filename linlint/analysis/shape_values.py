"""The values of shape tensors, and the shapes that ops reading them give.

TorchScript exports compute a Reshape's target (and Expand's, ConstantOfShape's,
Resize's sizes) at run time: ``Shape(x) → Gather/Slice → Unsqueeze → Concat``, with
``Mul``/``Div``/``Add`` on the way. Such a value is not a constant (``const_value`` gives
None), but where the shape walk knows ``x``'s shape it is known: ``value`` computes it,
op by op, from the shapes the walk gives and the model's constants, and remembers it.
A value read from a shape with a defaulted or given size is *symbolic* the way a shape
is (``ShapeOracle.fixed``); ``ShapeOracle.sizes`` tells which of the sizes it gives
the model fixes. Only small integer or float vectors are computed; anything else is
unknown (None), and so is the shape an op reads it for.
"""

from __future__ import annotations

import math

import numpy as np
import onnx

from linlint.model.graphs import attr, text_attr

Shape = tuple[int, ...]
MAX_ELEMENTS = 4096  # a shape value is a handful of sizes; larger ones are not computed
DEPTH = 32  # producers a shape or a value is walked back through


def value(oracle, ga, name: str, depth: int = 0) -> np.ndarray | None:
    """The value of ``name``: a constant's, or computed from shapes the walk knows."""
    if not name:
        return None
    memo = oracle.values
    if name in memo:
        return memo[name]
    if depth > DEPTH:
        return None  # not remembered: a later, shallower walk may find it
    index = ga.producer.get(name)
    node = None if index is None else ga.nodes[index].node
    rule = None if node is None or node.domain else VALUE_OF.get(node.op_type)
    if rule is None or name != node.output[0]:
        found = ga.const_value(name)  # initializers, Constant, and other ops of constants
    else:
        try:
            found = rule(oracle, ga, node, depth + 1)
        except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError):
            found = None
        if found is None:  # a constant computation this module does not do (Div of < 0)
            found = ga.const_value(name)
        elif not oracle.symbolic.isdisjoint(node.input):
            oracle.symbolic.add(name)
    if found is not None:
        found = np.asarray(found)
        if found.size > MAX_ELEMENTS or found.dtype.kind not in "iufb":
            found = None
    memo[name] = found
    return found


def _ints(oracle, ga, name: str, depth: int) -> list[int] | None:
    v = value(oracle, ga, name, depth)
    return None if v is None else [int(i) for i in np.ravel(v)]


def _inputs(oracle, ga, node, depth: int) -> list[np.ndarray | None]:
    return [value(oracle, ga, i, depth) if i else None for i in node.input]


def _shape(oracle, ga, node, depth):
    shape = oracle.local(ga, node.input[0], depth)
    if shape is None:
        return None
    rank = len(shape)
    start = int(attr(node, "start", 0))
    end = attr(node, "end")
    return np.array(shape[slice(start, rank if end is None else int(end))], np.int64)


def _size(oracle, ga, node, depth):
    shape = oracle.local(ga, node.input[0], depth)
    return None if shape is None else np.array(math.prod(shape), np.int64)


def _unary(fn):
    def rule(oracle, ga, node, depth):
        x = value(oracle, ga, node.input[0], depth)
        return None if x is None else fn(node, x)

    return rule


def _cast(node, x):
    to = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(int(attr(node, "to"))))
    if to.kind in "iu" and not np.all(np.isfinite(x)):
        return None
    return x.astype(to)


def _elementwise(fn):
    def rule(oracle, ga, node, depth):
        args = _inputs(oracle, ga, node, depth)
        return None if any(a is None for a in args) else fn(*args)

    return rule


def _divide(a, b):
    if np.any(b == 0):
        return None
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return a / b
    if np.any(a < 0) or np.any(b < 0):
        return None  # ONNX truncates toward zero, numpy floors: sizes are never negative
    return a // b


def _gather(oracle, ga, node, depth):
    data, indices = _inputs(oracle, ga, node, depth)[:2]
    if data is None or indices is None:
        return None
    return np.take(data, indices.astype(np.int64), axis=int(attr(node, "axis", 0)))


def slices(node, values: list, rank: int) -> list[slice] | None:
    """A Slice's per-axis slices (inputs from opset 10, attributes before): unknown
    starts, ends, axes or steps (None in ``values``) leave it unknown."""
    if len(node.input) > 1:
        starts, ends = values[1], values[2]
        axes = values[3] if len(values) > 3 and node.input[3] else None
        steps = values[4] if len(values) > 4 and node.input[4] else None
        if starts is None or ends is None:
            return None
        if (len(values) > 3 and node.input[3] and axes is None) or (
            len(values) > 4 and node.input[4] and steps is None
        ):
            return None
    else:
        starts, ends, steps = attr(node, "starts"), attr(node, "ends"), None
        axes = attr(node, "axes")
    starts, ends = [int(s) for s in np.ravel(starts)], [int(e) for e in np.ravel(ends)]
    axes = list(range(len(starts))) if axes is None else [int(a) % rank for a in np.ravel(axes)]
    steps = [1] * len(starts) if steps is None else [int(s) for s in np.ravel(steps)]
    out = [slice(None)] * rank
    for a, b, e, s in zip(axes, starts, ends, steps, strict=True):
        if s == 0:
            return None
        out[a] = slice(b, e, s)  # Python's slice clamps the way ONNX does
    return out


def _slice(oracle, ga, node, depth):
    values = _inputs(oracle, ga, node, depth)
    data = values[0]
    if data is None or data.ndim == 0:
        return None
    cut = slices(node, values, data.ndim)
    return None if cut is None else data[tuple(cut)]


def axes_of(oracle, ga, node, depth: int = 0) -> list[int] | None:
    """Squeeze's or Unsqueeze's axes: the attribute, or (opset 13) the second input."""
    axes = attr(node, "axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        return _ints(oracle, ga, node.input[1], depth)
    return None if axes is None else [int(a) for a in axes]


def _unsqueeze(oracle, ga, node, depth):
    x, axes = value(oracle, ga, node.input[0], depth), axes_of(oracle, ga, node, depth)
    if x is None or axes is None:
        return None
    rank = x.ndim + len(axes)
    return x.reshape(unsqueezed(x.shape, axes, rank))


def unsqueezed(shape: Shape, axes: list[int], rank: int) -> Shape:
    """``shape`` with a 1 inserted at each of ``axes`` (of the result's ``rank``)."""
    add = {a % rank for a in axes}
    rest = iter(shape)
    return tuple(1 if i in add else next(rest) for i in range(rank))


def _squeeze(oracle, ga, node, depth):
    x, axes = value(oracle, ga, node.input[0], depth), axes_of(oracle, ga, node, depth)
    if x is None:
        return None
    return np.squeeze(x, axis=tuple(a % x.ndim for a in axes) if axes else None)


def _concat(oracle, ga, node, depth):
    parts = [value(oracle, ga, i, depth) for i in node.input if i]
    if any(p is None for p in parts):
        return None
    return np.concatenate(parts, axis=int(attr(node, "axis", 0)))


def _constant_of_shape(oracle, ga, node, depth):
    shape = _ints(oracle, ga, node.input[0], depth)
    if shape is None or math.prod(shape) > MAX_ELEMENTS:
        return None
    fill = attr(node, "value")
    fill = np.zeros(1, np.float32) if fill is None else onnx.numpy_helper.to_array(fill)
    return np.full(shape, fill.reshape(-1)[0], dtype=fill.dtype)


def _expand(oracle, ga, node, depth):
    x, shape = value(oracle, ga, node.input[0], depth), _ints(oracle, ga, node.input[1], depth)
    if x is None or shape is None:
        return None
    out = broadcast([x.shape, tuple(shape)])
    return None if out is None or math.prod(out) > MAX_ELEMENTS else np.broadcast_to(x, out)


#: How each op computes a value from its inputs' values (or, Shape and Size, their shapes).
VALUE_OF = {
    "Shape": _shape,
    "Size": _size,
    "Identity": _unary(lambda node, x: x),
    "Cast": _unary(_cast),
    "Neg": _unary(lambda node, x: -x),
    "Floor": _unary(lambda node, x: np.floor(x)),
    "Ceil": _unary(lambda node, x: np.ceil(x)),
    "Round": _unary(lambda node, x: np.round(x)),
    "Add": _elementwise(np.add),
    "Sub": _elementwise(np.subtract),
    "Mul": _elementwise(np.multiply),
    "Div": _elementwise(_divide),
    "Max": _elementwise(lambda *a: np.maximum.reduce(np.broadcast_arrays(*a))),
    "Min": _elementwise(lambda *a: np.minimum.reduce(np.broadcast_arrays(*a))),
    "Equal": _elementwise(np.equal),
    "Where": _elementwise(np.where),
    "Gather": _gather,
    "Slice": _slice,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "ConstantOfShape": _constant_of_shape,
    "Expand": _expand,
}


def broadcast(shapes: list[Shape]) -> Shape | None:
    """Numpy broadcasting; None where the sizes do not broadcast."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = []
    for dims in zip(*padded, strict=True):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def reshaped(target: list[int], shape: Shape, allowzero: bool = False) -> Shape | None:
    """The shape a Reshape to ``target`` gives a tensor of ``shape``: a 0 copies the input's
    dim at its index (unless ``allowzero``), one -1 takes what is left (0 where nothing
    is). None where that is no shape: the sizes left do not divide, or two -1."""
    dims = [shape[i] if d == 0 and not allowzero and i < len(shape) else d
            for i, d in enumerate(target)]  # fmt: skip
    if dims.count(-1) > 1 or any(d < -1 for d in dims):
        return None
    if dims.count(-1) == 1:
        known, total = math.prod(d for d in dims if d != -1), math.prod(shape)
        if known and total % known:
            return None
        dims[dims.index(-1)] = total // known if known else 0
    return tuple(dims)


# Shapes of ops whose output shape is an input's value (or is read with one): each
# gives the output shape from the node and its first input's shape ``x``.


def _reshape_shape(ga, node, x, oracle, depth):
    if len(node.input) > 1:
        target = _ints(oracle, ga, node.input[1], depth)
    else:  # opset < 5: the target is an attribute
        target = attr(node, "shape")
    if target is None:
        return None
    return reshaped([int(t) for t in target], x, bool(attr(node, "allowzero", 0)))


def _expand_shape(ga, node, x, oracle, depth):
    target = _ints(oracle, ga, node.input[1], depth)
    return None if target is None else broadcast([x, tuple(target)])


def _constant_of_shape_shape(ga, node, x, oracle, depth):
    target = _ints(oracle, ga, node.input[0], depth)
    return None if target is None or any(d < 0 for d in target) else tuple(target)


def _shape_shape(ga, node, x, oracle, depth):
    found = _shape(oracle, ga, node, depth)
    return None if found is None else (len(found),)


def _tile_shape(ga, node, x, oracle, depth):
    repeats = _ints(oracle, ga, node.input[1], depth)
    if repeats is None or len(repeats) != len(x):
        return None
    return tuple(d * r for d, r in zip(x, repeats, strict=True))


def _slice_shape(ga, node, x, oracle, depth):
    values = [None, *(value(oracle, ga, i, depth) if i else None for i in node.input[1:])]
    cut = slices(node, values, len(x))
    if cut is None:
        return None
    return tuple(len(range(*c.indices(d))) for c, d in zip(cut, x, strict=True))


def _gather_shape(ga, node, x, oracle, depth):
    indices = oracle.local(ga, node.input[1], depth)
    if indices is None:
        return None
    axis = int(attr(node, "axis", 0)) % len(x)
    return (*x[:axis], *indices, *x[axis + 1 :])


def _resize_shape(ga, node, x, oracle, depth):
    """Resize (and Upsample): its ``sizes``, else each size times its scale, rounded down;
    with ``axes`` (opset 18) on those axes only. Another aspect-ratio policy: unknown."""
    if text_attr(node, "keep_aspect_ratio_policy", "stretch") != "stretch":
        return None
    inputs = list(node.input) + [""] * 4
    if node.op_type == "Upsample" or ga.opset < 11:
        scales_name, sizes_name = (inputs[1], "") if len(node.input) > 1 else ("", "")
    else:
        scales_name, sizes_name = inputs[2], inputs[3]
    sizes = _ints(oracle, ga, sizes_name, depth) if sizes_name else None
    scales = value(oracle, ga, scales_name, depth) if scales_name else attr(node, "scales")
    axes = attr(node, "axes")
    axes = range(len(x)) if axes is None else [int(a) % len(x) for a in axes]
    out = list(x)
    if sizes is not None:
        for a, n in zip(axes, sizes, strict=True):
            out[a] = n
        return tuple(out)
    if scales is None or len(np.ravel(scales)) == 0:
        return None
    for a, sc in zip(axes, np.ravel(scales), strict=True):
        out[a] = int(math.floor(x[a] * float(sc)))
    return tuple(out)


#: Output shapes read from an input's value; ConstantOfShape and Shape need no input shape.
SHAPE_FROM_VALUES = {
    "Reshape": _reshape_shape,
    "Expand": _expand_shape,
    "ConstantOfShape": _constant_of_shape_shape,
    "Shape": _shape_shape,
    "Tile": _tile_shape,
    "Slice": _slice_shape,
    "Gather": _gather_shape,
    "Resize": _resize_shape,
    "Upsample": _resize_shape,
}
NO_INPUT_SHAPE = frozenset({"ConstantOfShape", "Shape"})


def probe_shapes(model: onnx.ModelProto, given_shapes: dict[str, Shape]) -> dict[str, Shape]:
    """The graph inputs' shapes with every free size set to a prime past 1000: the same
    prime for one dim name, a new one for each unnamed or given size."""
    primes = (p for p in range(1009, 1 << 20, 2) if all(p % q for q in range(3, 40, 2)))
    by_name: dict[str, int] = {}
    shapes = {}
    for vi in model.graph.input:
        given = given_shapes.get(vi.name)
        t = vi.type.tensor_type
        dims = list(t.shape.dim) if t.HasField("shape") else None
        if dims is None or (given is not None and len(given) != len(dims)):
            if given is not None:
                shapes[vi.name] = tuple(next(primes) for _ in given)
            continue
        sizes = []
        for i, d in enumerate(dims):
            number = d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else None
            if number is not None and (given is None or given[i] == number):
                sizes.append(number)
            elif d.dim_param and given is None:
                sizes.append(by_name.setdefault(d.dim_param, next(primes)))
            else:
                sizes.append(next(primes))
        shapes[vi.name] = tuple(sizes)
    return shapes
