"""Settings: config/default.toml < config/local.toml < $LTI_TOOL_SETTINGS < environment."""

from __future__ import annotations

import os
import secrets
import tomllib
from ipaddress import ip_network
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = PROJECT_ROOT / "config"

# Environment variables that override a setting, and where it lives.
ENVIRONMENT = {
    "LTI_TOOL_ENV": ("tool", "env"),
    "BASE_URL": ("tool", "base_url"),
    "DATABASE_URL": ("tool", "database_url"),
    "DATA_DIR": ("tool", "data_dir"),
    "KEYS_DIR": ("keys", "dir"),
    "DEFAULT_LOCALE": ("i18n", "default_locale"),
    "REDIS_URL": ("redis", "url"),
    "LOG_FORMAT": ("logging", "format"),
    "LOG_LEVEL": ("logging", "level"),
    "TRUSTED_PROXIES": ("proxy", "trusted"),
    "METRICS_NETWORKS": ("metrics", "networks"),
    "HTTP_ALLOWED_PRIVATE_HOSTS": ("http", "allowed_private_hosts"),
}
# Variables holding a comma-separated list.
LIST_VARIABLES = {"TRUSTED_PROXIES", "METRICS_NETWORKS", "HTTP_ALLOWED_PRIVATE_HOSTS"}
# Variables that may instead name a file holding the value (NAME_FILE: Docker and systemd
# secrets), so a password never has to sit in the environment of every child process.
FILE_VARIABLES = ("SECRET_KEY", "DATABASE_URL", "BASE_URL", "CREDENTIALS_KEY", "REDIS_URL",
                  "METRICS_TOKEN")
# What production mode requires from the environment (or NAME_FILE), never from a file here.
PRODUCTION_REQUIRED = ("SECRET_KEY", "DATABASE_URL", "BASE_URL", "CREDENTIALS_KEY")
MIN_SECRET_KEY_LENGTH = 32


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
    values, problems = environment_values(environ)
    for variable, (section, key) in ENVIRONMENT.items():
        if values.get(variable):
            value: Any = values[variable]
            if variable in LIST_VARIABLES:
                value = [part.strip() for part in value.split(",") if part.strip()]
            settings.setdefault(section, {})[key] = value
    if environ.get("PORT") and not values.get("BASE_URL"):
        settings["tool"]["base_url"] = f"http://127.0.0.1:{int(environ['PORT'])}"
    settings = _merge(settings, overrides or {})
    if is_production(settings):
        problems += _production_problems(settings, values)
    if problems:
        raise SettingsError("the tool cannot start:\n  - " + "\n  - ".join(problems))
    _resolve_paths(settings)
    _check(settings)
    return settings


def environment_values(environ: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The variables the tool reads, NAME or the file NAME_FILE names; and what is wrong."""
    values = {name: environ[name] for name in (*ENVIRONMENT, *FILE_VARIABLES)
              if environ.get(name)}
    problems = []
    for name in FILE_VARIABLES:
        file_name = environ.get(f"{name}_FILE")
        if not file_name or name in values:
            continue
        path = Path(file_name).resolve()
        if path == PROJECT_ROOT or PROJECT_ROOT in path.parents:
            problems.append(f"{name}_FILE names a file inside the repository ({path}); "
                            f"secrets live outside it")
        elif not path.is_file():
            problems.append(f"{name}_FILE names a missing file: {path}")
        else:
            values[name] = path.read_text(encoding="utf-8").strip()
            if not values[name]:
                problems.append(f"{name}_FILE names an empty file: {path}")
    return values, problems


def env_secret(name: str, environ: dict[str, str] | None = None) -> str | None:
    """A secret from the environment: NAME, else the content of the file NAME_FILE."""
    values, _problems = environment_values(os.environ if environ is None else environ)
    return values.get(name) or None


def is_production(settings: dict) -> bool:
    """True in production mode (LTI_TOOL_ENV=production or tool.env = "production")."""
    return settings.get("tool", {}).get("env", "development") == "production"


def _production_problems(settings: dict, values: dict[str, str]) -> list[str]:
    problems = [f"{name} is not set (set it, or {name}_FILE naming a file outside the "
                f"repository)" for name in PRODUCTION_REQUIRED if not values.get(name)]
    url = values.get("DATABASE_URL", "")
    if url.startswith("sqlite") and not settings.get("production", {}).get("allow_sqlite"):
        problems.append("DATABASE_URL is SQLite: production needs PostgreSQL "
                        "(postgresql+psycopg://...), or production.allow_sqlite = true for "
                        "a single process on a single host")
    base_url = values.get("BASE_URL", "")
    if base_url and not base_url.startswith("https://"):
        problems.append(f"BASE_URL must be https:// (LMSs launch only over TLS), got {base_url!r}")
    if 0 < len(values.get("SECRET_KEY", "")) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters")
    if values.get("CREDENTIALS_KEY"):
        from cryptography.fernet import Fernet

        try:
            for key in values["CREDENTIALS_KEY"].split(","):
                Fernet(key.strip())
        except ValueError:
            problems.append("CREDENTIALS_KEY is not a Fernet key (or comma-separated Fernet keys)")
    redis_url = settings.get("redis", {}).get("url", "")
    if redis_url and not values.get("REDIS_URL") and "@" in redis_url:
        problems.append("redis.url holds a password in a settings file: set REDIS_URL instead")
    return problems


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
    if settings["tool"].get("env", "development") not in ("development", "production"):
        raise SettingsError("tool.env (LTI_TOOL_ENV) must be development or production")
    for section in ("proxy", "metrics"):
        key = "trusted" if section == "proxy" else "networks"
        for value in settings.get(section, {}).get(key, []):
            try:
                if value != "unix":
                    ip_network(value, strict=False)
            except ValueError:
                raise SettingsError(
                    f"{section}.{key}: not an address or network: {value!r}") from None
    allowed = settings.get("http", {}).get("allowed_private_hosts", [])
    if not isinstance(allowed, list) or not all(isinstance(v, str) and v.strip() for v in allowed):
        raise SettingsError("http.allowed_private_hosts must be a list of host names, "
                            "addresses or networks")


def private_data_dir(settings: dict) -> Path:
    """The data directory, made (or made again) 0700: it holds personal data and secrets."""
    path = Path(settings["tool"]["data_dir"])
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)  # an installation made before this rule (var/ was 0755)
    return path


def secret_key(settings: dict, environ: dict[str, str] | None = None) -> str:
    """SECRET_KEY (or SECRET_KEY_FILE), else one generated once into the data dir (0600)."""
    configured = env_secret("SECRET_KEY", environ)
    if configured:
        return configured
    path = private_data_dir(settings) / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
