"""Evaluating a region: its normal form, whether the fold is exact, and its costs.

``evaluate`` runs the region's nodes in order, each op absorbing itself into the
normal form (``linlint.analysis.absorb`` holds the per-op rules), and reports
exactness and the cost before and after folding. With ``numeric=True`` the forms
carry float64 weights: that is the fold. ``region_dtype`` and ``representable``
say whether the folded weights fit the model's element type.
"""

from __future__ import annotations

import os

import numpy as np
import onnx

from linlint.analysis.absorb import (
    ABSORBERS,
    NOOP_OPS,
    Evaluator,
    Pending,
    WeightsNotHeld,
    materialize,
)
from linlint.analysis.discover import RawRegion
from linlint.analysis.forms import ConvForm, ConvTransposeForm, DenseForm, NotFoldable
from linlint.analysis.optable import FLOAT_TYPES, Kind
from linlint.analysis.regions import Fix, Region
from linlint.analysis.shapes import ShapeOracle
from linlint.analysis.sweep import GraphAnalysis


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


def evaluate(
    ga: GraphAnalysis,
    raw: RawRegion,
    shapes: ShapeOracle,
    numeric: bool = False,
    held_only: bool = False,
) -> tuple[Region, object]:
    """The region's record for the rules, and (numeric) its final normal form.

    ``held_only``: weights in external files are not read; a region that needs one is
    evaluated on shapes instead (``check``, which never reads external weights).
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
        forms: dict[str, object] = {t: Pending() for t in raw.sources}
        ev.forms = forms
        with np.errstate(all="ignore"):  # overflow is caught as non-finite weights
            try:
                dtype = region_dtype(ga, raw.nodes)
                for s in states:
                    absorb = ABSORBERS.get(s.node.op_type)
                    if s.kind == Kind.IDENTITY or s.node.op_type in NOOP_OPS:
                        result = forms[s.data[0]]
                    elif absorb is None:
                        raise NotFoldable(
                            f"linlint does not fold through {s.node.op_type} ({s.name})"
                        )
                    else:
                        result = absorb(ev, s, [forms[t] for t in s.data])
                    for o in s.node.output:
                        if o:
                            forms[o] = result
                form = forms[raw.output]
                if isinstance(form, Pending):
                    form = materialize(ev, form, None, None)
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
    macs_before = sum(ev.costs.get(j, (0, 0))[0] for j in raw.nodes)
    params_before = sum(ev.costs.get(j, (0, 0))[1] for j in raw.nodes)
    if form is None:
        for s in states:
            if s.kind == Kind.PARAM and s.index not in ev.costs:
                m, p = ev.fallback_cost(s)
                macs_before += m
                params_before += p
        macs_after, params_after, nodes_after = macs_before, params_before, len(counted)
        composes_to = "one affine map"
    else:
        macs_after, params_after = form.macs(), form.params()
        nodes_after = len(form.emitted_ops())
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
            reason=reason
            if form is None
            else (
                "exact with a constant border-correction map (Conv + Add)"
                if isinstance(form, ConvForm) and form.corr
                else ""
            ),
            macs_before=int(macs_before),
            macs_after=int(macs_after),
            params_before=int(params_before),
            params_after=int(params_after),
        ),
        nodes_before=len(counted),
        nodes_after=nodes_after,
        offset_at_borders=offset_at_borders,
    )
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
            raise NotFoldable(f"intermediate tensor '{tensor}' is also read by {name}")


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
                    raise NotFoldable(f"the element type of '{t}' is unknown")
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
