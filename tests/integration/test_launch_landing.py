"""A launch lands on its placement's page in one redirect (the launch's 303), whatever the
placement: the role's home, a TeachHub card or module, the deep linking page."""

from __future__ import annotations

from contextlib import ExitStack
from urllib.parse import urlsplit

from lti_platform import LaunchDriver
from teachhub_helpers import launch, placement, published_module


def _landed(person) -> tuple[int, str]:
    """How many redirects the launch took, and the path it ended on."""
    return len(person.page.history), urlsplit(person.page.url).path


def test_every_placement_lands_in_one_redirect(tool, moodle):
    with ExitStack() as stack:
        setup = published_module(tool, moodle, stack)
        cards = placement(setup.module_id, link="rl-landing")

        learner = launch(tool, moodle, stack, "student")
        assert _landed(learner) == (1, "/")
        portfolio = launch(tool, moodle, stack, "student", custom={"placement": "portfolio"})
        assert _landed(portfolio) == (1, "/")

        # A learner's first launch of a module card registers them and shows their card.
        newcomer = launch(tool, moodle, stack, {"role": "student", "id": "land-1"}, **cards)
        hops, path = _landed(newcomer)
        assert hops == 1 and path.startswith("/teachhub/cards/"), (hops, path)
        assert "Participant card" in newcomer.page.text
        staff = launch(tool, moodle, stack, "teacher", **cards)
        assert _landed(staff) == (1, f"/teachhub/modules/{setup.module_id}")
        hub = launch(
            tool,
            moodle,
            stack,
            "student",
            custom={"placement": "teachhub"},
            resource_link={"id": "rl-hub"},
        )
        assert _landed(hub) == (1, "/teachhub/")

        # Home still leads a TeachHub placement's session to its page (the menu's Home link).
        again = newcomer.get("/")
        assert urlsplit(again.url).path == path

        designer = stack.enter_context(LaunchDriver())
        page = designer.launch(
            moodle.plan("teacher", message_type="LtiDeepLinkingRequest"),
            params={"lti_storage_target": None},
        )
        assert (len(page.history), urlsplit(page.url).path) == (1, "/lti/deep-link")


def test_a_card_that_is_gone_lands_on_the_placement_page_that_says_so(tool, moodle):
    with ExitStack() as stack:
        gone = stack.enter_context(LaunchDriver())
        page = gone.launch(
            moodle.plan("student", **placement(987654, link="rl-gone")),
            params={"lti_storage_target": None},
        )
        assert (len(page.history), urlsplit(page.url).path) == (1, "/teachhub/launch")
        assert page.status_code == 404
