"""Output that cannot break or be abused (issue 14, points 5-10), each as the user met it.

- a node named ``x\\n::warning file=evil.onnx::injected`` in a model checked in a GitHub
  Actions log (point 5);
- ``linlint rules | head -1``: a pipe closed early (point 6);
- ``PYTHONIOENCODING=cp1252``, a Windows console or redirected stdout (point 7);
- ``FORCE_COLOR`` / ``NO_COLOR`` / ``TERM=dumb`` / ``--color`` (point 8);
- 33 warnings with ``--format github``, where GitHub shows 10 per step (point 9);
- an unreadable file with ``--format json`` (point 10).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from conftest import SAMPLES
from linlint.checking.findings import Finding, Fix
from linlint.cli.streams import use_color
from linlint.report import render
from linlint.report.escape import printable

REDUNDANT = SAMPLES / "ll001_conv1x1_conv1x1.onnx"  # nodes conv1 → conv2, output y
EVIL = "x\n::warning file=evil.onnx::injected\x1b[31m\u202e"


def linlint(*args: str | Path, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LINLINT_DEBUG", "NO_COLOR", "FORCE_COLOR", "PYTHONIOENCODING", "CI")
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "linlint", *(str(a) for a in args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        timeout=300,
    )


def evil_model(folder: Path) -> Path:
    """The redundant sample with its first node, and its output, named to inject."""
    model = onnx.load(str(REDUNDANT))
    model.graph.node[0].name = EVIL
    old = model.graph.output[0].name
    model.graph.output[0].name = EVIL + "out"
    for node in model.graph.node:
        node.output[:] = [EVIL + "out" if o == old else o for o in node.output]
    path = folder / "evil.onnx"
    onnx.save(model, str(path))
    return path


def assert_no_injection(output: bytes, *, allowed_commands: int = 0) -> None:
    text = output.decode("utf-8")
    assert "\x1b" not in text and "\u202e" not in text
    injected = [line for line in text.splitlines() if line.startswith("::")]
    assert len(injected) == allowed_commands, text
    assert all(line.startswith("::warning file=evil.onnx,") for line in injected), text


# ----------------------------------------------------------------------------- point 5


def test_printable_escapes_controls_separators_and_bidi_but_not_names():
    assert printable(EVIL) == "x\\n::warning file=evil.onnx::injected\\x1b[31m\\u202e"
    assert printable("conv1/Conv_0 → résumé 卷积") == "conv1/Conv_0 → résumé 卷积"
    assert printable("a\tb\rc\x7fd\x85e\u2028") == "a\\tb\\rc\\x7fd\\x85e\\u2028"


def test_a_node_named_to_inject_a_workflow_command_stays_data(tmp_path):
    model = evil_model(tmp_path)
    text = linlint("check", model.name, cwd=tmp_path)
    assert text.returncode == 1
    assert_no_injection(text.stdout)
    assert "x\\n::warning file=evil.onnx::injected\\x1b[31m\\u202e → conv2" in text.stdout.decode()
    github = linlint("check", "--format", "github", model.name, cwd=tmp_path)
    assert_no_injection(github.stdout, allowed_commands=1)
    folded = linlint("fold", "--diff", model.name, cwd=tmp_path)
    assert folded.returncode == 1, folded.stderr  # --diff: something would change
    assert_no_injection(folded.stdout)
    assert "LL001 folded x\\n::warning" in folded.stdout.decode()
    verified = linlint("verify", model.name, model.name, cwd=tmp_path)
    assert verified.returncode == 0
    assert_no_injection(verified.stdout)
    # JSON keeps the exact name (JSON escapes control characters itself)
    data = json.loads(linlint("check", "--format", "json", model.name, cwd=tmp_path).stdout)
    assert data[0]["nodes"] == [EVIL, "conv2"]


def test_html_reports_show_control_and_bidi_characters_escaped(tmp_path):
    model = evil_model(tmp_path)
    checked = linlint("check", "--format", "html", model.name, cwd=tmp_path)
    folded = linlint("fold", "--diff", "--report", "fold.html", model.name, cwd=tmp_path)
    assert folded.returncode == 1, folded.stderr
    for page in (checked.stdout.decode(), (tmp_path / "fold.html").read_text()):
        assert "\x1b" not in page and "\u202e" not in page
        assert "x\\n::warning file=evil.onnx::injected\\x1b[31m\\u202e" in page


def test_a_file_name_with_a_newline_stays_on_its_line(tmp_path):
    name = "evil\n::error::x.onnx"
    (tmp_path / name).write_bytes(REDUNDANT.read_bytes()[:40])  # truncated: an error line
    done = linlint("check", "--format", "github", name, cwd=tmp_path)
    assert done.returncode == 2
    for stream in (done.stdout, done.stderr):
        assert not [line for line in stream.decode().splitlines() if line.startswith("::error::")]
    assert done.stderr.decode().count("\n") == 1


# ----------------------------------------------------------------------------- point 6


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("rules",), 0),
        (("explain", "LL001"), 0),
        (("check", "--no-progress", str(SAMPLES)), 1),
        (("check", "--no-progress", "--format", "json", str(SAMPLES)), 1),
    ],
)
@pytest.mark.parametrize("read_first_line", [True, False])
def test_a_pipe_closed_early_ends_quietly(args, code, read_first_line):
    """``linlint rules | head -1``: the reader reads a line (or none) and goes away."""
    env = {k: v for k, v in os.environ.items() if k != "LINLINT_DEBUG"}
    process = subprocess.Popen(
        [sys.executable, "-m", "linlint", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    if read_first_line:
        assert process.stdout.readline()
    process.stdout.close()
    stderr = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=300) == code
    assert stderr == b""


# ----------------------------------------------------------------------------- point 7


def test_a_cp1252_stdout_gets_ascii_arrows_and_valid_json():
    text = linlint("check", REDUNDANT, PYTHONIOENCODING="cp1252")
    assert text.returncode == 1, text.stderr
    assert text.stderr == b""
    shown = text.stdout.decode("cp1252")
    assert "Conv 1x1 -> Conv 1x1 = one Conv 1x1 (8->8)" in shown
    assert "conv1 -> conv2" in shown
    rules = linlint("rules", PYTHONIOENCODING="cp1252")
    assert rules.returncode == 0, rules.stderr
    assert ">= 2 parametric ops" in rules.stdout.decode("cp1252")
    for fmt in ("json", "sarif"):
        done = linlint("check", "--format", fmt, REDUNDANT, PYTHONIOENCODING="cp1252")
        assert done.returncode == 1, done.stderr
        data = json.loads(done.stdout.decode("cp1252"))  # valid, and the same strings
        message = data[0]["message"] if fmt == "json" else data["runs"][0]["results"][0]
        assert "Conv 1x1 → Conv 1x1" in json.dumps(message, ensure_ascii=False)
    listed = json.loads(linlint("rules", "--format", "json", PYTHONIOENCODING="cp1252").stdout)
    assert listed[0]["summary"].startswith("≥ 2 parametric ops")


def test_a_handler_the_user_chose_is_kept():
    done = linlint("check", REDUNDANT, PYTHONIOENCODING="ascii:replace")
    assert "Conv 1x1 ? Conv 1x1" in done.stdout.decode("ascii")


# ----------------------------------------------------------------------------- point 8


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("choice", "env", "tty", "expected"),
    [
        ("auto", {}, True, True),
        ("auto", {}, False, False),
        ("auto", {"NO_COLOR": "1"}, True, False),
        ("auto", {"TERM": "dumb"}, True, False),
        ("auto", {"FORCE_COLOR": "1"}, False, True),
        ("auto", {"FORCE_COLOR": "1", "TERM": "dumb"}, False, True),
        ("auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False, False),
        ("auto", {"FORCE_COLOR": "0"}, False, False),
        ("always", {"NO_COLOR": "1"}, False, True),
        ("never", {"FORCE_COLOR": "1"}, True, False),
    ],
)
def test_colour_follows_the_choice_then_the_environment(monkeypatch, choice, env, tty, expected):
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    stream = _Tty() if tty else io.StringIO()
    assert use_color(choice, stream) is expected


def test_colour_on_the_command_line():
    def escapes(*args: str, **env: str) -> bool:
        return b"\x1b[" in linlint("check", *args, REDUNDANT, **env).stdout

    assert not escapes()  # piped
    assert escapes(FORCE_COLOR="1")
    assert not escapes(FORCE_COLOR="1", NO_COLOR="1")
    assert escapes("--color", "always", NO_COLOR="1")
    assert not escapes("--color", "never", FORCE_COLOR="1")
    assert not escapes("--color", "always", "--format", "json")


# ----------------------------------------------------------------------------- point 9


def _finding(level: str, index: int) -> Finding:
    fix = Fix(True, "", 2, 1, 2, 1)
    return Finding("LL001", "redundant-linear-chain", level, "m", f"m{index}.onnx", "", ("a",), fix)


def test_github_shows_10_annotations_per_level_then_says_how_many_more():
    findings = [_finding("warning", i) for i in range(33)] + [
        _finding("note", i) for i in range(12)
    ]
    errors = [("bad.onnx", "bad.onnx: not an ONNX model")]
    lines = render("github", findings, errors=errors).splitlines()
    commands = [line.split(" ", 1)[0] for line in lines]
    assert commands.count("::warning") == 10
    assert commands.count("::notice") == 10  # 9 notes and the closing notice
    assert commands.count("::error") == 1
    assert lines[-1] == (
        "::notice title=linlint::23 more warnings, 3 more notes not shown: GitHub shows 10 "
        "annotations of each level per step; see them all with `linlint check --format text` "
        "(or in the code-scanning tab when the SARIF report is uploaded)"
    )
    ten = render("github", findings[:10]).splitlines()
    assert len(ten) == 10 and all(line.startswith("::warning") for line in ten)


def test_github_format_on_the_sample_models_ends_with_the_notice():
    done = linlint("check", "--format", "github", SAMPLES)
    lines = done.stdout.decode().splitlines()
    assert sum(line.startswith("::warning ") for line in lines) == 10
    assert lines[-1].startswith("::notice title=linlint::") and "more warnings" in lines[-1]


# ----------------------------------------------------------------------------- point 10


def test_json_lists_a_file_that_could_not_be_read_as_an_io_error_record(tmp_path):
    (tmp_path / "broken.onnx").write_bytes(b"\x08\x07garbage")
    done = linlint("check", "--format", "json", REDUNDANT, tmp_path / "broken.onnx")
    assert done.returncode == 2
    records = json.loads(done.stdout)
    assert [r["code"] for r in records] == ["LL001", "LL900"]
    record = records[1]
    assert set(record) == set(records[0])  # the documented shape
    assert record["name"] == "io-error" and record["level"] == "error"
    assert record["file"] == str(tmp_path / "broken.onnx")
    assert record["message"].startswith("not an ONNX model")
    assert (record["graph"], record["nodes"], record["fix"]) == ("", [], None)
    assert done.stderr.decode().startswith("linlint: error: ")  # stderr keeps its line


def test_explain_knows_the_io_error_pseudo_rule():
    done = linlint("explain", "LL900")
    assert done.returncode == 0
    assert done.stdout.decode().startswith("LL900 io-error (level: error)\n\n")
    assert linlint("explain", "io-error").stdout == done.stdout


def test_text_and_json_render_the_same_errors_scope():
    scope_errors = [("a\nb.onnx", "a\nb.onnx: cannot read file")]
    text = render("text", [], errors=scope_errors)
    assert "could not be checked" in text
    (record,) = json.loads(render("json", [], errors=scope_errors))
    assert record["file"] == "a\nb.onnx" and record["message"] == "cannot read file"
