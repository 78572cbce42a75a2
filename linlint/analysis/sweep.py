"""One sweep over each graph: the kind of every node and the abstract value of every tensor.

Every tensor gets one abstract value, in the file's node order:

* **constant** — data-independent: initializers, ``Constant``, ``Shape``, and ops of
  constant inputs (weights often arrive this way);
* **affine of a source** — ``A·source + c`` for one upstream tensor (a graph
  input or the output of a barrier);
* **opaque** — a source for what follows.

Subgraphs are swept too, each with its enclosing scopes (``outer``). The record a sweep
leaves, ``GraphAnalysis``, also answers constant values (``constant_values``) and
element types (``element_types``) on demand.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import GraphProto, ModelProto, NodeProto

from linlint.analysis.constant_values import ConstantValues
from linlint.analysis.element_types import ElementTypes
from linlint.analysis.optable import (
    ACTIVATION_PRODUCTS,
    CONSTANT_FOLDABLE,
    DEFAULT_DOMAINS,
    FLOAT_ONLY_AFFINE,
    FLOAT_TYPES,
    NONNEGATIVE_OUTPUT,
    SHAPE_ONLY,
    Context,
    Kind,
    classify,
)
from linlint.analysis.regions import FlaggedNode
from linlint.errors import LinlintError
from linlint.model.graphs import GRAPH_OPS, initializer_names, node_subgraphs
from linlint.wording import quoted

AFFINE_KINDS = frozenset({Kind.PARAM, Kind.PASS, Kind.JOIN, Kind.IDENTITY})


@dataclass(slots=True)
class NodeState:
    index: int
    node: NodeProto
    name: str
    kind: Kind | None  # None: a constant computation
    data: tuple[str, ...] = ()  # the non-constant inputs that carry the signal
    why: str = ""


@dataclass
class GraphAnalysis(ConstantValues, ElementTypes):
    """What the sweep found in one graph: its nodes' kinds, its tensors' values, its subgraphs."""

    name: str
    graph: GraphProto
    nodes: list[NodeState]
    producer: dict[str, int]
    consumers: dict[str, list[int]]
    constant: set[str]
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
        for g in _scopes(self):
            if name in g.initializers:
                return g, g.initializers[name]
            if name in g.producer:
                return g, None
        return None, None


def _scopes(ga: GraphAnalysis | None) -> Iterator[GraphAnalysis]:
    """``ga`` and the scopes that enclose it, nearest first."""
    while ga is not None:
        yield ga
        ga = ga.outer


def _free_names(graph: GraphProto) -> set[str]:
    """Names a (sub)graph reads from the enclosing scope."""
    defined = {i.name for i in graph.input} | initializer_names(graph)
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
    """Whether any enclosing scope (not only the nearest) defines ``name``: its inputs and
    the names it reads from further out count, unlike for ``defining_scope``."""
    return any(name in g.source or name in g.constant for g in _scopes(outer))


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
    outer_constant: set[str],
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
    constant: set[str] = set(initializers)
    if ir_version >= 4:
        constant -= {inp.name for inp in graph.input}
    source: dict[str, str] = {}
    producer: dict[str, int] = {}
    consumers: dict[str, list[int]] = {}
    known: set[str] = set(constant)
    for inp in graph.input:
        if inp.name not in constant:
            source[inp.name] = inp.name
        known.add(inp.name)
    where = f" in subgraph {quoted(name)}" if name else ""
    states: list[NodeState] = []
    ga = GraphAnalysis(
        name,
        graph,
        states,
        producer,
        consumers,
        constant,
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

    def is_constant(t: str) -> bool:
        return not t or t in constant

    ctx = Context(opset, is_constant, ga.const_value, lambda t: t in nonneg)

    for index, node in enumerate(graph.node):
        ins = tuple(node.input)
        outs = tuple(node.output)
        op = node.op_type
        domain = node.domain
        label = node.name or f"#{index}"
        for t in ins:
            if not t or t in known:
                continue
            if t in outer_constant:
                constant.add(t)
            elif _outer_defines(outer, t):
                source[t] = t
            elif t in {o for n in graph.node for o in n.output if o}:
                raise LinlintError(
                    f"node {quoted(label)} reads {quoted(t)} before it is produced{where}: "
                    "the graph is not topologically sorted or has a cycle"
                )
            else:
                raise LinlintError(
                    f"node {quoted(label)} reads {quoted(t)}, which no node produces{where}"
                )
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
                raise LinlintError(
                    f"tensor {quoted(t)} is produced twice (by node {quoted(label)}){where}"
                )
            known.add(t)
            producer[t] = index
        subs = node_subgraphs(node) if op in GRAPH_OPS or domain not in DEFAULT_DOMAINS else ()
        for _, sub in subs:
            ga.outer_refs |= _free_names(sub)

        dynamic = [t for t in ins if t and t not in constant]
        default = domain in DEFAULT_DOMAINS
        if default and op in SHAPE_ONLY:
            constant.update(o for o in outs if o)
            states.append(NodeState(index, node, label, None))
            continue
        foldable_const = (
            default
            and not subs
            and op in CONSTANT_FOLDABLE
            and (bool(ins) or op == "Constant")
            and not dynamic
        )
        if foldable_const:
            constant.update(o for o in outs if o)
            states.append(NodeState(index, node, label, None))
            continue

        kind, row, why = classify(node, ctx)
        data: tuple[str, ...] = ()
        if kind in (Kind.PARAM, Kind.PASS, Kind.IDENTITY):
            data = tuple(ins[i] for i in row.data if i < len(ins) and ins[i])
            data = tuple(t for t in data if t not in constant)
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
                    sub, sub_name, opset, ga, constant | outer_constant, load_tensor, ir_version
                )
            )
    for o in graph.output:
        if o.name not in known:
            if outer is not None:
                continue
            raise LinlintError(f"graph output {quoted(o.name)} is not produced by any node{where}")
    return ga
