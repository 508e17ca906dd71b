"""The requirements catalogue: its schema, the plugin's tracing, and ``harness catalogue``."""

import subprocess
import sys
from pathlib import Path

import pytest

from harness.catalogue import Catalogue, CatalogueError, Severity

TWO_REQUIREMENTS = """
[[requirement]]
id = "TOTP-REPLAY-01"
text = "A TOTP code accepted once is refused when submitted again."
source = "RFC 6238 §5.2"
severity = "security"
policies = ["current", "2019-beta"]

[[requirement]]
id = "TWOFA-RECOVERY-FIRST-01"
text = "Recovery codes come before the first two-factor method."
source = "Warehouse contract"
severity = "functional"
policies = ["current"]
"""

ONE_FIELD = """
[[requirement]]
id = "A-01"
text = "Some behaviour."
source = "Somewhere"
severity = "usability"
policies = ["current"]
"""


def test_requirements_are_read_in_the_files_order() -> None:
    catalogue = Catalogue.from_toml(TWO_REQUIREMENTS, source="test")

    assert [r.id for r in catalogue] == ["TOTP-REPLAY-01", "TWOFA-RECOVERY-FIRST-01"]
    assert catalogue["TOTP-REPLAY-01"].severity is Severity.SECURITY
    assert "TOTP-REPLAY-01" in catalogue
    assert len(catalogue) == 2


def test_a_requirement_applies_only_to_its_policies() -> None:
    requirement = Catalogue.from_toml(TWO_REQUIREMENTS, source="test")["TWOFA-RECOVERY-FIRST-01"]

    assert requirement.applies_to("current")
    assert not requirement.applies_to("2019-beta")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[requirement]\n", "test is not valid TOML"),
        ("title = 'x'\n", "test has no [[requirement]] tables"),
        (ONE_FIELD.replace('source = "Somewhere"\n', ""), "requirement 1 lacks source"),
        (ONE_FIELD + 'owner = "me"\n', "requirement 1 has unknown owner"),
        (ONE_FIELD.replace('"A-01"', '"a-01"'), "the id 'a-01' is not like TOTP-REPLAY-01"),
        (ONE_FIELD + ONE_FIELD, "the id A-01 is defined twice"),
        (ONE_FIELD.replace('"usability"', '"cosmetic"'), "severity 'cosmetic' is not one of"),
        (ONE_FIELD.replace('["current"]', '["2026"]'), "policies must list some of current"),
        (ONE_FIELD.replace('["current"]', "[]"), "policies must list some of current"),
        (ONE_FIELD.replace('"Some behaviour."', '"""Two\nlines"""'), "text must be one"),
        (ONE_FIELD.replace('"Somewhere"', '""'), "source must be one non-empty line"),
    ],
    ids=[
        "not-toml",
        "no-tables",
        "missing-field",
        "unknown-field",
        "bad-id",
        "duplicate-id",
        "bad-severity",
        "unknown-policy",
        "no-policy",
        "two-line-text",
        "empty-source",
    ],
)
def test_a_catalogue_breaking_the_schema_is_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=message.replace("[", r"\[")) as refusal:
        Catalogue.from_toml(text, source="test")

    assert "\n" not in str(refusal.value)


def test_a_missing_catalogue_file_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match=r"cannot read the catalogue .*nothing\.toml"):
        Catalogue.load(tmp_path / "nothing.toml")


@pytest.fixture
def catalogue_file(pytester: pytest.Pytester) -> Path:
    return pytester.makefile(".toml", catalogue=TWO_REQUIREMENTS)


TESTS = """
import pytest

@pytest.mark.requirement("TOTP-REPLAY-01")
def test_replay():
    pass

@pytest.mark.requirement("TWOFA-RECOVERY-FIRST-01")
def test_recovery_first():
    pass

def test_untraced():
    pass
"""


def run_tests(pytester: pytest.Pytester, catalogue_file: Path, *options: str) -> pytest.RunResult:
    """Run :data:`TESTS` in a pytest subprocess with the catalogue and ``options``."""
    pytester.makepyfile(TESTS)
    return pytester.runpytest_subprocess(f"--catalogue={catalogue_file}", *options)


def test_an_unknown_requirement_id_stops_the_run_naming_the_test(
    pytester: pytest.Pytester, catalogue_file: Path
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.requirement("TOTP-REPLAY-01", "NO-SUCH-01")
        def test_named():
            pass
        """
    )
    result = pytester.runpytest_subprocess(f"--catalogue={catalogue_file}")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*requirement ids not in the catalogue*", "*test_named: NO-SUCH-01"]
    )
    assert "Traceback" not in result.stderr.str()


def test_a_requirement_marker_without_ids_stops_the_run(
    pytester: pytest.Pytester, catalogue_file: Path
) -> None:
    pytester.makepyfile("import pytest\n\n@pytest.mark.requirement\ndef test_x():\n    pass\n")
    result = pytester.runpytest_subprocess(f"--catalogue={catalogue_file}")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_x: requirement() needs one or more id strings*"])


def test_requirement_option_runs_only_the_tests_checking_it(
    pytester: pytest.Pytester, catalogue_file: Path
) -> None:
    result = run_tests(pytester, catalogue_file, "--requirement=TOTP-REPLAY-01", "-v")

    result.assert_outcomes(passed=1, deselected=2)
    result.stdout.fnmatch_lines(["*test_replay PASSED*"])


def test_requirement_option_with_an_unknown_id_is_a_usage_error(
    pytester: pytest.Pytester, catalogue_file: Path
) -> None:
    result = run_tests(pytester, catalogue_file, "--requirement=NOPE-1")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--requirement NOPE-1*"])


def test_a_test_whose_requirements_are_outside_the_policy_is_skipped_saying_why(
    pytester: pytest.Pytester, catalogue_file: Path
) -> None:
    result = run_tests(pytester, catalogue_file, "--target-profile=reference-2019", "-rs")

    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*TWOFA-RECOVERY-FIRST-01: not in the 2019-beta policy*"])


def test_tests_without_requirements_do_not_read_the_catalogue(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest_subprocess("--catalogue=/nonexistent/catalogue.toml")

    result.assert_outcomes(passed=1)


def harness_catalogue(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "catalogue", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_catalogue_command_lists_each_requirement_with_its_tests_and_flags_the_untested(
    pytester: pytest.Pytester, catalogue_file: Path
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.requirement("TOTP-REPLAY-01")
        @pytest.mark.parametrize("n", [1, 2])
        def test_replay(n):
            pass
        """
    )
    result = harness_catalogue(
        f"--catalogue={catalogue_file}", f"--scenarios={pytester.path}", "--tests"
    )

    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("TOTP-REPLAY-01 [security] A TOTP code accepted once")
    assert lines[1] == "    2 tests · current, 2019-beta · RFC 6238 §5.2"
    assert lines[2].endswith("test_replay[1]")
    assert "    NO TEST · current · Warehouse contract" in lines
    assert lines[-1] == "without a test: TWOFA-RECOVERY-FIRST-01"


def test_catalogue_command_exits_0_when_every_requirement_has_a_test(
    pytester: pytest.Pytester, catalogue_file: Path
) -> None:
    pytester.makepyfile(TESTS)
    result = harness_catalogue(f"--catalogue={catalogue_file}", f"--scenarios={pytester.path}")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "2 requirements: 2 with tests, 0 without"


def test_catalogue_command_with_a_broken_catalogue_says_so_in_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "catalogue.toml"
    broken.write_text("[[requirement]\n")

    result = harness_catalogue(f"--catalogue={broken}")

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "is not valid TOML" in result.stderr
