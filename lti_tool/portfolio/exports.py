"""Exports: one portfolio as JSON; a course's summary table (written as CSV and XLSX by
lti_tool/exports.py, whose to_csv and to_xlsx are importable from here too)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, tzinfo

from ..exports import NUMBER, TEXT, to_csv, to_xlsx
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


__all__ = ["COURSE_KINDS", "course_table", "portfolio_json", "to_csv", "to_xlsx"]

# The course table's columns: name, email, group, course year, specialty, then points, waiting
# entries and the day of the last update.
COURSE_KINDS = (TEXT, TEXT, TEXT, NUMBER, TEXT, *(NUMBER,) * 8)


def course_table(rows: Iterable[StudentRow], headers: Sequence[str], rubric: Rubric,
                 zone: tzinfo | None = None) -> list[list]:
    """The course summary as rows of cells (header first); the last update as a day where the
    institution is (`zone`)."""
    table: list[list] = [list(headers)]
    for row in rows:
        t = row.totals
        table.append([
            row.name, row.user.email, row.group, row.course_year or "",
            row.portfolio.specialty if row.portfolio else "",
            t.claimed_for("achievements"), t.verified_for("achievements"),
            t.claimed_for("chest"), t.verified_for("chest"),
            sum(t.marks.values()), t.claimed_total, t.verified_total, t.waiting,
            (row.last_update.astimezone(zone) if zone else row.last_update).date()
            if row.last_update else None,
        ])
    return table
