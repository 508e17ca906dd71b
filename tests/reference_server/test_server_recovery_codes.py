"""Recovery codes: generation, storage, burn, regeneration and login with a code."""

from __future__ import annotations

import re

from sqlalchemy import select

from reference_server.db import make_engine
from reference_server.models import RecoveryCode


def stored_codes(app) -> list[str]:
    engine = make_engine(app.extensions["reference_server.config"].database_url)
    with engine.connect() as conn:
        return list(conn.scalars(select(RecoveryCode.code)))


def verified(flow):
    flow.register()
    flow.verify_email()
    return flow


def test_eight_codes_of_sixteen_lowercase_hex_characters_are_shown(flow, mail):
    codes = verified(flow).generate_codes()
    assert len(codes) == len(set(codes)) == 8
    assert all(re.fullmatch(r"[0-9a-f]{16}", c) for c in codes)
    assert "Recovery codes generated" in mail.subjects()


def test_the_codes_page_is_not_cached(flow):
    verified(flow)
    response = flow.client.get("/manage/account/recovery-codes/generate")
    assert response.headers["Cache-Control"] == "no-store"
    assert 'id="recovery-codes-continue" href="/manage/account/recovery-codes/burn"' in (
        response.get_data(as_text=True)
    )


def test_codes_are_stored_hashed(flow, app):
    codes = verified(flow).generate_codes()
    stored = stored_codes(app)
    assert len(stored) == 8
    assert not set(codes) & set(stored)
    assert all(s.startswith("$argon2") for s in stored)


def test_generating_again_shows_no_codes_but_a_regenerate_link(flow):
    verified(flow).generate_codes()
    page = flow.client.get("/manage/account/recovery-codes/generate").get_data(as_text=True)
    assert 'id="recovery-codes-exist"' in page
    assert 'href="/manage/account/recovery-codes/regenerate"' in page
    assert "<code>" not in page


def test_generating_codes_needs_a_recent_authentication(flow, clock):
    verified(flow)
    clock.advance(11)
    page = flow.client.get("/manage/account/recovery-codes/generate").get_data(as_text=True)
    assert 'id="reauthenticate-form"' in page
    assert "<code>" not in page


def test_regenerating_voids_the_old_codes(flow):
    old = verified(flow).generate_codes()
    page = flow.client.get("/manage/account/recovery-codes/regenerate").get_data(as_text=True)
    assert len(re.findall(r"<code>[0-9a-f]{16}</code>", page)) == 8
    response = flow.burn(old[0])
    assert "Invalid recovery code." in response.get_data(as_text=True)


def test_burning_a_code_goes_to_the_two_factor_page(flow):
    codes = verified(flow).generate_codes()
    response = flow.burn(codes[0].upper())
    assert response.headers["Location"] == "/manage/account/two-factor/"


def test_a_burned_code_is_reported_as_previously_used(flow):
    codes = verified(flow).generate_codes()
    flow.burn(codes[0])
    response = flow.burn(codes[0])
    assert "Recovery code has been previously used." in response.get_data(as_text=True)


def test_a_code_of_the_wrong_length_is_refused_with_its_message(flow):
    verified(flow).generate_codes()
    for value in ("abc", "0" * 17, "f" * 100_000):
        response = flow.burn(value)
        assert response.status_code in (200, 413)
        if response.status_code == 200:
            assert "Recovery Codes must be 16 characters." in response.get_data(as_text=True)


def test_logging_in_with_a_recovery_code(ready, mail):
    url = ready.two_factor_url(ready.login())
    page = ready.client.get(url).get_data(as_text=True)
    recovery_url = url.replace("/account/two-factor/", "/account/recovery-code/")
    assert f'href="{recovery_url}"' in page
    response = ready.post(recovery_url, {"recovery_code_value": ready.codes[1]})
    assert response.headers["Location"] == "/manage/account/"
    page = ready.client.get("/manage/account/").get_data(as_text=True)
    assert "Recovery code accepted. The supplied code cannot be used again." in page
    assert "Recovery code used" in mail.subjects()


def test_a_recovery_code_logs_in_only_once(ready):
    url = ready.two_factor_url(ready.login()).replace("two-factor", "recovery-code")
    ready.post(url, {"recovery_code_value": ready.codes[1]})
    ready.logout()
    ready.clock.advance(1)
    url = ready.two_factor_url(ready.login()).replace("two-factor", "recovery-code")
    response = ready.post(url, {"recovery_code_value": ready.codes[1]})
    assert "Recovery code has been previously used." in response.get_data(as_text=True)


def test_a_wrong_recovery_code_is_invalid(ready):
    url = ready.two_factor_url(ready.login()).replace("two-factor", "recovery-code")
    response = ready.post(url, {"recovery_code_value": "0123456789abcdef"})
    assert "Invalid recovery code." in response.get_data(as_text=True)
