"""Origins: which module, class and source line a node comes from, as the PyTorch exporters
record it, and the findings that carry them (text, JSON, the message's source hint)."""

from __future__ import annotations

import json

import pytest
from onnx import helper

import linlint
from conftest import SAMPLES
from linlint.model.origins import Origin, is_library_path, origin, scopes_to_path, user_frame
from linlint.report import render

DYNAMO = SAMPLES / "ll001_blocks_dynamo.onnx"
TORCHSCRIPT = SAMPLES / "ll001_blocks_torchscript.onnx"
PLAIN = SAMPLES / "ll001_conv1x1_conv1x1.onnx"

# A frame list as torch 2.9 records it: the user's forward, torch's Sequential, the user's
# block, then torch's Linear.
TRACE = (
    'File "C:\\Users\\dev\\proj\\train.py", line 96, in forward\n'
    "    return self.network(x)\n"
    '  File "C:\\Users\\dev\\AppData\\Python312\\site-packages\\torch\\nn\\modules\\container.py",'
    " line 250, in forward\n"
    "    input = module(input)\n"
    '  File "/home/ci/work/proj/model.py", line 12, in forward\n'
    "    return self.fc(x)\n"
    '  File "/home/ci/.venv/lib/python3.11/site-packages/torch/nn/modules/linear.py", '
    "line 134, in forward\n"
    "    return F.linear(input, self.weight, self.bias)"
)


def dynamo_node(name="node_linear", **metadata):
    node = helper.make_node("Gemm", ["x", "w", "b"], ["y"], name=name)
    for key, value in metadata.items():
        node.metadata_props.add(key=key, value=value)
    return node


def meta(scopes=None, classes=None, trace=None, namespace=None) -> dict[str, str]:
    found = {
        "pkg.torch.onnx.name_scopes": scopes,
        "pkg.torch.onnx.class_hierarchy": classes,
        "pkg.torch.onnx.stack_trace": trace,
        "namespace": namespace,
    }
    return {k: v for k, v in found.items() if v is not None}


# ----------------------------------------------------------------------------- dynamo metadata


def test_dynamo_module_path_is_the_innermost_name_scope_before_the_fx_node():
    node = dynamo_node(**meta(scopes="['', 'net', 'net.0', 'linear']"))
    assert origin(node).module == "net.0"


def test_dynamo_module_class_is_aligned_with_the_name_scopes():
    classes = "['m.Net', 'torch.nn.modules.container.Sequential', 'torch.nn.modules.linear.Linear', 'aten.linear.default']"  # noqa: E501
    node = dynamo_node(**meta(scopes="['', 'net', 'net.0', 'linear']", classes=classes))
    found = origin(node)
    assert found.module_class == "torch.nn.modules.linear.Linear"
    assert found.label == "net.0 (Linear)"


def test_dynamo_source_line_is_the_innermost_frame_outside_torch():
    node = dynamo_node(**meta(scopes="['', 'fc', 'linear']", trace=TRACE))
    found = origin(node)
    assert (found.file, found.line, found.function) == (
        "/home/ci/work/proj/model.py",
        12,
        "forward",
    )
    assert found.where == "/home/ci/work/proj/model.py:12 in forward"


def test_dynamo_op_in_the_root_forward_has_the_root_module():
    node = dynamo_node(**meta(scopes="['', 'mean']", classes="['m.Net', 'aten.mean.dim']"))
    assert origin(node).module == ""
    assert origin(node).label == "<root> (Net)"


def test_dynamo_namespace_stands_in_for_the_name_scopes():
    namespace = ": m.Net/head: torch.nn.modules.linear.Linear/linear: aten.linear.default"
    found = origin(dynamo_node(**meta(namespace=namespace)))
    assert (found.module, found.module_class) == ("head", "torch.nn.modules.linear.Linear")


def test_dynamo_node_without_module_stack_keeps_its_source_line():
    found = origin(dynamo_node(**meta(scopes="['linear']", trace=TRACE)))
    assert found.module == "" and found.line == 12


def test_metadata_that_is_not_a_list_of_strings_is_no_origin():
    assert origin(dynamo_node(**meta(scopes="__import__('os')"))) is None


def test_frames_that_are_all_torch_give_no_source_line():
    trace = (
        'File "/usr/lib/python3/dist-packages/torch/nn/modules/linear.py", line 134, in forward\n'
        "    return F.linear(input, self.weight, self.bias)"
    )
    assert user_frame(trace) is None


@pytest.mark.parametrize(
    "path",
    [
        "C:\\Python312\\Lib\\site-packages\\torchvision\\models\\resnet.py",
        "/home/u/pytorch/torch/nn/modules/conv.py",
        "/usr/lib/python3.11/functools.py",
        "C:\\Python312\\Lib\\contextlib.py",
        "<eval_with_key>.3",
    ],
)
def test_library_paths_are_not_user_code(path):
    assert is_library_path(path)


@pytest.mark.parametrize("path", ["C:\\Users\\dev\\proj\\train.py", "/home/ci/work/model.py"])
def test_project_paths_are_user_code(path):
    assert not is_library_path(path)


# ----------------------------------------------------------------------------- TorchScript names


def test_torchscript_node_name_gives_the_module_path():
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="/block/expand/Conv")
    assert origin(node) == Origin("block.expand", via="node name")


def test_torchscript_scopes_of_sequential_children_are_joined_once():
    scopes = ["features", "features.2", "block", "block.2", "block.2.0"]
    assert scopes_to_path(scopes) == "features.2.block.2.0"


def test_torchscript_repeated_op_suffix_is_not_part_of_the_path():
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="/layer1/layer1.0/conv1/Conv_1")
    assert origin(node).module == "layer1.0.conv1"


def test_torchscript_parameter_name_completes_a_skipped_scope():
    """A forward that calls a grandchild (``self.features[2].block(x)``) skips the scopes
    between; the parameter keeps its full name."""
    node = helper.make_node("Conv", ["x", "features.2.block.weight"], ["y"], name="/block/Conv")
    assert origin(node).module == "features.2.block"


def test_parameter_names_count_only_in_a_pytorch_export():
    node = helper.make_node("Conv", ["x", "conv1.weight"], ["y"], name="Conv_3")
    assert origin(node) is None
    assert origin(node, torch_export=True) == Origin("conv1", via="parameter name")


def test_a_plain_node_has_no_origin():
    assert origin(helper.make_node("Conv", ["x", "w"], ["y"], name="conv1")) is None


# ----------------------------------------------------------------------------- findings


def test_dynamo_sample_findings_carry_each_nodes_origin():
    first = linlint.check(DYNAMO)[0]
    assert [(o.module, o.module_class, o.line) for o in first.origins] == [
        ("blocks.0.expand", "torch.nn.modules.conv.Conv2d", 20),
        ("blocks.0.conv", "torch.nn.modules.conv.Conv2d", 22),
    ]
    assert {o.file for o in first.origins} == {"/home/ci/work/blocks/model.py"}


def test_torchscript_sample_findings_carry_module_paths_from_node_names():
    modules = [[o.module for o in f.origins] for f in linlint.check(TORCHSCRIPT)]
    assert modules == [["blocks.0.expand", "blocks.0.conv"], ["blocks.1.expand", "blocks.1.conv"]]


def test_message_says_what_to_change_in_the_source():
    first = linlint.check(DYNAMO)[0]
    assert first.message.endswith("; no activation between `blocks.0.expand` and `blocks.0.conv`")


def test_plain_model_findings_have_no_origins_and_the_same_message():
    (finding,) = linlint.check(PLAIN)
    assert finding.origins == ()
    assert finding.message == "Conv 1x1 → Conv 1x1 = one Conv 1x1 (8→8)"


def test_text_names_modules_with_classes_then_the_source_lines(tmp_path):
    out = render("text", linlint.check(DYNAMO)[:1], root=tmp_path)
    assert out.splitlines()[1:3] == [
        "  blocks.0.expand (Conv2d) → blocks.0.conv (Conv2d)  [node_conv2d → node_conv2d_1]",
        "  at /home/ci/work/blocks/model.py:20, 22 in forward",
    ]


def test_text_of_a_torchscript_export_names_modules_without_source_lines():
    out = render("text", linlint.check(TORCHSCRIPT)[:1]).splitlines()
    assert out[1] == (
        "  blocks.0.expand → blocks.0.conv  "
        "[/blocks/blocks.0/expand/Conv → /blocks/blocks.0/conv/Conv]"
    )
    assert out[2].startswith("  fix: ")


def test_text_of_a_plain_model_is_unchanged():
    out = render("text", linlint.check(PLAIN), root=SAMPLES).splitlines()
    assert out[:2] == [
        "ll001_conv1x1_conv1x1.onnx: LL001 [*] [warning] redundant-linear-chain: "
        "Conv 1x1 → Conv 1x1 = one Conv 1x1 (8→8)",
        "  conv1 → conv2",
    ]
    assert out[2].startswith("  fix: ")


def test_json_keeps_node_names_and_adds_one_origin_per_node():
    (first, _) = json.loads(render("json", linlint.check(DYNAMO)))
    assert first["nodes"] == ["node_conv2d", "node_conv2d_1"]
    assert first["origins"][0] == {
        "module": "blocks.0.expand",
        "module_class": "torch.nn.modules.conv.Conv2d",
        "file": "/home/ci/work/blocks/model.py",
        "line": 20,
        "function": "forward",
        "via": "metadata",
    }


def test_json_origins_are_null_where_unknown():
    (finding,) = json.loads(render("json", linlint.check(PLAIN)))
    assert finding["origins"] == [None, None]


def test_explain_says_what_to_change_in_the_source():
    from linlint.rules import ALL_RULES

    assert all("## In the source" in rule.doc for rule in ALL_RULES)


def test_the_region_picture_names_where_each_drawn_node_comes_from():
    finding = linlint.check(SAMPLES / "ll001_blocks_dynamo.onnx")[0]
    drawn = {n.name: n.origin for n in finding.region.nodes if n.role == "region"}
    assert drawn["node_conv2d"].startswith("blocks.0.expand (Conv2d) at ")
    assert drawn["node_conv2d"].endswith("model.py:20 in forward")


def test_a_plain_models_picture_has_no_origins():
    finding = linlint.check(SAMPLES / "ll001_conv1x1_conv1x1.onnx")[0]
    assert all(n.origin is None for n in finding.region.nodes)
