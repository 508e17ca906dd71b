"""Target profiles: the bundled ones load, and a bad file is refused in one line."""

from dataclasses import replace
from pathlib import Path

import pytest

from harness.errors import ProfileError
from harness.targets import PROFILE_NAMES, Profile, RateLimits


@pytest.mark.parametrize("name", PROFILE_NAMES)
def test_bundled_profile_loads_by_name(name: str) -> None:
    assert Profile.load(name).name == name


def test_profiles_differ_in_the_2019_policy() -> None:
    current, beta = Profile.load("reference"), Profile.load("reference-2019")
    assert (current.policy, beta.policy) == ("current", "2019-beta")
    assert (
        current.recovery_codes_before_first_method and not beta.recovery_codes_before_first_method
    )


def test_profile_file_loads_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(
        Path("harness/profiles/reference.toml").read_text().replace('"reference"', '"mine"', 1)
    )
    assert Profile.load(str(path)).name == "mine"


def test_unknown_profile_name_is_refused_with_the_choices() -> None:
    with pytest.raises(ProfileError, match="use one of reference, reference-2019"):
        Profile.load("staging")


def test_profile_missing_a_setting_names_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\npolicy = "current"\n')
    with pytest.raises(ProfileError, match="lacks the setting 'two_factor'"):
        Profile.load(str(path))


def test_profile_with_unknown_policy_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        Path("harness/profiles/reference.toml").read_text().replace('"current"', '"2030"')
    )
    with pytest.raises(ProfileError, match="policy must be"):
        Profile.load(str(path))


def test_server_args_carry_every_figure_of_the_profile() -> None:
    args = Profile.load("reference-2019").reference_server_args()
    assert "--profile=2019-beta" in args
    assert "--two-factor-user-limit=5 per 5 minutes; 20 per hour; 50 per day" in args


def test_first_count_reads_the_tightest_window() -> None:
    assert RateLimits.first_count("5 per 5 minutes; 20 per hour") == 5


@pytest.mark.parametrize(("at_most", "expected"), [(10, 10), (9, None)])
def test_exhaustible_limit_is_its_tightest_window_unless_too_many_to_use_up(
    at_most: int, expected: int | None
) -> None:
    limits = replace(
        Profile.load("reference").rate_limits, login_per_user="10 per minute; 50 per hour"
    )
    assert limits.exhaustible("login_per_user", at_most=at_most) == expected
