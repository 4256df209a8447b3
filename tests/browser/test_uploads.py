"""Evidence uploads in a real browser (issue 11, item 5): the limit is stated beside the field, a
file over it is refused before anything is sent, and a file being sent shows a progress bar
with the button disabled until the answer comes.

A participant's TeachHub card inside the LMS frame, in one cookie mode (third-party cookies
blocked, the common case): what is tested here is the page's script, not cookies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from conftest import MODES, Chromium, run_chromium
from teachhub_helpers import card_of, participant, placement, published_module

try:
    from playwright.sync_api import expect
except ImportError:  # the `playwright` fixture fails every test with what to do
    expect = None

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

# What the progress bar and the button do while the form sends, written to the console (which
# outlives the page the answer replaces).
WATCH_THE_UPLOAD = """() => {
  const form = document.querySelector("#add-task");
  const bar = form.querySelector(".upload-progress");
  const button = form.querySelector("button[type=submit]");
  const say = () => console.log(`upload: bar ${bar.hidden ? "hidden" : "shown"} ${bar.value}`
                                + ` button ${button.disabled ? "disabled" : "enabled"}`);
  new MutationObserver(say).observe(bar, {attributes: true});
}"""


@pytest.fixture(scope="module")
def chromium(playwright, tmp_path_factory) -> Iterator[Chromium]:
    """One browser, third-party cookies blocked."""
    yield from run_chromium(MODES[0], playwright, tmp_path_factory)


def _card_in_the_frame(tool, moodle, stack, page):
    setup = published_module(tool, moodle, stack)
    # Registered by a launch first, so that the browser's launch lands on the card.
    learner = participant(tool, moodle, stack, setup, uid="77", name="Dana")
    plan = moodle.plan(
        {
            "role": "student",
            "id": "77",
            "username": "staff77",
            "given_name": "Dana",
            "family_name": "N77",
        },
        locale="en",
        **placement(setup.module_id),
    )
    page.set_viewport_size(PHONE)
    page.goto(moodle.course_url(plan))
    frame = page.frame_locator("iframe[name=tool]")
    expect(frame.locator("#add-task")).to_be_visible()
    return frame, card_of(tool, setup.module_id, learner.user_id).id


def test_a_file_over_the_limit_is_refused_in_the_browser_with_the_limit(
    tool, moodle, browser_page, tmp_path
):
    from lti_tool.teachhub import evidence

    if not evidence.available():
        pytest.skip("lti_tool.evidence is not installed")
    page = browser_page.page
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    with ExitStack() as stack:
        frame, _card = _card_in_the_frame(tool, moodle, stack, page)
        form = frame.locator("#add-task")
        expect(form.locator("label[for=add_task-file]")).to_contain_text("up to 20 MB")
        form.locator("input[name=title]").fill("Recorded lesson")
        big = tmp_path / "lesson.pdf"
        big.write_bytes(b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024))
        form.locator("input[type=file]").set_input_files(str(big))
        error = form.locator("#add_task-file-error")
        expect(error).to_have_text("The file is larger than the limit of 20 MB.")
        expect(form.locator("input[type=file]")).to_have_attribute("aria-invalid", "true")
        form.locator("button[type=submit]").click()
        expect(error).to_be_visible()
        assert not [url for url in posts if "/tasks" in url]  # nothing was sent
        expect(form.locator("input[name=title]")).to_have_value("Recorded lesson")
        # A file that fits clears the message.
        small = tmp_path / "plan.pdf"
        small.write_bytes(PDF)
        form.locator("input[type=file]").set_input_files(str(small))
        expect(error).to_be_hidden()
        # Should the browser's check be bypassed, the server's 413 is said by the field too,
        # and the form stays as typed (no error page to come back from).
        form.evaluate("f => { f.dataset.maxBytes = String(1024 ** 3); }")
        form.locator("input[type=file]").set_input_files(str(big))
        expect(error).to_be_hidden()
        form.locator("button[type=submit]").click()
        expect(error).to_have_text("The file is larger than the limit of 20 MB.")
        expect(form.locator("input[name=title]")).to_have_value("Recorded lesson")
        expect(form.locator("button[type=submit]")).to_be_enabled()
    assert browser_page.page_errors == []


def test_an_upload_shows_its_progress_and_ends_on_the_card(tool, moodle, browser_page, tmp_path):
    from lti_tool.teachhub import evidence

    if not evidence.available():
        pytest.skip("lti_tool.evidence is not installed")
    page = browser_page.page
    with ExitStack() as stack:
        frame, _card = _card_in_the_frame(tool, moodle, stack, page)
        form = frame.locator("#add-task")
        expect(form.locator(".upload-progress")).to_be_hidden()  # until something is sent
        form.locator("input[name=title]").fill("Lesson plan")
        certificate = tmp_path / "certificate.pdf"
        certificate.write_bytes(PDF + b"%" + b"0" * (2 * 1024 * 1024))
        form.locator("input[type=file]").set_input_files(str(certificate))
        page.frame(name="tool").evaluate(WATCH_THE_UPLOAD)
        form.locator("button[type=submit]").click()
        expect(frame.locator(".flash")).to_contain_text("Task added.")
        expect(frame.locator(".th-task")).to_contain_text("certificate.pdf")
    seen = [line for line in browser_page.messages("log") if "upload: " in line]
    assert any("bar shown" in line and "button disabled" in line for line in seen), seen
    assert any("bar shown 100" in line for line in seen), seen
    assert browser_page.page_errors == []
