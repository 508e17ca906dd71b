"""Secrets stay out of failure reports but go to the server as they are."""

import copy
import pickle
import secrets

import pytest

from harness.redaction import Secret, known_secrets


def test_secret_repr_is_masked() -> None:
    assert repr(Secret("hunter22-password")) == "'***'"
    assert "hunter22" not in repr({"password": Secret("hunter22-password")})


def test_secret_is_still_the_string_it_holds() -> None:
    secret = Secret("hunter22-password")
    assert secret == "hunter22-password"
    assert f"{secret}" == "hunter22-password"
    assert secret.encode() == b"hunter22-password"


def test_failed_assertion_shows_no_secret(pytester) -> None:
    pytester.makepyfile(
        """
        from harness.redaction import Secret

        def account_password():
            return Secret("hunter" + str(2 * 11) + "-password")

        def check(password):
            return False

        def test_fails():
            password = account_password()
            assert check(password)
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(failed=1)
    assert "hunter22" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*check('***')*"])


def test_a_secret_made_in_this_process_is_known() -> None:
    secret = Secret("known-" + secrets.token_hex(8))
    assert str(secret) in known_secrets()


def test_a_secret_shorter_than_six_characters_is_not_known() -> None:
    Secret("xq7")
    assert "xq7" not in known_secrets()


def test_known_secrets_are_plain_strings() -> None:
    Secret("plain-" + secrets.token_hex(8))
    assert all(type(value) is str for value in known_secrets())


def test_a_copied_secret_is_still_a_masked_secret() -> None:
    secret = Secret("copied-password")
    for copied in (copy.copy(secret), copy.deepcopy(secret)):
        assert type(copied) is Secret
        assert copied == "copied-password"
        assert repr(copied) == "'***'"


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_a_pickled_secret_comes_back_a_masked_secret(protocol: int) -> None:
    restored = pickle.loads(pickle.dumps(Secret("pickled-password"), protocol=protocol))
    assert type(restored) is Secret
    assert restored == "pickled-password"
    assert repr(restored) == "'***'"
