"""TeachHub's config and data file are checked at start-up; mistakes name the entry."""

import copy
from decimal import Decimal

import pytest
import yaml

from lti_tool.settings import PROJECT_ROOT, SettingsError, load
from lti_tool.teachhub.config import TeachHubConfigError, load_config, parse_data
from lti_tool.teachhub.scores import score_post

DATA = yaml.safe_load((PROJECT_ROOT / "config" / "teachhub.yaml").read_text(encoding="utf-8"))


def test_shipped_config_loads():
    config = load_config(load())
    assert config.hours_per_unit == Decimal(30)
    assert len(config.keys("competence_areas")) == 5
    assert config.keys("module_formats") == ("integrative", "specialised", "interdisciplinary")
    assert config.status_name("submitted", "kk") == "Тануға ұсынылған"
    assert config.status_name("recognized", "ru") == "Признан"
    assert config.label("competence_areas", "gone", "en") == "gone"


def test_missing_name_duplicate_key_and_status_order_are_refused():
    data = copy.deepcopy(DATA)
    del data["competence_areas"][0]["ru"]
    with pytest.raises(TeachHubConfigError, match=r"competence_areas entry 1 .* no name in ru"):
        parse_data(data, "teachhub.yaml")
    data = copy.deepcopy(DATA)
    data["module_formats"].append(dict(data["module_formats"][0]))
    with pytest.raises(TeachHubConfigError, match="appears twice"):
        parse_data(data, "teachhub.yaml")
    data = copy.deepcopy(DATA)
    data["statuses"].reverse()
    with pytest.raises(TeachHubConfigError, match="statuses"):
        parse_data(data, "teachhub.yaml")


@pytest.mark.parametrize("change, message", [
    ({"hours_per_credit_unit": 0}, "hours_per_credit_unit"),
    ({"max_hours": "lots"}, "max_hours"),
    ({"feedback_min_answers": 0}, "feedback_min_answers"),
    ({"coordinator_roles": "Administrator"}, "coordinator_roles"),
    ({"gradebook": {"score": "stars"}}, "gradebook.score"),
    ({"gradebook": {"progress": {"registered": ["Begun", "NotReady"]}}}, "progress.registered"),
    ({"data_file": "config/nothing.yaml"}, "data_file"),
])
def test_bad_settings_are_refused(change, message):
    # A wrong type is refused as the settings are read (SettingsError), a wrong value as the
    # configuration is loaded (TeachHubConfigError): both name the setting.
    with pytest.raises((SettingsError, TeachHubConfigError), match=message):
        load_config(load({"teachhub": change}))


def test_coordinator_roles_are_normalised():
    config = load_config(load({"teachhub": {"coordinator_roles": ["ContentDeveloper"]}}))
    assert config.coordinator_roles == {
        "http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper"}


def test_what_is_posted_to_the_gradebook():
    posting = load_config(load()).gradebook
    hundred = Decimal(100)
    assert score_post("registered", None, posting, hundred).activity_progress == "Initialized"
    waiting = score_post("completed", None, posting, hundred)
    assert (waiting.grading_progress, waiting.score_given) == ("Pending", None)
    graded = score_post("completed", Decimal("87.5"), posting, hundred)
    assert (graded.grading_progress, graded.score_given) == ("FullyGraded", Decimal("87.5"))
    completion = type(posting)(posting.enabled, "completion", posting.progress)
    assert score_post("in_progress", None, completion, hundred).score_given is None
    assert score_post("recognized", None, completion, hundred).score_given == hundred
    none = type(posting)(posting.enabled, "none", posting.progress)
    assert score_post("recognized", Decimal(90), none, hundred).score_given is None
