"""URL rules whose URL builders are compiled when first used, not when the app is made.

werkzeug compiles two URL builders (Python code generated and compiled) for each of the app's
~135 rules as the app is made: half of `create_app`'s 54 ms, paid by every gunicorn worker, every
`lti-tool` command and every tool a test starts, for builders most processes never call (a
worker builds the URLs of the few pages it serves). Matching requests is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule


class LazyBuildRule(Rule):
    """A werkzeug Rule that compiles each URL builder on its first call."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compiled: Callable[..., tuple[str, str]] | None = None
        compile_now = super()._compile_builder

        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            nonlocal compiled
            if compiled is None:  # two threads at once both compile: the same code, harmless
                compiled = compile_now(append_unknown)
            return compiled(rule, *args, **kwargs)

        return build
