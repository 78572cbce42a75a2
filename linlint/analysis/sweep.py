"""One sweep over each graph: the abstract value of every tensor, then the regions.

Every tensor gets one abstract value, in the file's node order:

* **static** — data-independent: initializers, ``Constant``, ``Shape``, and ops of
  static inputs (weights often arrive this way);
* **affine of a source** — ``A·source + c`` for one upstream tensor (a graph
  input or the output of a barrier);
* **opaque** — a source for what follows.

A *region* is the set of nodes that computes one affine tensor leaving the
affine world (read by a barrier, a graph output, a subgraph) from its source.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import GraphProto, ModelProto, NodeProto, numpy_helper

from linlint.analysis.optable import (
    ACTIVATION_PRODUCTS,
    DEFAULT_DOMAINS,
    FLOAT_ONLY_AFFINE,
    FLOAT_TYPES,
    NONDETERMINISTIC,
    NONNEGATIVE_OUTPUT,
    OUTPUT_TYPES,
    SHAPE_ONLY,
    TABLE,
    Context,
    Kind,
    classify,
)
from linlint.analysis.regions import FlaggedNode
from linlint.errors import LinlintError
from linlint.model.graphs import GRAPH_OPS, attr, node_subgraphs

AFFINE_KINDS = frozenset({Kind.PARAM, Kind.PASS, Kind.JOIN, Kind.IDENTITY})
SMALL_CONST = 1 << 16  # elements: values read while checking (slopes, pads, shapes)


@dataclass(slots=True)
class NodeState:
    index: int
    node: NodeProto
    name: str
    kind: Kind | None  # None: a constant computation
    data: tuple[str, ...] = ()  # the non-static inputs that carry the signal
    why: str = ""


@dataclass
class GraphAnalysis:
    name: str
    graph: GraphProto
    nodes: list[NodeState]
    producer: dict[str, int]
    consumers: dict[str, list[int]]
    static: set[str]
    source: dict[str, str]
    affine: set[str]
    outputs: set[str]
    outer_refs: set[str]
    initializers: dict[str, onnx.TensorProto]
    flagged: list[FlaggedNode] = field(default_factory=list)
    #: affine tensors with a parametric op somewhere upstream in their region
    param_reach: set[str] = field(default_factory=set)
    subgraphs: list[GraphAnalysis] = field(default_factory=list)
    outer: GraphAnalysis | None = None
    values: dict[str, np.ndarray | None] = field(default_factory=dict)
    load_tensor: Callable[[onnx.TensorProto], np.ndarray | None] | None = None
    opset: int = 1
    declared_types: dict[str, int] | None = None

    def extends(self, tensor: str, consumer: int) -> bool:
        state = self.nodes[consumer]
        return state.kind in AFFINE_KINDS and tensor in state.data

    def is_exit(self, tensor: str) -> bool:
        if tensor in self.outputs or tensor in self.outer_refs:
            return True
        return any(not self.extends(tensor, c) for c in self.consumers.get(tensor, ()))

    def defining_scope(self, name: str) -> tuple[GraphAnalysis | None, object | None]:
        """The nearest scope that defines ``name`` and, if it is an initializer there, the
        initializer (a ``TensorProto`` or ``SparseTensorProto``); ``(None, None)`` when no
        scope does (a graph input, or an unknown name)."""
        g: GraphAnalysis | None = self
        while g is not None:
            if name in g.initializers:
                return g, g.initializers[name]
            if name in g.producer:
                return g, None
            g = g.outer
        return None, None

    # -- constant values ------------------------------------------------------------------

    def const_value(self, name: str, large: bool = False) -> np.ndarray | None:
        """The value of a static tensor, or None when unknown (external, shape-derived).

        Iterative (a weight may be computed through hundreds of constant nodes); large
        initializer values are read each time, not kept: a fold reads each weight once.
        """
        if not name:
            return None
        key = (name, large)
        if key in self.values:
            return self.values[key]
        # Post-order over the constant computation: inputs before the nodes that read them.
        stack: list[tuple[GraphAnalysis, str, bool]] = [(self, name, False)]
        while stack:
            g, t, expanded = stack.pop()
            if (t, large) in g.values:
                continue
            if t in g.initializers:
                value = g._initializer_value(t, large)
                if large and value is not None and value.size > SMALL_CONST:
                    if g is self and t == name:
                        return value
                g.values[(t, large)] = value
                continue
            if t not in g.producer:
                if g.outer is not None:
                    outer_value = g.outer.const_value(t, large)
                    g.values[(t, large)] = outer_value
                else:
                    g.values[(t, large)] = None
                continue
            state = g.nodes[g.producer[t]]
            if state.kind is not None or t not in g.static:
                g.values[(t, large)] = None
                continue
            node = state.node
            if node.op_type == "Constant":
                g.values[(t, large)] = _constant_value(node, g.load_tensor if large else None)
                continue
            inputs = [i for i in node.input if i]
            if not expanded:
                stack.append((g, t, True))
                stack.extend((g, i, False) for i in inputs if (i, large) not in g.values)
                continue
            values = [g.values.get((i, large)) if i else None for i in node.input]
            if any(v is None for i, v in zip(node.input, values, strict=True) if i):
                g.values[(t, large)] = None
                continue
            g.values[(t, large)] = _evaluate(node, values, g.opset, t)
        return self.values.get(key)

    def _initializer_value(self, name: str, large: bool) -> np.ndarray | None:
        tensor = self.initializers[name]
        if isinstance(tensor, onnx.SparseTensorProto):
            return _sparse_value(tensor, large, self.load_tensor)
        if not large and _numel(tensor) > SMALL_CONST:
            return None
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            return self.load_tensor(tensor) if (large and self.load_tensor) else None
        return numpy_helper.to_array(tensor)

    # -- element types ----------------------------------------------------------------------

    def elem_type(self, name: str) -> int:
        """The tensor's element type (``TensorProto`` enum), 0 when unknown.

        Declared types first (inputs, outputs, value_info, initializers), then a walk
        back through producers: most ops keep their first input's type
        (``optable.OUTPUT_TYPES`` lists those that do not).
        """
        if self.declared_types is None:
            self.declared_types = _declared_types(self.graph)
        g: GraphAnalysis | None = self
        t = name
        walked: list[tuple[GraphAnalysis, str]] = []  # names that share the type found
        found = 0
        for _ in range(100_000):
            if g is None or not t:
                break
            found = g.declared_types.get(t) if g.declared_types is not None else None
            if found:
                break
            walked.append((g, t))
            if t not in g.producer:
                g = g.outer
                if g is not None and g.declared_types is None:
                    g.declared_types = _declared_types(g.graph)
                continue
            node = g.graph.node[g.producer[t]]  # (the sweep may not have recorded it yet)
            if node.domain not in DEFAULT_DOMAINS:
                found = 0
                break
            rule = OUTPUT_TYPES.get(node.op_type)
            if isinstance(rule, int):
                found = rule
                break
            if rule == "to":
                found = int(attr(node, "to", 0))
                break
            if rule == "constant":
                found = _constant_type(node)
                break
            index = rule if isinstance(rule, tuple) else (0,)
            nxt = next((node.input[i] for i in index if i < len(node.input) and node.input[i]), "")
            t = nxt
        found = found or 0
        for scope, walked_name in walked:  # remembered: each name is walked once
            if scope.declared_types is not None:
                scope.declared_types[walked_name] = found
        return found


def _sparse_value(sparse: onnx.SparseTensorProto, large: bool, load) -> np.ndarray | None:
    """A sparse initializer as a dense array (indices linear or as coordinates)."""
    shape = tuple(sparse.dims)
    if not large and math.prod(shape) > SMALL_CONST:
        return None
    parts = []
    for tensor in (sparse.values, sparse.indices):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            if not (large and load):
                return None
            parts.append(load(tensor))
        else:
            parts.append(numpy_helper.to_array(tensor))
    values, indices = parts
    dense = np.zeros(math.prod(shape), dtype=values.dtype)
    if indices.ndim == 2:
        indices = np.ravel_multi_index(tuple(indices.T), shape)
    dense[np.asarray(indices, dtype=np.int64).reshape(-1)] = values.reshape(-1)
    return dense.reshape(shape)


def _numel(tensor: onnx.TensorProto) -> int:
    n = 1
    for d in tensor.dims:
        n *= d
    return n


def _declared_types(graph: GraphProto) -> dict[str, int]:
    types: dict[str, int] = {}
    for vi in list(graph.input) + list(graph.output) + list(graph.value_info):
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.elem_type:
            types[vi.name] = vi.type.tensor_type.elem_type
    for t in graph.initializer:
        types[t.name] = t.data_type
    for sparse in graph.sparse_initializer:
        types[sparse.values.name] = sparse.values.data_type
    return types


def _constant_type(node: NodeProto) -> int:
    for a in node.attribute:
        if a.name in ("value", "sparse_value"):
            return a.t.data_type if a.name == "value" else a.sparse_tensor.values.data_type
        if a.name in ("value_float", "value_floats"):
            return onnx.TensorProto.FLOAT
        if a.name in ("value_int", "value_ints"):
            return onnx.TensorProto.INT64
        if a.name in ("value_string", "value_strings"):
            return onnx.TensorProto.STRING
    return 0


def _constant_value(node: NodeProto, load=None) -> np.ndarray | None:
    for a in node.attribute:
        if a.name == "value":
            if a.t.data_location == onnx.TensorProto.EXTERNAL:
                return load(a.t) if load is not None else None
            return numpy_helper.to_array(a.t)
        if a.name == "value_float":
            return np.array(a.f, dtype=np.float32)
        if a.name == "value_floats":
            return np.array(list(a.floats), dtype=np.float32)
        if a.name == "value_int":
            return np.array(a.i, dtype=np.int64)
        if a.name == "value_ints":
            return np.array(list(a.ints), dtype=np.int64)
    return None


def _evaluate(node: NodeProto, inputs: list, opset: int, want: str) -> np.ndarray | None:
    """Run one constant node with onnx's reference evaluator."""
    from onnx.reference import ReferenceEvaluator

    try:
        names = [f"i{k}" if n else "" for k, n in enumerate(node.input)]
        outs = [f"o{k}" if n else "" for k, n in enumerate(node.output)]
        clone = onnx.helper.make_node(node.op_type, names, outs, domain=node.domain)
        clone.attribute.extend(node.attribute)
        feeds = {n: v for n, v in zip(names, inputs, strict=True) if n}
        graph = onnx.helper.make_graph(
            [clone],
            "const",
            [onnx.helper.make_tensor_value_info(n, 0, None) for n in feeds],
            [onnx.helper.make_tensor_value_info(o, 0, None) for o in outs if o],
        )
        model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)])
        with np.errstate(all="ignore"):
            results = ReferenceEvaluator(model).run(None, feeds)
        return np.asarray(results[list(node.output).index(want)])
    except Exception:  # noqa: BLE001 - an unknown value only makes the analysis conservative
        return None


def _free_names(graph: GraphProto) -> set[str]:
    """Names a (sub)graph reads from the enclosing scope."""
    defined = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    defined |= {t.values.name for t in graph.sparse_initializer}
    free: set[str] = set()
    for node in graph.node:
        for i in node.input:
            if i and i not in defined:
                free.add(i)
        for _, sub in node_subgraphs(node):
            free |= {n for n in _free_names(sub) if n not in defined}
        defined.update(o for o in node.output if o)
    for o in graph.output:
        if o.name not in defined:
            free.add(o.name)
    return free


def _outer_defines(outer: GraphAnalysis | None, name: str) -> bool:
    """Whether any enclosing scope (not only the nearest) defines ``name``."""
    while outer is not None:
        if name in outer.source or name in outer.static:
            return True
        outer = outer.outer
    return False


def default_opset(model: ModelProto) -> int:
    for imp in model.opset_import:
        if imp.domain in DEFAULT_DOMAINS:
            return int(imp.version)
    return 1


@contextmanager
def gc_paused():
    """The analysis creates many small records and frees none of them while it runs, so
    the cyclic garbage collector only costs time (a third of it on large graphs)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def analyze_model(model: ModelProto, load_tensor=None) -> GraphAnalysis:
    """Analyse the main graph and, recursively, every subgraph."""
    with gc_paused():
        return analyze_graph(
            model.graph, "", default_opset(model), None, set(), load_tensor, model.ir_version
        )


def analyze_graph(
    graph: GraphProto,
    name: str,
    opset: int,
    outer: GraphAnalysis | None,
    outer_static: set[str],
    load_tensor=None,
    ir_version: int = 4,
) -> GraphAnalysis:
    initializers = {t.name: t for t in graph.initializer}
    if ir_version >= 4:
        # An initializer that is also a graph input is a default the caller may override:
        # an input, not a constant. (Before IR 4 every initializer is listed as an input
        # and runtimes treat them as constants.)
        for inp in graph.input:
            initializers.pop(inp.name, None)
    for sparse in graph.sparse_initializer:  # dense values, computed on demand like the rest
        initializers.setdefault(sparse.values.name, sparse)
    static: set[str] = set(initializers)
    if ir_version >= 4:
        static -= {inp.name for inp in graph.input}
    source: dict[str, str] = {}
    producer: dict[str, int] = {}
    consumers: dict[str, list[int]] = {}
    known: set[str] = set(static)
    for inp in graph.input:
        if inp.name not in static:
            source[inp.name] = inp.name
        known.add(inp.name)
    where = f" in subgraph {name}" if name else ""
    states: list[NodeState] = []
    ga = GraphAnalysis(
        name,
        graph,
        states,
        producer,
        consumers,
        static,
        source,
        set(),
        {o.name for o in graph.output},
        set(),
        initializers,
        outer=outer,
        load_tensor=load_tensor,
        opset=opset,
    )
    nonneg: set[str] = set()
    param_reach = ga.param_reach

    def is_static(t: str) -> bool:
        return not t or t in static

    ctx = Context(opset, is_static, ga.const_value, lambda t: t in nonneg)

    for index, node in enumerate(graph.node):
        ins = tuple(node.input)
        outs = tuple(node.output)
        op = node.op_type
        domain = node.domain
        label = node.name or f"#{index}"
        for t in ins:
            if not t or t in known:
                continue
            if t in outer_static:
                static.add(t)
            elif _outer_defines(outer, t):
                source[t] = t
            elif t in {o for n in graph.node for o in n.output if o}:
                raise LinlintError(
                    f"node {label} reads '{t}' before it is produced{where}: the graph is not "
                    "topologically sorted or has a cycle"
                )
            else:
                raise LinlintError(f"node {label} reads '{t}', which no node produces{where}")
            known.add(t)
        for t in ins:
            if t:
                if t in consumers:
                    consumers[t].append(index)
                else:
                    consumers[t] = [index]
        for t in outs:
            if not t:
                continue
            if t in known:
                raise LinlintError(f"tensor '{t}' is produced twice (by node {label}){where}")
            known.add(t)
            producer[t] = index
        subs = node_subgraphs(node) if op in GRAPH_OPS or domain not in DEFAULT_DOMAINS else ()
        for _, sub in subs:
            ga.outer_refs |= _free_names(sub)

        dynamic = [t for t in ins if t and t not in static]
        default = domain in DEFAULT_DOMAINS
        if default and op in SHAPE_ONLY:
            static.update(o for o in outs if o)
            states.append(NodeState(index, node, label, None))
            continue
        foldable_const = (
            default
            and not subs
            and op in TABLE
            and op not in NONDETERMINISTIC
            and (bool(ins) or op == "Constant")
            and not dynamic
        )
        if foldable_const:
            static.update(o for o in outs if o)
            states.append(NodeState(index, node, label, None))
            continue

        kind, row, why = classify(node, ctx)
        data: tuple[str, ...] = ()
        if kind in (Kind.PARAM, Kind.PASS, Kind.IDENTITY):
            data = tuple(ins[i] for i in row.data if i < len(ins) and ins[i])
            data = tuple(t for t in data if t not in static)
            others = [t for t in dynamic if t not in data]
            if len(data) != 1 or others:
                kind, why = Kind.BARRIER, "an operand other than the data is not constant"
        elif kind == Kind.JOIN:
            data = tuple(dynamic)
            if len({source[t] for t in data}) != 1:
                kind, why = Kind.BARRIER, "joins tensors from different sources"
        elif kind == Kind.MUL:
            data = tuple(dynamic)
            kind = Kind.PASS if len(data) == 1 else Kind.BARRIER
        elif kind == Kind.DIV:
            data = tuple(dynamic)
            ok = len(data) == 1 and ins[0] == data[0]
            kind = Kind.PASS if ok else Kind.BARRIER
        if (
            kind in AFFINE_KINDS
            and op in FLOAT_ONLY_AFFINE
            and default
            and ga.elem_type(data[0]) not in FLOAT_TYPES
        ):
            kind, why = Kind.BARRIER, f"{op} is not linear on integer tensors"
        if (
            kind in (Kind.PASS, Kind.JOIN)
            and op in ("Mul", "Div", "Add", "Sub")
            and len(data) == 1
            and data[0] not in ga.affine
            and data[0] in producer
        ):
            prev = states[producer[data[0]]]
            if prev.kind == Kind.BARRIER and prev.node.op_type in ACTIVATION_PRODUCTS:
                kind, why = Kind.BARRIER, "the constant tail of a decomposed activation"
        if kind in AFFINE_KINDS:
            src = source[data[0]]
            reach = kind == Kind.PARAM or any(d in param_reach for d in data)
            for o in outs:
                if o:
                    source[o] = src
                    ga.affine.add(o)
                    if reach:
                        param_reach.add(o)
            if kind == Kind.IDENTITY:
                ga.flagged.append(FlaggedNode(name, index, label, op, why))
                if op == "Relu" or data[0] in nonneg:
                    nonneg.update(o for o in outs if o)
        else:
            kind = Kind.BARRIER
            for o in outs:
                if o:
                    source[o] = o
            if default and op in NONNEGATIVE_OUTPUT:
                # Abs(INT_MIN) = INT_MIN: some facts hold for floats only
                if NONNEGATIVE_OUTPUT[op] or ga.elem_type(outs[0]) in FLOAT_TYPES:
                    nonneg.update(o for o in outs if o)
        states.append(NodeState(index, node, label, kind, data, why))

        for attr_name, sub in subs:
            sub_name = f"{name}/{label}/{attr_name}" if name else f"{label}/{attr_name}"
            ga.subgraphs.append(
                analyze_graph(
                    sub, sub_name, opset, ga, static | outer_static, load_tensor, ir_version
                )
            )
    for o in graph.output:
        if o.name not in known:
            if outer is not None:
                continue
            raise LinlintError(f"graph output '{o.name}' is not produced by any node{where}")
    return ga
