"""What a fold writes, op by op, for the drawings: each op the normal form's ``emitted_ops``
names, with its kernel, strides, groups and weight shapes (``pictures.FoldedOp``).

The op types are the form's own ``emitted_ops``, so the drawing, the cost figures and the
rewrite name the same ops."""

from __future__ import annotations

from onnx import helper

from linlint.analysis.forms import ConvForm, ConvTransposeForm, DenseForm
from linlint.analysis.forms.commuted import CommutedForm
from linlint.analysis.pictures import FoldedOp
from linlint.analysis.region_graph import key_attributes
from linlint.model.graphs import attr


def folded_ops(form) -> tuple[FoldedOp, ...] | None:
    """The ops a fold of ``form`` writes, in order (None without a form)."""
    if form is None:
        return None
    if isinstance(form, CommutedForm):
        pools = tuple(FoldedOp(p.op_type, key_attributes(p)) for p in form.pools)
        return pools + _conv(form.inner)
    if isinstance(form, ConvForm):
        return _conv(form)
    if isinstance(form, ConvTransposeForm):
        return (_conv_transpose(form),)
    if isinstance(form, DenseForm):
        return _dense(form)
    return tuple(FoldedOp(op) for op in form.emitted_ops())


def _conv(form: ConvForm) -> tuple[FoldedOp, ...]:
    ops = []
    for op in form.emitted_ops():
        if op == "Conv":
            weights = [(form.cout, form.cin // form.groups, *form.kernel)]
            if form.offset:
                weights.append((form.cout,))
            attributes = (
                ("kernel", tuple(form.kernel)),
                ("strides", tuple(form.strides)),
                ("dilations", tuple(form.dilations)),
                ("pads", tuple(form.pads_begin) + tuple(form.pads_end)),
                ("groups", form.groups),
            )
            ops.append(FoldedOp("Conv", attributes, tuple(weights)))
        elif op == "Add":  # the border-correction map
            ops.append(FoldedOp("Add", (), ((1, form.cout, *form.spatial),)))
        elif op == "Transpose":
            ops.append(FoldedOp("Transpose", (("perm", tuple(form.perm or ())),)))
        else:
            ops.append(FoldedOp(op))
    return tuple(ops)


def _conv_transpose(form: ConvTransposeForm) -> FoldedOp:
    attributes = [("kernel", tuple(form.kernel))]
    strides = attr(form.node, "strides") if form.node is not None else None
    if strides:
        attributes.append(("strides", tuple(strides)))
    pads = form.pads if form.pads is not None else (attr(form.node, "pads") if form.node else None)
    if pads:
        attributes.append(("pads", tuple(pads)))
    attributes.append(("groups", form.groups))
    weights = [(form.cin, form.cout // form.groups, *form.kernel)]
    if form.offset:
        weights.append((form.cout,))
    return FoldedOp("ConvTranspose", tuple(attributes), tuple(weights))


def _dense(form: DenseForm) -> tuple[FoldedOp, ...]:
    tail = list(form.tail)
    ops = []
    for op in form.emitted_ops():
        if op in ("Gemm", "MatMul") and not ops_has(ops, op):
            weights = [(form.din, form.dout)]
            if op == "Gemm" and form.has_bias():
                weights.append((form.dout,))
            ops.append(FoldedOp(op, (), tuple(weights)))
        elif op == "Add" and not ops_has(ops, "Add") and ops_has(ops, "MatMul"):
            ops.append(FoldedOp("Add", (), ((form.dout,),)))
        elif op == "Flatten" and not ops:
            ops.append(FoldedOp("Flatten", (("axis", 1),)))
        elif ops_has(ops, "MatMul") or ops_has(ops, "Gemm"):  # a re-applied shape op
            step = tail.pop(0) if tail and tail[0][0] == op else None
            ops.append(FoldedOp(op, _step_attributes(step)))
        else:
            ops.append(FoldedOp(op))
    return tuple(ops)


def ops_has(ops: list[FoldedOp], op_type: str) -> bool:
    return any(op.op_type == op_type for op in ops)


def _step_attributes(step) -> tuple:
    """The plain attributes of a re-applied shape op (``DenseForm.tail``), where it has any."""
    if step is None or len(step) < 2:
        return ()
    found = []
    for a in step[1] or ():
        name = getattr(a, "name", None)
        if name in ("perm", "axis", "axes"):
            value = helper.get_attribute_value(a)
            found.append((name, tuple(value) if isinstance(value, list) else value))
    return tuple(found)
