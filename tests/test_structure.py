"""The shape of the code that STYLE.md asks for, checked so that it stays true."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def test_the_axes_app_is_a_leaf_that_imports_nothing_from_projects():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in (ROOT / "axes").rglob("*.py")
        for module in imported_modules(path)
        if module == "projects" or module.startswith("projects.")
    ]
    assert offenders == []


def test_the_check_itself_sees_an_import_of_projects(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from projects.models import Project\nimport os\n")
    assert list(imported_modules(sample)) == ["projects.models", "os"]
