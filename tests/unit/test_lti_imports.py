"""The LTI core knows no product: nothing under lti_tool/lti/ imports a domain package.

Domains register what they can place with the core (lti/placements.py) from their own
init_app; an import the other way round would bring the cycle back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lti_tool

PACKAGE = Path(lti_tool.__file__).parent
DOMAINS = ("portfolio", "teachhub", "gradebook", "home", "evidence")


def imported_modules(source: str, package: str) -> list[str]:
    """Absolute names of the modules a source imports, anywhere in it (function bodies too);
    `package` is the dotted package the source lives in, for its relative imports."""
    parts = package.split(".")
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            # `from .. import portfolio` names the package in the alias.
            names += [module] if node.module else [f"{module}.{a.name}" for a in node.names]
    return names


def domain_imports(source: str, package: str = "lti_tool.lti") -> list[str]:
    """The imports of a source that reach into a domain package."""
    return [
        name
        for name in imported_modules(source, package)
        if any(name == f"lti_tool.{d}" or name.startswith(f"lti_tool.{d}.") for d in DOMAINS)
    ]


@pytest.mark.parametrize("path", sorted((PACKAGE / "lti").glob("*.py")), ids=lambda p: p.name)
def test_lti_core_imports_no_domain(path: Path) -> None:
    assert domain_imports(path.read_text(encoding="utf-8")) == []


def test_the_check_sees_relative_and_late_imports() -> None:
    source = (
        "from ..teachhub.placement import x\nfrom .. import home\n"
        "def f():\n    import lti_tool.gradebook.ags\n    from .models import Platform\n"
    )
    assert domain_imports(source) == [
        "lti_tool.teachhub.placement",
        "lti_tool.home",
        "lti_tool.gradebook.ags",
    ]
