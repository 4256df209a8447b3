"""The rubric as data: lists, columns, items, levels, results and points from a YAML file.

Pure: no Flask, no database. `load_rubric` checks the whole file and names the first problem
(file, key path, what was expected) so a bad institution file stops the tool at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..settings import PROJECT_ROOT, SettingsError

# The same safe loader in C when PyYAML has libyaml (its wheels do): ten times faster, and
# every app start reads these files.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

LOCALES = ("kk", "ru", "en")
COLUMN_TYPES = ("text", "textarea", "number", "date")
SECTIONS = ("achievements", "chest")
MAX_COUNT = 100  # counted items: at most this many per entry (a typo guard, not a rule)


class RubricError(SettingsError):
    """The rubric file is wrong; the message names the file and the key."""


@dataclass(frozen=True)
class Names:
    """A text in kk, ru and en."""

    kk: str
    ru: str
    en: str

    def get(self, locale: str | None) -> str:
        """The text in `locale` (English when that language is missing)."""
        return getattr(self, (locale or "en").split("_")[0], None) or self.en

    def as_dict(self) -> dict[str, str]:
        """{"kk": ..., "ru": ..., "en": ...}."""
        return {"kk": self.kk, "ru": self.ru, "en": self.en}


@dataclass(frozen=True)
class Column:
    """One column of a Section II/III table."""

    key: str
    type: str
    names: Names
    required: bool = False


@dataclass(frozen=True)
class Result:
    """A result an item can have (a place, a talk, a role) and its points by level."""

    key: str
    names: Names
    points: Mapping[str, int]  # level -> points; key "*" for every level


@dataclass(frozen=True)
class Item:
    """A rubric row: what an entry claims points for."""

    key: str
    names: Names
    level_set: str | None = None
    results: tuple[Result, ...] = ()
    points: int | None = None  # flat items
    per: Names | None = None  # counted items: points x count

    @property
    def counted(self) -> bool:
        """True when the points multiply by a count (per course, letter, event)."""
        return self.per is not None

    def result(self, key: str | None) -> Result | None:
        """The result called `key`, if the item has it."""
        return next((r for r in self.results if r.key == key), None)


@dataclass(frozen=True)
class EntryList:
    """A table of a section (olympiads, electives...): columns and the items it may claim."""

    key: str
    section: str
    names: Names
    columns: tuple[Column, ...]
    items: tuple[Item, ...]

    def item(self, key: str | None) -> Item | None:
        """The item called `key` in this list."""
        return next((i for i in self.items if i.key == key), None)


@dataclass(frozen=True)
class TutorMark:
    """A mark only the tutor gives (portfolio design), with its bounds."""

    key: str
    names: Names
    min: int
    max: int


@dataclass(frozen=True)
class Rubric:
    """A whole rubric file, checked."""

    id: str
    names: Names
    course_years: int
    level_sets: Mapping[str, Mapping[str, Names]]
    sections: Mapping[str, Names]
    lists: Mapping[str, EntryList]
    tutor_marks: Mapping[str, TutorMark]
    source: str = ""
    _items: Mapping[tuple[str, str], Item] = field(default_factory=dict, repr=False)

    def lists_of(self, section: str) -> list[EntryList]:
        """The lists of a section, in file order."""
        return [lst for lst in self.lists.values() if lst.section == section]

    def levels(self, item: Item) -> Mapping[str, Names]:
        """The levels an item is scored by ({} for flat items)."""
        return self.level_sets.get(item.level_set or "", {})

    def points(self, list_key: str, item_key: str, level: str | None, result: str | None,
               count: int = 1) -> int:
        """The points an entry claims; ValueError when the combination is not in the rubric."""
        entry_list = self.lists.get(list_key)
        item = entry_list.item(item_key) if entry_list else None
        if item is None:
            raise ValueError(f"no item {item_key!r} in list {list_key!r}")
        if item.counted:
            if not 1 <= count <= MAX_COUNT:
                raise ValueError(f"count must be 1..{MAX_COUNT}")
        else:
            count = 1
        if item.results:
            chosen = item.result(result)
            if chosen is None:
                raise ValueError(f"no result {result!r} for item {item_key!r}")
            levels = self.levels(item)
            if levels and level not in levels:
                raise ValueError(f"no level {level!r} for item {item_key!r}")
            base = chosen.points.get(level or "", chosen.points.get("*"))
            if base is None:
                raise ValueError(f"no points for level {level!r}")
            return base * count
        if item.level_set and level not in self.levels(item):
            raise ValueError(f"no level {level!r} for item {item_key!r}")
        return (item.points or 0) * count

    def max_points_table(self) -> dict[str, dict[str, Any]]:
        """For the entry form's live preview: list -> item -> points by result and level."""
        table: dict[str, dict[str, Any]] = {}
        for entry_list in self.lists.values():
            items = {}
            for item in entry_list.items:
                items[item.key] = {
                    "points": item.points,
                    "counted": item.counted,
                    "levels": list(self.levels(item)),
                    "results": {r.key: dict(r.points) for r in item.results},
                }
            table[entry_list.key] = items
        return table


class _Checker:
    """Walks the YAML tree keeping the path, so errors say exactly where."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, problem: str) -> RubricError:
        return RubricError(f"{self.source}: {path}: {problem}")

    def mapping(self, value: Any, path: str) -> dict:
        if not isinstance(value, dict) or not value:
            raise self.fail(path, "expected a non-empty mapping")
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(path, "expected a non-empty text")
        return value.strip()

    def whole(self, value: Any, path: str, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(path, f"expected a whole number >= {minimum}, got {value!r}")
        return value

    def key(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.replace("_", "").isalnum() \
                or not value[0].isalpha() or len(value) > 40:
            raise self.fail(path, f"expected a key of letters, digits and _, got {value!r}")
        return value

    def names(self, value: Any, path: str) -> Names:
        value = self.mapping(value, path)
        missing = [loc for loc in LOCALES if not isinstance(value.get(loc), str)
                   or not value[loc].strip()]
        if missing:
            raise self.fail(path, "names need kk, ru and en; missing " + ", ".join(missing))
        unknown = set(value) - set(LOCALES)
        if unknown:
            raise self.fail(path, "unknown languages " + ", ".join(sorted(unknown)))
        return Names(**{loc: value[loc].strip() for loc in LOCALES})

    def no_extra(self, value: dict, allowed: set[str], path: str) -> None:
        unknown = set(value) - allowed
        if unknown:
            raise self.fail(path, "unknown keys " + ", ".join(sorted(map(str, unknown)))
                            + " (allowed: " + ", ".join(sorted(allowed)) + ")")


def parse_rubric(data: Any, source: str = "rubric") -> Rubric:
    """Check a rubric tree (as read from YAML) and build the Rubric."""
    c = _Checker(source)
    data = c.mapping(data, "(top)")
    data = {k: v for k, v in data.items() if not str(k).startswith("_")}  # anchors live in _keys
    c.no_extra(data, {"id", "names", "course_years", "level_sets", "sections", "lists",
                      "tutor_marks"}, "(top)")
    rubric_id = c.key(data.get("id"), "id")
    names = c.names(data.get("names"), "names")
    course_years = c.whole(data.get("course_years", 5), "course_years", 1)
    if course_years > 8:
        raise c.fail("course_years", "at most 8")

    level_sets: dict[str, dict[str, Names]] = {}
    for set_key, levels in c.mapping(data.get("level_sets"), "level_sets").items():
        path = f"level_sets.{set_key}"
        c.key(set_key, path)
        level_sets[set_key] = {c.key(k, f"{path}.{k}"): c.names(v, f"{path}.{k}")
                               for k, v in c.mapping(levels, path).items()}

    sections_raw = c.mapping(data.get("sections"), "sections")
    c.no_extra(sections_raw, set(SECTIONS), "sections")
    sections = {key: c.names(sections_raw.get(key), f"sections.{key}") for key in SECTIONS}

    lists: dict[str, EntryList] = {}
    items_index: dict[tuple[str, str], Item] = {}
    for list_key, raw in c.mapping(data.get("lists"), "lists").items():
        path = f"lists.{list_key}"
        c.key(list_key, path)
        raw = c.mapping(raw, path)
        c.no_extra(raw, {"section", "names", "columns", "items"}, path)
        section = raw.get("section")
        if section not in SECTIONS:
            raise c.fail(f"{path}.section", f"expected one of {', '.join(SECTIONS)}")
        columns = _columns(c, raw.get("columns"), f"{path}.columns")
        items = []
        for item_key, item_raw in c.mapping(raw.get("items"), f"{path}.items").items():
            item = _item(c, item_key, item_raw, f"{path}.items.{item_key}", level_sets)
            items.append(item)
            items_index[(list_key, item.key)] = item
        lists[list_key] = EntryList(list_key, section, c.names(raw.get("names"), f"{path}.names"),
                                    columns, tuple(items))
    for section in SECTIONS:
        if not any(lst.section == section for lst in lists.values()):
            raise c.fail("lists", f"no list for section {section!r}")

    tutor_marks = {}
    for mark_key, raw in (data.get("tutor_marks") or {}).items():
        path = f"tutor_marks.{mark_key}"
        raw = c.mapping(raw, path)
        c.no_extra(raw, {"names", "min", "max"}, path)
        low, high = c.whole(raw.get("min"), f"{path}.min"), c.whole(raw.get("max"), f"{path}.max")
        if high < low:
            raise c.fail(path, "max is below min")
        mark_names = c.names(raw.get("names"), f"{path}.names")
        tutor_marks[c.key(mark_key, path)] = TutorMark(mark_key, mark_names, low, high)
    return Rubric(rubric_id, names, course_years, level_sets, sections, lists, tutor_marks,
                  source, items_index)


def _columns(c: _Checker, value: Any, path: str) -> tuple[Column, ...]:
    if not isinstance(value, list) or not value:
        raise c.fail(path, "expected a list of columns")
    columns, seen = [], set()
    for index, raw in enumerate(value):
        where = f"{path}[{index}]"
        raw = c.mapping(raw, where)
        c.no_extra(raw, {"key", "type", "names", "required"}, where)
        key = c.key(raw.get("key"), f"{where}.key")
        if key in seen or key in ("level", "result", "item", "count", "course_year"):
            raise c.fail(f"{where}.key", f"{key!r} is repeated or reserved")
        seen.add(key)
        kind = raw.get("type", "text")
        if kind not in COLUMN_TYPES:
            raise c.fail(f"{where}.type", f"expected one of {', '.join(COLUMN_TYPES)}")
        columns.append(Column(key, kind, c.names(raw.get("names"), f"{where}.names"),
                              bool(raw.get("required", False))))
    if "title" not in seen:
        raise c.fail(path, "one column must have key: title (it names the entry)")
    return tuple(columns)


def _item(c: _Checker, key: Any, raw: Any, path: str,
          level_sets: Mapping[str, Mapping[str, Names]]) -> Item:
    key = c.key(key, path)
    raw = c.mapping(raw, path)
    c.no_extra(raw, {"names", "levels", "results", "points", "per"}, path)
    level_set = raw.get("levels")
    if level_set is not None and level_set not in level_sets:
        raise c.fail(f"{path}.levels", f"no level set {level_set!r} in level_sets")
    levels = level_sets.get(level_set or "", {})
    per = c.names(raw["per"], f"{path}.per") if raw.get("per") is not None else None
    if ("results" in raw) == ("points" in raw):
        raise c.fail(path, "give either points (a flat item) or results")
    if "points" in raw:
        return Item(key, c.names(raw.get("names"), f"{path}.names"), level_set, (),
                    c.whole(raw["points"], f"{path}.points"), per)
    results = []
    for result_key, result_raw in c.mapping(raw["results"], f"{path}.results").items():
        where = f"{path}.results.{result_key}"
        result_raw = c.mapping(result_raw, where)
        c.no_extra(result_raw, {"names", "points"}, where)
        points_raw = result_raw.get("points")
        if isinstance(points_raw, dict):
            if not levels:
                raise c.fail(f"{where}.points", "points by level need `levels:` on the item")
            missing = [lvl for lvl in levels if lvl not in points_raw]
            extra = [str(lvl) for lvl in points_raw if lvl not in levels]
            if missing or extra:
                raise c.fail(f"{where}.points", "points must name every level of "
                             f"{level_set!r} exactly; missing {missing}, unknown {extra}")
            points = {lvl: c.whole(points_raw[lvl], f"{where}.points.{lvl}") for lvl in levels}
        else:
            points = {"*": c.whole(points_raw, f"{where}.points")}
        results.append(Result(c.key(result_key, where), c.names(result_raw.get("names"),
                                                                  f"{where}.names"), points))
    return Item(key, c.names(raw.get("names"), f"{path}.names"), level_set, tuple(results),
                None, per)


def load_rubric(path: str | Path) -> Rubric:
    """Read and check a rubric file (relative paths are relative to the project)."""
    path = Path(path)
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    shown = str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)
    if not path.is_file():
        raise RubricError(f"{shown}: rubric file not found (portfolio.rubric_file)")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as err:
        raise RubricError(f"{shown}: not valid YAML: {err}") from err
    return parse_rubric(data, shown)
