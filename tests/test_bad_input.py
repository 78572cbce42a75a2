"""Bad input: one clear line on stderr, exit 2, no traceback, and nothing lost or left behind.

Every case runs the real command line (``python -m linlint ...`` in a subprocess) on files
the test makes, and checks the bad-input contract: exactly one line on stderr,
``linlint: error: <path>: <what>``, naming the file and what is wrong; exit status 2; no
traceback; the folder holding the input byte for byte as it was (no partial output, no
temporary file). Inputs that are odd but valid (an unknown op domain, NaN weights, a
zero-sized dimension, dims whose MACs pass 64 bits) must still be checked.

NaN/Inf weights: ``check`` reports the chain as usual (it never reads weight values to
decide); ``fold`` leaves that region as it is and says why, naming the weight, on stdout
with the rest of its report; the finding remains, so it exits 1, and folds the other regions.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, numpy_helper

import tiny

NEWEST_OPSET = onnx.defs.onnx_opset_version()
TIMEOUT = 120  # seconds; a command that blocks (reading a FIFO) fails the test instead


# ----------------------------------------------------------------------------- running linlint


def linlint(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python -m linlint ARGS`` as a user would (real stderr, real exit status)."""
    env = {k: v for k, v in os.environ.items() if k != "LINLINT_DEBUG"}
    env["NO_COLOR"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "linlint", *(str(a) for a in args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def check(path: Path, *more: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    return linlint("check", "--isolated", "--no-progress", path, *more, cwd=cwd)


def snapshot(folder: Path) -> dict[str, object]:
    """Every entry under ``folder``: file bytes, permission bits, and kind (FIFOs not opened)."""
    entries: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        key = str(path.relative_to(folder))
        if stat.S_ISREG(info.st_mode):
            entries[key] = ("file", stat.S_IMODE(info.st_mode), path.read_bytes())
        elif stat.S_ISDIR(info.st_mode):
            entries[key] = ("dir", stat.S_IMODE(info.st_mode))
        else:
            entries[key] = ("other", stat.S_IFMT(info.st_mode))
    return entries


def assert_one_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    """Exit 2 and exactly one ``linlint: error:`` line on stderr holding every fragment."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("linlint: error: "), line
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def run_untouched(folder: Path, *args: str | Path) -> subprocess.CompletedProcess:
    """Run linlint and assert that nothing under ``folder`` changed: no file lost or added."""
    before = snapshot(folder)
    result = linlint(*args, cwd=folder)
    after = snapshot(folder)
    assert after == before, (
        f"the folder changed: added {sorted(set(after) - set(before))}, "
        f"removed {sorted(set(before) - set(after))}, "
        f"changed {sorted(k for k in before if k in after and before[k] != after[k])}"
    )
    return result


# ----------------------------------------------------------------------------- models


def conv_chain(
    *,
    shape: list[int | str] | None = None,
    w1: np.ndarray | None = None,
    opset: int = tiny.OPSET,
    y_shape: str = "",
) -> onnx.ModelProto:
    """x → Conv 1x1 (with bias) → Conv 1x1 → y: one LL001."""
    rng = np.random.default_rng(0)
    dims = ", ".join(str(d) for d in shape or [1, 4, 8, 8])
    w1 = rng.standard_normal((4, 4, 1, 1)).astype(np.float32) if w1 is None else w1
    w2 = rng.standard_normal((4, w1.shape[0], 1, 1)).astype(np.float32)
    b1 = rng.standard_normal(w1.shape[0]).astype(np.float32)
    return tiny.model(
        f"""g (float[{dims}] x) => (float[{y_shape}] y) {{
            [conv1] h = Conv(x, w1, b1)
            [conv2] y = Conv(h, w2)
        }}""",
        opset=opset,
        w1=w1,
        b1=b1,
        w2=w2,
    )


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())
    return path


def external(model: onnx.ModelProto, tensor: str, location: str) -> onnx.ModelProto:
    """Point one initializer's data at ``location`` (the model itself holds no bytes for it)."""
    init = next(t for t in model.graph.initializer if t.name == tensor)
    length = numpy_helper.to_array(init).nbytes
    init.ClearField("raw_data")
    init.ClearField("float_data")
    for key, value in (("location", location), ("offset", "0"), ("length", str(length))):
        entry = init.external_data.add()
        entry.key, entry.value = key, value
    init.data_location = TensorProto.EXTERNAL
    return model


def _dangling(path: Path) -> None:
    model = conv_chain()
    model.graph.node[1].input[0] = "nobody"
    save(model, path)


def _cycle(path: Path) -> None:
    model = tiny.model(
        "g (float[1, 4] x) => (float[1, 4] t1) { [add] t1 = Add(x, t2)  [relu] t2 = Relu(t1) }"
    )
    save(model, path)


def _duplicate(path: Path) -> None:
    model = conv_chain()
    model.graph.node[1].output[0] = "h"
    model.graph.output[0].name = "h"
    save(model, path)


def _ir_too_new(path: Path) -> None:
    model = conv_chain()
    model.ir_version = onnx.IR_VERSION + 1
    save(model, path)


def _external_escape(location: Callable[[Path], str]) -> Callable[[Path], None]:
    """A model whose weight w1 lives at ``location(outside file)``; the outside file is a FIFO,
    so a command that opened it would block (and time out) instead of passing."""

    def build(path: Path) -> None:
        outside = path.parent.parent / "outside" / "w1.bin"
        outside.parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(outside)
        save(external(conv_chain(), "w1", location(outside)), path)

    return build


# name -> (writes the model file, what the error line must say)
BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "empty file": (lambda p: p.write_bytes(b""), "empty file"),
    "random bytes": (
        lambda p: p.write_bytes(np.random.default_rng(1).bytes(4096)),
        "not an ONNX model",
    ),
    "truncated model": (
        lambda p: p.write_bytes(conv_chain().SerializeToString()[:150]),
        "not an ONNX model",
    ),
    "text file named .onnx": (
        lambda p: p.write_text("this is a text file\nnot a model\n"),
        "not an ONNX model",
    ),
    "tensor nobody produces": (_dangling, "reads `nobody`, which no node produces"),
    "graph with a cycle": (_cycle, "has a cycle"),
    "tensor produced twice": (_duplicate, "tensor `h` is produced twice"),
    "IR version too new": (_ir_too_new, f"IR version {onnx.IR_VERSION + 1} is newer"),
    "opset too new": (
        lambda p: save(conv_chain(opset=NEWEST_OPSET + 1), p),
        f"opset {NEWEST_OPSET + 1} is newer",
    ),
    "external data file missing": (
        lambda p: save(external(conv_chain(), "w1", "missing.bin"), p),
        "external data file `missing.bin` of tensor `w1` is missing",
    ),
    "external data at an absolute path": (
        _external_escape(lambda outside: str(outside)),
        "is an absolute path",
    ),
    "external data escaping with ..": (
        _external_escape(lambda outside: "../outside/w1.bin"),
        "escapes the model's folder",
    ),
}


@pytest.fixture(params=sorted(BROKEN), ids=lambda name: name.replace(" ", "-"))
def broken(request, tmp_path: Path) -> tuple[Path, str]:
    """A broken model at ``tmp_path/models/model.onnx`` and what its error must say."""
    write, what = BROKEN[request.param]
    path = tmp_path / "models" / "model.onnx"
    path.parent.mkdir()
    write(path)
    return path, what


def test_check_rejects_a_broken_model_with_one_line(broken, tmp_path: Path) -> None:
    path, what = broken
    result = run_untouched(tmp_path, "check", "--isolated", "--no-progress", path)
    assert_one_error(result, str(path), what)


def test_fold_rejects_a_broken_model_with_one_line_and_writes_nothing(
    broken, tmp_path: Path
) -> None:
    path, what = broken
    result = run_untouched(tmp_path, "fold", path, "-o", path.parent / "out.onnx")
    assert_one_error(result, str(path), what)


def test_fold_in_place_leaves_a_broken_model_as_it_was(broken, tmp_path: Path) -> None:
    path, what = broken
    result = run_untouched(tmp_path, "fold", path, "--in-place")
    assert_one_error(result, str(path), what)


# ----------------------------------------------------------------------------- paths


def test_check_rejects_a_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.onnx"
    result = run_untouched(tmp_path, "check", "--isolated", "--no-progress", missing)
    assert_one_error(result, str(missing), "no such file or directory")


def test_fold_rejects_a_path_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nope.onnx"
    result = run_untouched(tmp_path, "fold", missing, "-o", tmp_path / "out.onnx")
    assert_one_error(result, str(missing), "no such file or directory")


def test_check_warns_of_a_folder_without_models_and_exits_0(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "README.txt").write_text("no models here\n")
    (folder / "weights.bin").write_bytes(b"\0" * 64)
    result = run_untouched(tmp_path, "check", "--isolated", "--no-progress", folder)
    assert result.returncode == 0, result.stderr  # as ruff: nothing to check is no error
    assert (
        result.stderr
        == f"linlint: warning: {folder}: no .onnx files found (after excludes and .gitignore)\n"
    )


def test_fold_of_a_folder_into_an_output_file_is_a_usage_error(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    save(conv_chain(), folder / "a.onnx")
    result = run_untouched(tmp_path, "fold", folder, "-o", tmp_path / "out.onnx")
    assert_one_error(result, str(tmp_path / "out.onnx"), "give `-o OUTDIR`, not a file")


def test_check_reports_the_good_files_of_a_folder_with_one_bad_file(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    save(conv_chain(), folder / "a_redundant.onnx")
    (folder / "b_broken.onnx").write_bytes(conv_chain().SerializeToString()[:150])
    save(conv_chain(), folder / "sub" / "c_redundant.onnx")
    result = run_untouched(
        tmp_path, "check", "--isolated", "--no-progress", "--format", "json", folder
    )
    assert_one_error(result, "b_broken.onnx", "not an ONNX model")
    findings = json.loads(result.stdout)
    assert sorted((Path(f["file"]).name, f["code"]) for f in findings) == [
        ("a_redundant.onnx", "LL001"),
        ("b_broken.onnx", "LL900"),  # the file that could not be read, as a record (io-error)
        ("c_redundant.onnx", "LL001"),
    ]


def test_check_reports_the_good_files_when_one_of_several_paths_is_bad(tmp_path: Path) -> None:
    good = save(conv_chain(), tmp_path / "good.onnx")
    result = run_untouched(
        tmp_path,
        "check",
        "--isolated",
        "--no-progress",
        "--format",
        "json",
        good,
        tmp_path / "missing.onnx",
    )
    assert_one_error(result, "missing.onnx", "no such file or directory")
    assert [f["code"] for f in json.loads(result.stdout)] == ["LL001", "LL900"]


# ----------------------------------------------------------------------------- output paths


def test_fold_refuses_an_output_folder_that_does_not_exist(tmp_path: Path) -> None:
    model = save(conv_chain(), tmp_path / "model.onnx")
    out = tmp_path / "missing" / "out.onnx"
    result = run_untouched(tmp_path, "fold", model, "-o", out)
    assert_one_error(result, str(out), "does not exist")


def test_fold_refuses_an_output_folder_that_is_not_writable(tmp_path: Path) -> None:
    model = save(conv_chain(), tmp_path / "model.onnx")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)  # root may write anyway: linlint goes by the permission bits
    try:
        result = run_untouched(tmp_path, "fold", model, "-o", locked / "out.onnx")
        assert_one_error(result, str(locked / "out.onnx"), "not writable")
    finally:
        locked.chmod(0o755)


def test_fold_in_place_refuses_a_read_only_model(tmp_path: Path) -> None:
    model = save(conv_chain(), tmp_path / "model.onnx")
    model.chmod(0o444)  # root may write anyway: linlint goes by the permission bits
    try:
        result = run_untouched(tmp_path, "fold", model, "--in-place")
        assert_one_error(result, str(model), "read-only")
    finally:
        model.chmod(0o644)


def test_fold_refuses_an_output_path_that_is_a_folder(tmp_path: Path) -> None:
    model = save(conv_chain(), tmp_path / "model.onnx")
    (tmp_path / "out.onnx").mkdir()
    result = run_untouched(tmp_path, "fold", model, "-o", tmp_path / "out.onnx")
    assert_one_error(result, "out.onnx", "is a directory")


# ----------------------------------------------------------------------------- odd but valid


def _custom_op_model(*, op_between: bool) -> onnx.ModelProto:
    """Conv → Conv with a com.example MyOp between them or after them.

    MyOp ships as a model-local function (a Tanh) so that onnxruntime can run the model;
    to linlint it is an op of an unknown domain, hence a barrier.
    """
    rng = np.random.default_rng(3)
    w0, w1 = (rng.standard_normal((4, 4, 1, 1)).astype(np.float32) for _ in range(2))
    if op_between:
        nodes = "[conv0] h = Conv(x, w0)  [my_op] m = com.example.MyOp(h)  [conv1] y = Conv(m, w1)"
    else:
        nodes = "[conv0] h = Conv(x, w0)  [conv1] c = Conv(h, w1)  [my_op] y = com.example.MyOp(c)"
    return tiny.model(
        f"""<ir_version: 8, opset_import: ["" : {tiny.OPSET}, "com.example" : 1]>
        g (float[1, 4, 8, 8] x) => (float[1, 4, 8, 8] y) {{ {nodes} }}
        <domain: "com.example", opset_import: ["" : {tiny.OPSET}]>
        MyOp (X) => (Y) {{ Y = Tanh(X) }}""",
        w0=w0,
        w1=w1,
    )


def test_check_treats_an_op_of_an_unknown_domain_as_a_barrier(tmp_path: Path) -> None:
    between = save(_custom_op_model(op_between=True), tmp_path / "between.onnx")
    after = save(_custom_op_model(op_between=False), tmp_path / "after.onnx")
    result = run_untouched(tmp_path, "check", "--isolated", "--no-progress", between)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout + result.stderr
    result = run_untouched(
        tmp_path, "check", "--isolated", "--no-progress", "--format", "json", after
    )
    assert (result.returncode, result.stderr) == (1, ""), result.stdout + result.stderr
    findings = json.loads(result.stdout)
    assert [(f["code"], f["nodes"]) for f in findings] == [("LL001", ["conv0", "conv1"])]


def test_fold_folds_around_an_op_of_an_unknown_domain(tmp_path: Path) -> None:
    model = save(_custom_op_model(op_between=False), tmp_path / "model.onnx")
    before = model.read_bytes()
    out = tmp_path / "out.onnx"
    result = linlint("fold", model, "-o", out, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert model.read_bytes() == before
    folded = onnx.load(out)
    assert [n.op_type for n in folded.graph.node] == ["Conv", "MyOp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "out.onnx"]


def _nan_model(value: float, *, with_clean_chain: bool = False) -> onnx.ModelProto:
    """conv1 → conv2 with one NaN/Inf in w1; optionally a second, clean Gemm → Gemm chain."""
    w1 = np.random.default_rng(0).standard_normal((4, 4, 1, 1)).astype(np.float32)
    w1[1, 2, 0, 0] = value
    model = conv_chain(w1=w1, y_shape="1, 4, 8, 8")
    if with_clean_chain:
        rng = np.random.default_rng(1)
        chain = tiny.model(
            """g (float[2, 8] v) => (float[2, 8] z) {
                [fc1] u = Gemm(v, w_fc1)
                [fc2] z = Gemm(u, w_fc2)
            }""",
            **{name: rng.standard_normal((8, 8)).astype(np.float32) for name in ("w_fc1", "w_fc2")},
        )
        for field in ("input", "output", "initializer", "node"):
            getattr(model.graph, field).extend(getattr(chain.graph, field))
    return model


@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
def test_check_reports_a_chain_whose_weight_holds_nan_or_inf_as_inexact(tmp_path: Path, value):
    """check decides exactness as fold does: a weight holding NaN/Inf makes the chain a
    linear stack with no exact fold (an LL003 note that says why), not an LL001 warning."""
    model = save(_nan_model(value), tmp_path / "model.onnx")
    result = run_untouched(
        tmp_path, "check", "--isolated", "--no-progress", "--format", "json", model
    )
    assert (result.returncode, result.stderr) == (0, ""), result.stdout + result.stderr
    [finding] = json.loads(result.stdout)
    assert finding["code"] == "LL003" and not finding["fix"]["exact"]
    assert finding["fix"]["reason"] == "the weight `w1` holds NaN or Inf"


@pytest.mark.parametrize("value", [np.nan, np.inf], ids=["nan", "inf"])
def test_fold_leaves_a_region_whose_weight_holds_nan_or_inf(tmp_path: Path, value) -> None:
    """Not an error: the region is left as it is and the remaining note says why. The output
    is written, without that region folded."""
    model = save(_nan_model(value), tmp_path / "model.onnx")
    before = model.read_bytes()
    out = tmp_path / "out.onnx"
    result = linlint("fold", model, "-o", out, cwd=tmp_path)
    assert "Traceback" not in result.stdout + result.stderr
    assert (result.returncode, result.stderr) == (0, ""), result.stdout + result.stderr
    assert "LL003" in result.stdout and "the weight `w1` holds NaN or Inf" in result.stdout
    assert model.read_bytes() == before
    assert onnx.load(out).graph == onnx.load(model).graph
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "out.onnx"]


def test_fold_writes_the_other_regions_and_leaves_the_nan_region_alone(tmp_path: Path) -> None:
    model = save(_nan_model(np.nan, with_clean_chain=True), tmp_path / "model.onnx")
    before = model.read_bytes()
    out = tmp_path / "out.onnx"
    result = linlint("fold", model, "-o", out, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert result.returncode == 0, output  # the NaN region remains as an LL003 note
    assert "`w1`" in output and "NaN or Inf" in output
    assert model.read_bytes() == before
    folded = onnx.load(out)
    ops = [n.op_type for n in folded.graph.node]
    assert ops.count("Conv") == 2 and ops.count("Gemm") == 1, ops


def test_check_handles_a_zero_sized_spatial_dimension(tmp_path: Path) -> None:
    model = save(conv_chain(shape=[1, 4, 0, 8]), tmp_path / "model.onnx")
    result = run_untouched(
        tmp_path, "check", "--isolated", "--no-progress", "--format", "json", model
    )
    assert (result.returncode, result.stderr) == (1, ""), result.stdout + result.stderr
    (finding,) = json.loads(result.stdout)
    assert finding["code"] == "LL001"
    assert finding["fix"]["macs_before"] == 0 and finding["fix"]["macs_after"] == 0


def test_check_handles_a_weight_with_a_zero_sized_dimension(tmp_path: Path) -> None:
    model = save(conv_chain(w1=np.zeros((0, 4, 1, 1), np.float32)), tmp_path / "model.onnx")
    result = run_untouched(tmp_path, "check", "--isolated", "--no-progress", model)
    assert result.returncode in (0, 1), result.stdout + result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("shape", [[0, 4, 8, 8], [1, 4, 0, 8]], ids=["batch", "spatial"])
def test_fold_leaves_a_region_it_cannot_verify_on_zero_sized_inputs(tmp_path: Path, shape):
    """Running a model whose fixed input is empty compares no values: that is no proof, so
    the region is not folded (and says why); its LL001 remains."""
    model = save(conv_chain(shape=shape), tmp_path / "model.onnx")
    before = model.read_bytes()
    out = tmp_path / "out.onnx"
    result = linlint("fold", model, "-o", out, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, ""), result.stdout + result.stderr
    assert "not folded: conv1 → conv2: verification failed" in result.stdout
    assert model.read_bytes() == before
    assert onnx.load(out).graph == onnx.load(model).graph


def test_check_reports_macs_past_64_bits_exactly(tmp_path: Path) -> None:
    side = 2**40
    model = save(conv_chain(shape=[1, 4, side, side]), tmp_path / "model.onnx")
    result = run_untouched(
        tmp_path, "check", "--isolated", "--no-progress", "--format", "json", model
    )
    assert (result.returncode, result.stderr) == (1, ""), result.stdout + result.stderr
    (finding,) = json.loads(result.stdout)
    per_conv = 4 * 4 * side * side  # 2**84: far past 2**64
    assert finding["fix"]["macs_before"] == 2 * per_conv
    assert finding["fix"]["macs_after"] == per_conv


def test_check_reports_macs_past_64_bits_from_input_shape(tmp_path: Path) -> None:
    side = 2**40
    model = save(conv_chain(shape=["N", 4, "H", "W"]), tmp_path / "model.onnx")
    result = run_untouched(
        tmp_path,
        "check",
        "--isolated",
        "--no-progress",
        "--format",
        "json",
        "--input-shape",
        f"x=1x4x{side}x{side}",
        model,
    )
    assert (result.returncode, result.stderr) == (1, ""), result.stdout + result.stderr
    (finding,) = json.loads(result.stdout)
    assert finding["fix"]["macs_before"] == 2 * 4 * 4 * side * side
