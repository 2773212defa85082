"""Links from docs/ to line ranges of the source, such as
[`run_backward`](../minigrad/tensor.py#L829-L927).

A link names its target in backticks; ``tests/test_api_docs.py`` checks that the range is
exactly that definition. When the source moves, rewrite every range in place:

    python docs/source_links.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
NAME = re.compile(r"`([\w.]+?)(?:\(\))?`")

LINK = re.compile(r"\[(?P<text>[^\]]*)\]"
                  r"\((?P<path>[^)#\s]+\.py)#L(?P<start>\d+)(?:-L(?P<end>\d+))?\)")


def source_links() -> list[tuple[Path, str, Path, int, int]]:
    links = []
    for doc in sorted(DOCS.glob("**/*.md")):
        for m in LINK.finditer(doc.read_text()):
            start = int(m.group("start"))
            end = int(m.group("end") or start)
            links.append((doc, m.group("text"), (doc.parent / m.group("path")).resolve(),
                          start, end))
    return links


def definition_range(lines: list[str], name: str) -> tuple[int, int] | None:
    """1-based (first, last) line of ``def name``/``class name`` (a method when ``name`` is
    ``Class.method``), decorators excluded, trailing blank lines excluded."""
    *outer, leaf = name.split(".")
    begin = 0
    for part in outer:  # narrow down to the class body first
        found = definition_range(lines[begin:], part)
        if found is None:
            return None
        begin += found[0]
    definition = rf"(?:async\s+)?(?:def|class)\s+{re.escape(leaf)}\b"
    pattern = re.compile(rf"^(\s*){definition}")
    if not outer:  # a module-level name: prefer the top-level definition to a method
        top = re.compile(rf"^(){definition}")
        if any(top.match(line) for line in lines):
            pattern = top
    for i in range(begin, len(lines)):
        match = pattern.match(lines[i])
        if match:
            indent = len(match.group(1))
            first = i
            while first > 0 and lines[first - 1].strip().startswith("@"):
                first -= 1  # decorators belong to the definition
            header_end = i  # a signature may span several lines, up to its colon
            while not lines[header_end].split("#")[0].rstrip().endswith(":"):
                header_end += 1
            last = header_end
            for j in range(header_end + 1, len(lines)):
                if not lines[j].strip():
                    continue
                if len(lines[j]) - len(lines[j].lstrip()) <= indent:
                    break
                last = j
            return first + 1, last + 1
    return None




def _fixed(doc: Path, m: re.Match) -> str:
    """Link ``m`` of ``doc`` with the current line range of the definition it names."""
    name = NAME.search(m.group("text"))
    target = (doc.parent / m.group("path")).resolve()
    if not name or not target.is_file():
        return m.group(0)
    found = definition_range(target.read_text().splitlines(), name.group(1))
    if found is None:
        return m.group(0)
    return f"[{m.group('text')}]({m.group('path')}#L{found[0]}-L{found[1]})"


def update_links() -> int:
    """Point every link at its definition's current lines; return how many changed."""
    changed = 0
    for doc in sorted(DOCS.glob("**/*.md")):
        text = doc.read_text()
        links = list(LINK.finditer(text))
        new_text = LINK.sub(lambda m, doc=doc: _fixed(doc, m), text)
        changed += sum(_fixed(doc, m) != m.group(0) for m in links)
        if new_text != text:
            doc.write_text(new_text)
    return changed


if __name__ == "__main__":
    print(f"updated {update_links()} links")
    sys.exit(0)
