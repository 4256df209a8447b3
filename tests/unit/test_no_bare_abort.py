"""Every refusal is a ToolError (lti_tool/errors.py): its own code and a translated message."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "lti_tool"


def test_no_view_calls_flask_abort_or_raises_werkzeug_errors():
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{number}"
        for path in PACKAGE.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"(?<![\w.])abort\(|from werkzeug\.exceptions import (?!HTTPException)", line)
    ]
    assert offenders == []
