"""The KazNMU rubric file: every row of the portfolio regulations' tables scores as domain.md
says; bad files are refused with a message that names the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from lti_tool.portfolio.entries import check_entry
from lti_tool.portfolio.rubric import RubricError, load_rubric, parse_rubric
from lti_tool.settings import PROJECT_ROOT

RUBRIC_FILE = PROJECT_ROOT / "config" / "rubrics" / "kaznmu.yaml"
LEVELS = ("international", "republic", "university")
SOCIAL = ("city", "university", "faculty")


@pytest.fixture(scope="module")
def rubric():
    return load_rubric(RUBRIC_FILE)


# (list, item, result, points by level) for every levelled row of domain.md section 1.
LEVELLED = [
    ("olympiads", "olympiad", "first", (150, 100, 85)),
    ("olympiads", "olympiad", "second", (120, 85, 75)),
    ("olympiads", "olympiad", "third", (100, 75, 50)),
    ("olympiads", "olympiad", "honours", (50, 50, 50)),
    ("olympiads", "olympiad", "participation", (30, 30, 30)),
    ("conferences", "conference", "committee", (80, 50, 50)),
    ("conferences", "conference", "talk", (130, 100, 85)),
    ("conferences", "conference", "publication", (100, 75, 70)),
    ("conferences", "conference", "participation", (30, 30, 30)),
    ("articles", "article", "published", (50, 20, 10)),
    ("sports", "sports_competition", "first", (150, 100, 85)),
    ("sports", "sports_competition", "second", (120, 85, 75)),
    ("sports", "sports_competition", "third", (100, 75, 50)),
    ("sports", "sports_competition", "participation", (30, 30, 30)),
    ("creative", "creative", "first", (150, 100, 85)),
    ("creative", "creative", "second", (120, 85, 75)),
    ("creative", "creative", "third", (100, 75, 50)),
    ("creative", "creative", "honours", (50, 50, 50)),
    ("creative", "creative", "participant", (30, 30, 30)),
]
SOCIAL_ROWS = [
    ("self_government", "self_government", "leader", (200, 150, 100)),
    ("self_government", "self_government", "member", (80, 70, 50)),
]
# (list, item, points for one, counted?)
FLAT = [
    ("electives", "elective", 10, True),
    ("articles", "tv_programme", 50, False),
    ("sports", "sports_club", 20, False),
    ("self_government", "dean_event", 20, False),
    ("self_government", "organised_event", 80, False),
    ("essays", "essay_reviewed", 30, False),
    ("self_check", "goals_fulfilled", 50, False),
    ("self_development", "self_development_event", 5, True),
    ("letters", "thank_you_letter", 20, True),
    ("self_development", "foreign_language", 50, False),
    ("self_development", "additional_study", 20, True),
]


@pytest.mark.parametrize("list_key, item, result, points", LEVELLED)
def test_levelled_rows(rubric, list_key, item, result, points):
    for level, expected in zip(LEVELS, points, strict=False):
        assert rubric.points(list_key, item, level, result) == expected, level


@pytest.mark.parametrize("list_key, item, result, points", SOCIAL_ROWS)
def test_social_activity_uses_city_university_faculty(rubric, list_key, item, result, points):
    for level, expected in zip(SOCIAL, points, strict=False):
        assert rubric.points(list_key, item, level, result) == expected
    with pytest.raises(ValueError):
        rubric.points(list_key, item, "international", result)


@pytest.mark.parametrize("list_key, item, points, counted", FLAT)
def test_flat_rows_and_counted_items_multiply(rubric, list_key, item, points, counted):
    assert rubric.points(list_key, item, None, None) == points
    assert rubric.points(list_key, item, None, None, 3) == (points * 3 if counted else points)


def test_design_mark_is_the_tutors_10_to_30(rubric):
    mark = rubric.tutor_marks["design"]
    assert (mark.min, mark.max) == (10, 30)


def test_every_section_ii_list_of_the_seed_is_there(rubric):
    assert [lst.key for lst in rubric.lists_of("achievements")] == [
        "olympiads", "electives", "conferences", "projects", "articles", "self_government",
        "sports", "creative", "self_development"]
    assert {lst.key for lst in rubric.lists_of("chest")} == {
        "favourites", "essays", "reviews", "letters", "self_check", "photos", "reading"}
    # Every name a person reads exists in the three languages.
    for entry_list in rubric.lists.values():
        for names in [entry_list.names, *(c.names for c in entry_list.columns),
                      *(i.names for i in entry_list.items)]:
            assert names.kk and names.ru and names.en


def test_wrong_combinations_are_refused(rubric):
    with pytest.raises(ValueError):
        rubric.points("olympiads", "olympiad", "galactic", "first")
    with pytest.raises(ValueError):
        rubric.points("olympiads", "olympiad", "republic", "leader")
    with pytest.raises(ValueError):
        rubric.points("olympiads", "sports_club", None, None)
    with pytest.raises(ValueError):
        rubric.points("electives", "elective", None, None, 0)


def test_entry_form_check(rubric):
    olympiads = rubric.lists["olympiads"]
    data, errors = check_entry(rubric, olympiads, {
        "course_year": "3", "level": "international", "result": "second",
        "f_title": " Olympiad ", "f_note": "diploma"})
    assert not errors and data.title == "Olympiad" and data.course_year == 3
    _, errors = check_entry(rubric, olympiads, {"course_year": "6", "level": "city",
                                                "result": "x", "f_title": ""})
    assert set(errors) == {"course_year", "level", "result", "f_title"}
    electives = rubric.lists["electives"]
    _, errors = check_entry(rubric, electives, {"course_year": "1", "count": "0",
                                                "f_title": "Latin", "f_hours": "many"})
    assert set(errors) == {"count", "f_hours"}
    sports = rubric.lists["sports"]
    _, errors = check_entry(rubric, sports, {"course_year": "1", "item": "",
                                             "f_title": "Cup", "f_date": "31.12.2025"})
    assert set(errors) == {"item", "f_date"}


def _raw():
    return yaml.safe_load(RUBRIC_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("change, message", [
    (lambda d: d["lists"]["olympiads"]["items"]["olympiad"]["results"]["first"]["points"]
     .pop("republic"), "lists.olympiads.items.olympiad.results.first.points"),
    (lambda d: d["lists"]["electives"]["names"].pop("kk"), "missing kk"),
    (lambda d: d["lists"]["olympiads"].update(section="appendix"), "lists.olympiads.section"),
    (lambda d: d["lists"]["olympiads"]["items"]["olympiad"].update(levels="galactic"),
     "no level set 'galactic'"),
    (lambda d: d["lists"]["reading"]["columns"].pop(0), "key: title"),
    (lambda d: d["tutor_marks"]["design"].update(min=40), "max is below min"),
    (lambda d: d["lists"]["electives"]["items"]["elective"].update(points=-5), "whole number"),
    (lambda d: d.update(colour="red"), "unknown keys colour"),
    (lambda d: d["lists"]["sports"]["items"]["sports_club"].update(results={}),
     "either points"),
])
def test_a_bad_rubric_file_names_the_problem(change, message):
    data = copy.deepcopy(_raw())
    change(data)
    with pytest.raises(RubricError) as err:
        parse_rubric(data, "config/rubrics/other.yaml")
    assert "config/rubrics/other.yaml" in str(err.value)
    assert message in str(err.value)


def test_another_institution_ships_its_own_file(tmp_path):
    data = _raw()
    data["id"] = "other_university"
    data["lists"]["projects"]["items"]["project_competition"] = {
        "names": {"kk": "Жоба", "ru": "Проект", "en": "Project"}, "levels": "academic",
        "results": {"winner": {"names": {"kk": "Жеңімпаз", "ru": "Победитель", "en": "Winner"},
                               "points": {"international": 90, "republic": 60,
                                          "university": 40}}}}
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    other = load_rubric(path)
    assert other.id == "other_university"
    assert other.points("projects", "project_competition", "republic", "winner") == 60


def test_missing_or_broken_file_is_reported(tmp_path):
    with pytest.raises(RubricError, match="not found"):
        load_rubric(tmp_path / "nope.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("lists: [unclosed", encoding="utf-8")
    with pytest.raises(RubricError, match="not valid YAML"):
        load_rubric(broken)


def test_an_entrys_course_year_defaults_from_its_date_and_a_different_one_needs_a_note(rubric):
    """Issue 13: admitted in 2023, a competition on 2025-09-01 (Almaty) is course year 3."""
    from lti_tool.calendar import AcademicCalendar, StudentYears

    calendar, student = AcademicCalendar(), StudentYears(admission_year=2023)
    year_of = lambda day: calendar.course_year(day, student)  # noqa: E731
    sports = rubric.lists["sports"]
    base = {"item": "sports_competition", "level": "university", "result": "first",
            "f_title": "Cup", "f_date": "2025-09-01"}
    data, errors = check_entry(rubric, sports, {**base, "course_year": ""}, year_of)
    assert not errors and data.course_year == 3 and data.year_note == ""
    data, errors = check_entry(rubric, sports, {**base, "course_year": "3"}, year_of)
    assert not errors and data.course_year == 3
    # The last day of 2024-2025 is course year 2.
    data, _ = check_entry(rubric, sports, {**base, "course_year": "", "f_date": "2025-08-31"},
                          year_of)
    assert data.course_year == 2
    # Another year than the date's: refused without a note, kept with one.
    _, errors = check_entry(rubric, sports, {**base, "course_year": "2"}, year_of)
    assert set(errors) == {"course_year", "year_note"}
    assert "falls in your course year 3" in errors["course_year"]
    data, errors = check_entry(rubric, sports, {**base, "course_year": "2",
                                                "year_note": "Results announced late"}, year_of)
    assert not errors and (data.course_year, data.year_note) == (2, "Results announced late")
    # No date, or no calendar: the chosen year, and a note is not kept.
    data, errors = check_entry(rubric, sports, {**base, "course_year": "4", "f_date": "",
                                                "year_note": "x"}, year_of)
    assert not errors and (data.course_year, data.year_note) == (4, "")
    _, errors = check_entry(rubric, sports, {**base, "course_year": ""})
    assert set(errors) == {"course_year"}
