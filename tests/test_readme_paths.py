"""Every path the README offers a new user works from a clone (issue 14, point 1).

The user's story: the pre-commit snippet named a tag that did not exist, ``pip install
linlint`` found nothing, the design document's link pointed outside the repository, and the
API example raised AttributeError when nothing was folded. Each test here does what that
user does with the README's own text: a clone of this repository's last commit (what a
user gets; uncommitted changes are not in it), the README's snippet with its placeholders
filled in (the clone's path for the URL, a commit of it for ``rev``), and the real tool
(pre-commit, pip, the ``linlint`` command, the Python API).

Offline: pip and pre-commit build linlint from the clone without an index, in virtual
environments that see this interpreter's packages (onnx, onnxruntime, setuptools).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml
from onnx import helper, numpy_helper

from conftest import ROOT, SAMPLES

README = (ROOT / "README.md").read_text(encoding="utf-8")
OFFLINE = {
    "PIP_NO_INDEX": "1",
    "PIP_NO_BUILD_ISOLATION": "0",  # pip's spelling of "do not isolate the build"
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "VIRTUALENV_SYSTEM_SITE_PACKAGES": "1",
}
needs_clone = pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs git and a git checkout of linlint",
)
needs_posix = pytest.mark.skipif(sys.platform == "win32", reason="POSIX paths and scripts")


def code_blocks(language: str) -> list[str]:
    """The README's fenced code blocks in ``language``, dedented, in order."""
    blocks = re.findall(rf"^( *)```{language}\n(.*?)^\1```", README, re.M | re.S)
    return [
        "".join(line[len(indent) :] for line in body.splitlines(True)) for indent, body in blocks
    ]


def block_with(language: str, text: str) -> str:
    (block,) = [b for b in code_blocks(language) if text in b]
    return block


def environment(**extra: str) -> dict[str, str]:
    """This environment without the source checkout on the path (the clone's linlint must be
    the one that runs), with a hermetic git."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LINLINT_DEBUG", "CI")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull, NO_COLOR="1", **extra)
    return env


def run(args: list, cwd: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=environment(**extra),
        capture_output=True,
        text=True,
        timeout=600,
    )


def git(cwd: Path, *args: str) -> str:
    done = run(["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args], cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of this repository, as a user gets it."""
    target = tmp_path / "linlint"
    git(tmp_path, "clone", "-q", str(ROOT), str(target))
    return target


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """A virtual environment that sees this interpreter's packages; its bin folder."""
    target = tmp_path / "venv"
    done = run([sys.executable, "-m", "virtualenv", "-q", target], tmp_path, **OFFLINE)
    if done.returncode != 0:
        pytest.skip(f"virtualenv cannot create an environment here: {done.stderr[-300:]}")
    return target / "bin"


# ----------------------------------------------------------------------------- links


def test_every_relative_link_of_the_readme_names_a_file_inside_the_repository():
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", README)
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert "docs/architecture.md" in local
    for target in local:
        path = (ROOT / target).resolve()
        assert path.is_relative_to(ROOT), target
        assert path.exists(), target


def test_every_anchor_link_of_the_readme_names_one_of_its_headings():
    headings = re.findall(r"^#{1,6} (.+)$", README, re.M)
    slugs = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}
    anchors = re.findall(r"\]\(#([^)]+)\)", README)
    assert "which-files" in anchors
    assert [a for a in anchors if a not in slugs] == []


# ----------------------------------------------------------------------------- pre-commit


def user_repository(path: Path, clone: Path, rev: str) -> Path:
    """A user's repository whose ``.pre-commit-config.yaml`` is the README's snippet, with
    this clone as the repository and ``rev`` as the pin, and a redundant model staged."""
    snippet = block_with("yaml", "pre-commit-config")
    filled = snippet.replace("<this repository's URL>", str(clone))
    filled = re.sub(r"rev: \S+", f"rev: {rev}", filled)
    assert "<" not in yaml.safe_dump(yaml.safe_load(filled)), filled  # every placeholder filled
    path.mkdir()
    git(path, "init", "-q")
    (path / ".pre-commit-config.yaml").write_text(filled)
    shutil.copy(SAMPLES / "ll001_conv1x1_conv1x1.onnx", path / "model.onnx")
    git(path, "add", ".pre-commit-config.yaml", "model.onnx")
    return path


def readme_rev() -> str:
    """The ``rev`` the README's pre-commit snippet pins."""
    (rev,) = re.findall(r"^\s*rev: (\S+)", block_with("yaml", "pre-commit-config"), re.M)
    return rev


def test_the_pre_commit_snippet_pins_the_release_tag_of_this_version():
    from linlint.version import __version__

    assert readme_rev() == f"v{__version__}"
    assert f"## {__version__} " in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


@needs_clone
def test_the_release_tag_the_readme_pins_is_in_the_repository():
    tags = git(ROOT, "tag", "--list").split()
    if not tags:
        pytest.skip("this checkout carries no tags (a clone of one branch)")
    assert readme_rev() in tags


@needs_clone
@needs_posix
@pytest.mark.parametrize("pin", ["the README's tag", "a commit"])
def test_the_pre_commit_snippet_runs_the_hook_from_the_repository(tmp_path, clone, pin):
    rev = readme_rev() if pin == "the README's tag" else git(clone, "rev-parse", "HEAD")
    if pin == "the README's tag" and rev not in git(clone, "tag", "--list").split():
        pytest.skip("this checkout carries no tags (a clone of one branch)")
    git(clone, "cat-file", "-e", f"{rev}^{{commit}}")
    user = user_repository(tmp_path / "user", clone, rev)
    done = run(
        [sys.executable, "-m", "pre_commit", "run", "--files", "model.onnx"],
        user,
        PRE_COMMIT_HOME=str(tmp_path / "cache"),
        **OFFLINE,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert re.search(r"^linlint\.+Failed$", output, re.M), output
    assert "model.onnx: LL001 [*] [warning] redundant-linear-chain" in output


@needs_clone
@pytest.mark.parametrize("options", [[], ["--bleeding-edge"]])
def test_pre_commit_autoupdate_moves_the_pin_to_the_newest_tag_or_commit(tmp_path, clone, options):
    """What the README promises: ``pre-commit autoupdate`` moves an older pin to the newest
    release tag (the newest commit where none is tagged), ``--bleeding-edge`` to the newest
    commit (named by its tag when it has one, as pre-commit does)."""
    exact = run(["git", "describe", "--tags", "--exact-match", "HEAD"], clone)
    newest = exact.stdout.strip() if exact.returncode == 0 else git(clone, "rev-parse", "HEAD")
    if not options and git(clone, "tag", "--list"):
        newest = git(clone, "describe", "--tags", "--abbrev=0", "HEAD")
    parent = run(["git", "rev-parse", "--verify", "-q", "HEAD~1"], clone)
    if parent.returncode != 0:
        pytest.skip("a shallow checkout: no older commit to pin")
    older = parent.stdout.strip()
    user = user_repository(tmp_path / "user", clone, older)
    done = run(
        [sys.executable, "-m", "pre_commit", "autoupdate", *options],
        user,
        PRE_COMMIT_HOME=str(tmp_path / "cache"),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"rev: {newest}" in (user / ".pre-commit-config.yaml").read_text()


# ----------------------------------------------------------------------------- install


@needs_clone
@needs_posix
def test_the_install_line_of_the_github_actions_snippet_installs_linlint(tmp_path, clone, venv):
    (line,) = re.findall(r'pip install "linlint @ git\+<[^>]*>"', README)
    url = f"file://localhost{clone.as_posix()}"
    requirement = line.removeprefix("pip install ").strip('"').replace("<this repository URL>", url)
    installed = run([venv / "pip", "install", "-q", requirement], tmp_path, **OFFLINE)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    where = run([venv / "python", "-c", "import linlint; print(linlint.__file__)"], tmp_path)
    package = Path(where.stdout.strip()).parent
    assert package.is_relative_to(venv.parent), where.stdout  # the clone's, not this checkout
    assert (package / "py.typed").is_file() and (package / "rules").is_dir()
    done = run([venv / "linlint", "check", SAMPLES / "ll001_conv1x1_conv1x1.onnx"], tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Found 1 finding (1 warning) in 1 of 1 file." in done.stdout


@needs_clone
@needs_posix
def test_the_quick_start_installs_from_the_clone_and_lints_the_sample_models(clone, venv):
    (block,) = [b for b in code_blocks("sh") if "linlint check sample_models" in b]
    first = block.splitlines()[0]
    assert first == "pip install . && linlint check sample_models"
    installed = run([venv / "pip", "install", "-q", "."], clone, **OFFLINE)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    done = run([venv / "linlint", "check", "--no-progress", "sample_models"], clone)
    assert done.returncode == 1, done.stderr  # some sample models have warnings
    assert re.search(r"^Found \d+ findings \(.*\) in \d+ of \d+ files\.$", done.stdout, re.M)


# ----------------------------------------------------------------------------- the API


def two_convs(path: Path, *, activation: bool) -> Path:
    """A model with the README example's input, ``pixel_values`` (N x 3 x H x W): two 1x1
    convs, with a Relu between them or none."""
    rng = np.random.default_rng(0)
    weights = [
        numpy_helper.from_array(rng.normal(size=(8, 3, 1, 1)).astype(np.float32), "w1"),
        numpy_helper.from_array(rng.normal(size=(8, 8, 1, 1)).astype(np.float32), "w2"),
    ]
    middle = "r" if activation else "h"
    nodes = [helper.make_node("Conv", ["pixel_values", "w1"], ["h"], name="conv1")]
    if activation:
        nodes.append(helper.make_node("Relu", ["h"], ["r"], name="relu"))
    nodes.append(helper.make_node("Conv", [middle, "w2"], ["y"], name="conv2"))
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("pixel_values", onnx.TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["N", 8, "H", "W"])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def run_api_example(folder: Path) -> str:
    """The README's API example, as written, in ``folder`` (which holds model.onnx)."""
    example = block_with("python", 'linlint.fold("model.onnx")')
    (folder / "pyproject.toml").write_text("[tool.linlint]\n")
    done = subprocess.run(
        [sys.executable, "-c", example],
        cwd=folder,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        },
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_api_example_runs_as_written_when_nothing_folds(tmp_path):
    two_convs(tmp_path / "model.onnx", activation=True)
    printed = run_api_example(tmp_path)
    assert "[]" in printed.splitlines()  # nothing refused
    assert (tmp_path / "folded.onnx").is_file()


def test_the_api_example_runs_as_written_when_a_region_folds(tmp_path):
    two_convs(tmp_path / "model.onnx", activation=False)
    printed = run_api_example(tmp_path)
    assert printed.startswith("LL001 warning ")
    assert "verified: 1 output" in printed
    assert [n.op_type for n in onnx.load(tmp_path / "folded.onnx").graph.node] == ["Conv"]


# ----------------------------------------------------------------------------- suppression


def run_metadata_snippet(folder: Path, monkeypatch, *, whole_file: bool) -> str:
    """The few lines of onnx the README shows after a torch export, run on the dynamo sample
    (saved as the snippet's ``mobilenet_v3.onnx``) with its node name and codes made the
    sample's (two LL001 findings, on ``node_conv2d``/``_1`` and ``node_conv2d_2``/``_3``);
    the output of ``linlint check`` after it."""
    snippet = block_with("python", "linlint:ignore")
    shutil.copy(SAMPLES / "ll001_blocks_dynamo.onnx", folder / "mobilenet_v3.onnx")
    for original in ('"node_conv2d_7"', 'value="LL002"', 'value="LL005"'):
        assert original in snippet
    filled = snippet.replace('"node_conv2d_7"', '"node_conv2d_1"')
    filled = filled.replace('value="LL002"', 'value="LL001"').replace('"LL005"', '"LL001"')
    if not whole_file:
        filled = "\n".join(line for line in filled.splitlines() if "model.metadata" not in line)
    monkeypatch.chdir(folder)
    exec(compile(filled, "README.md", "exec"), {"__name__": "readme"})
    done = run(
        [sys.executable, "-m", "linlint", "check", "--isolated", "mobilenet_v3.onnx"],
        folder,
        PYTHONPATH=str(ROOT),
    )
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_the_readme_metadata_snippet_silences_the_finding_of_the_node_it_marks(
    tmp_path, monkeypatch
):
    printed = run_metadata_snippet(tmp_path, monkeypatch, whole_file=False)
    assert "Found 1 finding (1 warning) in 1 of 1 file. 1 suppressed." in printed
    assert "node_conv2d_2 → node_conv2d_3" in printed


def test_the_readme_metadata_snippet_on_the_model_silences_the_whole_file(tmp_path, monkeypatch):
    printed = run_metadata_snippet(tmp_path, monkeypatch, whole_file=True)
    assert printed == "All checked: no findings in 1 file. 2 suppressed.\n"


# ----------------------------------------------------------------------------- CI


@needs_posix
def test_the_github_actions_steps_run_as_written(tmp_path):
    """Each ``linlint`` step of the README's workflow, in a checkout with a ``models/``
    folder: annotations fail the step on a warning, the other reports exit 0 and write
    their files (the job summary, the HTML page, the SARIF log)."""
    workflow = yaml.safe_load(block_with("yaml", "runs-on"))
    steps = [s["run"] for s in workflow["jobs"]["linlint"]["steps"] if "run" in s]
    commands = [s.split("#")[0].strip() for s in steps if s.startswith("linlint ")]
    assert len(commands) == 4, steps
    (tmp_path / "models").mkdir()
    for name in ("ll001_conv1x1_conv1x1.onnx", "nm_relu_between.onnx"):
        shutil.copy(SAMPLES / name, tmp_path / "models" / name)
    summary = tmp_path / "summary.md"
    codes = []
    for command in commands:
        script = f'linlint() {{ "{sys.executable}" -m linlint "$@"; }}\n{command}\n'
        done = run(
            ["bash", "-c", script],
            tmp_path,
            PYTHONPATH=str(ROOT),
            GITHUB_STEP_SUMMARY=str(summary),
            GITHUB_ACTIONS="true",
            CI="true",
        )
        assert "Traceback" not in done.stderr, (command, done.stderr)
        codes.append(done.returncode)
        if "--format github" in command:
            assert done.stdout.startswith("::warning file=models/ll001_conv1x1_conv1x1.onnx,")
    assert codes == [1, 0, 0, 0]
    assert "LL001" in summary.read_text()
    assert (tmp_path / "linlint.html").read_text().startswith("<!DOCTYPE html>")
    assert json.loads((tmp_path / "linlint.sarif").read_text())["version"] == "2.1.0"
