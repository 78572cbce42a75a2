"""The shipped pre-commit hook, checked with the real pre-commit, offline.

``pre-commit try-repo`` would pip-install this checkout (and onnx, onnxruntime)
into a fresh virtualenv, which needs the network. Instead a throw-away git
repository gets a ``repo: local`` hook built from the shipped
``.pre-commit-hooks.yaml`` — same id, name, files, types and options — whose
entry runs this checkout's linlint with the current interpreter. Then real
``git commit``s go through the installed hook.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / ".pre-commit-hooks.yaml"
SAMPLES = REPO / "sample_models"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def shipped_hook(hook_id: str = "linlint") -> dict:
    hooks = yaml.safe_load(MANIFEST.read_text())
    return next(hook for hook in hooks if hook["id"] == hook_id)


def test_manifest_is_valid_for_pre_commit():
    done = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(MANIFEST)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_manifest_declares_the_linlint_hook_on_onnx_files():
    hook = shipped_hook()
    assert hook["name"] == "linlint"
    assert hook["entry"] == "linlint check --force-exclude"
    assert hook["language"] == "python"
    assert hook["types"] == ["file"]
    files = re.compile(hook["files"])
    assert files.search("models/net.onnx")
    assert not files.search("models/net.onnx.txt")
    assert not files.search("README.md")


@pytest.fixture
def git_env(tmp_path) -> dict[str, str]:
    """An environment with a hermetic git config and pre-commit cache."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = linlint test\n\temail = test@example.invalid\n"
        "[commit]\n\tgpgsign = false\n[init]\n\tdefaultBranch = main\n"
    )
    env = dict(os.environ)
    env.update(
        GIT_CONFIG_GLOBAL=str(gitconfig),
        GIT_CONFIG_NOSYSTEM="1",
        PRE_COMMIT_HOME=str(tmp_path / "pre-commit-cache"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    env.pop("CI", None)
    return env


def make_repo(path: Path, env: dict[str, str], hook_id: str = "linlint") -> Path:
    """A git repo whose pre-commit config runs the shipped hook from this checkout."""
    path.mkdir()
    shipped = shipped_hook(hook_id)
    hook = {k: v for k, v in shipped.items() if k not in ("minimum_pre_commit_version",)}
    command = shipped["entry"].removeprefix("linlint ")
    hook.update(language="system", entry=f"{sys.executable} -m linlint {command}")
    config = {"repos": [{"repo": "local", "hooks": [hook]}]}
    (path / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    git(path, env, "init", "-q")
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=path,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    git(path, env, "add", ".pre-commit-config.yaml")
    git(path, env, "commit", "-q", "-m", "config")
    return path


def git(path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", *args], cwd=path, env=env, capture_output=True, text=True, timeout=300
    )


def commit_model(repo: Path, env: dict[str, str], sample: str) -> subprocess.CompletedProcess:
    shutil.copy(SAMPLES / sample, repo / "model.onnx")
    (repo / "notes.txt").write_text("not a model\n")
    git(repo, env, "add", "model.onnx", "notes.txt")
    return git(repo, env, "commit", "-m", f"add {sample}")


def test_committing_a_redundant_model_fails_the_hook(tmp_path, git_env):
    repo = make_repo(tmp_path / "repo", git_env)
    done = commit_model(repo, git_env, "ll001_conv1x1_conv1x1.onnx")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "linlint" in output and "Failed" in output
    assert "LL001" in output
    assert git(repo, git_env, "log", "--oneline").stdout.count("\n") == 1  # only "config"


def test_committing_a_clean_model_passes_the_hook(tmp_path, git_env):
    repo = make_repo(tmp_path / "repo", git_env)
    done = commit_model(repo, git_env, "nm_relu_between.onnx")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert re.search(r"linlint\.+Passed", output), output
    assert git(repo, git_env, "log", "--oneline").stdout.count("\n") == 2


def test_the_hook_skips_a_model_the_config_excludes(tmp_path, git_env):
    """pre-commit names the staged file; ``--force-exclude`` leaves it out as configured."""
    repo = make_repo(tmp_path / "repo", git_env)
    (repo / "pyproject.toml").write_text('[tool.linlint]\nextend-exclude = ["legacy"]\n')
    (repo / "legacy").mkdir()
    shutil.copy(SAMPLES / "ll001_conv1x1_conv1x1.onnx", repo / "legacy" / "old.onnx")
    git(repo, git_env, "add", "pyproject.toml", "legacy/old.onnx")
    done = git(repo, git_env, "commit", "-m", "add a legacy model")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"linlint\.+Passed", done.stdout + done.stderr)


def test_manifest_declares_the_fold_hook_that_fixes_in_place():
    hook = shipped_hook("linlint-fold")
    assert hook["entry"] == "linlint fold --in-place --force-exclude"
    assert hook["files"] == shipped_hook()["files"]


def test_fold_hook_rewrites_the_model_then_the_next_run_passes(tmp_path, git_env):
    repo = make_repo(tmp_path / "repo", git_env, hook_id="linlint-fold")
    original = (SAMPLES / "ll001_conv1x1_conv1x1.onnx").read_bytes()
    first = commit_model(repo, git_env, "ll001_conv1x1_conv1x1.onnx")
    assert first.returncode != 0, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout + first.stderr
    folded = (repo / "model.onnx").read_bytes()
    assert folded != original
    import onnx

    assert sum(n.op_type == "Conv" for n in onnx.load_from_string(folded).graph.node) == 1
    git(repo, git_env, "add", "model.onnx")
    second = git(repo, git_env, "commit", "-m", "folded")
    assert second.returncode == 0, second.stdout + second.stderr
    assert re.search(r"linlint fold\.+Passed", second.stdout + second.stderr)


def test_fold_hook_leaves_a_model_the_config_excludes_as_it_is(tmp_path, git_env):
    repo = make_repo(tmp_path / "repo", git_env, hook_id="linlint-fold")
    (repo / "pyproject.toml").write_text('[tool.linlint]\nextend-exclude = ["legacy"]\n')
    (repo / "legacy").mkdir()
    original = (SAMPLES / "ll001_conv1x1_conv1x1.onnx").read_bytes()
    (repo / "legacy" / "old.onnx").write_bytes(original)
    git(repo, git_env, "add", "pyproject.toml", "legacy/old.onnx")
    done = git(repo, git_env, "commit", "-m", "add a legacy model")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (repo / "legacy" / "old.onnx").read_bytes() == original
