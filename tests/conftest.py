"""Shared fixtures: the sample models and their promises."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_models"


def load_build():
    name = "linlint_sample_models_build"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SAMPLES / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def expected():
    return load_build().EXPECTED


@pytest.fixture
def sample():
    def path(stem: str) -> Path:
        return SAMPLES / f"{stem}.onnx"

    return path
