"""Turn a folded normal form back into ONNX nodes, and edit the graph in place."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import GraphProto, helper, numpy_helper

from linlint.analysis.forms import ConvForm, ConvTransposeForm, DenseForm
from linlint.analysis.forms.commuted import CommutedForm
from linlint.model.graphs import all_graphs, initializer_names


class Names:
    """Fresh, readable names that collide with nothing in the model."""

    def __init__(self, model: onnx.ModelProto) -> None:
        self.used: set[str] = set()
        self._collect(model.graph)

    def _collect(self, graph: GraphProto) -> None:
        for g in all_graphs(graph):
            self.used.update(initializer_names(g))  # sparse ones too, read or not
            self.used.update(v.name for v in g.input)
            for node in g.node:
                self.used.update(node.output)
                self.used.update(node.input)
                if node.name:
                    self.used.add(node.name)

    def fresh(self, base: str) -> str:
        name, k = base, 1
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name


def emit(form, source: str, output: str, base: str, dtype: np.dtype, names: Names):
    """Nodes and initializers that compute ``output`` from ``source`` as ``form`` says:
    the ops the form's ``emitted_ops`` names (which the cost figures count)."""
    nodes, inits = _emit(form, source, output, base, dtype, names)
    written = tuple(node.op_type for node in nodes)
    if written != form.emitted_ops():
        raise AssertionError(f"emit wrote {written}, the form names {form.emitted_ops()}")
    return nodes, inits


def _emit(form, source: str, output: str, base: str, dtype: np.dtype, names: Names):
    inits: list[onnx.TensorProto] = []

    def const(suffix: str, value: np.ndarray, cast: bool = True) -> str:
        name = names.fresh(f"{base}.{suffix}")
        array = np.asarray(value, dtype=dtype) if cast else np.asarray(value)
        inits.append(numpy_helper.from_array(array, name))
        return name

    if isinstance(form, CommutedForm):  # the model's own pools first, on the source
        nodes = []
        for pool in form.pools:
            pooled = names.fresh(f"{base}.pooled")
            copy = helper.make_node(pool.op_type, [source], [pooled], name=names.fresh(base))
            copy.attribute.extend(pool.attribute)
            nodes.append(copy)
            source = pooled
        conv_nodes, inits = _emit(form.inner, source, output, base, dtype, names)
        return nodes + conv_nodes, inits
    if isinstance(form, ConvForm):
        inputs = [source, const("weight", form.W)]
        if form.has_bias():
            inputs.append(const("bias", form.b))
        last = output if form.perm is None else names.fresh(f"{base}.nchw")
        conv_out = last if form.C is None else names.fresh(f"{base}.conv")
        node = helper.make_node(
            "Conv",
            inputs,
            [conv_out],
            name=names.fresh(base),
            kernel_shape=list(form.kernel),
            strides=list(form.strides),
            pads=list(form.pads_begin) + list(form.pads_end),
            dilations=list(form.dilations),
            group=form.groups,
        )
        nodes = [node]
        if form.C is not None:
            border = const("border", form.C[None])
            nodes.append(
                helper.make_node(
                    "Add", [conv_out, border], [last], name=names.fresh(f"{base}_border")
                )
            )
        if form.perm is not None:  # the Transpose after it, as the model had it
            nodes.append(
                helper.make_node(
                    "Transpose", [last], [output], perm=list(form.perm),
                    name=names.fresh(f"{base}_transpose"),
                )
            )  # fmt: skip
        return nodes, inits
    if isinstance(form, ConvTransposeForm):
        inputs = [source, const("weight", form.W)]
        if form.has_bias():
            inputs.append(const("bias", form.b))
        node = helper.make_node("ConvTranspose", inputs, [output], name=names.fresh(base))
        if form.pads is None:
            node.attribute.extend(form.node.attribute)
        else:  # a spatial conv was absorbed: its kernel and crops are the form's
            node.attribute.extend(
                a for a in form.node.attribute if a.name not in ("kernel_shape", "pads")
            )
            node.attribute.extend(
                [
                    helper.make_attribute("kernel_shape", list(form.kernel)),
                    helper.make_attribute("pads", list(form.pads)),
                ]
            )
        return [node], inits
    assert isinstance(form, DenseForm)
    w = form.weight()
    bias = form.has_bias()
    flat = []
    if form.flattened_source:  # the conv before, as one dense map of the flattened image
        flat = [
            helper.make_node(
                "Flatten", [source], [names.fresh(f"{base}_flat")], axis=1,
                name=names.fresh(f"{base}_flatten"),
            )
        ]  # fmt: skip
        source = flat[0].output[0]
    if form.uses_gemm():
        inputs = [source, const("weight", w)]
        if bias:
            inputs.append(const("bias", form.b))
        trans = {"transA": 1} if form.transposed_source else {}
        gemm = helper.make_node("Gemm", inputs, [output], name=names.fresh(base), **trans)
        return [*flat, gemm], inits
    steps = [("MatMul", [const("weight", w)], [], base)]
    if form.pair:  # the source's last two axes as one, the leading ones copied (0 entries)
        merged = np.array((0,) * (form.rank - 2) + (form.din,), dtype=np.int64)
        steps.insert(0, ("Reshape", [const("merge", merged, cast=False)], [], f"{base}_merge"))
    if form.transposed_source:
        perm = [helper.make_attribute("perm", [1, 0])]
        steps.insert(0, ("Transpose", [], perm, f"{base}_transpose"))
    if bias:
        steps.append(("Add", [const("bias", form.b)], [], f"{base}_bias"))
    for op, attrs, extra, patch_last in form.tail:
        inputs = []
        for value in extra:
            value = np.array(value, dtype=np.int64)
            if patch_last:
                value[-1] = form.dout
            inputs.append(const(op.lower(), value, cast=False))
        steps.append((op, inputs, attrs, f"{base}_{op.lower()}"))
    nodes, last = list(flat), source
    for k, (op, inputs, attrs, name) in enumerate(steps):
        out = output if k == len(steps) - 1 else names.fresh(f"{name}.out")
        node = helper.make_node(op, [last, *inputs], [out], name=names.fresh(name))
        node.attribute.extend(attrs)
        nodes.append(node)
        last = out
    return nodes, inits


def replace_nodes(graph: GraphProto, remove: set[int], new_nodes: dict[int, list]) -> None:
    """Drop the nodes at ``remove``; insert ``new_nodes[i]`` where node ``i`` stood."""
    kept = []
    for i, node in enumerate(graph.node):
        kept.extend(new_nodes.get(i, ()))
        if i not in remove:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)


def _used_names(graph: GraphProto, used: set[str]) -> None:
    for g in all_graphs(graph):
        for node in g.node:
            used.update(node.input)
        used.update(o.name for o in g.output)


def unused_names(graph: GraphProto) -> set[str]:
    """Initializers and node outputs nothing reads: left alone by ``prune``."""
    used: set[str] = set()
    _used_names(graph, used)
    names = {t.name for t in graph.initializer} | {o for n in graph.node for o in n.output}
    return names - used


def training_names(model: onnx.ModelProto) -> set[str]:
    """Names the model's ``training_info`` reads or binds: never pruned."""
    names: set[str] = set()
    for info in model.training_info:
        for binding in list(info.update_binding) + list(info.initialization_binding):
            names.update((binding.key, binding.value))
        for graph in (info.algorithm, info.initialization):
            _used_names(graph, names)
            names.update(i.name for i in graph.input)
    return names


def prune(graph: GraphProto, keep: set[str] = frozenset(), ir_version: int = 4) -> None:
    """Remove constant nodes, initializers and value_info that the fold left unread.

    From IR 4 on, an initializer that is also a graph input is an input with a default:
    it stays, read or not.
    """
    if ir_version >= 4:
        keep = set(keep) | {i.name for i in graph.input}
    outer_used = keep
    initializers_before = {t.name for t in graph.initializer}
    while True:
        used: set[str] = set(outer_used or ())
        _used_names(graph, used)
        constant = _constant_names(graph)
        dead = [
            i
            for i, n in enumerate(graph.node)
            if n.output
            and all(o not in used for o in n.output if o)
            and n.op_type
            in (
                "Constant",
                "ConstantOfShape",
                "Cast",
                "Identity",
                "Reshape",
                "Transpose",
                "Unsqueeze",
                "Squeeze",
                "Concat",
                "DequantizeLinear",
            )
            and all(inp in constant for inp in n.input if inp)
        ]
        if not dead:
            break
        replace_nodes(graph, set(dead), {})
    used = set(outer_used or ())
    _used_names(graph, used)
    keep = [t for t in graph.initializer if t.name in used]
    if len(keep) != len(graph.initializer):
        del graph.initializer[:]
        graph.initializer.extend(keep)
    # Old exports (IR < 4) list every initializer as a graph input too: drop those
    # whose initializer is gone; real inputs are never touched.
    gone = initializers_before - {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in gone]
    if len(inputs) != len(graph.input):
        del graph.input[:]
        graph.input.extend(inputs)
    produced = {o for n in graph.node for o in n.output} | {i.name for i in graph.input}
    produced |= {t.name for t in graph.initializer}
    vis = [v for v in graph.value_info if v.name in produced]
    if len(vis) != len(graph.value_info):
        del graph.value_info[:]
        graph.value_info.extend(vis)


def _constant_names(graph: GraphProto) -> set[str]:
    """Initializers and the outputs of nodes that read only constants (in node order)."""
    constant = {t.name for t in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant" or (n.input and all(i in constant for i in n.input if i)):
            constant.update(n.output)
    return constant
