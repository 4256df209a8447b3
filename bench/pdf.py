"""Portfolio PDF speed: build times of a typical and of an extreme portfolio (reportlab).

    .venv/bin/python bench/pdf.py [--runs N] [--before REV] [--profile extreme|typical]

- typical: 20 entries with short texts, a profile, an essay, one tutor summary;
- extreme: tests/integration/test_exports_on_hostile_data.py's portfolio: every field at its
  longest (essay, goals and analysis of 20,000 characters, 300 entries with a 500-character
  title and a 10,000-character note ending in a 3,000-letter "word", control characters in
  Kazakh and Russian text) and a summary with 4,000-character fields.

The builder is called in-process (no HTTP, no database: the rows are built in memory), so the
figure is reportlab's work plus ours. `--before REV` also builds with `lti_tool/portfolio/pdf.py`
as it was at git revision REV (e.g. the branch's base), in the same run, so the two figures
share the machine's load. `--profile` prints cProfile's top functions for one build.

Targets: the extreme case in a few seconds (gunicorn's worker timeout is 30 s), the typical one
well under a second.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import logging
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import types
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lti_tool import create_app
from lti_tool.extensions import services
from lti_tool.lti.models import User
from lti_tool.portfolio.models import Entry, Portfolio, Summary
from lti_tool.portfolio.service import totals_from_entries

KK = "Қазақстан Республикасының медицина университеті, әлеуметтік ғылымдар өңірі. "
RU = "Научно-практическая конференция молодых учёных «Медицина будущего», Алматы. "
TARGETS_S = {"typical": 1.0, "extreme": 5.0}


def text_of(length: int, start: str = "") -> str:
    """`length` characters of Kazakh and Russian with control characters (as the test has)."""
    body = start + "\x01\x02\x1b[31m\x7f" + (KK + RU + "\n") * (length // len(KK + RU) + 1)
    return body[:length]


def portfolio_of(size: str) -> tuple[Portfolio, list[Entry], list[Summary]]:
    """A portfolio, its entries and summaries in memory (nothing is stored)."""
    extreme = size == "extreme"
    user = User(platform_id=1, sub="s1", name="Әлия Студент")
    portfolio = Portfolio(
        platform_id=1,
        user_id=1,
        full_name=text_of(255, "Әлия ") if extreme else "Әлия Серікова",
        faculty=text_of(255) if extreme else "Жалпы медицина",
        birth_year=2004,
        admission_year=2022,
        course_year=2,
        group_name="МД-21" + ("ә" * 56 if extreme else ""),
        specialty=text_of(255) if extreme else "Общая медицина",
        essay=text_of(20_000) if extreme else text_of(1500),
        goals=text_of(20_000) if extreme else text_of(600),
        analysis=text_of(20_000) if extreme else text_of(600),
    )
    portfolio.user = user
    entries = []
    for n in range(300 if extreme else 20):
        if extreme:
            fields = {
                "title": text_of(500, "Олимпиада "),
                "when": text_of(500),
                "note": text_of(7000, "Ескерту ") + "Ы" * 3000,
            }
        else:
            fields = {
                "title": f"Олимпиада по анатомии {n}",
                "when": "2026-03-14",
                "note": "Диплом I степени, республиканский этап",
            }
        entries.append(
            Entry(
                id=n + 1,
                portfolio_id=1,
                section="achievements" if n % 4 else "chest",
                list_key="olympiads" if n % 4 else "letters",
                item_key="olympiad" if n % 4 else "thank_you_letter",
                course_year=1 + n % 6 if extreme else 1 + n % 3,
                level="republic" if n % 4 else None,
                result="first" if n % 4 else None,
                count=1,
                title=fields["title"],
                fields=fields,
                claimed_points=100,
                verified_points=100 if n % 2 else None,
                status="verified" if n % 2 else "submitted",
            )
        )
    long = 4000 if extreme else 300
    summary = Summary(
        id=1,
        portfolio_id=1,
        academic_year="2025-2026",
        course_year=2,
        group_name=portfolio.group_name,
        gpa="3.40",
        academic_level="good",
        points=100,
        achievement_level="medium",
        activity=text_of(long),
        self_development=text_of(long),
        competences=text_of(long),
        remarks=text_of(long),
        tutor_name=text_of(255) if extreme else "Тулеген Тьютор",
        head_name=text_of(255) if extreme else "Айгүл Меңгеруші",
        department=text_of(255) if extreme else "Анатомия кафедрасы",
        summary_date=date(2026, 6, 20),
    )
    return portfolio, entries, [summary]


def module_at(revision: str):
    """lti_tool/portfolio/pdf.py as it was at `revision`, imported beside today's."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{revision}:lti_tool/portfolio/pdf.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    # lti_tool/export_text.py became lti_tool/exports.py (same printable()).
    source = source.replace("from ..export_text import", "from ..exports import")
    name = "lti_tool.portfolio._pdf_before"
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "lti_tool.portfolio"
    exec(compile(source, f"{revision}:lti_tool/portfolio/pdf.py", "exec"), module.__dict__)
    return module


def build(module: types.ModuleType, app, data) -> tuple[float, float, bytes]:
    """(wall seconds, CPU seconds, the PDF) of one build."""
    from lti_tool.portfolio.labels import STATUS_NAMES
    from lti_tool.portfolio.summary import ACADEMIC_LEVELS, ACHIEVEMENT_LEVELS

    portfolio, entries, summaries = data
    from lti_tool.portfolio.web import rubric as loaded_rubric

    rubric = loaded_rubric()
    totals = totals_from_entries(entries, [])
    started, cpu = time.perf_counter(), time.process_time()
    body = module.portfolio_pdf(
        portfolio,
        entries,
        totals,
        rubric,
        summaries,
        settings=services(app).settings,
        locale="kk",
        status_names={k: str(v) for k, v in STATUS_NAMES.items()},
        level_names={
            **{k: str(v) for k, v in ACADEMIC_LEVELS.items()},
            **{k: str(v) for k, v in ACHIEVEMENT_LEVELS.items()},
        },
        gpa=None,
    )
    return time.perf_counter() - started, time.process_time() - cpu, body


def pages(body: bytes) -> int:
    """The number of pages of a PDF (reportlab writes one /Type /Page object per page)."""
    return body.count(b"/Type /Page\n") or body.count(b"/Type /Page ")


def main() -> int:
    """Build each portfolio `--runs` times with today's builder (and REV's), print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", metavar="REV", help="also time pdf.py of this revision")
    parser.add_argument("--profile", choices=("typical", "extreme"))
    parser.add_argument("--sizes", default="typical,extreme")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    data_dir = tempfile.mkdtemp(prefix="bench-pdf-")
    app = create_app(
        {
            "tool": {
                "data_dir": data_dir,
                "database_url": f"sqlite:///{data_dir}/t.db",
                "base_url": "http://127.0.0.1:5000",
            },
            "keys": {"dir": f"{data_dir}/keys"},
            "gradebook": {"worker": {"in_process": False}},
        }
    )
    from lti_tool.portfolio import pdf as today

    builders = [("now", today)]
    if args.before:
        builders.insert(0, (args.before[:12], module_at(args.before)))
    with app.test_request_context("/?lang=kk"):
        if args.profile:
            data = portfolio_of(args.profile)
            profiler = cProfile.Profile()
            profiler.enable()
            seconds, _, _ = build(today, app, data)
            profiler.disable()
            print(f"{args.profile}: {seconds:.2f} s")
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(20)
            return 0
        print(
            f"Portfolio PDF build, in-process, median of {args.runs} runs after one warm-up "
            "(fonts loaded); wall time includes the machine's other load, CPU time less so"
        )
        print(
            f"{'portfolio':<10}{'builder':<14}{'wall s':>8}{'min s':>8}{'CPU s':>8}"
            f"{'pages':>7}{'KB':>7}  target (wall)"
        )
        missed = False
        for size in args.sizes.split(","):
            data = portfolio_of(size)
            for label, module in builders:
                if size == "typical":
                    build(module, app, data)  # warm-up: registers the fonts (~0.3 s, once)
                times, cpus, body = [], [], 0
                for _ in range(args.runs):
                    seconds, cpu, body = build(module, app, data)
                    times.append(seconds)
                    cpus.append(cpu)
                median = statistics.median(times)
                verdict = ""
                if label == "now":
                    verdict = (
                        f"< {TARGETS_S[size]:g} s"
                        if median < TARGETS_S[size]
                        else f"TARGET MISSED (< {TARGETS_S[size]:g} s)"
                    )
                    missed |= median >= TARGETS_S[size]
                print(
                    f"{size:<10}{label:<14}{median:>8.2f}{min(times):>8.2f}"
                    f"{statistics.median(cpus):>8.2f}{pages(body):>7}{len(body) / 1024:>7.0f}"
                    f"  {verdict}",
                    flush=True,
                )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
