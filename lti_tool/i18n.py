"""Kazakh, Russian and English: the locale comes from the user's choice, the LMS, or the browser."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from babel.numbers import NumberPattern, parse_pattern
from flask import Flask, g, request, session
from flask_babel import (
    format_date,
    format_datetime,
    format_time,
    get_locale,
    get_timezone,
    get_translations,
)

from .extensions import babel, settings
from .settings import PROJECT_ROOT

LOCALE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def supported_locale(value: str | None, locales: Sequence[str]) -> str | None:
    """The supported language of a tag like 'ru-KZ', 'kk_KZ' or 'en', else None."""
    if not value:
        return None
    language = value.replace("_", "-").split("-")[0].lower()
    return language if language in locales else None


def _page_translations():
    """This request's catalogue, for its current locale."""
    locale = get_locale()
    cached = g.get("page_translations")
    if cached is None or cached[0] is not locale:
        cached = g.page_translations = (locale, get_translations())
    return cached[1]


# Dates, times and numbers on pages: one way everywhere (issue 11), through Babel, in the
# reader's language and the institution's time zone (BABEL_DEFAULT_TIMEZONE, from
# gradebook.timezone). Templates use these filters; never strftime, "%.2f" or round.
def when(value: datetime | None) -> str:
    """A moment: '3 дек. 2026 г., 13:12 (GMT+05:00)' in the institution's zone."""
    if value is None:
        return "—"
    return (f"{format_date(value, 'medium')}, {format_time(value, 'short')} "
            f"({format_datetime(value, 'ZZZZ')})")


def day(value: date | datetime | None) -> str:
    """A day: '3 дек. 2026 г.' (a moment is first moved to the institution's zone)."""
    return "—" if value is None else format_date(value, "medium")


def number(value: Decimal | float | int | None, digits: int = 2, zeros: bool = True) -> str:
    """A decimal with `digits` places, no grouping (it reads back into a form): '3,67', '1,50';
    without trailing zeros when `zeros` is false ('87' and '87,5')."""
    if value is None:
        return "—"
    if isinstance(value, str):  # a number as someone typed it ("3.42" on a summary)
        try:
            value = Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            return value
    pattern = _decimal_pattern("0." + ("0" if zeros else "#") * digits if digits else "0")
    # What flask_babel.format_decimal does, with the pattern parsed once: parsing was 4/5 of
    # the time, and a statement of 300 students formats 2,000 numbers (bench/statement.py).
    return pattern.apply(value, get_locale(), decimal_quantization=True, group_separator=True,
                         numbering_system="latn")


@functools.lru_cache(maxsize=32)
def _decimal_pattern(text: str) -> NumberPattern:
    return parse_pattern(text)


def today() -> date:
    """Today where the institution is (its time zone, BABEL_DEFAULT_TIMEZONE): file names."""
    return datetime.now(get_timezone()).date()


def init_app(app: Flask) -> None:
    """Bind Flask-Babel with our locale selector and catalogues."""
    locales = list(settings(app).i18n.locales)

    def select_locale() -> str:
        chosen = supported_locale(request.args.get("lang"), locales) if request else None
        return (
            chosen
            or supported_locale(session.get("locale"), locales)
            or request.accept_languages.best_match(locales)
            or app.config["BABEL_DEFAULT_LOCALE"]
        )

    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(PROJECT_ROOT / "lti_tool" / "translations"))
    # Templates translate dozens of strings per page; Flask-Babel looks the catalogue up again
    # for each. Here it is looked up once per request and locale (force_locale() changes it).
    # jinja2.ext.i18n adds this method to the environment; Jinja's type hints do not declare it.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _page_translations().ugettext(s),
        ngettext=lambda s, p, n: _page_translations().ungettext(s, p, n),
        pgettext=lambda c, s: _page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _page_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters.update(when=when, day=day, number=number)
    app.jinja_env.globals["LOCALE_NAMES"] = {k: LOCALE_NAMES.get(k, k) for k in locales}
