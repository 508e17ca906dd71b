"""A server without some features (``--without``), as the 2019 index had no recovery codes, API
tokens or remembered devices: their pages answer 404, their controls are not shown, and what
they would do does not happen."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from tests.reference_server.conftest import Flow

WITHOUT_ALL = frozenset({"recovery-codes", "api-tokens", "remember-device"})


@pytest.fixture
def flow_2019(make_flow: Callable[..., Flow]) -> Flow:
    """A user with a verified email and TOTP on a 2019-like server, logged in."""
    flow = make_flow(profile="2019-beta", without=WITHOUT_ALL)
    assert flow.register().status_code == 303
    assert flow.verify_email().status_code == 303
    assert flow.provision_totp().status_code == 303
    return flow


@pytest.mark.parametrize(
    "path",
    [
        "/manage/account/recovery-codes/generate",
        "/manage/account/recovery-codes/burn",
        "/account/recovery-code/",
        "/manage/account/token/",
    ],
)
def test_pages_of_a_missing_feature_are_not_found(flow_2019: Flow, path: str) -> None:
    assert flow_2019.client.get(path).status_code == 404


def test_the_same_pages_exist_on_a_server_with_every_feature(ready: Flow) -> None:
    ready.login_with_totp()
    assert ready.client.get("/manage/account/token/").status_code == 200


def test_two_factor_management_offers_no_recovery_codes(flow_2019: Flow) -> None:
    page = flow_2019.client.get("/manage/account/two-factor/").get_data(as_text=True)
    assert "add-webauthn" in page
    assert "recovery-codes" not in page


def test_projects_page_offers_no_api_tokens(flow_2019: Flow) -> None:
    page = flow_2019.client.get("/manage/projects/").get_data(as_text=True)
    assert "/manage/account/token/" not in page


def test_login_offers_no_remembered_device_and_sets_no_cookie(flow_2019: Flow) -> None:
    flow_2019.logout()
    flow_2019.clock.advance(30)
    url = flow_2019.two_factor_url(flow_2019.login())
    assert "remember_device" not in flow_2019.client.get(url).get_data(as_text=True)
    answer = flow_2019.submit_totp(url, flow_2019.code(), remember_device="true")
    assert answer.status_code == 303
    assert "remember_device" not in answer.headers.get("Set-Cookie", "")


def test_a_token_upload_is_an_unknown_users(flow_2019: Flow) -> None:
    credentials = base64.b64encode(b"__token__:pypi-anything").decode()
    answer = flow_2019.client.post(
        "/legacy/",
        headers={"Authorization": f"Basic {credentials}"},
        data={":action": "file_upload"},
    )
    assert answer.status_code == 403
    assert "Invalid or non-existent authentication information" in answer.get_data(as_text=True)
