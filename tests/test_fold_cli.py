"""The fold command: what it writes, when, and what it exits with."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import onnx

from conftest import SAMPLES


def run(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "linlint", *map(str, args)], capture_output=True, text=True, cwd=cwd
    )


def test_fold_writes_a_verified_model_and_exits_0(tmp_path):
    out = tmp_path / "folded.onnx"
    done = run("fold", SAMPLES / "ll004_repvgg_block.onnx", "-o", out)
    assert done.returncode == 0, done.stderr
    assert "verified:" in done.stdout
    assert "parametric ops 2 → 1" in done.stdout
    assert [n.op_type for n in onnx.load(out).graph.node] == ["Conv", "Relu"]


def test_diff_prints_the_change_and_writes_nothing(tmp_path):
    model = tmp_path / "m.onnx"
    shutil.copy(SAMPLES / "ll001_conv1x1_conv1x1.onnx", model)
    before = model.read_bytes()
    done = run("fold", model, "--diff")
    assert done.returncode == 1, done.stderr  # something would change
    assert "LL001 folded conv1 → conv2" in done.stdout
    assert "nothing written" in done.stdout
    assert model.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_in_place_rewrites_the_input_only_when_something_folds(tmp_path):
    redundant, clean = tmp_path / "a.onnx", tmp_path / "b.onnx"
    shutil.copy(SAMPLES / "ll005_conv_bn.onnx", redundant)
    shutil.copy(SAMPLES / "nm_relu_between.onnx", clean)
    clean_bytes = clean.read_bytes()
    done = run("fold", "--in-place", redundant, clean)
    assert done.returncode == 0, done.stderr
    assert "BatchNormalization" not in [n.op_type for n in onnx.load(redundant).graph.node]
    assert clean.read_bytes() == clean_bytes


def test_failed_verification_writes_nothing_and_exits_2(tmp_path):
    model = tmp_path / "m.onnx"
    shutil.copy(SAMPLES / "ll001_expandnets_1x1_3x3_1x1.onnx", model)
    before = model.read_bytes()
    done = run("fold", model, "--in-place", "--rtol", "0", "--atol", "0")
    assert done.returncode == 2
    assert "nothing written: verification failed" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert model.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_warnings_that_could_not_be_folded_exit_1(tmp_path):
    """A region whose proof cannot run (an empty input compares no values) is left as it
    was: its LL001 warning remains."""
    model = onnx.load(SAMPLES / "ll001_conv1x1_conv1x1.onnx")
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 0
    path = tmp_path / "empty.onnx"
    onnx.save(model, path)
    done = run("fold", path, "-o", tmp_path / "out.onnx")
    assert done.returncode == 1, done.stderr
    assert "not folded" in done.stdout and "verification failed" in done.stdout
    assert "LL001" in done.stdout


def test_notes_that_remain_do_not_fail_the_run(tmp_path):
    done = run("fold", SAMPLES / "ll002_linear_bottleneck_1x1.onnx", "-o", tmp_path / "o.onnx")
    assert done.returncode == 0, done.stderr
    assert "LL002" in done.stdout and "nothing to fold" in done.stdout


def test_allow_growth_folds_linear_bottlenecks(tmp_path):
    out = tmp_path / "o.onnx"
    done = run("fold", SAMPLES / "ll002_linear_bottleneck_1x1.onnx", "-o", out, "--allow-growth")
    assert done.returncode == 0, done.stderr
    assert sum(n.op_type == "Conv" for n in onnx.load(out).graph.node) == 1


def test_json_output_lists_folds_totals_and_verification(tmp_path):
    done = run(
        "fold", SAMPLES / "ll005_gemm_mul_add.onnx", "--diff", "--format", "json", cwd=tmp_path
    )
    data = json.loads(done.stdout)
    assert [f["code"] for f in data["folded"]] == ["LL005"]
    assert data["before"]["nodes"] > data["after"]["nodes"]
    assert data["verification"]["ok"] is True
    assert data["written"] is None


def test_output_and_in_place_are_exclusive():
    done = run("fold", SAMPLES / "ll005_conv_bn.onnx", "--in-place", "-o", "x.onnx")
    assert done.returncode == 2
    assert "exactly one of" in done.stderr


def test_in_place_with_external_data_leaves_one_data_file_that_the_model_reads(tmp_path):
    model = onnx.load(SAMPLES / "repvgg_net_train.onnx")
    path = tmp_path / "m.onnx"
    onnx.save(model, path, save_as_external_data=True, location="m.onnx.data", size_threshold=0)
    done = run("fold", path, "--in-place")
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.onnx.1.data"]
    onnx.checker.check_model(onnx.load(path), full_check=True)
