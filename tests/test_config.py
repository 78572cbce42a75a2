"""``[tool.linlint]`` configuration and rule selection (ruff-style select / ignore / prefixes)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from linlint.checking.config import Config, discover_config, find_config, load_config
from linlint.checking.findings import Finding, Fix
from linlint.checking.selection import Layer, Settings, match_glob, parse_codes, resolve_enabled
from linlint.checking.settings import resolve_settings
from linlint.cli.app import app
from linlint.errors import LinlintError
from linlint.rules import ALL_RULES

# Every rule code.
ALL = tuple(rule.code for rule in ALL_RULES)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def finding(code: str = "LL001", level: str = "warning") -> Finding:
    return Finding(code, "name", level, "msg", "m.onnx", "", ("a", "b"), Fix(True, "", 0, 0, 0, 0))


# ----------------------------------------------------------------------------- finding the file


def test_nearest_pyproject_with_a_linlint_table_wins(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.linlint]\nignore = ["LL001"]\n')
    write(tmp_path / "a" / "pyproject.toml", "[project]\nname = 'x'\n")  # no [tool.linlint]
    model = write(tmp_path / "a" / "b" / "m.onnx", "")
    assert find_config(model) == (tmp_path / "pyproject.toml").resolve()
    write(tmp_path / "a" / "b" / "pyproject.toml", "[tool.linlint]\n")
    assert find_config(model) == (tmp_path / "a" / "b" / "pyproject.toml").resolve()


def test_isolated_run_uses_defaults_despite_a_config(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.linlint]\nignore = ["LL001"]\n')
    model = write(tmp_path / "m.onnx", "")
    assert discover_config([model]).ignore == ("LL001",)
    assert discover_config([model], isolated=True) == Config()


def test_explicit_config_file_wins_over_the_nearest(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.linlint]\nignore = ["LL001"]\n')
    other = write(tmp_path / "ci.toml", 'ignore = ["LL002"]\n')
    config = discover_config([tmp_path / "m.onnx"], explicit=other)
    assert config.ignore == ("LL002",)


def test_explicit_pyproject_reads_its_tool_table(tmp_path):
    path = write(tmp_path / "x" / "pyproject.toml", '[tool.linlint]\nselect = ["LL00"]\n')
    assert load_config(path).select == ("LL00",)


# ----------------------------------------------------------------------------- reading keys


def test_all_keys_are_read(tmp_path):
    path = write(
        tmp_path / "pyproject.toml",
        """
[tool.linlint]
select = ["LL"]
ignore = ["ll003"]
extend-select = ["LL006"]
fail-on = "note"
levels = { LL002 = "warning", LL00 = "error" }
per-file-ignores = { "models/legacy/*.onnx" = ["LL003", "LL005"] }
input-shapes = { x = [1, 3, 224, 224], mask = "1x77" }
""",
    )
    config = load_config(path)
    assert config.select == ("LL",)
    assert config.ignore == ("LL003",)
    assert config.extend_select == ("LL006",)
    assert config.fail_on == "note"
    assert config.levels == (("LL002", "warning"), ("LL00", "error"))
    assert config.per_file_ignores == (("models/legacy/*.onnx", ("LL003", "LL005")),)
    assert config.input_shapes == {"x": (1, 3, 224, 224), "mask": (1, 77)}
    assert config.base == tmp_path


def test_snake_case_keys_are_accepted(tmp_path):
    path = write(tmp_path / "pyproject.toml", '[tool.linlint]\nfail_on = "error"\n')
    assert load_config(path).fail_on == "error"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('selct = ["LL001"]', "selct"),
        ('select = ["XX1"]', "select"),
        ("ignore = 3", "ignore"),
        ('fail-on = "fatal"', "fail-on"),
        ('levels = { LL001 = "loud" }', "levels.LL001"),
        ('levels = { LL9 = "note" }', "levels.LL9"),
        ('per-file-ignores = { "*.onnx" = ["NOPE"] }', "per-file-ignores.*.onnx"),
        ("input-shapes = { x = [1, -3] }", "input-shapes.x"),
        ("input-shapes = 5", "input-shapes"),
    ],
)
def test_invalid_config_names_file_and_key(tmp_path, body, key):
    path = write(tmp_path / "pyproject.toml", f"[tool.linlint]\n{body}\n")
    with pytest.raises(LinlintError) as error:
        load_config(path)
    message = str(error.value)
    assert str(path) in message
    assert f"`tool.linlint.{key}`" in message
    assert "\n" not in message


def test_invalid_toml_names_the_file(tmp_path):
    path = write(tmp_path / "pyproject.toml", "[tool.linlint\nselect = \n")
    with pytest.raises(LinlintError, match="invalid TOML") as error:
        load_config(path)
    assert str(path) in str(error.value)


def test_missing_explicit_config_is_an_error(tmp_path):
    with pytest.raises(LinlintError, match="config file not found"):
        discover_config([tmp_path], explicit=tmp_path / "nope.toml")


# ----------------------------------------------------------------------------- selection


def test_codes_parse_as_prefixes_case_insensitively():
    assert parse_codes("ll001, LL00 ,all") == ("LL001", "LL00", "ALL")
    assert parse_codes(["LL001,LL002", "LL001"]) == ("LL001", "LL002")
    with pytest.raises(LinlintError, match="unknown rule code `LL7`"):
        parse_codes("LL7")


def test_default_enables_every_rule():
    assert resolve_enabled([]) == frozenset(ALL)


def test_select_replaces_and_extend_select_adds():
    assert resolve_enabled([Layer(select=("LL001",))]) == {"LL001"}
    assert resolve_enabled([Layer(select=("LL001",), extend_select=("LL006",))]) == {
        "LL001",
        "LL006",
    }


def test_ignore_prefix_and_specificity():
    assert resolve_enabled([Layer(ignore=("LL00",))]) == frozenset()
    assert resolve_enabled([Layer(select=("LL",), ignore=("LL003",))]) == set(ALL) - {"LL003"}
    assert resolve_enabled([Layer(select=("LL003",), ignore=("LL",))]) == {"LL003"}
    assert resolve_enabled([Layer(select=("LL001",), ignore=("LL001",))]) == frozenset()


def test_later_layer_adjusts_or_replaces_earlier_one():
    config = Layer(select=("LL001", "LL002"), ignore=("LL002",))
    assert resolve_enabled([config, Layer(extend_select=("LL005",))]) == {"LL001", "LL005"}
    assert resolve_enabled([config, Layer(ignore=("LL001",))]) == frozenset()
    assert resolve_enabled([config, Layer(select=("LL002",))]) == {"LL002"}


def test_globs_with_slash_are_relative_to_base_and_without_match_the_name(tmp_path):
    model = tmp_path / "models" / "legacy" / "old.onnx"
    assert match_glob("models/legacy/*.onnx", model, tmp_path)
    assert match_glob("models/**/*.onnx", model, tmp_path)
    assert match_glob("**/old.onnx", model, tmp_path)
    assert match_glob("old*.onnx", model, tmp_path)
    assert not match_glob("models/new/*.onnx", model, tmp_path)
    assert not match_glob("legacy/*.onnx", model, tmp_path)


def test_settings_apply_per_file_ignores_and_levels(tmp_path):
    settings = Settings(
        enabled=frozenset(ALL),
        levels=(("LL00", "error"), ("LL002", "note")),
        per_file_ignores=(("legacy/*.onnx", ("LL001",)),),
        base=tmp_path,
    )
    findings = [finding("LL001"), finding("LL002", "note"), finding("LL005")]
    kept = settings.apply(findings, tmp_path / "legacy" / "a.onnx")
    assert [(f.code, f.level) for f in kept] == [("LL002", "note"), ("LL005", "error")]
    kept = settings.apply(findings, tmp_path / "new" / "a.onnx")
    assert [f.code for f in kept] == ["LL001", "LL002", "LL005"]


def test_settings_fail_on_threshold():
    assert Settings(frozenset(), fail_on="warning").fails([finding(level="warning")])
    assert not Settings(frozenset(), fail_on="warning").fails([finding(level="note")])
    assert Settings(frozenset(), fail_on="note").fails([finding(level="note")])
    assert not Settings(frozenset(), fail_on="error").fails([finding(level="warning")])


# ----------------------------------------------------------------------------- CLI precedence


def test_cli_flags_override_config_settings(tmp_path):
    write(
        tmp_path / "pyproject.toml",
        '[tool.linlint]\nselect = ["LL001"]\nfail-on = "note"\ninput-shapes = { x = [1, 2] }\n',
    )
    model = tmp_path / "m.onnx"
    settings = resolve_settings([model])
    assert settings.enabled == {"LL001"} and settings.fail_on == "note"
    settings = resolve_settings(
        [model],
        select=("LL002",),
        fail_on="error",
        input_shapes={"x": (4, 2), "y": (3,)},
    )
    assert settings.enabled == {"LL002"}
    assert settings.fail_on == "error"
    assert settings.input_shapes == {"x": (4, 2), "y": (3,)}


def test_config_input_shapes_reach_the_checker(tmp_path, monkeypatch):
    import linlint.checking.checker

    seen = []

    def fake_check_file(path, *, input_shapes=None):
        seen.append(input_shapes)
        return [], ["x", "y"], {}

    monkeypatch.setattr(linlint.checking.checker, "check_file_details", fake_check_file)
    write(tmp_path / "pyproject.toml", "[tool.linlint]\ninput-shapes = { x = [1, 3, 8, 8] }\n")
    model = write(tmp_path / "m.onnx", "")
    result = CliRunner().invoke(
        app, ["check", "-j", "1", "--input-shape", "y=2x2", str(model)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert seen == [{"x": (1, 3, 8, 8), "y": (2, 2)}]
