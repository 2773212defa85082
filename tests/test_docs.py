"""Docs are code: every fenced Python block in README.md and docs/*.md runs.

Blocks of one file run in order in one namespace, like a reader typing them in. A block
preceded by the line ``<!-- not-run -->`` is an illustration and is skipped.
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
BLOCK = re.compile(r"(?P<marker><!-- not-run -->\s*\n)?```python\n(?P<code>.*?)```", re.DOTALL)


def python_blocks(path: Path) -> list[tuple[int, str]]:
    text = path.read_text()
    return [(text[: m.start()].count("\n") + 1, m.group("code"))
            for m in BLOCK.finditer(text) if not m.group("marker")]


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_python_blocks_run(path, tmp_path, monkeypatch):
    blocks = python_blocks(path)
    monkeypatch.chdir(tmp_path)  # files a block writes land in a temporary folder
    namespace = {"__name__": "__docs__"}
    for line, code in blocks:
        try:
            exec(compile(code, f"{path.name}:{line}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"{path.name}, block at line {line} failed: {error!r}") from error


def test_readme_has_runnable_blocks():
    assert python_blocks(ROOT / "README.md"), "README.md should show runnable examples"
