"""Moved to lti_tool/exports.py (issue 15); kept only for branches written before the move.
Import from lti_tool.exports; delete this file once no branch in flight imports it."""

from .exports import FORMULA_START, cell, printable

__all__ = ["FORMULA_START", "cell", "printable"]
