"""Settings: config/default.toml < config/local.toml < $LTI_TOOL_SETTINGS < environment.

`load()` reads them once (create_app) into one typed, frozen `Settings` object: the files and
the environment are merged as a tree, then checked and typed by the pydantic models below,
and every problem is named at once in a SettingsError. Defaults live in config/default.toml
only.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from ipaddress import ip_network
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

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


# ---- the typed settings ---------------------------------------------------------------------
# Every value comes from config/default.toml (the one place defaults live, with the comments
# that explain them); the models say what type each is and check what a type cannot say. No
# field has a default here: a setting missing from the files is named at start-up.


class _Section(BaseModel):
    """A settings section: unknown keys are refused (a typo stops the start, naming it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _zone(value: object) -> object:
    if isinstance(value, str):
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone (install tzdata, or name one "
                             f"like Asia/Almaty)") from None
    return value


def _networks(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        try:
            if value != "unix":
                ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"not an address or network: {value!r}") from None
    return values


TimeZone = Annotated[ZoneInfo, BeforeValidator(_zone)]
Networks = Annotated[tuple[str, ...], AfterValidator(_networks)]
NonEmpty = Annotated[str, Field(min_length=1)]


class ToolSettings(_Section):
    """[tool]: who the tool is and where it keeps its data."""

    name: str
    base_url: NonEmpty
    data_dir: Path
    database_url: NonEmpty
    env: str

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, value: Path) -> Path:
        return (PROJECT_ROOT / value).resolve()

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str) -> str:
        # A relative SQLite path means "relative to the project", not to the current directory.
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            relative = url[len("sqlite:///"):]
            if relative and relative != ":memory:":
                return "sqlite:///" + str((PROJECT_ROOT / relative).resolve())
        return url

    @field_validator("env")
    @classmethod
    def _env(cls, value: str) -> str:
        if value not in ("development", "production"):
            raise ValueError("tool.env (LTI_TOOL_ENV) must be development or production")
        return value


class ProductionSettings(_Section):
    """[production]"""

    allow_sqlite: bool


class I18nSettings(_Section):
    """[i18n]"""

    default_locale: NonEmpty
    locales: tuple[str, ...]

    @model_validator(mode="after")
    def _default_is_offered(self) -> I18nSettings:
        if self.default_locale not in self.locales:
            raise ValueError("i18n.default_locale must be one of i18n.locales")
        return self


class KeysSettings(_Section):
    """[keys]"""

    dir: Path
    rotation_grace_hours: float

    @field_validator("dir")
    @classmethod
    def _dir(cls, value: Path) -> Path:
        return (PROJECT_ROOT / value).resolve()


class LtiSettings(_Section):
    """[lti]: login states, platform key sets, launch limits."""

    state_ttl_seconds: int
    keyset_ttl_seconds: int
    keyset_refetch_interval_seconds: int
    clock_leeway_seconds: int
    max_id_token_bytes: int
    max_login_param_bytes: int
    max_login_request_bytes: int
    require_browser_bound_state: bool


class RateLimitSettings(_Section):
    """[rate_limits]: `limits` strings ("300 per minute") per anonymous endpoint."""

    enabled: bool
    login: str
    # `register` in the file: the name shadows BaseModel's own `register` (from ABCMeta).
    registration: str = Field(alias="register")
    verify: str  # the public verification page of certificates and credentials


class RegistrationSettings(_Section):
    """[registration]: dynamic registration."""

    auto_activate: bool
    invite_expires: str
    deadline_seconds: float
    max_in_flight: Annotated[int, Field(ge=1)]


class SessionSettings(_Section):
    """[session]"""

    lifetime_hours: float
    idle_minutes: float


class LoggingSettings(_Section):
    """[logging]"""

    format: str
    level: str


class RedisSettings(_Section):
    """[redis]: optional; an empty url means none."""

    url: str
    prefix: str
    breaker_seconds: float


class MetricsSettings(_Section):
    """[metrics]"""

    enabled: bool
    networks: Networks


class ProxySettings(_Section):
    """[proxy]: the trusted proxies and their hop counts."""

    trusted: Networks
    x_for: int
    x_proto: int
    x_host: int
    x_port: int
    x_prefix: int


class HttpSettings(_Section):
    """[http]: the guarded outbound client."""

    connect_timeout_seconds: float
    read_timeout_seconds: float
    total_timeout_seconds: float
    max_response_bytes: int
    max_redirects: int
    retries: int
    allowed_private_hosts: tuple[NonEmpty, ...]
    proxy: str

    @field_validator("allowed_private_hosts", mode="before")
    @classmethod
    def _hosts(cls, value: object) -> object:
        if not isinstance(value, list | tuple):
            raise ValueError("must be a list of host names, addresses or networks")
        return [v.strip() if isinstance(v, str) else v for v in value]


class UploadSettings(_Section):
    """[uploads]: the request size of every form but the upload forms."""

    max_request_bytes: int


class WorkerSettings(_Section):
    """[gradebook.worker]: the score outbox worker."""

    in_process: bool
    parallel: int
    batch: int
    lease_seconds: float
    max_attempts: int
    backoff_base_seconds: float
    backoff_cap_seconds: float
    idle_seconds: float
    queue_poll_seconds: float


class GradebookSettings(_Section):
    """[gradebook]: grade scale, progression, academic years, the institution's time zone."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    scale_file: str
    progression_file: str
    default_credits: Decimal
    programme_level: str
    academic_year_start_month: int
    # The institution's time zone, parsed once: pages, course dates, TeachHub dates.
    timezone: TimeZone
    roster_max_age_minutes: float
    academic_levels: dict[str, Any]  # checked by gradebook.policy.parse_levels
    worker: WorkerSettings


class TeachHubGradebookSettings(_Section):
    """[teachhub.gradebook]: what a card posts to the LMS gradebook."""

    enabled: bool
    score: str
    progress: dict[str, Any]  # checked by teachhub.config (AGS progress names)


class TeachHubSettings(_Section):
    """[teachhub]: staff-development modules (the staff non-formal education rules)."""

    data_file: str
    hours_per_credit_unit: Decimal
    max_hours: Decimal
    max_duration_days: int
    coordinator_roles: tuple[str, ...]
    department_params: tuple[str, ...]
    feedback_min_answers: int
    mark_maximum: Decimal
    hr_page_size: int
    gradebook: TeachHubGradebookSettings


class EvidenceSettings(_Section):
    """[evidence]: uploaded files and quotas."""

    max_bytes: int
    dir: str
    thumbnail_px: int
    max_image_pixels: int
    quota_bytes_per_person: int
    quota_bytes_per_platform: int


class AchievementLevels(_Section):
    """[portfolio.achievement_levels]: the lowest verified total of each level."""

    high: int
    medium: int


class PortfolioGradeSettings(_Section):
    """[portfolio.grade]: how a verified total reaches the LMS gradebook."""

    enabled: bool
    mode: str
    points_maximum: int
    score_maximum: float


class PortfolioSettings(_Section):
    """[portfolio]"""

    rubric_file: str
    histogram_bin: int
    pdf_font: str
    pdf_font_bold: str
    achievement_levels: AchievementLevels
    grade: PortfolioGradeSettings


class InstitutionSettings(_Section):
    """[institution]: the header of printed documents; each a name, or names by language."""

    university: str | dict[str, str]
    faculty: str | dict[str, str]
    department: str | dict[str, str]


class StatementSettings(_Section):
    """[statements]: the weekly structures of dual-training courses."""

    structures_dir: str


class LearningSettings(_Section):
    """[learning]: staff learning of every form, certificates and credentials."""

    data_file: str
    issuer_name: str


class DemoSettings(_Section):
    """[demo]: the built-in demo LMS (only ever on the embedded default)."""

    enabled: bool


class Settings(_Section):
    """Every setting of the tool, typed; read once by create_app (`load`)."""

    tool: ToolSettings
    production: ProductionSettings
    i18n: I18nSettings
    keys: KeysSettings
    lti: LtiSettings
    rate_limits: RateLimitSettings
    registration: RegistrationSettings
    session: SessionSettings
    logging: LoggingSettings
    redis: RedisSettings
    metrics: MetricsSettings
    proxy: ProxySettings
    http: HttpSettings
    uploads: UploadSettings
    gradebook: GradebookSettings
    teachhub: TeachHubSettings
    evidence: EvidenceSettings
    portfolio: PortfolioSettings
    institution: InstitutionSettings
    demo: DemoSettings
    statements: StatementSettings
    learning: LearningSettings

    @property
    def is_production(self) -> bool:
        """True in production mode (LTI_TOOL_ENV=production or tool.env = "production")."""
        return self.tool.env == "production"


def _problems(err: ValidationError) -> list[str]:
    problems = []
    for error in err.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "missing (add it to config/default.toml)"
        elif error["type"] == "extra_forbidden":
            message = "not a setting (a typo?)"
        problems.append(f"{where}: {message}" if where else message)
    return problems


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load(overrides: dict[str, Any] | None = None,
         environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings once, check and type them; `overrides` (tests: a nested dict like
    the TOML files) win over everything."""
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
    if settings.get("tool", {}).get("env", "development") == "production":
        problems += _production_problems(settings, values)
    if problems:
        raise SettingsError("the tool cannot start:\n  - " + "\n  - ".join(problems))
    try:
        return Settings.model_validate(settings)
    except ValidationError as err:
        raise SettingsError("the tool cannot start:\n  - "
                            + "\n  - ".join(_problems(err))) from None


def environment_values(environ: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
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


def env_secret(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """A secret from the environment: NAME, else the content of the file NAME_FILE."""
    values, _problems = environment_values(os.environ if environ is None else environ)
    return values.get(name) or None


def is_production(settings: Settings) -> bool:
    """True in production mode (LTI_TOOL_ENV=production or tool.env = "production")."""
    return settings.is_production


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


def private_data_dir(settings: Settings) -> Path:
    """The data directory, made (or made again) 0700: it holds personal data and secrets."""
    path = settings.tool.data_dir
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)  # an installation made before this rule (var/ was 0755)
    return path


def secret_key(settings: Settings, environ: dict[str, str] | None = None) -> str:
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
