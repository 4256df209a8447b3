"""Staff learning data from config/learning.yaml, checked at start-up (like TeachHub's)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..settings import LearningSettings
from ..teachhub.config import _YAML_LOADER, PROJECT_ROOT, Choice, TeachHubConfigError, _choices
from . import rules

LISTS = ("forms", "formats", "evidence_kinds", "statuses", "roles")
FIXED = {
    "forms": (*rules.FORMS, rules.TEACHHUB),
    "evidence_kinds": rules.EVIDENCE_KINDS,
    "statuses": rules.STATUSES,
    "roles": (rules.PARTICIPANT, *rules.NAMED_ROLES),
}


@dataclass(frozen=True)
class LearningConfig:
    """The data lists, and which form each format belongs to."""

    lists: dict[str, tuple[Choice, ...]]
    format_form: dict[str, str]

    def label(self, name: str, key: str, locale: str) -> str:
        """The name of `key` in list `name` (the key itself when unknown)."""
        for choice in self.lists[name]:
            if choice.key == key:
                return choice.name(locale)
        return key

    def formats_of(self, form: str) -> tuple[Choice, ...]:
        """The formats of one form."""
        return tuple(c for c in self.lists["formats"] if self.format_form[c.key] == form)


def parse(data: Any, source: str) -> LearningConfig:
    """The lists from parsed YAML; the fixed lists must name exactly the keys the rules know."""
    if not isinstance(data, dict):
        raise TeachHubConfigError(f"{source}: expected a mapping of lists")
    lists = {name: _choices(data, name, source) for name in LISTS}
    for name, keys in FIXED.items():
        if {c.key for c in lists[name]} != set(keys):
            raise TeachHubConfigError(f"{source}: `{name}` must name exactly {', '.join(keys)}")
    format_form = {}
    for row in data["formats"]:
        if row.get("form") not in rules.FORMS:
            raise TeachHubConfigError(
                f"{source}: format {row.get('key')!r} needs a `form`, "
                f"one of {', '.join(rules.FORMS)}"
            )
        format_form[str(row["key"]).strip()] = row["form"]
    return LearningConfig(lists, format_form)


def load_config(settings: LearningSettings) -> LearningConfig:
    """The config named by settings [learning] data_file."""
    data_file = settings.data_file
    path = Path(data_file) if Path(data_file).is_absolute() else PROJECT_ROOT / data_file
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.load(fh, Loader=_YAML_LOADER)  # libyaml's safe loader, as TeachHub's
    except OSError as err:
        raise TeachHubConfigError(f"learning.data_file {data_file}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise TeachHubConfigError(f"{data_file}: not valid YAML: {err}") from None
    return parse(data, str(data_file))
