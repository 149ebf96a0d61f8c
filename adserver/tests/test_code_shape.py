"""Every production function stays short: at most MAX_LINES lines, its docstring included.

Production code is every module of the project's apps and settings: not the
tests, the migrations or the benchmarks. ruff's C901, PLR0912 and PLR0915
(ruff.toml) hold the branches and statements; this holds the length.
"""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 40
NOT_PRODUCTION = {".venv", ".git", "tests", "migrations", "benchmarks", "node_modules", "var"}


def production_modules() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        parts = set(path.relative_to(ROOT).parts[:-1])
        if parts & NOT_PRODUCTION or path.name.startswith("test_") or path.name == "conftest.py":
            continue
        yield path


def long_functions(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_LINES:
                yield node.name, length


def test_no_production_function_is_longer_than_forty_lines() -> None:
    found = {
        f"{path.relative_to(ROOT).as_posix()}::{name}": length
        for path in production_modules()
        for name, length in long_functions(path)
    }
    assert found == {}, f"functions over {MAX_LINES} lines (split them): {found}"


def test_the_walk_finds_the_apps_and_leaves_out_tests_and_migrations() -> None:
    modules = {path.relative_to(ROOT).as_posix() for path in production_modules()}
    assert "spend/services.py" in modules
    assert "spend/recording/single.py" in modules
    assert not any(
        "/tests/" in m or "/migrations/" in m or m.startswith("benchmarks/") for m in modules
    )


def test_a_long_function_is_found(tmp_path: Path) -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    module = tmp_path / "long.py"
    module.write_text(f"def long():\n{body}\n", encoding="utf-8")
    assert list(long_functions(module)) == [("long", MAX_LINES + 1)]
