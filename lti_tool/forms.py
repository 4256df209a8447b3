"""The base of the tool's WTForms forms: they read what a browser posts, never a JSON body."""

from __future__ import annotations

from flask import request
from flask_wtf import FlaskForm


class HtmlForm(FlaskForm):
    """A FlaskForm that ignores a JSON body.

    Flask-WTF reads a JSON body as form data, and a list or an object where a field expects
    text makes the field itself raise (a 500). The tool's forms are HTML forms: a JSON body
    leaves them empty, and they are refused like any form sent without its fields.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            """request.form for a JSON request (empty), else what Flask-WTF reads."""
            if request and request.is_json and formdata is not None:
                return request.form
            return super().wrap_formdata(form, formdata)
