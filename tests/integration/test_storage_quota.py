"""Storage quotas for evidence (per person, per platform; portfolio and TeachHub alike), and the
tool's own 413 page for uploads over the request limit, over real HTTP."""

from __future__ import annotations

import re
from contextlib import ExitStack

import pytest
from lti_platform import Platform
from sqlalchemy import func, select
from teachhub_helpers import participant, published_module
from tool_server import start_tool

from lti_tool.evidence.models import EvidenceFile
from lti_tool.extensions import services

MIB = 1024 * 1024
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_of(size: int) -> bytes:
    return PDF + b"0" * (size - len(PDF))


@pytest.fixture(scope="module")
def small_tool(tmp_path_factory):
    """A tool whose quotas are 2.5 MiB a person and 3.5 MiB for the platform."""
    served = start_tool(
        str(tmp_path_factory.mktemp("quota")),
        {
            "evidence": {
                "quota_bytes_per_person": int(2.5 * MIB),
                "quota_bytes_per_platform": int(3.5 * MIB),
            }
        },
    )
    yield served
    served.stop()


def new_entry(person, title: str) -> int:
    answer = person.post(
        "/portfolio/entries/new?list=olympiads",
        {
            "list": "olympiads",
            "course_year": "2",
            "action": "draft",
            "item": "olympiad",
            "level": "republic",
            "result": "first",
            "f_title": title,
        },
    )
    assert answer.status_code == 200, answer.text[:400]
    return int(re.search(r"/portfolio/entries/(\d+)", answer.url).group(1))


def upload(person, entry_id: int, size: int):
    return person.post(
        f"/portfolio/entries/{entry_id}/evidence",
        files={"file": ("diploma.pdf", pdf_of(size), "application/pdf")},
    )


def stored(tool) -> tuple[int, int]:
    """Evidence rows and their bytes."""
    with services(tool.app).db.new_session() as db:
        return tuple(
            db.execute(
                select(func.count(), func.coalesce(func.sum(EvidenceFile.size), 0)).select_from(
                    EvidenceFile
                )
            ).one()
        )


def files_on_disk(tool) -> int:
    from lti_tool.evidence.storage import evidence_dir

    return sum(1 for _ in evidence_dir(services(tool.app).settings).iterdir())


def test_quotas_refuse_before_storing_and_show_what_is_used(small_tool):
    tool = small_tool
    with ExitStack() as stack:
        platform = stack.enter_context(Platform("moodle"))
        tool.register(platform)
        setup = published_module(tool, platform, stack)
        first = participant(tool, platform, stack, setup, uid="91")
        # Files of 1 MiB into separate entries (finding 7: 36 were all accepted).
        for n in range(2):
            entry_id = new_entry(first, f"Olympiad {n}")
            answer = upload(first, entry_id, MIB)
            assert "The file was attached." in answer.text, answer.text[:400]
        assert "2 MB of 2.5 MB used" in answer.text
        entry_id = new_entry(first, "One too many")
        answer = upload(first, entry_id, MIB)
        assert answer.status_code == 400  # the entry page, the reason beside the file field
        assert (
            "This file does not fit in your storage: 2 MB of 2.5 MB used. Remove files you "
            "no longer need and try again."
        ) in answer.text
        assert stored(tool) == (2, 2 * MIB) and files_on_disk(tool) == 2
        # TeachHub evidence counts against the same quota.
        card_path = re.search(r'action="(/teachhub/cards/\d+)/tasks', first.page.text).group(1)
        answer = first.post(
            f"{card_path}/tasks",
            {"title": "Audit", "description": "", "completed_on": ""},
            files={"file": ("audit.pdf", pdf_of(MIB), "application/pdf")},
        )
        assert "This file does not fit in your storage" in answer.text
        assert "2 MB of 2.5 MB used" in first.get(card_path).text
        assert stored(tool) == (2, 2 * MIB)

        # The platform's quota: 3.5 MiB for everyone.
        second = participant(tool, platform, stack, setup, uid="92", name="Bota")
        assert "The file was attached." in upload(second, new_entry(second, "A"), MIB).text
        answer = upload(second, new_entry(second, "B"), MIB)
        assert (
            "The file storage of your institution is full. Please tell your LMS administrator."
        ) in answer.text
        assert stored(tool) == (3, 3 * MIB) and files_on_disk(tool) == 3

        # Russian: the figures in the reader's locale.
        russian = participant(tool, platform, stack, setup, uid="93", name="Ольга", locale="ru")
        page = russian.get(f"/portfolio/entries/{new_entry(russian, 'C')}")
        assert "0 МБ из 2,5 МБ" in page.text


def test_uploads_over_the_request_limit_get_the_tools_own_page(small_tool):
    tool = small_tool
    with ExitStack() as stack:
        platform = stack.enter_context(Platform("moodle"))
        tool.register(platform)
        setup = published_module(tool, platform, stack)
        person = participant(tool, platform, stack, setup, uid="95")
        before = stored(tool), files_on_disk(tool)
        card_path = re.search(r'action="(/teachhub/cards/\d+)/tasks', person.page.text).group(1)
        form_page = person.url(card_path)
        # A task's file over [evidence] max_bytes (20 MB): the tool's 413, the limit, the way back.
        answer = person.driver.post(
            person.url(f"{card_path}/tasks"),
            data={"csrf_token": person._csrf, "title": "Audit"},
            files={"file": ("big.pdf", pdf_of(21 * MIB), "application/pdf")},
            headers={"Referer": form_page},
        )
        assert answer.status_code == 413
        assert "The file is larger than the limit of 20 MB." in answer.text
        assert "Back to the form" in answer.text and f'href="{form_page}"' in answer.text.replace(
            "&amp;", "&"
        )
        # Any other form over the 1 MB request limit, for a Russian reader, as JSON too.
        russian = participant(tool, platform, stack, setup, uid="96", name="Ольга", locale="ru")
        card_path = re.search(r'action="(/teachhub/cards/\d+)/tasks', russian.page.text).group(1)
        answer = russian.post(f"{card_path}/department", {"department": "x" * (2 * MIB)})
        assert answer.status_code == 413
        assert "Отправленные данные больше допустимых 1 МБ." in answer.text
        answer = russian.post(f"{card_path}/department", {"department": "x" * (2 * MIB)}, json=True)
        assert answer.status_code == 413 and answer.json()["error"] == "too_large"
        assert (stored(tool), files_on_disk(tool)) == before  # nothing was kept
