"""``--disable-check``: one named security check off, only in test mode, announced loudly."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from reference_server.checks import CHECKS, NAMES, performed_by
from reference_server.cli import disabled_check_warning
from reference_server.config import ServerConfig
from tests.reference_server.test_server_cli import ROOT, run, start_and_stop

SERVER_SOURCE = ROOT / "reference_server"


class TestRegistry:
    def test_there_are_at_least_twenty_checks_with_unique_names(self) -> None:
        assert len(CHECKS) >= 20
        assert len(NAMES) == len(CHECKS)

    def test_every_check_guards_some_code(self) -> None:
        code = "".join(
            path.read_text(encoding="utf-8")
            for path in SERVER_SOURCE.rglob("*.py")
            if path.name != "checks.py"
        )
        assert [check.name for check in CHECKS if f'"{check.name}"' not in code] == []

    def test_every_check_is_performed_unless_disabled(self) -> None:
        config = ServerConfig(test_mode=True, disabled_checks=frozenset({"csrf"}))
        assert not performed_by(config, "csrf")
        assert all(performed_by(config, name) for name in NAMES - {"csrf"})
        assert all(performed_by(ServerConfig(), name) for name in NAMES)

    def test_an_unknown_name_in_the_code_is_an_error_not_a_silent_yes(self) -> None:
        with pytest.raises(KeyError):
            performed_by(ServerConfig(), "no-such-check")


class TestCommandLine:
    def test_list_checks_prints_name_requirements_policy_and_summary(self) -> None:
        result = run("--list-checks")
        assert result.returncode == 0
        lines = result.stdout.splitlines()
        assert len(lines) == len(CHECKS)
        name, requirements, policy, summary = lines[0].split("\t")
        assert (name, requirements.split(","), policy, summary) == (
            CHECKS[0].name,
            list(CHECKS[0].requirements),
            CHECKS[0].profile,
            CHECKS[0].summary,
        )

    def test_disabling_a_check_without_test_mode_is_refused_in_one_line(self) -> None:
        result = run("--disable-check", "csrf", "--port", "0")
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "reference-server: error: --disable-check makes the server insecure:"
            " it needs --test-mode too"
        )

    def test_an_unknown_check_is_refused_in_one_line(self) -> None:
        result = run("--test-mode", "--disable-check", "csrf-ish", "--port", "0")
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "reference-server: error: --disable-check: unknown check 'csrf-ish';"
            " --list-checks names them"
        )

    def test_each_disabled_check_is_announced_at_start(self, tmp_path: Path) -> None:
        first_line, stderr = start_and_stop(
            tmp_path, "--test-mode", "--disable-check=csrf", "--disable-check=totp-replay"
        )
        assert first_line.startswith("reference-server listening on ")
        lines = stderr.splitlines()
        assert disabled_check_warning("csrf") in lines
        assert disabled_check_warning("totp-replay") in lines
        assert "DISABLED" in disabled_check_warning("csrf")


class TestPages:
    def test_every_page_names_the_disabled_checks(self, make_app) -> None:
        app = make_app(test_mode=True, disabled_checks=frozenset({"csrf", "totp-replay"}))
        for path in ("/", "/account/login/", "/nowhere"):
            banner = BeautifulSoup(app.test_client().get(path).data, "html.parser").find(
                id="test-mode-banner"
            )
            assert banner is not None
            text = " ".join(banner.get_text().split())
            assert "Security checks DISABLED" in text
            assert "csrf, totp-replay" in text

    def test_pages_in_test_mode_with_every_check_on_say_nothing_of_disabled_checks(
        self, make_app
    ) -> None:
        page = make_app(test_mode=True).test_client().get("/").get_data(as_text=True)
        assert "DISABLED" not in page

    def test_a_disabled_check_changes_what_the_server_does(self, make_app) -> None:
        honest = make_app(test_mode=True).test_client().post("/account/login/", data={})
        broken = make_app(test_mode=True, disabled_checks=frozenset({"csrf"})).test_client()
        assert honest.status_code == 400
        assert broken.post("/account/login/", data={}).status_code != 400
