"""Evaluating a region: its normal form, whether the fold is exact, and its costs.

``evaluate`` runs the region's nodes in order, each op absorbing itself into the
normal form (``linlint.analysis.absorb`` holds the per-op rules), and reports
exactness and the cost before and after folding. With ``numeric=True`` the forms
carry float64 weights: that is the fold. ``region_dtype`` and ``representable``
say whether the folded weights fit the model's element type.
"""

from __future__ import annotations

import math
import os

import numpy as np
import onnx

from linlint.analysis.absorb import (
    NOOP_OPS,
    Evaluator,
    WeightsNotHeld,
)
from linlint.analysis.carry import carry
from linlint.analysis.commute import POOLS, commuted, commuted_work
from linlint.analysis.cost_basis import basis, settle
from linlint.analysis.cost_model import (
    Work,
    cheaper,
    elements,
    emitted_work,
    expansion_bytes,
)
from linlint.analysis.discover import RawRegion
from linlint.analysis.folded_ops import folded_ops
from linlint.analysis.forms import ConvForm, ConvTransposeForm, DenseForm, NotFoldable
from linlint.analysis.forms.commuted import CommutedForm
from linlint.analysis.optable import FLOAT_TYPES, Kind
from linlint.analysis.region_work import region_work
from linlint.analysis.regions import KNOWN, Fix, Region
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import GraphAnalysis
from linlint.model.graphs import attr
from linlint.wording import quoted


def _label(ev: Evaluator, index: int) -> str:
    node = ev.ga.nodes[index].node
    if node.op_type in ("Conv", "ConvTranspose"):
        shape = ev.const_shape(node.input[1])
        if shape and len(shape) > 2:
            return f"{node.op_type} {'x'.join(str(k) for k in shape[2:])}"
    return node.op_type


_SHORT = {"BatchNormalization": "BN", "AveragePool": "AvgPool"}


def _branches(ev: Evaluator, raw: RawRegion) -> tuple[list[str], list[str]]:
    """The ops from the source to where the region forks (the first tensor several of its
    ops read), and one label per branch from there: the ops along it up to the first join."""
    ga = ev.ga
    members = set(raw.nodes)
    prefix: list[str] = []
    forks = list(raw.sources)
    while len(forks) == 1:
        nxt = [c for c in ga.consumers.get(forks[0], ()) if c in members]
        state = ga.nodes[nxt[0]] if len(nxt) == 1 else None
        if state is None or (state.kind == Kind.JOIN and len(state.data) > 1):
            break
        prefix.append(_SHORT.get(state.node.op_type, _label(ev, nxt[0])))
        forks = [state.node.output[0]]
    branches = []
    for src in forks:
        for start in ga.consumers.get(src, ()):
            if start not in members:
                continue
            steps, j = [], start
            while True:
                state = ga.nodes[j]
                if state.kind == Kind.JOIN and len(state.data) > 1:
                    break
                steps.append(_SHORT.get(state.node.op_type, _label(ev, j)))
                nxt = [c for c in ga.consumers.get(state.node.output[0], ()) if c in members]
                if len(nxt) != 1:
                    break
                j = nxt[0]
            branches.append(" → ".join(steps) or "identity")
    return prefix, branches


def _composes_to(form) -> str:
    if isinstance(form, CommutedForm):
        pools = " then ".join(_pool_label(p) for p in form.pools)
        return f"{pools}, then {_composes_to(form.inner)}"
    if isinstance(form, ConvForm):
        extra = ""
        if any(s > 1 for s in form.strides):
            extra += ", stride " + "x".join(map(str, form.strides))
        if any(d > 1 for d in form.dilations):
            extra += ", dilation " + "x".join(map(str, form.dilations))
        if form.groups > 1:
            extra += f", {form.groups} groups"
        k = "x".join(map(str, form.kernel))
        tail = " + a border-correction Add" if form.corr else ""
        tail += " + its Transpose" if form.perm else ""
        return f"one Conv {k} ({form.cin}→{form.cout}{extra}){tail}"
    if isinstance(form, ConvTransposeForm):
        k = "x".join(map(str, form.kernel))
        return f"one ConvTranspose {k} ({form.cin}→{form.cout})"
    if isinstance(form, DenseForm):
        op = "Gemm" if form.uses_gemm() else "MatMul"
        tail = " + Add" if form.offset and op == "MatMul" else ""
        if form.pair:  # the last two axes flattened, [n, c] → [p, q]
            (n, q), c, p = form.pair, form.din // form.pair[0], form.dout // form.pair[1]
            return f"one MatMul on the last two axes flattened ({n}x{c}→{p}x{q}){tail}"
        return f"one {op} ({form.din}→{form.dout}){tail}"
    return "one affine map"


def _pool_after_param(states) -> bool:
    """Whether a pool of the region comes after a parametric op (a commuted fold moves it)."""
    seen = False
    for s in states:
        seen = seen or s.kind == Kind.PARAM
        if seen and s.node.op_type in POOLS:
            return True
    return False


def _pool_label(node) -> str:
    if node.op_type == "GlobalAveragePool":
        return "GlobalAveragePool"
    kernel = "x".join(str(k) for k in attr(node, "kernel_shape") or ())
    strides = tuple(attr(node, "strides") or ())
    stride = ""
    if any(s > 1 for s in strides):
        same = len(set(strides)) == 1
        stride = f" stride {strides[0] if same else 'x'.join(str(s) for s in strides)}"
    return f"AveragePool {kernel}{stride}"


def evaluate(
    ga: GraphAnalysis,
    raw: RawRegion,
    shapes: ShapeOracle,
    numeric: bool = False,
    held_only: bool = False,
    settled: bool = True,
) -> tuple[Region, object]:
    """The region's record for the rules, and (numeric) its final normal form.

    ``held_only``: weights in external files are not read; a region that needs one is
    evaluated on shapes instead (``check``, which never reads external weights).
    ``settled``: say what the figures stand on and whether a rule may decide on them
    (``cost_basis.settle``, which evaluates once more at a realistic size where needed).
    """
    ev = Evaluator(ga, shapes, numeric, held_only)
    ev.source = raw.sources[0] if len(raw.sources) == 1 else None
    states = [ga.nodes[j] for j in raw.nodes]
    n_params = sum(1 for s in states if s.kind == Kind.PARAM)
    has_join = any(s.kind == Kind.JOIN and len(s.data) > 1 for s in states)
    labels = [_label(ev, j) for j in raw.nodes]
    if has_join:
        prefix, branches = _branches(ev, raw)
        joins = [s.node.op_type for s in states if s.kind == Kind.JOIN and len(s.data) > 1]
        how = "concatenated" if "Concat" in joins else "summed"
        plural = "branch" if len(branches) == 1 else "branches"
        description = f"{len(branches)} linear {plural} ({'; '.join(branches)}) {how}"
        description = " → ".join([*prefix, description])
    else:
        description = " → ".join(labels)
    counted = [s for s in states if s.kind != Kind.IDENTITY and s.node.op_type not in NOOP_OPS]
    form = None
    reason = raw.blocked
    offset_at_borders = False
    if not reason:
        with np.errstate(all="ignore"):  # overflow is caught as non-finite weights
            try:
                dtype = region_dtype(ga, raw.nodes)
                form, forms = carry(ev, raw, states)
                _check_shape_reads(ga, raw, forms, form)
                if ga.opset < 7 and form.needs_broadcast():
                    raise NotFoldable(
                        f"the fold needs a broadcasting Add or Gemm bias, which opset "
                        f"{ga.opset} has only in a legacy form (before opset 7)"
                    )
                if numeric:
                    representable(form, dtype)
            except NotFoldable as exc:
                reason = str(exc)
                offset_at_borders = exc.offset_at_borders
                form = None
            except WeightsNotHeld:
                return evaluate(ga, raw, shapes)
            except Exception as exc:  # an op shape linlint did not foresee: never crash a lint run
                if os.environ.get("LINLINT_DEBUG"):
                    raise
                reason = f"linlint could not analyse this region ({type(exc).__name__}: {exc})"
                form = None
    itemsize = _itemsize(ga, raw.nodes)
    before = region_work(ev, states, counted, itemsize)
    exact_reason, map_n = "", 0
    if form is not None:
        out_n = elements(ev.shapes.local(ga, raw.output))
        src_n = elements(ev.source_shape()) if ev.source else 0
        map_n = form.cout * math.prod(form.spatial) if getattr(form, "corr", False) else 0
        added = map_n or (form.dout if isinstance(form, DenseForm) else 0)
        after = emitted_work(form.emitted_ops(), form.macs(), src_n, out_n, itemsize, added)
        after += Work(moved=form_expansion(form, itemsize))
        if map_n:
            exact_reason = "exact with a constant border-correction map (Conv + Add)"
            growth = after.macs > before.work.macs  # LL002's to judge, with its own word
            if not growth and not cheaper(after, before.work):
                reason = (
                    f"the offset differs at the borders: exact only with a border-correction "
                    f"map of {map_n:,} elements (Conv + Add), which costs more than it saves"
                )
                offset_at_borders, form = True, None
    alternative = _commuted(ga, raw, states, shapes, numeric, held_only)
    if alternative is not None:
        alt_work = commuted_work(ga, alternative, shapes, raw.sources[0], raw.output, itemsize)
        # at a size that pools to nothing (a symbolic size defaulted to 1) or an unknown
        # one the costs say nothing: the commuted form is never costlier than the fused
        # one, so it stands in
        degenerate = elements(shapes.local(ga, raw.output)) == 0
        if form is None or degenerate or cheaper(alt_work, after):
            form, after, exact_reason, offset_at_borders = alternative, alt_work, "", False
    kind, unknown = basis(ga, raw, shapes) if settled else (KNOWN, "")
    if form is None:
        after, params_after = before.work, before.params
        composes_to = "one affine map"
    else:
        params_after = form.params()
        composes_to = _composes_to(form)
        _remember_shape(ev, raw.output, form)
    region = Region(
        graph=ga.name,
        output=raw.output,
        nodes=tuple(s.name for s in states),
        op_types=tuple(s.node.op_type for s in states),
        n_params=n_params,
        has_join=has_join,
        description=description,
        composes_to=composes_to,
        fix=Fix(
            exact=form is not None,
            reason=reason if form is None else exact_reason,
            macs_before=int(before.work.macs),
            macs_after=int(after.macs),
            params_before=int(before.params),
            params_after=int(params_after),
            elementwise_before=before.work.elementwise,
            elementwise_after=after.elementwise,
            moved_before=before.work.moved,
            moved_after=after.moved,
            nodes_before=before.work.nodes,
            nodes_after=after.nodes,
            basis=kind,
            sizes=shapes.free_inputs,
        ),
        offset_at_borders=offset_at_borders,
        border_map=map_n if form is not None else 0,
        reordered=isinstance(form, CommutedForm) and _pool_after_param(states),
        folded=folded_ops(form),
    )
    if settled:  # where the figures are not the model's: may a rule decide on them?

        def again(oracle: ShapeOracle) -> Region:
            return evaluate(ga, raw, oracle, settled=False)[0]

        region = settle(ga, raw, region, shapes, again, unknown)
    return region, form


def _check_shape_reads(ga: GraphAnalysis, raw: RawRegion, forms: dict, form) -> None:
    """A Shape node outside the region may read an intermediate only where the folded op's
    own output has that shape: a dense form's tensor before any re-applied shape op, as
    wide as the fold's result (the Shape node then reads the folded MatMul's output)."""
    for tensor, reader in raw.shape_reads:
        kept = (
            isinstance(form, DenseForm)
            and form.has_shape_of(forms.get(tensor))
            and not form.transposed_source  # its first op would be a Transpose, a Flatten
            and not form.flattened_source
        )
        if not kept:
            name = ga.nodes[reader].name
            raise NotFoldable(
                f"intermediate tensor {quoted(tensor)} is also read by {quoted(name)}"
            )


def _commuted(ga, raw, states, shapes, numeric: bool, held_only: bool):
    """The region's commuted form (``commute``), on float regions only, its weights finite."""
    try:
        dtype = region_dtype(ga, raw.nodes)
        with np.errstate(all="ignore"):
            form = commuted(ga, raw, states, shapes, numeric, held_only)
            if form is not None and numeric:
                representable(form, dtype)
        return form
    except (NotFoldable, WeightsNotHeld):
        return None


def form_expansion(form, itemsize: int) -> int:
    """The im2col bytes of the conv a fold writes (``cost_model.expansion_bytes``)."""
    if not isinstance(form, ConvForm):
        return 0
    padded = any(form.pads_begin) or any(form.pads_end)
    positions = form.batch * math.prod(form.spatial)
    return expansion_bytes(
        form.cin, form.groups, form.kernel, form.strides, padded, positions, itemsize
    )


def _itemsize(ga: GraphAnalysis, indices) -> int:
    """The bytes per element the region's activations take (float32 when not known)."""
    try:
        return region_dtype(ga, indices).itemsize
    except NotFoldable:
        return 4


def region_dtype(ga: GraphAnalysis, indices) -> np.dtype:
    """The element type the region computes in: its parametric ops' weights' type.

    Only float regions fold: a fold computes in float64 and rounds once, which is not
    integer arithmetic (a Div by 10 folded into a weight becomes 0; a product that
    wraps around in int32 does not wrap in float64).
    """
    for j in indices:
        s = ga.nodes[j]
        if s.kind != Kind.PARAM:
            continue
        for t in s.node.input:
            if t and t not in s.data:
                elem = ga.elem_type(t)
                if elem in FLOAT_TYPES:
                    return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem))
                if elem == 0:
                    raise NotFoldable(f"the element type of {quoted(t)} is unknown")
                name = onnx.TensorProto.DataType.Name(elem).lower()
                raise NotFoldable(
                    f"integer arithmetic ({name}): folding would change how it rounds and overflows"
                )
    raise NotFoldable("the region has no parametric op to carry its normal form")


def representable(form, dtype: np.dtype) -> None:
    """The folded weights must be finite in the model's own element type."""
    for name in ("W", "b", "C"):
        value = getattr(form, name, None)
        if value is None:
            continue
        with np.errstate(all="ignore"):
            cast = np.asarray(value).astype(dtype)
        if not np.all(np.isfinite(cast)):
            raise NotFoldable(f"the folded weights exceed the range of {dtype.name}")


def _remember_shape(ev: Evaluator, output: str, form) -> None:
    source = ev.source_shape()
    if not source:
        return
    if isinstance(form, ConvForm) and form.perm is None:
        ev.shapes.remember(output, (source[0], form.cout) + tuple(form.spatial), ev.source)
    elif isinstance(form, DenseForm) and not form.tail and not form.flattened_source:
        rows = source[1:] if form.transposed_source else source[:-1]
        ev.shapes.remember(output, tuple(rows) + (form.dout,), ev.source)
