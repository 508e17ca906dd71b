"""Test hooks (a TOTP clock per user, seeded secrets) exist only on a server started in test
mode, which says so on every page: a staging or production index must answer them as unknown
routes."""

import pytest

from harness.client import IndexClient
from harness.targets import Target

pytestmark = pytest.mark.protocol

HOOKS = ["/_test/totp-clock", "/_test/totp-secret"]
PAGES = ["/", "/account/login/", "/account/register/"]


@pytest.mark.requirement("TEST-MODE-01")
@pytest.mark.parametrize("path", HOOKS)
def test_test_hooks_answer_only_on_a_server_in_test_mode(
    target: Target, client: IndexClient, path: str
) -> None:
    body = {"username": "nobody", "time": None}
    hook = client.post(path, json=body)
    unknown_route = client.post("/_test/no-such-hook", json=body)
    assert unknown_route.status == 404
    answers_as_unknown = (hook.status, hook.response.text) == (
        unknown_route.status,
        unknown_route.response.text,
    )
    assert answers_as_unknown is (target.test_hooks is None), hook.response.text


@pytest.mark.requirement("TEST-MODE-01")
@pytest.mark.parametrize("path", PAGES)
def test_every_page_says_when_the_server_runs_in_test_mode(
    target: Target, client: IndexClient, path: str
) -> None:
    page = client.get(path)
    assert page.status == 200
    banners = page.select("#test-mode-banner")
    assert len(banners) == (0 if target.test_hooks is None else 1)
