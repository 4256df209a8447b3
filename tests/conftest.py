"""Fixtures: one tool on loopback per session, and fresh test platforms (Moodle, Canvas)."""

from __future__ import annotations

import os

import pytest
from lti_platform import LaunchDriver, Platform
from tool_server import ServedTool, start_tool


def pytest_addoption(parser):
    parser.addoption("--db", choices=["sqlite", "postgresql"],
                     default=os.environ.get("LTI_TEST_DB", "sqlite"),
                     help="the database of every tool the tests start (postgresql: a server "
                          "of the run's own, from Debian's postgresql package)")


def pytest_configure(config):
    # An environment variable, so that tools started in subprocesses use it too.
    os.environ["LTI_TEST_DB"] = config.getoption("--db")


# The test files that take longest (pytest --durations, both databases), longest first. `make
# test` hands whole files to its workers in collection order (pytest-xdist's loadfile, with
# --no-loadscope-reorder: its own order is by number of tests, which put the one-test hostile
# input file last, its worker alone at the end for half a minute). These go first; every other
# file keeps its place after them.
LONGEST_FILES = (
    "test_gradebook_sync.py",
    "test_portfolio_access.py",
    "test_hostile_input.py",
    "test_backup.py",
    "test_races_property.py",
    "test_exports_on_hostile_data.py",
    "test_perimeter.py",
    "test_grades_pages.py",
    "test_bad_launches.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: place for place, name in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files stay whole


def pytest_report_header(config):
    return f"tool database: {config.getoption('--db')}"


@pytest.fixture(scope="session")
def tool(tmp_path_factory) -> ServedTool:
    """The tool, served at http://localhost:PORT with its own keys and database."""
    served = start_tool(str(tmp_path_factory.mktemp("tool")))
    yield served
    served.stop()


def _platform(tool: ServedTool, profile: str):
    with Platform(profile) as platform:
        tool.register(platform)
        yield platform


@pytest.fixture
def moodle(tool):
    """A Moodle-shaped platform registered with the tool."""
    yield from _platform(tool, "moodle")


@pytest.fixture
def canvas(tool):
    """A Canvas-shaped platform registered with the tool."""
    yield from _platform(tool, "canvas")


@pytest.fixture(params=["moodle", "canvas"])
def platform(request, tool):
    """Each test runs against a Moodle-shaped and a Canvas-shaped platform."""
    yield from _platform(tool, request.param)


@pytest.fixture
def browser():
    """A requests-based browser stand-in with cross-site cookie rules (third-party allowed)."""
    with LaunchDriver() as driver:
        yield driver
