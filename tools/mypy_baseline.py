"""mypy against a baseline that may only shrink: `make lint` fails when the count goes up.

    python tools/mypy_baseline.py           # fails if mypy finds more errors than the baseline
    python tools/mypy_baseline.py --update  # after fixing errors (or merging): write the new count

The baseline is one number in tools/mypy-baseline.txt (mypy's settings: pyproject.toml
[tool.mypy]). When the count goes down, the check passes and says to lower the baseline, so that
the errors fixed stay fixed.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "tools" / "mypy-baseline.txt"
SUMMARY = re.compile(r"^Found (\d+) errors? in \d+ files?")


def count_errors() -> tuple[int, str]:
    """Run mypy (settings from pyproject.toml); the number of errors and its whole output."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    output = done.stdout + done.stderr
    if done.returncode == 0:
        return 0, output
    for line in reversed(output.splitlines()):
        if found := SUMMARY.match(line):
            return int(found.group(1)), output
    sys.exit(f"mypy failed without a summary (exit {done.returncode}):\n{output}")


def main() -> int:
    """Compare with (or with --update, write) the baseline; the exit status for make."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="write the current count")
    args = parser.parse_args()
    errors, output = count_errors()
    if args.update:
        BASELINE.write_text(f"{errors}\n", encoding="utf-8")
        print(f"mypy baseline: {errors} errors, written to {BASELINE.relative_to(ROOT)}")
        return 0
    baseline = int(BASELINE.read_text(encoding="utf-8").split()[0])
    if errors > baseline:
        print(output, end="")
        print(
            f"mypy: {errors} errors, more than the baseline of {baseline}: fix the new ones "
            "(the list is above); the count may only go down.",
            file=sys.stderr,
        )
        return 1
    if errors < baseline:
        print(
            f"mypy: {errors} errors, fewer than the baseline of {baseline}: run "
            "`.venv/bin/python tools/mypy_baseline.py --update` and commit it."
        )
    else:
        print(f"mypy: {errors} errors, as the baseline.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
