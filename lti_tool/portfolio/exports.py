"""Exports: one portfolio as JSON; a course's summary table as CSV and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from ..export_text import cell, printable
from .course import StudentRow
from .models import Entry, Portfolio, Summary, TutorMark
from .rubric import Rubric
from .service import Totals


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value else None


def portfolio_json(portfolio: Portfolio, entries: Sequence[Entry], marks: Sequence[TutorMark],
                   summaries: Sequence[Summary], totals: Totals, rubric: Rubric,
                   gpa: dict | None) -> dict:
    """Everything in a portfolio as plain data (files as metadata with their SHA-256)."""
    user = portfolio.user
    return {
        "format": "lti-tool-portfolio/1",
        "rubric": rubric.id,
        "owner": {"platform_id": portfolio.platform_id, "sub": user.sub, "name": user.display_name,
                  "email": user.email},
        "portrait": {
            "full_name": portfolio.full_name, "birth_year": portfolio.birth_year,
            "admission_year": portfolio.admission_year, "faculty": portfolio.faculty,
            "course_year": portfolio.course_year, "group": portfolio.group_name,
            "specialty": portfolio.specialty, "essay": portfolio.essay, "goals": portfolio.goals,
            "analysis": portfolio.analysis,
            "versions": {"profile": portfolio.profile_version, "essay": portfolio.essay_version,
                         "goals": portfolio.goals_version},
        },
        "gpa_by_course_year": {str(k): (None if v.gpa is None else str(v.gpa))
                               for k, v in (gpa or {}).items()},
        "entries": [{
            "id": e.id, "section": e.section, "list": e.list_key, "item": e.item_key,
            "course_year": e.course_year, "level": e.level, "result": e.result, "count": e.count,
            "title": e.title, "fields": e.fields, "claimed_points": e.claimed_points,
            "verified_points": e.verified_points, "status": e.status,
            "created_at": _iso(e.created_at), "updated_at": _iso(e.updated_at),
            "evidence": [{"id": f.id, "name": f.original_name, "content_type": f.content_type,
                          "size": f.size, "sha256": f.sha256} for f in e.evidence],
            "decisions": [{"action": d.action, "from": d.from_status, "to": d.to_status,
                           "by": d.actor_name, "at": _iso(d.created_at), "comment": d.comment,
                           "points": d.points} for d in e.decisions],
        } for e in entries],
        "tutor_marks": [{"mark": m.mark_key, "course_year": m.course_year, "points": m.points,
                         "by": m.tutor_name} for m in marks],
        "totals": {"claimed": totals.claimed_total, "verified": totals.verified_total},
        "summaries": [{
            "academic_year": s.academic_year, "course_year": s.course_year, "group": s.group_name,
            "gpa": s.gpa, "academic_level": s.academic_level, "points": s.points,
            "achievement_level": s.achievement_level, "activity": s.activity,
            "self_development": s.self_development, "competences": s.competences,
            "remarks": s.remarks, "tutor": s.tutor_name, "head_of_department": s.head_name,
            "department": s.department, "date": _iso(s.summary_date),
        } for s in summaries],
    }


def course_table(rows: Iterable[StudentRow], headers: Sequence[str],
                 rubric: Rubric) -> list[list]:
    """The course summary as rows of cells (header first)."""
    table: list[list] = [list(headers)]
    for row in rows:
        t = row.totals
        table.append([
            row.name, row.user.email, row.group, row.course_year or "",
            row.portfolio.specialty if row.portfolio else "",
            t.claimed_for("achievements"), t.verified_for("achievements"),
            t.claimed_for("chest"), t.verified_for("chest"),
            sum(t.marks.values()), t.claimed_total, t.verified_total, t.waiting,
            row.last_update.strftime("%Y-%m-%d") if row.last_update else "",
        ])
    return table


def to_csv(table: Sequence[Sequence]) -> bytes:
    """UTF-8 CSV with a BOM (Excel then reads Cyrillic right), formulas neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in table:
        writer.writerow([cell(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Sequence[Sequence], sheet_title: str) -> bytes:
    """An XLSX workbook with one sheet, a bold header and sensible column widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "".join(ch for ch in printable(sheet_title)
                          if ch not in '[]:*?/\\')[:31] or "Portfolio"
    for row in table:
        sheet.append([cell(v) for v in row])
    for header in sheet[1]:
        header.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(40, max(8, width + 2))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
