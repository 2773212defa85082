"""The docs match the code: every public name is documented in docs/api.md, and every link
from docs/ to a line range of the source still points at the definition it names."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from pathlib import Path

import pytest

import minigrad as mg

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
API = DOCS / "api.md"

sys.path.insert(0, str(DOCS))
from source_links import definition_range, source_links  # noqa: E402

# ---------------------------------------------------------------------------------------
# Every public name is in docs/api.md, in the section of its module or class
# ---------------------------------------------------------------------------------------

MODULES = [
    "minigrad", "minigrad.autograd", "minigrad.gradcheck", "minigrad.serialization",
    "minigrad.nn", "minigrad.nn.functional", "minigrad.nn.init", "minigrad.nn.utils",
    "minigrad.optim", "minigrad.optim.lr_scheduler",
    "minigrad.data", "minigrad.data.datasets",
    "minigrad.viz", "minigrad.lab.testfunctions", "minigrad.lab.compare",
    "minigrad.catalogue.checks", "minigrad.catalogue.cases", "minigrad.training",
]
CLASSES = {
    "minigrad.Tensor": mg.Tensor,
    "minigrad.Function": mg.Function,
    "minigrad.nn.Module": mg.nn.Module,
    "minigrad.optim.Optimizer": mg.optim.Optimizer,
    "minigrad.optim.lr_scheduler.LRScheduler": mg.optim.lr_scheduler.LRScheduler,
}


def public_names(module_name: str) -> list[str]:
    """``__all__`` when the module has one; otherwise the public functions, classes and
    instances of its own classes defined in it (not what it imports)."""
    module = importlib.import_module(module_name)
    if hasattr(module, "__all__"):
        return list(module.__all__)
    own_classes = tuple(o for o in vars(module).values()
                        if inspect.isclass(o) and o.__module__ == module_name)
    names = []
    for name, obj in vars(module).items():
        if name.startswith("_"):
            continue
        defined_here = ((inspect.isclass(obj) or inspect.isfunction(obj))
                        and obj.__module__ == module_name)
        if defined_here or (own_classes and isinstance(obj, own_classes)):
            names.append(name)
        elif name.isupper() and isinstance(obj, dict | list | tuple):  # OPTIMIZERS, CATALOGUE
            names.append(name)
    return names


def class_members(cls: type) -> list[str]:
    return [name for name in dir(cls) if not name.startswith("_")]


def section(text: str, title: str) -> str:
    """The part of api.md under the heading that names ``title`` in backticks, up to the
    next heading of the same or a higher level."""
    heading = re.compile(rf"^(#+) .*`{re.escape(title)}`.*$", re.MULTILINE)
    match = heading.search(text)
    if match is None:
        return ""
    level = len(match.group(1))
    end = re.compile(rf"^#{{1,{level}}} ", re.MULTILINE).search(text, match.end())
    return text[match.end(): end.start() if end else len(text)]


def is_documented(name: str, text: str) -> bool:
    """``name`` starts a code span, maybe after a dotted prefix: `name`, `name(...)`,
    `.name` (a member), `module.name`."""
    return re.search(rf"`\.?(?:[\w.]+\.)?{re.escape(name)}(?![\w])", text) is not None


CASES = [(m, n) for m in MODULES for n in public_names(m)] + [
    (title, n) for title, cls in CLASSES.items() for n in class_members(cls)]


def test_the_api_page_covers_many_names():
    assert len(CASES) > 300  # the inventory itself works: a broken walk finds nothing


@pytest.mark.parametrize("where", [*MODULES, *CLASSES])
def test_every_public_name_is_documented(where):
    text = API.read_text()
    body = section(text, where)
    assert body, f"docs/api.md has no heading naming `{where}`"
    names = public_names(where) if where in MODULES else class_members(CLASSES[where])
    missing = [n for n in names if not is_documented(n, body)]
    assert not missing, f"docs/api.md, section `{where}`, does not document: {missing}"


def test_the_inventory_sees_a_missing_name():
    text = "## `minigrad.fake`\n\n`alpha(x)` does a thing; `beta` too.\n\n## `other`\n`gamma`\n"
    body = section(text, "minigrad.fake")
    assert is_documented("alpha", body) and is_documented("beta", body)
    assert is_documented("delta", "`.delta(x)`") and is_documented("eps", "`mg.nn.eps`")
    assert not is_documented("gamma", body) and not is_documented("alph", body)


# ---------------------------------------------------------------------------------------
# Links into the source point at what they name
# ---------------------------------------------------------------------------------------

LINKS = source_links()


def test_docs_link_into_the_source():
    assert len(LINKS) >= 15


@pytest.mark.parametrize("doc, text, target, start, end", LINKS,
                         ids=[f"{d.name}:{t}" for d, t, *_ in LINKS])
def test_source_link_points_at_its_definition(doc, text, target, start, end):
    assert target.is_file(), f"{doc.name}: link [{text}] to a missing file {target}"
    name = re.search(r"`([\w.]+?)(?:\(\))?`", text)
    assert name, f"{doc.name}: link [{text}] into {target.name} must name its target `like_this`"
    lines = target.read_text().splitlines()
    found = definition_range(lines, name.group(1))
    assert found, f"{doc.name}: {name.group(1)} is not defined in {target.name}"
    assert (start, end) == found, (
        f"{doc.name}: [{text}] points at lines {start}-{end} of {target.name}, but "
        f"{name.group(1)} is now at lines {found[0]}-{found[1]}: "
        f"use #L{found[0]}-L{found[1]}")


def test_definition_range_follows_a_method():
    lines = ["class A:", "    def f(self):", "        return 1", "", "    @staticmethod",
             "    def g(", "        x,", "    ) -> int:", "        return 2", "", "",
             "def f():", "    pass"]
    assert definition_range(lines, "A") == (1, 9)
    assert definition_range(lines, "A.g") == (5, 9)  # decorator and long signature included
    assert definition_range(lines, "f") == (12, 13)  # the function, not the method A.f
    assert definition_range(lines, "A.f") == (2, 3)
    assert definition_range(lines, "h") is None
