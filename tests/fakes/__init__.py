"""Fake LMS REST APIs on loopback, shaped after the documented answers: Moodle WS, Canvas REST."""

from .canvas_rest import FakeCanvas
from .moodle_ws import FakeMoodle

__all__ = ["FakeCanvas", "FakeMoodle"]
