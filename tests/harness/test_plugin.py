"""The pytest plugin, as a user's own test run meets it (pytester, in a subprocess)."""

from pathlib import Path

import pytest


def test_plugin_registers_the_harness_markers(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    for marker in ("browser:", "protocol:", "destructive:", "hardware:", "requirement(*ids):"):
        result.stdout.fnmatch_lines([f"@pytest.mark.{marker}*"])


def test_unknown_target_profile_is_one_line_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess("--target-profile=nonesuch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown target profile 'nonesuch'*"])
    assert "Traceback" not in result.stderr.str()


def test_bundled_server_starts_for_a_session_and_serves_the_contract(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_target(target, mailbox):
            assert target.bundled
            assert target.base_url.startswith("http://localhost:")
            page = requests.get(target.base_url + "/account/login/", timeout=10)
            assert page.status_code == 200
            assert 'name="csrf_token"' in page.text
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_server_that_cannot_start_ends_the_run_with_one_line(pytester: pytest.Pytester) -> None:
    profile = pytester.path / "bad.toml"
    reference = Path(__file__).resolve().parents[2] / "harness" / "profiles" / "reference.toml"
    profile.write_text(reference.read_text().replace('"10 per 5 minutes"', '"ten a minute"'))
    pytester.makepyfile("def test_target(target): pass")
    result = pytester.runpytest_subprocess(f"--target-profile={profile}")
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*harness: the bundled reference server exited: *"])


def test_remote_target_has_no_mailbox_so_account_scenarios_skip(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_needs_account(make_account):
            make_account()
        """
    )
    result = pytester.runpytest_subprocess("--base-url=http://localhost:9", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*needs the target's mail*"])


DESTRUCTIVE_AND_READ_ONLY_TESTS = """
    import pytest

    @pytest.mark.destructive
    def test_deletes_a_project():
        pass

    def test_reads_the_login_page():
        pass
"""
# Collection and skip decisions must not reach the target: any connection fails the run.
NO_NETWORK_CONFTEST = """
    import socket

    def refuse(sock, address):
        raise AssertionError(f"the run tried to connect to {address}")

    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
"""


@pytest.mark.parametrize("flags", [[], ["--allow-destructive"]], ids=["plain", "allowed"])
def test_destructive_test_aimed_at_the_production_index_ends_the_run_before_any_request(
    pytester: pytest.Pytester, flags: list[str]
) -> None:
    pytester.makeconftest(NO_NETWORK_CONFTEST)
    pytester.makepyfile(DESTRUCTIVE_AND_READ_ONLY_TESTS)
    result = pytester.runpytest_subprocess("--base-url=https://upload.pypi.org", *flags)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: upload.pypi.org is the production index: destructive scenarios never run"
            " there; 1 selected, deselect them with -m 'not destructive'"
        ]
    )
    result.assert_outcomes()


def test_read_only_tests_run_against_the_production_index_once_destructive_are_deselected(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(NO_NETWORK_CONFTEST)
    pytester.makepyfile(DESTRUCTIVE_AND_READ_ONLY_TESTS)
    result = pytester.runpytest_subprocess("--base-url=https://pypi.org", "-m", "not destructive")
    result.assert_outcomes(passed=1, deselected=1)


def test_destructive_test_is_skipped_against_a_remote_target_without_the_flag(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(NO_NETWORK_CONFTEST)
    pytester.makepyfile(DESTRUCTIVE_AND_READ_ONLY_TESTS)
    result = pytester.runpytest_subprocess("--base-url=https://staging.example.invalid", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED * only with --allow-destructive"])


def test_destructive_test_runs_against_a_remote_target_with_the_flag(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(NO_NETWORK_CONFTEST)
    pytester.makepyfile(DESTRUCTIVE_AND_READ_ONLY_TESTS)
    result = pytester.runpytest_subprocess(
        "--base-url=https://staging.example.invalid", "--allow-destructive"
    )
    result.assert_outcomes(passed=2)


def test_destructive_test_runs_against_the_bundled_server(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(NO_NETWORK_CONFTEST)
    pytester.makepyfile(DESTRUCTIVE_AND_READ_ONLY_TESTS)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2)


NEEDS_TESTS = """
    import pytest

    @pytest.mark.needs("recovery_codes")
    def test_uses_recovery_codes():
        pass

    @pytest.mark.needs("totp")
    def test_uses_totp():
        pass
"""


def test_test_needing_a_feature_the_profile_lacks_skips_with_the_reason(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(NO_NETWORK_CONFTEST)
    pytester.makepyfile(NEEDS_TESTS)
    result = pytester.runpytest_subprocess("--target-profile=warehouse-2019", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["SKIPPED * the target profile warehouse-2019 says the target has no recovery codes"]
    )


def test_test_needing_features_the_profile_has_runs(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(NO_NETWORK_CONFTEST)
    pytester.makepyfile(NEEDS_TESTS)
    result = pytester.runpytest_subprocess("--target-profile=warehouse")
    result.assert_outcomes(passed=2)


def test_needs_with_an_unknown_feature_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.needs("teleportation")
        def test_beams():
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_beams: needs() takes features among registration, *"])


def test_authenticator_option_keeps_the_tests_of_that_authenticator_and_those_of_none(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.parametrize(
            "kind",
            [
                pytest.param("soft", marks=pytest.mark.authenticator("soft")),
                pytest.param("bridged", marks=pytest.mark.authenticator("bridge", "ctap")),
                pytest.param("cdp", marks=pytest.mark.authenticator("cdp")),
            ],
        )
        def test_key(kind):
            pass

        def test_totp():
            pass
        """
    )
    result = pytester.runpytest_subprocess("--authenticator=ctap", "-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, deselected=2)
    result.stdout.fnmatch_lines(["*test_key?bridged? PASSED*", "*test_totp PASSED*"])


def test_a_failure_names_the_requirements_it_breaks_and_keeps_secrets_out(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest
        from harness.redaction import Secret

        @pytest.mark.requirement("TOTP-REPLAY-01")
        def test_replay():
            password = Secret("planted-password-1234")
            print("typed", password)
            pytest.fail(f"refused {password}")
        """
    )
    result = pytester.runpytest_subprocess("--junitxml=junit.xml", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    junit = (pytester.path / "junit.xml").read_text()
    assert "checks TOTP-REPLAY-01 [security]" in junit
    assert '<property name="requirements" value="TOTP-REPLAY-01" />' in junit
    assert "refused ***" in junit
    result.stdout.fnmatch_lines(["*Captured stdout call*", "typed ***"])
    assert "planted-password-1234" not in junit + result.stdout.str()
