"""Loading the grade scale and thresholds: the shipped files, and clear errors for broken ones."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from lti_tool import create_app
from lti_tool.gradebook.policy import (
    GradingPolicyError,
    load_policy,
    load_scale,
    parse_levels,
    parse_progression,
    parse_scale,
)
from lti_tool.settings import PROJECT_ROOT, SettingsError, load as load_settings

SCALE_FILE = PROJECT_ROOT / "config" / "grade_scales" / "kz.yaml"
SHIPPED = yaml.safe_load(SCALE_FILE.read_text(encoding="utf-8"))


def scale_data() -> dict:
    """A fresh copy of the shipped scale to break."""
    return copy.deepcopy(SHIPPED)


def row(data: dict, letter: str) -> dict:
    return next(r for r in data["rows"] if r["letter"] == letter)


def test_the_shipped_scale_has_every_row_of_the_table():
    scale = load_scale(SCALE_FILE)
    assert [(b.letter, b.points, b.min_percent, b.max_percent) for b in scale.bands] == [
        ("A", Decimal("4.0"), 95, 100), ("A-", Decimal("3.67"), 90, 94),
        ("B+", Decimal("3.33"), 85, 89), ("B", Decimal("3.0"), 80, 84),
        ("B-", Decimal("2.67"), 75, 79), ("C+", Decimal("2.33"), 70, 74),
        ("C", Decimal("2.0"), 65, 69), ("C-", Decimal("1.67"), 60, 64),
        ("D+", Decimal("1.33"), 55, 59), ("D", Decimal("1.0"), 50, 54),
        ("FX", Decimal("0.5"), 25, 49), ("F", Decimal("0.0"), 0, 24)]
    traditional = {b.letter: b.traditional["ru"] for b in scale.bands}
    assert traditional["A-"] == "Отлично" and traditional["B-"] == "Хорошо"
    # C+ is "good" on the national scale the dual-training rules cites; C is the first
    # "satisfactory".
    assert traditional["C+"] == "Хорошо" and traditional["C"] == "Удовлетворительно"
    assert traditional["D"] == "Удовлетворительно" and traditional["FX"] == "Неудовлетворительно"
    assert all(set(b.traditional) == {"kk", "ru", "en"} for b in scale.bands)
    assert scale.percent_rounding == "half_up"


def test_rows_may_come_in_any_order():
    data = scale_data()
    data["rows"].reverse()
    assert parse_scale(data, "t.yaml").bands[0].letter == "A"


def test_traditional_names_may_be_given_inline():
    data = scale_data()
    row(data, "A")["traditional"] = {"kk": "Үздік", "ru": "Отлично", "en": "Excellent"}
    assert parse_scale(data, "t.yaml").bands[0].traditional["kk"] == "Үздік"


@pytest.mark.parametrize("breakage, message", [
    (lambda d: row(d, "B").update(min_percent=81),
     "row 4 (B): gap: it starts at 81 but row 5 (B-) ends at 79, so 80 has no letter"),
    (lambda d: row(d, "B").update(min_percent=83), "so 80-82 has no letter"),
    (lambda d: row(d, "B").update(max_percent=85), "row 3 (B+): 85-89 overlaps row 4 (B, 80-85)"),
    (lambda d: row(d, "B+").update(min_percent=84), "row 3 (B+): 84-89 overlaps row 4 (B, 80-84)"),
    (lambda d: row(d, "A").update(points=4.5), "row 1 (A): points 4.5 are outside 0..4"),
    (lambda d: row(d, "F").update(points=-1), "row 12 (F): points -1 are outside 0..4"),
    (lambda d: row(d, "C").update(points="lots"), "row 7 (C): points must be a number"),
    (lambda d: row(d, "C").update(points=True), "row 7 (C): points must be a number"),
    (lambda d: row(d, "A-").update(min_percent=89.5), "row 2 (A-): min_percent must be a whole"),
    (lambda d: row(d, "D").update(min_percent=55, max_percent=50), "row 10 (D): percent range"),
    (lambda d: row(d, "F").update(min_percent=1), "row 12 (F): the lowest range starts at 1"),
    (lambda d: row(d, "A").update(max_percent=99), "row 1 (A): the highest range ends at 99"),
    (lambda d: row(d, "A").update(max_percent=101), "row 1 (A): percent range 95-101"),
    (lambda d: row(d, "B").update(points=3.5), "row 3 (B+): 3.33 points for 85-89 is less"),
    (lambda d: row(d, "A-").update(letter="A"), "row 2 (A): the letter A is already row 1"),
    (lambda d: row(d, "C").pop("letter"), "row 7: has no letter"),
    (lambda d: row(d, "C").update(traditional="so-so"), "row 7 (C): traditional grade 'so-so'"),
    (lambda d: row(d, "C").pop("traditional"), "row 7 (C): needs a traditional grade"),
    (lambda d: row(d, "FX").update(retake="never"), "row 11 (FX): retake must be one of"),
    (lambda d: d["traditional"]["good"].pop("kk"), "traditional grade 'good' has no name in kk"),
    (lambda d: d.update(percent_rounding="banker"), "percent_rounding must be one of"),
    (lambda d: d.update(rows=[]), "non-empty `rows` list"),
    (lambda d: d["rows"].append("A+"), "row 13: a row must be a mapping"),
])
def test_a_broken_scale_is_refused_naming_the_row(breakage, message):
    data = scale_data()
    breakage(data)
    with pytest.raises(GradingPolicyError) as err:
        parse_scale(data, "custom.yaml")
    assert str(err.value).startswith("custom.yaml")
    assert message in str(err.value)


def test_policy_errors_are_settings_errors():
    assert issubclass(GradingPolicyError, SettingsError)


def test_unreadable_and_invalid_files_name_the_file(tmp_path):
    with pytest.raises(GradingPolicyError, match=r"missing\.yaml: cannot read it"):
        load_scale(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("rows: [letter: A\n", encoding="utf-8")
    with pytest.raises(GradingPolicyError, match=r"bad\.yaml: not valid YAML"):
        load_scale(bad)


@pytest.mark.parametrize("data, message", [
    ({"bachelor": {2: "x"}}, "bachelor, year 2: the minimum GPA must be a number"),
    ({"bachelor": {1: 1.0}}, "bachelor, year 1: the target year must be 2 or more"),
    ({"bachelor": {"two": 1.0}}, "the target year must be a whole number"),
    ({"bachelor": {2: 5}}, "bachelor, year 2: the minimum GPA 5 is outside 0..4"),
    ({"bachelor": []}, "bachelor: expected `target year: minimum GPA` rows"),
    ({}, "expected programme levels"),
])
def test_broken_progression_thresholds_are_refused(data, message):
    with pytest.raises(GradingPolicyError, match=message):
        parse_progression(data, "p.yaml")


@pytest.mark.parametrize("data, message", [
    ({"excellent": 3.67, "good": 3.67, "average": 1.0}, "need excellent > good > average"),
    ({"excellent": 5, "good": 2.67, "average": 1.0}, "excellent = 5 is outside 0..4"),
    ({"excellent": 3.67, "good": 2.67}, "average must be a number"),
    (None, "expected excellent, good and average"),
])
def test_broken_academic_levels_are_refused(data, message):
    with pytest.raises(GradingPolicyError, match=message):
        parse_levels(data)


def _settings(**gradebook):
    return load_settings({"gradebook": gradebook}, environ={}).gradebook


def test_the_shipped_policy_loads_with_its_defaults():
    policy = load_policy(load_settings(environ={}).gradebook)
    assert policy.default_credits == 5
    assert policy.programme_level == "bachelor"
    assert policy.academic_year_start_month == 9
    assert (policy.levels.excellent, policy.levels.good, policy.levels.average) == (
        Decimal("3.67"), Decimal("2.33"), Decimal("1.0"))


@pytest.mark.parametrize("gradebook, message", [
    ({"programme_level": "doctorate"}, "programme_level = 'doctorate' is not a level"),
    ({"default_credits": 0}, "default_credits must be positive"),
    ({"academic_year_start_month": 13}, "academic_year_start_month must be 1..12"),
    ({"timezone": "Mars/Olympus"}, "gradebook.timezone: 'Mars/Olympus' is not a known"),
    ({"scale_file": ""}, "missing setting: gradebook.scale_file"),
])
def test_broken_settings_are_refused(gradebook, message):
    # A wrong type or an unknown time zone is refused as the settings are read; a value the
    # policy's files do not know, as the policy is loaded: both name the setting.
    with pytest.raises(SettingsError, match=message):
        load_policy(_settings(**gradebook))


def test_the_tool_does_not_start_with_a_broken_scale(tmp_path):
    data = scale_data()
    row(data, "B").update(min_percent=81)
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(GradingPolicyError, match=r"broken.yaml, row 4 \(B\): gap"):
        create_app({"tool": {"data_dir": str(tmp_path),
                             "database_url": f"sqlite:///{tmp_path}/t.db"},
                    "gradebook": {"scale_file": str(broken)}})
    assert Path(broken).exists()


def test_the_summarys_academic_levels_agree_with_the_traditional_scale():
    """Issue 13: C+ (2.33) is "good". The tutor summary's academic levels are read from GPA
    with [gradebook.academic_levels]: each must be the points of the lowest letter of its
    traditional grade in the scale file (excellent from A-, good from C+, average =
    satisfactory from D), so that a GPA of exactly C+ is "good" and one below is "average"."""
    from lti_tool.gradebook.gpa import academic_level
    from lti_tool.gradebook.policy import load_policy
    from lti_tool.settings import load as load_settings

    policy = load_policy(load_settings(environ={}).gradebook)
    lowest: dict[str, Decimal] = {}
    for band in policy.scale.bands:
        name = band.traditional["en"].lower()
        lowest[name] = min(lowest.get(name, band.points), band.points)
    assert policy.levels.excellent == lowest["excellent"] == Decimal("3.67")
    assert policy.levels.good == lowest["good"] == Decimal("2.33")
    assert policy.levels.average == lowest["satisfactory"] == Decimal("1.0")
    assert academic_level(Decimal("2.33"), policy.levels) == "good"
    assert academic_level(Decimal("2.32"), policy.levels) == "average"
    assert academic_level(Decimal("0.99"), policy.levels) == "low"
