"""Secrets stay out of failure reports but go to the server as they are."""

from harness.redaction import Secret


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
