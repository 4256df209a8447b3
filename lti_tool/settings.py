"""Settings: config/default.toml < config/local.toml < $LTI_TOOL_SETTINGS < environment."""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"

# Environment variables that override a setting, and where it lives.
ENVIRONMENT = {
    "BASE_URL": ("tool", "base_url"),
    "DATABASE_URL": ("tool", "database_url"),
    "DATA_DIR": ("tool", "data_dir"),
    "KEYS_DIR": ("keys", "dir"),
    "DEFAULT_LOCALE": ("i18n", "default_locale"),
}


class SettingsError(RuntimeError):
    """A setting is missing or invalid; the message names it."""


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> dict:
    """Read the settings tree and check it; `overrides` (tests) win over everything."""
    environ = os.environ if environ is None else environ
    settings: dict[str, Any] = {}
    paths = [CONFIG_DIR / "default.toml", CONFIG_DIR / "local.toml"]
    # An installation's own file outside the repository (e.g. /etc/lti-tool/settings.toml).
    if environ.get("LTI_TOOL_SETTINGS"):
        extra = Path(environ["LTI_TOOL_SETTINGS"])
        if not extra.exists():
            raise SettingsError(f"LTI_TOOL_SETTINGS names a missing file: {extra}")
        paths.append(extra)
    for path in paths:
        if path.exists():
            with path.open("rb") as fh:
                settings = _merge(settings, tomllib.load(fh))
    for variable, (section, key) in ENVIRONMENT.items():
        if environ.get(variable):
            settings.setdefault(section, {})[key] = environ[variable]
    if environ.get("PORT") and not environ.get("BASE_URL"):
        settings["tool"]["base_url"] = f"http://127.0.0.1:{int(environ['PORT'])}"
    settings = _merge(settings, overrides or {})
    _resolve_paths(settings)
    _check(settings)
    return settings


def _resolve_paths(settings: dict) -> None:
    tool = settings["tool"]
    tool["data_dir"] = str((PROJECT_ROOT / tool["data_dir"]).resolve())
    settings["keys"]["dir"] = str((PROJECT_ROOT / settings["keys"]["dir"]).resolve())
    url = tool["database_url"]
    # A relative SQLite path means "relative to the project", not to the current directory.
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        relative = url[len("sqlite:///"):]
        if relative and relative != ":memory:":
            tool["database_url"] = "sqlite:///" + str((PROJECT_ROOT / relative).resolve())


def _check(settings: dict) -> None:
    missing = [
        f"{section}.{key}"
        for section, key in [
            ("tool", "base_url"), ("tool", "database_url"), ("i18n", "default_locale"),
            ("keys", "dir"), ("lti", "state_ttl_seconds"), ("session", "lifetime_hours"),
        ]
        if settings.get(section, {}).get(key) in (None, "")
    ]
    if missing:
        raise SettingsError("missing settings: " + ", ".join(missing))
    base_url = settings["tool"]["base_url"]
    if not base_url.startswith(("http://", "https://")):
        raise SettingsError(f"tool.base_url must be an http(s) URL, got {base_url!r}")
    settings["tool"]["base_url"] = base_url.rstrip("/")
    if settings["i18n"]["default_locale"] not in settings["i18n"]["locales"]:
        raise SettingsError("i18n.default_locale must be one of i18n.locales")


def secret_key(settings: dict, environ: dict[str, str] | None = None) -> str:
    """SECRET_KEY from the environment, else one generated once into the data dir (0600)."""
    environ = os.environ if environ is None else environ
    if environ.get("SECRET_KEY"):
        return environ["SECRET_KEY"]
    path = Path(settings["tool"]["data_dir"]) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
