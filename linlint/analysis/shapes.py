"""Tensor shapes, found lazily: declared types first, then a local walk back through the
producers (same-shape ops, broadcasts, Conv, pools, MatMul, Gemm, Reshape, …), reading
the shape arithmetic a Reshape's or an Expand's target is computed with
(``Shape → Gather → Unsqueeze → Concat``: ``shape_values``).

Shapes matter only where a finding needs spatial sizes or row counts, so
nothing here runs until a region asks. Symbolic dims (``dim_param``, no value,
or a negative ``dim_value`` as paddle2onnx writes) take their value from the
caller's ``input_shapes`` or default to 1: those sizes serve the cost figures only.
Where the walk cannot tell a shape, ``local`` says None: it never guesses a size.
``fixed`` says whether a shape is the model's own (every size on the way declared as
a number): a condition that depends on a size (a border map, ceil_mode dividing, a
Reshape keeping the width) is exact only on fixed shapes, never on a size the user
gave. ``sizes`` says it per size (None for a size that depends on a defaulted or given
one), so a cost can be counted on the sizes the model fixes and called unknown on the
others. onnx's global shape inference is never run: on defaulted symbolic sizes it can
abort the process, and it would cost more than the whole analysis.
"""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import ModelProto, ValueInfoProto

from linlint.analysis.op_shapes import BROADCAST, SAME_SHAPE, SHAPE_OF, transpose_perm
from linlint.analysis.shape_values import (
    DEPTH,
    NO_INPUT_SHAPE,
    VALUE_OF,
    broadcast,
    probe_shapes,
    reshaped,
    value,
)
from linlint.model.graphs import GRAPH_OPS, node_subgraphs

Shape = tuple[int, ...]
__all__ = ["FreeInput", "ShapeOracle", "reshaped", "transpose_perm"]

#: The size a second evaluation gives every defaulted symbolic size (``ShapeOracle.at_size``):
#: a cost decision that differs there from the one at 1 depends on a size the model leaves open.
REALISTIC_SIZE = 64


@dataclass(frozen=True)
class FreeInput:
    """A graph input with sizes the model does not fix: the shape the figures are counted
    at, its free sizes as ``(axis, label)`` (the ``dim_param``, else ``name[axis]``), and
    whether the user gave that shape (``--input-shape``) or its free sizes took 1."""

    name: str
    shape: Shape
    free: tuple[tuple[int, str], ...]
    given: bool


def _dims(vi: ValueInfoProto) -> Shape | None:
    t = vi.type
    if not t.HasField("tensor_type") or not t.tensor_type.HasField("shape"):
        return None
    return tuple(
        d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else 1
        for d in t.tensor_type.shape.dim
    )


def _concrete(vi: ValueInfoProto) -> bool:
    return all(d.HasField("dim_value") and d.dim_value >= 0 for d in vi.type.tensor_type.shape.dim)


class ShapeOracle:
    """Answers ``local(ga, name)`` for the tensors of one model, remembering what it found;
    ``sizes`` tells which sizes of a shape the model fixes (None for the others)."""

    def __init__(
        self, model: ModelProto, input_shapes: dict[str, Shape] | None = None, probe=False
    ) -> None:
        self.model = model
        self.input_shapes = dict(input_shapes or {})
        self._known: dict[str, Shape] = {}
        self._missing: set[str] = set()  # names ``local`` could not resolve
        self.symbolic: set[str] = set()  # known shapes (and values) that hold a free size
        self.values: dict[str, np.ndarray | None] = {}  # shape values (``shape_values``)
        self._declared_dims: dict[str, tuple[int | None, ...]] = {}  # None: not a number
        self._is_probe = probe
        self._probe: ShapeOracle | None = None
        self._at_size: dict[int, ShapeOracle] = {}
        #: Regions evaluated on this oracle's shapes (``cost_basis``), by graph and nodes.
        self.evaluated: dict[tuple, object] = {}
        self._collect(model.graph)
        self.free_inputs = _free_inputs(model, self.input_shapes)
        #: Whether some free size took its default (1): figures on it are not the model's.
        self.defaulted = any(not f.given for f in self.free_inputs)

    def at_size(self, size: int) -> ShapeOracle | None:
        """This model's oracle with every defaulted symbolic size at ``size`` (the sizes the
        user gave kept): where a cost decision is tried at a realistic size. None when no
        size was defaulted."""
        if not self.defaulted or self._is_probe:
            return None
        if size not in self._at_size:
            shapes = dict(self.input_shapes)
            for f in self.free_inputs:
                if not f.given:
                    declared = _declared(self.model, f.name)
                    shapes[f.name] = tuple(size if d is None else d for d in declared)
            self._at_size[size] = ShapeOracle(self.model, shapes)
        return self._at_size[size]

    def _collect(self, graph: onnx.GraphProto, body: bool = False) -> None:
        inputs = {vi.name for vi in graph.input}
        if body:
            # A Loop/Scan body's inputs may change shape from one iteration to the next, and
            # a subgraph's declarations (a traced export's) may hold one size of a symbolic
            # outer one: sizes declared in subgraphs are never taken as the model's fixed ones
            # (the probe walks them from the outer graph's sizes, or leaves them unknown).
            if self._is_probe:
                return
            self.symbolic |= {vi.name for vi in list(graph.input) + list(graph.value_info)}
            self.symbolic |= {vi.name for vi in graph.output}
        for vi in list(graph.input) + list(graph.value_info) + list(graph.output):
            dims = _dims(vi)
            if vi.name in self.input_shapes:
                self._known[vi.name] = tuple(self.input_shapes[vi.name])
                if dims is None or not _concrete(vi) or dims != self._known[vi.name]:
                    self.symbolic.add(vi.name)
                continue
            # Symbolic dims of inputs take their default; elsewhere they would contradict
            # what the inputs' defaults compute, so such shapes are left to propagation.
            if dims is not None and (vi.name in inputs or _concrete(vi)):
                self._known.setdefault(vi.name, dims)
                if not _concrete(vi):
                    self.symbolic.add(vi.name)
                    self._declared_dims[vi.name] = tuple(
                        d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else None
                        for d in vi.type.tensor_type.shape.dim
                    )
        for node in graph.node:
            if node.op_type in GRAPH_OPS or node.domain:
                for _, sub in node_subgraphs(node):
                    self._collect(sub, body=True)

    def assuming(self, name: str, shape: Shape) -> ShapeOracle:
        """This oracle with ``name`` (a tensor whose shape the walk cannot tell) taken to
        have ``shape``, a free one: where a decision is tried on sizes no shape gives. What
        it walks from there stays its own; this oracle is not changed."""
        other = object.__new__(ShapeOracle)
        other.__dict__.update(self.__dict__)
        other._known = ChainMap({name: tuple(shape)}, self._known)
        other._missing = set()
        other.symbolic = _Atop(self.symbolic, name)
        other.values = ChainMap({}, self.values)
        other._is_probe, other._probe, other._at_size = True, None, {}
        other.free_inputs, other.defaulted, other.evaluated = (), False, {}
        return other

    def declared(self, name: str) -> Shape | None:
        """A shape known without walking (declared, or remembered)."""
        return self._known.get(name)

    def remember(self, name: str, shape: Shape, like: str | None = None) -> None:
        """Record a shape found elsewhere; it is fixed only where ``like``'s shape is."""
        if name not in self._known:
            self._known[name] = tuple(int(d) for d in shape)
            if like is None or like in self.symbolic:
                self.symbolic.add(name)

    def fixed(self, ga, name: str | None) -> bool:
        """Whether ``name``'s shape is known and every size in it is the model's own."""
        return bool(name) and self.local(ga, name) is not None and name not in self.symbolic

    def fixed_axis(self, ga, name: str | None, axis: int) -> bool:
        """Whether one size of ``name``'s shape is the model's own (``sizes`` gives it)."""
        if self.fixed(ga, name):
            return True
        if not name or name in self.input_shapes or self.local(ga, name) is None:
            return False
        dims = self._declared_dims.get(name) or self.sizes(ga, name)
        return -len(dims) <= axis < len(dims) and dims[axis] is not None

    def sizes(self, ga, name: str) -> tuple[int | None, ...] | None:
        """``name``'s shape with None for each size the model does not fix, and None where
        the shape is unknown: what the cost of an op may be counted on without a guess.

        A size is the model's own when it does not depend on a free size (a symbolic dim's
        default, a size the caller gave, a size declared in a subgraph): the shape is walked
        once more with every free size of the graph inputs set to another value (a prime
        past 1000, one per dim name), and the sizes that stay the same are the model's.
        """
        shape = self.local(ga, name)
        if shape is None or name not in self.symbolic:
            return shape
        other = None
        if not self._is_probe:
            if self._probe is None:
                self._probe = ShapeOracle(
                    self.model, probe_shapes(self.model, self.input_shapes), True
                )
            other = self._probe.local(ga, name)
        if other is None or len(other) != len(shape):
            return (None,) * len(shape)
        return tuple(d if d == o else None for d, o in zip(shape, other, strict=True))

    def local(self, ga, name: str, depth: int = 0) -> Shape | None:
        """The shape of ``name`` from its producers' inputs, walking back through ops that
        keep or broadcast shapes, and through the shape values that Reshape, Expand and
        their kin read (``shape_values``): no global inference. None when that is not
        enough: never a guessed size."""
        known = self._known.get(name)
        if known is not None or depth > DEPTH or name in self._missing:
            return known
        if name not in ga.producer or name in ga.constant:
            # a constant: its own dims (a shape value's from its value, computed once)
            small = name in ga.producer and ga.nodes[ga.producer[name]].node.op_type in VALUE_OF
            found = value(self, ga, name, depth) if small else None
            found = _weight_dims(ga, name) if found is None else found.shape
            if found is not None:
                self._known[name] = found
            if found is not None or name not in ga.producer:
                return found
            # a constant too large to compute here (a DequantizeLinear of int8 weights), or
            # one computed from shapes: its shape from its producer, like any tensor's
        node = ga.nodes[ga.producer[name]].node
        inputs = [i for i in node.input if i]
        op = node.op_type
        if op in SAME_SHAPE and inputs:
            found = self.local(ga, inputs[0], depth + 1)
        elif op in BROADCAST and inputs:
            shapes = [self.local(ga, i, depth + 1) for i in inputs]
            # an operand of unknown shape makes the result unknown
            found = None if any(s is None for s in shapes) else broadcast(shapes)
        elif op in SHAPE_OF and inputs and name == node.output[0] and not node.domain:
            first = () if op in NO_INPUT_SHAPE else self.local(ga, inputs[0], depth + 1)
            try:
                rule = SHAPE_OF[op]
                found = None if first is None else rule(ga, node, first, self, depth + 1)
            except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError):
                found = None
        else:
            found = None
        if found is not None:
            self._known[name] = found
            if not self.symbolic.isdisjoint(inputs):
                self.symbolic.add(name)
        else:
            self._missing.add(name)
        return found


class _Atop:
    """A set over another, which it reads and never changes (``ShapeOracle.assuming``)."""

    def __init__(self, below: set[str], *names: str) -> None:
        self.below, self.own = below, set(names)

    def __contains__(self, name: object) -> bool:
        return name in self.own or name in self.below

    def add(self, name: str) -> None:
        self.own.add(name)

    def isdisjoint(self, names) -> bool:
        return not any(n in self for n in names)


def _declared(model: ModelProto, name: str) -> tuple[int | None, ...]:
    """A main-graph input's declared sizes, None for each free one."""
    vi = next(v for v in model.graph.input if v.name == name)
    return tuple(
        d.dim_value if d.HasField("dim_value") and d.dim_value >= 0 else None
        for d in vi.type.tensor_type.shape.dim
    )


def _free_inputs(model: ModelProto, given: dict[str, Shape]) -> tuple[FreeInput, ...]:
    """The main graph's inputs (not initializers) with a free size, in order."""
    stored = None
    found = []
    for vi in model.graph.input:
        t = vi.type.tensor_type
        if not vi.type.HasField("tensor_type") or not t.HasField("shape"):
            continue
        free = tuple(
            (axis, d.dim_param or f"{vi.name}[{axis}]")
            for axis, d in enumerate(t.shape.dim)
            if not (d.HasField("dim_value") and d.dim_value >= 0)
        )
        if not free:
            continue
        stored = {i.name for i in model.graph.initializer} if stored is None else stored
        if vi.name in stored:  # an overridable weight (IR >= 4), not an input to feed
            continue
        shape = tuple(given[vi.name]) if vi.name in given else _dims(vi)
        found.append(FreeInput(vi.name, shape, free, vi.name in given))
    return tuple(found)


def _weight_dims(ga, name: str) -> Shape | None:
    _, initializer = ga.defining_scope(name)
    if initializer is not None:
        return tuple(initializer.dims)
    value = ga.const_value(name)
    return None if value is None else tuple(value.shape)
