"""fold over folders: where each model goes, the summary, unchanged copies, orphaned data
files, and --diff's output and exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys

import onnx

from conftest import SAMPLES

FOLDS = "ll005_conv_bn.onnx"
CLEAN = "nm_relu_between.onnx"
NESTED = "ll001_conv1x1_conv1x1.onnx"


def run(*args, cwd=None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "linlint", "fold", "--no-progress", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd)


def folder(tmp_path, *extra):
    """A folder of copies: one that folds, one clean, one that folds in a subfolder."""
    root = tmp_path / "models"
    (root / "sub").mkdir(parents=True)
    shutil.copy(SAMPLES / FOLDS, root / FOLDS)
    shutil.copy(SAMPLES / CLEAN, root / CLEAN)
    shutil.copy(SAMPLES / NESTED, root / "sub" / NESTED)
    for name in extra:
        shutil.copy(SAMPLES / name, root / name)
    return root


def ops(path):
    return [n.op_type for n in onnx.load(path).graph.node]


def test_a_folder_with_o_outdir_mirrors_its_relative_paths(tmp_path):
    out = tmp_path / "out"
    done = run(folder(tmp_path), "-o", out)
    assert done.returncode == 0, done.stderr
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.onnx"))
    assert written == sorted([FOLDS, CLEAN, f"sub/{NESTED}"])
    assert "BatchNormalization" not in ops(out / FOLDS)
    assert ops(out / "sub" / NESTED) == ["Conv"]


def test_a_folder_in_place_rewrites_only_the_models_that_fold(tmp_path):
    root = folder(tmp_path)
    clean_bytes = (root / CLEAN).read_bytes()
    done = run(root, "--in-place")
    assert done.returncode == 0, done.stderr
    assert ops(root / "sub" / NESTED) == ["Conv"]
    assert (root / CLEAN).read_bytes() == clean_bytes


def test_a_folder_with_o_naming_a_file_is_a_usage_error(tmp_path):
    done = run(folder(tmp_path), "-o", tmp_path / "out.onnx")
    assert done.returncode == 2
    assert "give `-o OUTDIR`, not a file" in done.stderr
    assert not (tmp_path / "out.onnx").exists()


def test_fold_ends_with_a_summary_of_files_folded_and_findings_remaining(tmp_path):
    root = folder(tmp_path, "ll002_linear_bottleneck_1x1.onnx")
    done = run(root, "-o", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "folded 2 of 4 files; 1 note remains"


def test_a_bad_model_is_one_error_and_exit_2_while_the_others_still_fold(tmp_path):
    root = folder(tmp_path)
    (root / "bad.onnx").write_bytes(b"not a model")
    out = tmp_path / "out"
    done = run(root, "-o", out)
    assert done.returncode == 2
    assert [line for line in done.stderr.splitlines() if "bad.onnx" in line] != []
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (out / "bad.onnx").exists()
    assert ops(out / "sub" / NESTED) == ["Conv"]
    assert done.stdout.splitlines()[-1] == "folded 2 of 4 files; 1 failed"


def test_writing_a_model_with_nothing_to_fold_says_it_is_an_unchanged_copy(tmp_path):
    out = tmp_path / "copy.onnx"
    done = run(SAMPLES / CLEAN, "-o", out)
    assert done.returncode == 0, done.stderr
    assert f"nothing to fold; wrote an unchanged copy to {out}" in done.stdout
    assert out.exists()


def external(model, path, location):
    """``model`` saved at ``path`` with every weight in the data file ``location``."""
    proto = onnx.load(model)
    onnx.save(proto, path, save_as_external_data=True, location=location, size_threshold=0)


def test_in_place_removes_and_names_the_data_file_the_folded_model_no_longer_reads(tmp_path):
    model = tmp_path / "m.onnx"
    external(SAMPLES / FOLDS, model, "weights.bin")
    done = run(model, "--in-place")
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "weights.bin").exists()
    assert f"removed {tmp_path / 'weights.bin'}" in done.stdout
    assert onnx.load(model) is not None  # the new data file is there and whole


def test_a_data_file_another_model_in_the_folder_reads_is_kept(tmp_path):
    first, second = tmp_path / "a.onnx", tmp_path / "b.onnx"
    external(SAMPLES / FOLDS, first, "shared.bin")
    shutil.copy(first, second)
    done = run(first, "--in-place")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "shared.bin").exists()
    assert "removed" not in done.stdout
    onnx.checker.check_model(onnx.load(second))  # b.onnx still reads its weights


def test_diff_prints_nodes_removed_added_and_the_op_counts_and_exits_1(tmp_path):
    root = folder(tmp_path)
    done = run(root, "--diff")
    assert done.returncode == 1, done.stderr
    nested = root / "sub" / NESTED
    assert f"{nested}: diff: Conv 2 → 1, nodes 2 → 1" in done.stdout
    assert f"{nested}: - conv1 (Conv)" in done.stdout
    assert f"{nested}: + conv2_folded (Conv)" in done.stdout
    assert done.stdout.splitlines()[-1] == "would fold 2 of 3 files"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [CLEAN, FOLDS, NESTED]
    )


def test_diff_exits_0_when_nothing_would_change_and_no_warning_remains(tmp_path):
    done = run(SAMPLES / CLEAN, "--diff")
    assert done.returncode == 0, done.stderr
    assert "diff: no change" in done.stdout


def test_diff_exits_1_when_a_warning_remains_though_nothing_would_change(tmp_path):
    model = tmp_path / "m.onnx"
    shutil.copy(SAMPLES / "ll002_linear_bottleneck_1x1.onnx", model)
    (tmp_path / "pyproject.toml").write_text('[tool.linlint]\nlevels = { LL002 = "warning" }\n')
    done = run(model.name, "--diff", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "diff: no change" in done.stdout
    assert done.stdout.splitlines()[-1] == "would fold 0 of 1 file; 1 warning remains"


def test_a_model_whose_fold_fails_verification_is_not_counted_as_folded(tmp_path):
    root = folder(tmp_path)
    done = run(root, "--diff", "--rtol", "0", "--atol", "0")
    assert done.returncode == 2
    assert done.stdout.splitlines()[-1].startswith("would fold 0 of 3 files")


def test_an_outdir_inside_the_folder_is_not_folded_again_on_the_next_run(tmp_path):
    root = folder(tmp_path)
    assert run(root, "-o", root / "folded").returncode == 0
    done = run(root, "-o", root / "folded")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "folded 2 of 3 files"
    assert not (root / "folded" / "folded").exists()


def test_fold_takes_the_same_excludes_as_check(tmp_path):
    root = folder(tmp_path)
    out = tmp_path / "out"
    done = run(root, "--isolated", "--extend-exclude", "sub", "-o", out)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.rglob("*.onnx")) == sorted([FOLDS, CLEAN])


def test_fold_in_a_git_work_tree_skips_what_gitignore_ignores(tmp_path):
    root = folder(tmp_path)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("sub/\n")
    done = run(".", "--isolated", "--diff", cwd=root)
    assert NESTED not in done.stdout
    assert "of 2 files" in done.stdout
    done = run(".", "--isolated", "--diff", "--no-respect-gitignore", cwd=root)
    assert "of 3 files" in done.stdout


def test_fold_force_exclude_skips_an_excluded_model_passed_by_name(tmp_path):
    root = folder(tmp_path)
    model = f"sub/{NESTED}"
    options = ("--isolated", "--extend-exclude", "sub", "--diff")
    assert "would fold 1 of 1 file" in run(model, *options, cwd=root).stdout
    done = run(model, *options, "--force-exclude", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "would fold 0 of 0 files" in done.stdout
