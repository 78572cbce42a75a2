"""The Python API as a pytest user meets it (issue 14, point 15), and ``--input-shape`` as
users of onnxsim and onnxslim spell it (point 13).

The use case: a project's own test exports a model and asserts ``linlint.check(path) ==
[]``; it must agree with ``linlint check`` and the pre-commit hook (the same configuration,
the same selection), be typed (``mypy --strict`` on the user's script, against linlint laid
out as pip installs it), and ``fold`` must write its result as the command does.
"""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

import linlint
from conftest import ROOT, SAMPLES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

REDUNDANT = SAMPLES / "ll001_conv1x1_conv1x1.onnx"  # one LL001 warning; input x
BOTTLENECK = SAMPLES / "ll002_linear_bottleneck_1x1.onnx"  # one LL002 note
CLEAN = SAMPLES / "nm_relu_between.onnx"


def cli_codes(*args: str | Path, cwd: Path | None = None) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "linlint", "check", "--format", "json", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    return [record["code"] for record in json.loads(done.stdout)]


# ----------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("function", [linlint.check, linlint.fold, linlint.verify])
def test_every_function_has_an_explicit_keyword_signature_and_a_docstring(function):
    parameters = inspect.signature(function).parameters.values()
    assert not [p for p in parameters if p.kind is inspect.Parameter.VAR_KEYWORD]
    assert all(p.annotation is not inspect.Parameter.empty for p in parameters)
    assert len(inspect.getdoc(function) or "") > 200


def test_the_records_are_exported_and_the_package_is_typed():
    assert linlint.FoldResult.__name__ == "FoldResult"
    assert linlint.Costs.__name__ == "Costs"
    assert linlint.Verification.__name__ == "Verification"
    assert {"FoldResult", "Costs", "Verification", "check", "fold", "verify"} <= set(
        linlint.__all__
    )
    assert (ROOT / "linlint" / "py.typed").is_file()
    with pytest.raises(AttributeError):
        linlint.NoSuchThing  # noqa: B018


def test_check_signature_defaults_match_the_cli():
    fold = inspect.signature(linlint.fold).parameters
    assert fold["runs"].default == 2  # as `linlint fold`
    assert inspect.signature(linlint.verify).parameters["runs"].default == 1


# ----------------------------------------------------------------------------- check


def test_the_readme_pytest_example(tmp_path):
    """``assert linlint.check("model.onnx") == []``, on a clean model and a redundant one."""
    assert linlint.check(CLEAN) == []
    assert [f.code for f in linlint.check(str(REDUNDANT))] == ["LL001"]


def test_check_takes_select_and_ignore_as_the_cli_does():
    assert linlint.check(REDUNDANT, select="LL002") == []
    assert linlint.check(REDUNDANT, ignore=["LL00"]) == []
    assert [f.code for f in linlint.check(REDUNDANT, select=["LL"], ignore="LL002")] == ["LL001"]
    with pytest.raises(linlint.LinlintError, match="unknown rule code `LL999`"):
        linlint.check(REDUNDANT, select="LL999")


def test_check_reads_the_nearest_config_as_the_cli_and_pre_commit_do(tmp_path):
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    shutil.copy(REDUNDANT, project / "models" / "a.onnx")
    shutil.copy(BOTTLENECK, project / "models" / "b.onnx")
    (project / "pyproject.toml").write_text(
        '[tool.linlint]\nignore = ["LL001"]\nlevels = { LL002 = "warning" }\n'
    )
    model_a, model_b = project / "models" / "a.onnx", project / "models" / "b.onnx"
    assert linlint.check(model_a) == []
    assert cli_codes(model_a) == []
    (bottleneck,) = linlint.check(model_b)
    assert (bottleneck.code, bottleneck.level) == ("LL002", "warning")
    assert [f.code for f in linlint.check(model_a, isolated=True)] == ["LL001"]
    other = tmp_path / "other.toml"
    other.write_text('select = ["LL002"]\n')
    assert linlint.check(model_a, config=other) == []
    assert [f.code for f in linlint.check(model_b, config=other)] == ["LL002"]


def test_check_of_a_proto_uses_no_config_unless_given(tmp_path):
    proto = onnx.load(str(REDUNDANT))
    assert [f.code for f in linlint.check(proto)] == ["LL001"]
    config = tmp_path / "c.toml"
    config.write_text('ignore = ["LL001"]\n')
    assert linlint.check(proto, config=config) == []


# ----------------------------------------------------------------------------- fold


def test_fold_result_saves_through_the_external_data_writer(tmp_path):
    """Weights that stay external (the head no fold touches) go to a fresh data file."""
    model = tmp_path / "net.onnx"
    proto = onnx.load(str(SAMPLES / "repvgg_net_train.onnx"))
    onnx.save(
        proto, str(model), save_as_external_data=True, location="net.onnx.data", size_threshold=0
    )
    result = linlint.fold(model)
    assert result.changed and result.verification is not None and result.verification.ok
    assert result.before.param_ops == 9 and result.after.param_ops == 5
    assert result.save(str(tmp_path / "folded.onnx")) == tmp_path / "folded.onnx"
    written = onnx.load(str(tmp_path / "folded.onnx"), load_external_data=False)
    external = [
        t for t in written.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL
    ]
    assert external and {
        e.value for t in external for e in t.external_data if e.key == "location"
    } == {"folded.onnx.data"}
    assert (tmp_path / "net.onnx.data").is_file()  # the input's weights untouched
    assert linlint.check(tmp_path / "folded.onnx") == []
    assert linlint.verify(model, tmp_path / "folded.onnx").ok


def test_fold_follows_the_selection_and_refuses_to_save_a_failed_verification(tmp_path):
    assert not linlint.fold(REDUNDANT, ignore="LL001").changed
    result = linlint.fold(REDUNDANT, verify=False)
    assert result.verification is None
    result.verification = linlint.Verification(False, (), 1, problem="outputs differ")
    with pytest.raises(linlint.LinlintError, match="nothing written"):
        result.save(tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


# ----------------------------------------------------------------------------- point 13


@pytest.mark.parametrize("spelling", ["x:1,8,8,8", "x=1x8x8x8", "x:1x8x8x8", " x = 1, 8, 8, 8 "])
def test_input_shape_in_the_spellings_of_onnxsim_and_onnxslim(spelling):
    done = subprocess.run(
        [sys.executable, "-m", "linlint", "check", "--input-shape", spelling, REDUNDANT],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "LL001" in done.stdout


def test_an_input_the_model_does_not_have_is_an_error_listing_its_inputs(tmp_path):
    for command in (["check"], ["fold", "--diff"], ["verify", REDUNDANT]):
        done = subprocess.run(
            [sys.executable, "-m", "linlint", *command, REDUNDANT, "--input-shape", "y:1,8,8,8"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 2, (command, done.stdout, done.stderr)
        assert "input shape given for `y`, but the model has no such input (its inputs: `x`)" in (
            done.stderr
        ), command
    with pytest.raises(linlint.LinlintError, match=r"its inputs: `x`"):
        linlint.check(REDUNDANT, input_shapes={"y": (1, 8, 8, 8)})
    with pytest.raises(linlint.LinlintError, match=r"its inputs: `x`"):
        linlint.fold(REDUNDANT, input_shapes={"y": (1, 8, 8, 8)}, verify=False)


def test_a_shape_some_models_of_a_folder_have_is_fine_one_none_has_is_an_error(tmp_path):
    shutil.copy(REDUNDANT, tmp_path / "a.onnx")
    model = onnx.load(str(REDUNDANT))
    model.graph.input[0].name = "pixels"
    for node in model.graph.node:
        node.input[:] = ["pixels" if i == "x" else i for i in node.input]
    onnx.save(model, str(tmp_path / "b.onnx"))
    assert cli_codes(tmp_path, "--input-shape", "pixels:1,8,8,8") == ["LL001", "LL001"]
    done = subprocess.run(
        [sys.executable, "-m", "linlint", "check", tmp_path, "--input-shape", "z:1,8,8,8"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "no model checked has such an input (the 2 models' inputs: `x`, `pixels`)" in (
        done.stderr
    )


def test_the_config_accepts_the_comma_spelling_too(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.linlint]\ninput-shapes = { x = "1,8,8,8" }\n')
    shutil.copy(REDUNDANT, tmp_path / "m.onnx")
    assert [f.code for f in linlint.check(tmp_path / "m.onnx")] == ["LL001"]


# ----------------------------------------------------------------------------- typing


USER_TEST = '''\
"""A user's test: the model our exporter writes has no redundant linear layers."""
from pathlib import Path

import linlint


def test_model_is_clean(tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    findings: list[linlint.Finding] = linlint.check(model, select=["LL"], ignore="LL002")
    assert findings == [], [f.message for f in findings]
    result: linlint.FoldResult = linlint.fold(model, runs=2, allow_growth=False)
    costs: linlint.Costs = result.after
    saved: int = result.before.macs - costs.macs
    written: Path = result.save(tmp_path / "folded.onnx")
    if result.verification is not None:
        print(result.verification.summary(), saved)
    report: linlint.Verification = linlint.verify(model, written, runs=1, rtol=1e-5)
    assert report.ok, report.summary()
    try:
        linlint.check("missing.onnx", config=tmp_path / "pyproject.toml", isolated=False)
    except linlint.LinlintError as error:
        print(error)
'''

USER_MISTAKES = """\
import linlint

findings = linlint.check("m.onnx", selct=["LL001"])
result = linlint.fold("m.onnx")
print(result.verification.summary())
macs: str = result.before.macs
"""


def _installed_copy(site: Path) -> None:
    """linlint laid out as setuptools installs it, by pyproject.toml: each listed package's
    modules and package data (the ``rules/`` folder as ``linlint/rules``)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = config.get("package-dir", {})
    data = config.get("package-data", {})
    for package in config["packages"]:
        source = ROOT / folders.get(package, package.replace(".", "/"))
        target = site / package.replace(".", "/")
        target.mkdir(parents=True, exist_ok=True)
        for pattern in ["*.py", *data.get(package, [])]:
            for path in source.glob(pattern):
                shutil.copy(path, target / path.name)


def test_every_package_folder_is_listed_for_setuptools():
    """A folder with an ``__init__.py`` that pyproject does not list is missing from a wheel."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "linlint").rglob("__init__.py")
        if "rules" not in path.relative_to(ROOT).parts  # the rules/ folder, mapped in
    }
    assert found <= set(config["packages"])
    assert config["package-data"]["linlint"] == ["py.typed"]


def _has_mypy() -> bool:
    probe = subprocess.run([sys.executable, "-m", "mypy", "--version"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not _has_mypy(), reason="mypy is not installed (pip install -e '.[test]')")
def test_a_user_script_passes_mypy_strict_against_the_installed_package(tmp_path):
    """An environment where linlint is installed (not a source checkout on the path): mypy
    reads it only through py.typed, and sees the signatures: a typo in a keyword, an
    unchecked ``verification``, a wrong type are errors."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    _installed_copy(Path(purelib))
    (tmp_path / "test_user.py").write_text(USER_TEST)
    (tmp_path / "mistakes.py").write_text(USER_MISTAKES)

    def mypy(script: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--python-executable", python]
            + ["--cache-dir", tmp_path / "cache", "--no-error-summary", script],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
        )

    good = mypy("test_user.py")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = mypy("mistakes.py")
    assert bad.returncode == 1
    assert 'Unexpected keyword argument "selct" for "check"' in bad.stdout
    assert 'Item "None" of "Verification | None" has no attribute "summary"' in bad.stdout
    assert 'expression has type "int", variable has type "str"' in bad.stdout
