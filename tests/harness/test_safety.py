"""Where destructive scenarios may run: the bundled server, a remote one only when allowed, and
the production index never."""

import pytest

from harness.safety import destructive_refusal

PRODUCTION_URLS = [
    "https://pypi.org",
    "https://upload.pypi.org/legacy/",
    "https://www.pypi.org/manage/projects/",
    "https://files.pythonhosted.org/",
    "https://PyPI.org.",
    "http://sub.pypi.org:443",
    "https://user@pypi.org/",
    "https://\uff50\uff59\uff50\uff49\u3002org/",  # full-width "pypi" and ideographic full stop
]
LOOK_ALIKES = [
    "https://notpypi.org",
    "https://pypi.org.example.com",
    "https://pypi.org@staging.example.com/",
    "https://pythonhosted.org.example.com",
]


def test_bundled_server_takes_destructive_scenarios() -> None:
    assert destructive_refusal(None, allow_destructive=False) is None


def test_remote_target_refuses_destructive_scenarios_without_the_flag() -> None:
    reason = destructive_refusal("https://staging.example.com", allow_destructive=False)
    assert reason is not None
    assert "--allow-destructive" in reason


def test_remote_target_takes_destructive_scenarios_with_the_flag() -> None:
    assert destructive_refusal("https://staging.example.com", allow_destructive=True) is None


@pytest.mark.parametrize("url", PRODUCTION_URLS)
def test_production_index_refuses_destructive_scenarios_even_with_the_flag(url: str) -> None:
    reason = destructive_refusal(url, allow_destructive=True)
    assert reason is not None
    assert "is the production index: destructive scenarios never run there" in reason


@pytest.mark.parametrize("url", LOOK_ALIKES)
def test_look_alike_host_is_not_the_production_index(url: str) -> None:
    assert destructive_refusal(url, allow_destructive=True) is None


def test_test_pypi_is_a_staging_target_not_the_production_index() -> None:
    assert destructive_refusal("https://test.pypi.org/legacy/", allow_destructive=True) is None


@pytest.mark.parametrize("url", ["pypi.org", "https://pypi..org/", "https://"])
def test_url_without_a_readable_host_refuses_destructive_scenarios(url: str) -> None:
    reason = destructive_refusal(url, allow_destructive=True)
    assert reason is not None
    assert "cannot tell the host" in reason
