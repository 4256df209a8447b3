"""URL builders compiled on first use: none when the app is made, the same URLs after."""

from __future__ import annotations

from flask import url_for
from werkzeug.routing import Rule

from lti_tool import create_app


def test_url_builders_are_compiled_when_first_used(tmp_path, monkeypatch):
    compiled: list[str] = []
    original = Rule._compile_builder

    def counting(self, append_unknown=True):
        compiled.append(self.endpoint)
        return original(self, append_unknown)

    monkeypatch.setattr(Rule, "_compile_builder", counting)
    app = create_app(
        {"tool": {"data_dir": str(tmp_path), "database_url": f"sqlite:///{tmp_path}/t.db"}}
    )
    assert len(list(app.url_map.iter_rules())) > 100
    # werkzeug's own Rule would have compiled two per rule by now; Flask adds `static` itself,
    # before create_app can choose the rule class.
    assert set(compiled) == {"static"}
    with app.test_request_context():
        first = url_for("portfolio.entry", entry_id=7, ls="t", extra="x y")
        again = url_for("portfolio.entry", entry_id=8)
        assert url_for("static", filename="app.css").startswith("/static/app.css?v=")
    assert first == "/portfolio/entries/7?ls=t&extra=x+y"
    assert again == "/portfolio/entries/8"
    assert compiled.count("portfolio.entry") == 1  # the builder url_for uses, compiled once
    assert "portfolio.index" not in compiled
