"""Every command ends quietly when its reader goes away and prints on a stream that cannot
encode ``→`` (issue 14, points 6 and 7), through a real shell pipe and a real cp1252 stdout.

``tests/test_output_safety.py`` closes the pipe of ``rules``, ``explain`` and ``check`` from
Python and runs ``check`` and ``rules`` under cp1252; here each other command is run as the
user types it: ``linlint … | head -n 0`` (the reader leaves before anything is written,
so every write meets a closed pipe) and ``PYTHONIOENCODING=cp1252 linlint …``.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLES

TRAIN = str(SAMPLES / "repvgg_net_train.onnx")
DEPLOY = str(SAMPLES / "repvgg_net_deploy.onnx")
REDUNDANT = str(SAMPLES / "ll001_conv1x1_conv1x1.onnx")

COMMANDS = [
    (["rules", "--format", "json"], 0),
    (["explain", "LL004"], 0),
    (["check", "--statistics", REDUNDANT], 1),
    (["check", "--show-files", str(SAMPLES)], 0),
    (["check", "--show-settings", REDUNDANT], 0),
    (["check", "--format", "github", str(SAMPLES)], 1),
    (["check", "--format", "markdown", REDUNDANT], 1),
    (["check", "--format", "sarif", REDUNDANT], 1),
    (["fold", "--diff", REDUNDANT], 1),
    (["verify", TRAIN, DEPLOY], 0),
]


def name(value) -> str | None:
    """A test id: the command line with file names only."""
    if not isinstance(value, list):
        return None
    return " ".join(os.path.basename(part) for part in value)


def environment(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LINLINT_DEBUG", "PYTHONIOENCODING", "FORCE_COLOR", "CI")
    }
    env.update(PYTHONPATH=str(ROOT), **extra)
    return env


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("head") is None, reason="bash")
@pytest.mark.parametrize(("args", "code"), COMMANDS, ids=name)
def test_a_pipe_the_reader_closed_ends_the_command_quietly_with_its_own_exit_code(args, code):
    command = shlex.join([sys.executable, "-m", "linlint", *args])
    done = subprocess.run(
        ["bash", "-c", f'{command} | head -n 0; exit "${{PIPESTATUS[0]}}"'],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.stderr == ""
    assert done.returncode == code


@pytest.mark.parametrize(
    "args",
    [
        ["explain", "LL001"],
        ["fold", "--diff", REDUNDANT],
        ["verify", TRAIN, DEPLOY],
        ["check", "--format", "markdown", REDUNDANT],
    ],
    ids=name,
)
def test_a_cp1252_stdout_gets_ascii_arrows_from_every_command(args):
    done = subprocess.run(
        [sys.executable, "-m", "linlint", *args],
        env=environment(PYTHONIOENCODING="cp1252"),
        capture_output=True,
        timeout=300,
    )
    assert done.returncode in (0, 1), done.stderr
    assert done.stderr == b""
    shown = done.stdout.decode("cp1252")
    assert "→" not in shown
    if args[0] != "verify":  # its lines have no arrow
        assert "->" in shown
