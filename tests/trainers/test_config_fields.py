"""Every field of every job config (nested configs too) is read by the code it configures: an option that nothing
reads (as `teacher.tv_weight` was) fails here.

How: the package's sources are parsed (ast), and a field counts as read where some code outside the config classes
themselves reads an attribute of that name (`cfg.steps`, not `cfg.steps = ...`) or asks for it with
`getattr(obj, "name", ...)`. Parsing rather than grepping skips comments, docstrings and help texts, which name
fields without reading them. It cannot tell whose attribute is read, so a field sharing its name with another
object's attribute passes: the test catches fields read nowhere, the usual way an option goes dead."""

import ast
import dataclasses
import typing
from pathlib import Path

from trainers.configs import VideoConfig
from trainers.export.onnx_export import ExportConfig
from trainers.presets import Preset

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("r2l_viewer", "trainers")


def job_configs() -> dict[type, list[str]]:
    """Each job's config dataclass and every dataclass nested in one, with its field names."""
    found: dict[type, list[str]] = {}

    def walk(cls: type) -> None:
        if cls in found:
            return
        found[cls] = [f.name for f in dataclasses.fields(cls)]
        for hint in typing.get_type_hints(cls).values():
            if dataclasses.is_dataclass(hint):
                walk(hint)

    for hint in typing.get_type_hints(Preset).values():
        if dataclasses.is_dataclass(hint):
            walk(hint)
    walk(VideoConfig)
    walk(ExportConfig)
    return found


def names_read(tree: ast.AST, skip_classes: set[str]) -> set[str]:
    """Attribute names read in `tree` (loads and getattr with a constant name), outside the classes named."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.ClassDef) and node.name in skip_classes:
            return
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            found.add(node.attr)
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)):
            found.add(node.args[1].value)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def package_reads(skip_classes: set[str]) -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found |= names_read(ast.parse(path.read_text(), str(path)), skip_classes)
    return found


def unread_fields(configs: dict[type, list[str]], reads: set[str]) -> list[str]:
    return [f"{cls.__name__}.{name}" for cls, names in configs.items() for name in names if name not in reads]


def test_every_job_config_field_is_read_by_the_code():
    configs = job_configs()
    assert {"TeacherConfig", "DistillConfig", "StudentConfig", "GridConfig", "VideoConfig"} <= {
        c.__name__ for c in configs}
    reads = package_reads({cls.__name__ for cls in configs})
    assert unread_fields(configs, reads) == []


def test_a_field_nothing_reads_is_caught():
    @dataclasses.dataclass
    class Planted:
        steps: int = 1
        a_setting_nothing_reads: float = 0.0

    configs = {Planted: [f.name for f in dataclasses.fields(Planted)]}
    assert unread_fields(configs, package_reads({"Planted"})) == ["Planted.a_setting_nothing_reads"]


def test_reads_inside_the_config_class_or_in_text_do_not_count():
    source = '''
class Cfg:
    lonely: int = 1
    def check(self):
        return self.lonely
"""cfg.in_a_docstring"""
# cfg.in_a_comment
obj.written = 3
value = obj.read_here + getattr(obj, "asked_for", 0)
'''
    assert names_read(ast.parse(source), {"Cfg"}) == {"read_here", "asked_for"}
    assert "lonely" in names_read(ast.parse(source), set())
