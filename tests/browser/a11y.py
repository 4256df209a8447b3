"""axe-core in the tool's frame: accessibility violations of a page, by rule and impact.

axe-core comes from npm (`make axe` installs the pinned version into .venv/node). It is
evaluated through the DevTools protocol, not added as a <script> tag: the tool's CSP allows no
inline script, and a test must not weaken it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

AXE_JS = Path(__file__).resolve().parents[2] / ".venv/node/node_modules/axe-core/axe.min.js"
# WCAG 2.1 A and AA, and axe's best practices: "any violation of any impact".
RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({id: v.id, impact: v.impact,
    nodes: v.nodes.map(n => n.target.join(" ") + " :: " + n.failureSummary.split("\\n")[1])}));
}"""


# axe-core's rules do not depend on the page's language: a page shown in Kazakh and Russian at a
# phone's and a desktop's width is checked once per width, on the phone in Kazakh and on the
# desktop in Russian. The checks that depend on the words (fitting the screen) run in both.
AXE_LANGUAGE_AT_WIDTH = {390: "kk", 1280: "ru"}


def axe_checks(locale: str, width: dict) -> bool:
    """Whether a page shown in `locale` at `width` gets axe-core's rules (AXE_LANGUAGE_AT_WIDTH)."""
    return AXE_LANGUAGE_AT_WIDTH.get(width["width"]) == locale


@cache
def _source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"axe-core is not installed at {AXE_JS}: run `make axe`", pytrace=False)
    return AXE_JS.read_text()


def axe_violations(frame) -> list[dict]:
    """axe-core's violations on the frame's current page: [{id, impact, nodes}]."""
    if not frame.evaluate("typeof window.axe !== 'undefined'"):
        frame.evaluate(_source() + "\n;void 0")
    return frame.evaluate(RUN)
