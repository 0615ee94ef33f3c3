"""House rules that a reviewer would otherwise check by eye: functions short enough to read at once."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

LONGEST = 60  # lines, decorators excluded, docstring included


def long_functions(source: str, where: str) -> list[str]:
    """``where:name (lines)`` for each function or method in ``source`` longer than ``LONGEST`` lines."""
    return [
        f"{where}:{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > LONGEST
    ]


def test_no_function_in_the_package_is_longer_than_60_lines() -> None:
    found = [
        long
        for path in sorted((REPO / "pipeline").rglob("*.py"))
        for long in long_functions(path.read_text(), str(path.relative_to(REPO)))
    ]
    assert not found, found


def test_a_61_line_function_is_found() -> None:
    """The control: one line more than the rule allows is reported, with its name and length."""
    body = "".join(f"    x{k} = {k}\n" for k in range(LONGEST - 1))
    assert long_functions(f"def short():\n{body}", "a.py") == []
    assert long_functions(f"def long():\n{body}    y = 0\n", Path("b.py").name) == ["b.py:long (61 lines)"]
