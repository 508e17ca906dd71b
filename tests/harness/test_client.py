"""Reading forms out of the index's HTML, as a browser would submit them."""

import json

import pytest
import requests

from harness.client import HtmlPage, warehouse_credential
from harness.errors import ContractMismatch

FORM = """
<form id="f" method="POST" action="/account/login/">
  <input type="hidden" name="csrf_token" value="tok">
  <input name="username" value="">
  <input type="checkbox" name="remember_device">
  <input type="checkbox" name="checked_box" value="yes" checked>
  <input type="submit" value="Log in">
</form>
<div id="flash-messages"><div class="notification-bar notification-bar--error">
  <span class="notification-bar__message">Bad thing</span></div></div>
<ul id="totp-errors"><li>Invalid TOTP code.</li></ul>
"""


def page_of(html: str, url: str = "http://localhost:1/account/login/?next=/x") -> HtmlPage:
    response = requests.Response()
    response.status_code, response.url, response._content = 200, url, html.encode()
    response.encoding = "utf-8"
    return HtmlPage(response)


def test_form_fields_are_what_a_browser_submits() -> None:
    action, fields = page_of(FORM).form_fields("form#f")
    assert action == "http://localhost:1/account/login/"
    assert fields == {"csrf_token": "tok", "username": "", "checked_box": "yes"}


def test_csrf_token_is_read_from_the_forms_hidden_input() -> None:
    assert page_of(FORM).csrf_token() == "tok"
    assert page_of(FORM).csrf_token("form#f") == "tok"


def test_page_without_a_csrf_token_is_a_contract_mismatch() -> None:
    with pytest.raises(ContractMismatch, match="has no element 'form#other input"):
        page_of(FORM).csrf_token("form#other")


def test_flashes_and_field_errors_are_read_by_kind() -> None:
    page = page_of(FORM)
    assert page.flashes("error") == ["Bad thing"]
    assert page.flashes("success") == []
    assert page.errors("totp") == ["Invalid TOTP code."]


def test_registration_is_posted_in_warehouses_form() -> None:
    credential = {
        "id": "abc",
        "rawId": "abc",
        "type": "public-key",
        "response": {"attestationObject": "AO", "clientDataJSON": "CD"},
        "clientExtensionResults": {},
        "authenticatorAttachment": "cross-platform",
    }
    assert json.loads(warehouse_credential(credential)) == {
        "id": "abc",
        "rawId": "abc",
        "type": "public-key",
        "response": {"attestationObject": "AO", "clientDataJSON": "CD"},
        "registrationClientExtensions": "{}",
    }


def test_assertion_carries_its_extensions_under_the_assertion_key() -> None:
    credential = {
        "id": "abc",
        "rawId": "abc",
        "type": "public-key",
        "response": {"authenticatorData": "AD", "clientDataJSON": "CD", "signature": "S"},
        "clientExtensionResults": {"appid": False},
    }
    posted = json.loads(warehouse_credential(credential))
    assert posted["assertionClientExtensions"] == '{"appid": false}'
    assert "registrationClientExtensions" not in posted
