"""Searching long lists on the server (lti_tool/lists.py): every word must match, in any case,
Kazakh and Russian letters included, on SQLite as on PostgreSQL; pages cover the list once."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lti_tool.db import Base, load_models, make_engine
from lti_tool.lists import clean_search, matches, page_of
from lti_tool.lti.models import Platform, User

NAMES = [
    ("Әлия", "Серікова"),
    ("Иван", "Петров"),
    ("Дана", "Ахметова"),
    ("Ерлан", "Жұмабаев"),
    ("Anna", "Smith"),
    ("Нұрлан", "Оспанов"),
    ("Ғалым", "Әбенов"),
]


@pytest.fixture
def db(tmp_path):
    load_models()
    engine = make_engine(f"sqlite:///{tmp_path}/lists.db")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        platform = Platform(
            issuer="https://lms.example.edu",
            client_id="c",
            auth_login_url="x",
            auth_token_url="x",
            key_set_url="x",
        )
        session.add(platform)
        session.flush()
        for n, (given, family) in enumerate(NAMES):
            session.add(
                User(
                    platform_id=platform.id,
                    sub=f"u{n}",
                    given_name=given,
                    family_name=family,
                    email=f"u{n}_x@example.edu",
                )
            )
        session.commit()
        yield session
    engine.dispose()


def _found(db, search: str) -> list[str]:
    query = select(User).order_by(User.id)
    condition = matches(search, (User.given_name, User.family_name, User.email))
    if condition is not None:
        query = query.where(condition)
    return [u.family_name for u in db.scalars(query)]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("СЕРІК", ["Серікова"]),  # Kazakh letters, upper case
        ("әлия серік", ["Серікова"]),  # every word, any column, any order
        ("ғалым", ["Әбенов"]),
        ("ахмет", ["Ахметова"]),
        ("smith", ["Smith"]),
        ("петров дана", []),  # both words must match the same person
        ("100%", []),  # LIKE's wildcards are taken literally
        ("u1_x", ["Петров"]),  # "_" is not a wildcard either
        ("   ", ["Серікова", "Петров", "Ахметова", "Жұмабаев", "Smith", "Оспанов", "Әбенов"]),
    ],
)
def test_search_words_match_any_case_in_kazakh_and_russian(db, search, expected):
    assert _found(db, search) == expected


def test_pages_cover_the_list_once_and_clamp(db):
    query = select(User).order_by(User.id)
    seen = []
    for number in (1, 2, 3):
        page = page_of(db, query, number, size=3)
        assert (page.total, page.pages, page.page) == (7, 3, number)
        seen += [u.sub for u in page.rows]
    assert seen == [f"u{n}" for n in range(7)]
    assert page_of(db, query, 50, size=3).page == 3
    assert page_of(db, query, 0, size=3).page == 1
    first = page_of(db, query, 1, size=3)
    assert not first.has_previous and first.has_next


def test_a_search_is_trimmed_and_cut():
    assert clean_search("  Серік   Әлия ") == "Серік Әлия"
    assert len(clean_search("ә" * 500)) == 100
    assert clean_search(None) == ""
