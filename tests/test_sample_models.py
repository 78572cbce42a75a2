"""The sample models: reproducible, valid, twins equal, and linlint's findings on each."""

from pathlib import Path

import numpy as np
import onnx
import pytest

import linlint
from conftest import SAMPLES, load_build
from linlint.rules import RULES_BY_CODE

build = load_build()
STEMS = sorted(build.EXPECTED)


def _path(stem: str) -> Path:
    return SAMPLES / f"{stem}.onnx"


def _feeds(model: onnx.ModelProto, seed: int, cond: bool = True) -> dict[str, np.ndarray]:
    """Seeded random values for every graph input (bool inputs get ``cond``)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for value in model.graph.input:
        tensor_type = value.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 16 for d in tensor_type.shape.dim]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type)
        if dtype == np.bool_:
            feeds[value.name] = np.full(shape, cond, dtype=np.bool_)
        else:
            feeds[value.name] = rng.standard_normal(shape).astype(dtype)
    return feeds


def _run(path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def test_build_reproduces_committed_files_byte_for_byte(tmp_path):
    build.build(tmp_path)
    built = {p.name for p in tmp_path.iterdir()}
    committed = {p.name for p in SAMPLES.glob("*.onnx")}
    expected = {f"{stem}.onnx" for stem in build.EXPECTED}
    assert built == expected
    assert committed == expected
    differ = [
        n for n in sorted(expected) if (tmp_path / n).read_bytes() != (SAMPLES / n).read_bytes()
    ]
    assert not differ, f"build.py no longer reproduces: {differ}"


@pytest.mark.parametrize("stem", STEMS)
def test_every_sample_model_is_valid_onnx(stem):
    path = _path(stem)
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == build.IR_VERSION
    assert {(o.domain, o.version) for o in model.opset_import} >= {("", build.OPSET)}
    has_bool_input = any(
        v.type.tensor_type.elem_type == onnx.TensorProto.BOOL for v in model.graph.input
    )
    for cond in (True, False) if has_bool_input else (True,):
        outputs = _run(path, _feeds(model, seed=0, cond=cond))
        assert len(outputs) == len(model.graph.output)
        for out in outputs:
            assert np.all(np.isfinite(out))


@pytest.mark.parametrize("train", sorted(build.TWINS))
def test_train_and_deploy_twins_compute_the_same_function(train):
    """Within the original's own rounding noise, as linlint.verify judges a fold."""
    deploy = build.TWINS[train]
    verdict = linlint.verify(_path(train), _path(deploy), runs=3)
    assert verdict.ok, verdict.summary()


@pytest.mark.parametrize("stem", STEMS)
def test_check_gives_exactly_the_promised_findings(stem):
    from linlint import check

    expect = build.EXPECTED[stem]
    findings = check(str(_path(stem)))
    assert sorted(f.code for f in findings) == list(expect.codes)


@pytest.mark.parametrize("stem", STEMS)
def test_no_node_is_in_two_region_findings(stem):
    """A region that folds in parts is reported as its parts and what remains: disjoint.
    (A node rule's finding, an identity activation, may sit inside a region's.)"""
    seen: dict[tuple[str, str], str] = {}
    for finding in linlint.check(SAMPLES / f"{stem}.onnx"):
        if RULES_BY_CODE[finding.code].subject != "region":
            continue
        for node in finding.nodes:
            key = (finding.graph, node)
            assert key not in seen, f"{node} is in a {seen.get(key)} and a {finding.code} finding"
            seen[key] = finding.code


def test_expectations_are_well_formed():
    """Codes are sorted rule codes; every name promises what the codes say."""
    for stem, expect in build.EXPECTED.items():
        assert list(expect.codes) == sorted(expect.codes), stem
        assert all(c in RULES_BY_CODE for c in expect.codes), stem
        if stem.startswith("nm_") or stem.endswith("_deploy"):
            assert expect.codes == () and expect.params_after_fold is None, stem
        if stem.startswith("ll00"):
            assert stem[:5].upper() in expect.codes, stem
        assert expect.what and "\n" not in expect.what, stem


def test_readme_lists_every_model():
    readme = (SAMPLES / "README.md").read_text()
    for stem in build.EXPECTED:
        assert f"`{stem}`" in readme, stem
