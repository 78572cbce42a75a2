"""Finding the models in a real repository, as ruff finds Python files (issue 14, points 2-3).

The user's story: ``linlint check .`` in a repository whose git-ignored ``.venv/`` holds
onnx's bundled test models reported 210 findings from them. Each test builds what the user
had (a real git repository in ``tmp_path``, a ``.venv`` holding a model, a ``.gitignore``)
and runs the real command line in it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SAMPLES
from linlint.model.find import FileDiscovery, Pattern, find_models, patterns

REDUNDANT = SAMPLES / "ll001_conv1x1_conv1x1.onnx"  # one LL001 warning
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def linlint(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("LINLINT_DEBUG", "CI")}
    env.update(NO_COLOR="1", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return subprocess.run(
        [sys.executable, "-m", "linlint", *(str(a) for a in args)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def checked_files(cwd: Path, *args: str | Path) -> list[str]:
    """The files ``check --format json`` reports a finding in (every model here has one)."""
    done = linlint(cwd, "check", "--no-progress", "--format", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    return sorted({record["file"] for record in json.loads(done.stdout)})


def put(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REDUNDANT, root / name)


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository as users have them: a git-ignored .venv holding onnx's test models,
    a build folder, a git-ignored folder of generated models, one model that is ignored but
    tracked (added with ``git add -f``), and the team's own models."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / ".gitignore").write_text(".venv/\ngenerated/\n*.tmp.onnx\nvendor/\n")
    put(
        root,
        ".venv/lib/python3.11/site-packages/onnx/backend/test/data/node/model.onnx",
        "build/exported.onnx",
        "generated/g.onnx",
        "models/scratch.tmp.onnx",
        "models/net.onnx",
        "models/legacy/old.onnx",
        "vendor/kept.onnx",
    )
    git(root, "add", "-f", "vendor/kept.onnx")
    return root


@needs_git
def test_check_dot_leaves_out_the_ignored_venv_build_and_generated_models(repo):
    assert checked_files(repo, ".") == [
        "models/legacy/old.onnx",
        "models/net.onnx",
        "vendor/kept.onnx",  # tracked: git ignores only untracked files
    ]


@needs_git
def test_no_respect_gitignore_keeps_the_default_excludes(repo):
    assert checked_files(repo, ".", "--no-respect-gitignore") == [
        "generated/g.onnx",
        "models/legacy/old.onnx",
        "models/net.onnx",
        "models/scratch.tmp.onnx",
        "vendor/kept.onnx",
    ]


@needs_git
def test_respect_gitignore_false_in_the_config(repo):
    (repo / "pyproject.toml").write_text("[tool.linlint]\nrespect-gitignore = false\n")
    assert "generated/g.onnx" in checked_files(repo, ".")


@needs_git
def test_a_subfolder_inside_the_repository_is_searched_the_same_way(repo):
    put(repo, "models/generated/x.onnx")  # ignored: a .gitignore "generated/" is at any depth
    assert checked_files(repo / "models", ".") == ["legacy/old.onnx", "net.onnx"]


@needs_git
def test_a_folder_given_explicitly_is_searched_even_when_ignored(repo):
    assert checked_files(repo, "generated") == ["generated/g.onnx"]
    inside = ".venv/lib/python3.11/site-packages/onnx"  # ignored, and below two excludes
    assert checked_files(repo, inside) == [f"{inside}/backend/test/data/node/model.onnx"]


@needs_git
def test_extend_exclude_in_the_config_is_relative_to_the_config_file(repo):
    (repo / "pyproject.toml").write_text('[tool.linlint]\nextend-exclude = ["models/legacy"]\n')
    assert checked_files(repo / "models", ".") == ["net.onnx"]
    assert checked_files(repo, ".") == ["models/net.onnx", "vendor/kept.onnx"]


@needs_git
def test_exclude_replaces_the_default_excludes(repo):
    (repo / "pyproject.toml").write_text('[tool.linlint]\nexclude = ["models"]\n')
    found = checked_files(repo, ".", "--no-respect-gitignore")
    assert "build/exported.onnx" in found  # no longer a default exclude
    assert not any(f.startswith("models/") for f in found)


@needs_git
def test_exclude_and_extend_exclude_on_the_command_line(repo):
    found = checked_files(repo, ".", "--extend-exclude", "legacy,vendor")
    assert found == ["models/net.onnx"]
    found = checked_files(repo, ".", "--exclude", "*.onnx")
    assert found == []


@needs_git
def test_an_excluded_file_given_explicitly_is_checked_unless_force_exclude(repo):
    given = "build/exported.onnx"
    assert checked_files(repo, given) == [given]
    assert checked_files(repo, given, "--force-exclude") == []
    assert checked_files(repo, given, "models/net.onnx", "--force-exclude") == ["models/net.onnx"]
    (repo / "pyproject.toml").write_text(
        '[tool.linlint]\nforce-exclude = true\nextend-exclude = ["models/legacy"]\n'
    )
    assert checked_files(repo, "models/legacy/old.onnx", "models/net.onnx") == ["models/net.onnx"]
    assert checked_files(repo, "models/legacy/old.onnx", "--no-force-exclude") == [
        "models/legacy/old.onnx"
    ]


def test_outside_a_git_work_tree_a_gitignore_means_nothing(tmp_path):
    """As git and ripgrep: a .gitignore outside a repository ignores nothing (the default
    excludes still apply)."""
    (tmp_path / ".gitignore").write_text("generated/\n")
    put(tmp_path, "generated/g.onnx", ".venv/x.onnx", "m.onnx")
    assert checked_files(tmp_path, ".") == ["generated/g.onnx", "m.onnx"]


def test_a_bad_exclude_value_in_the_config_names_the_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.linlint]\nextend-exclude = "models"\n')
    put(tmp_path, "m.onnx")
    done = linlint(tmp_path, "check", "m.onnx")
    assert done.returncode == 2
    assert "tool.linlint.extend-exclude" in done.stderr
    assert "expected a list of glob patterns" in done.stderr


# ----------------------------------------------------------------------------- point 3


def test_a_folder_without_models_is_a_warning_and_exit_0(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "README.md").write_text("no models\n")
    done = linlint(tmp_path, "check", "--format", "json", "docs")
    assert done.returncode == 0
    assert json.loads(done.stdout) == []
    assert done.stderr == (
        "linlint: warning: docs: no .onnx files found (after excludes and .gitignore)\n"
    )


def test_a_git_lfs_pointer_says_git_lfs_pull(tmp_path):
    """What a CI checkout without ``lfs: true`` holds in place of the model."""
    pointer = (
        "version https://git-lfs.github.com/spec/v1\n"
        "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
        "size 12345\n"
    )
    (tmp_path / "model.onnx").write_text(pointer)
    done = linlint(tmp_path, "check", "model.onnx")
    assert done.returncode == 2
    assert done.stderr == (
        "linlint: error: model.onnx: this is a Git LFS pointer, not the model: run `git lfs pull`\n"
    )
    folded = linlint(tmp_path, "fold", "model.onnx", "--diff")
    assert folded.returncode == 2
    assert "git lfs pull" in folded.stderr
    assert "protobuf" not in folded.stderr


# ----------------------------------------------------------------------------- the finder


def test_patterns_match_names_anywhere_and_paths_below_their_base(tmp_path):
    base = tmp_path / "project"
    assert Pattern(".venv").matches(base / "a" / ".venv")
    assert Pattern("*_fp16.onnx").matches(base / "m_fp16.onnx")
    assert Pattern("models/legacy", base).matches(base / "models" / "legacy")
    assert not Pattern("models/legacy", base).matches(base / "other" / "models" / "legacy")
    assert Pattern("**/legacy/*.onnx", base).matches(base / "legacy" / "m.onnx")
    assert Pattern("./models/", base).matches(base / "models")


def test_find_models_prunes_excluded_folders_and_keeps_order(tmp_path):
    put(tmp_path, "b.onnx", "a.onnx", "node_modules/x.onnx", "sub/__pycache__/y.onnx", "sub/c.onnx")
    assert find_models(tmp_path) == [
        tmp_path / "a.onnx",
        tmp_path / "b.onnx",
        tmp_path / "sub/c.onnx",
    ]
    everything = FileDiscovery(exclude=(), respect_gitignore=False)
    assert len(find_models(tmp_path, everything)) == 5
    only_sub = FileDiscovery(exclude=patterns(["sub"], tmp_path))  # replaces the defaults
    assert find_models(tmp_path, only_sub)[-1] == tmp_path / "node_modules" / "x.onnx"
    assert len(find_models(tmp_path, only_sub)) == 3
