"""Cut one region out of its graph as a small model: the original nodes, and their fold.

A fold is proven where it happened (``fold`` calls ``region_proof``): the
region's source tensor becomes the only graph input, its exit the only output,
the constants it reads become initializers, and the folded nodes get the same
input and output. Both run in onnxruntime on inputs drawn for the region
(``linlint.verification.inputs.input_variants``: random, large, zero and constant values, at
the given sizes and at other sizes wherever the model does not fix one), so a
region inside an If branch that the model's own inputs never take is exercised
too. A region is shallow: its own rounding noise is small, and so is the
tolerance derived from it (``linlint.verification.compare.compare_models``).
"""

from __future__ import annotations

from dataclasses import dataclass

import onnx
from onnx import helper, numpy_helper

from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import GraphAnalysis
from linlint.wording import quoted


class CannotCut(Exception):
    """The region cannot run on its own; ``str`` says why."""


def _opsets(model: onnx.ModelProto) -> list[onnx.OperatorSetIdProto]:
    return [helper.make_opsetid(o.domain, o.version) for o in model.opset_import]


def _source_info(
    ga: GraphAnalysis, shapes: ShapeOracle, source: str, width: tuple[int, int] | None
) -> tuple[onnx.ValueInfoProto, tuple[int, ...]]:
    shape = shapes.local(ga, source)
    if shape is None:
        raise CannotCut(f"the shape of its input {quoted(source)} is unknown")
    if width is not None and -len(shape) <= width[0] < len(shape):
        # the channels the weights read, where the model leaves them symbolic (default 1)
        axis, size = width
        shape = tuple(size if a == axis % len(shape) else d for a, d in enumerate(shape))
    elem = ga.elem_type(source)
    if not elem:
        raise CannotCut(f"the element type of its input {quoted(source)} is unknown")
    dims = [
        d if shapes.fixed_axis(ga, source, axis) else f"{source}_dim{axis}"
        for axis, d in enumerate(shape)
    ]
    return helper.make_tensor_value_info(source, elem, dims), tuple(shape)


@dataclass(frozen=True)
class RegionCut:
    """One folded region of a graph: its nodes, source and exit, and what replaces them.

    ``width``: (axis, size) of the source's channels as the fold reads them.
    """

    model: onnx.ModelProto
    ga: GraphAnalysis
    shapes: ShapeOracle
    indices: tuple[int, ...]
    source: str
    output: str
    folded_nodes: list[onnx.NodeProto]
    folded_inits: list[onnx.TensorProto]
    width: tuple[int, int] | None = None


def region_models(
    cut: RegionCut,
) -> tuple[onnx.ModelProto, onnx.ModelProto, dict[str, tuple[int, ...]]]:
    """The region and its fold as two models, and the sizes the model computes with."""
    ga, source, output = cut.ga, cut.source, cut.output
    source_info, base = _source_info(ga, cut.shapes, source, cut.width)
    out_info = helper.make_tensor_value_info(output, ga.elem_type(output), None)
    nodes = [ga.nodes[j].node for j in cut.indices]
    produced = {o for n in nodes for o in n.output if o}
    inits = []
    shape_reads = []  # Shape nodes of the region's own tensors: part of the cut
    for node in nodes:
        for name in node.input:
            if not name or name == source or name in produced or name in {t.name for t in inits}:
                continue
            value = ga.const_value(name, large=True)
            if value is not None:
                inits.append(numpy_helper.from_array(value, name))
                continue
            reader = ga.producer.get(name)
            read = ga.nodes[reader].node if reader is not None else None
            if read is None or read.op_type != "Shape" or read.input[0] not in produced:
                raise CannotCut(f"{quoted(name)} is not known before run time")
            shape_reads.append(reader)
            produced.add(name)
    nodes = [ga.nodes[j].node for j in sorted({*cut.indices, *shape_reads})]
    ir = max(cut.model.ir_version, 4)

    def build(body, constants, name):
        graph = helper.make_graph(body, name, [source_info], [out_info], constants)
        model = helper.make_model(graph, opset_imports=_opsets(cut.model))
        model.ir_version = ir
        return model

    original = build(nodes, inits, "region")
    candidate = build(cut.folded_nodes, cut.folded_inits, "folded_region")
    return original, candidate, {source: base}


def region_proof(cut: RegionCut, seed: int = 0) -> str:
    """Run the region and its fold side by side: "" when they agree, else why not."""
    from linlint.errors import LinlintError
    from linlint.verification.compare import compare_models
    from linlint.verification.inputs import input_variants

    try:
        original, candidate, base = region_models(cut)
        sets = input_variants(original, seed=seed, input_shapes=base)
        verdict = compare_models(original, candidate, sets)
    except CannotCut as reason:
        return f"it cannot be verified on its own: {reason}"
    except LinlintError as error:
        return f"verification failed: {error}"
    return "" if verdict.ok else verdict.summary()
