"""Target profiles: the bundled ones load, a bad file is refused in one line, and what they
say about a target (WebAuthn encoding, features, limits) reaches the bundled server."""

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from harness.accounts import AccountFactory
from harness.client import IndexClient
from harness.errors import ProfileError
from harness.pages import IndexPage, LoginPage, ReauthenticateForm, WebAuthnProvisionPage
from harness.targets import FEATURES, PROFILE_NAMES, BundledServer, Profile, RateLimits, Target
from virtual_authenticators.playwright_credentials import PlaywrightCredentials
from virtual_authenticators.soft import SoftKey

REFERENCE = Path("harness/profiles/reference.toml")


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
    with pytest.raises(ProfileError, match="use one of reference, reference-2019, warehouse"):
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


def profile_file(tmp_path: Path, old: str, new: str) -> str:
    """The reference profile with ``old`` replaced by ``new``, as a file; its path."""
    text = REFERENCE.read_text()
    assert old in text
    path = tmp_path / "edited.toml"
    path.write_text(text.replace(old, new, 1))
    return str(path)


def test_warehouse_profiles_read_webauthn_options_as_char_codes() -> None:
    assert Profile.load("reference").webauthn_encoding == "base64url"
    assert Profile.load("warehouse").webauthn_encoding == "char-codes"
    assert Profile.load("warehouse-2019").webauthn_encoding == "char-codes"


def test_warehouse_2019_lacks_what_came_after_the_beta() -> None:
    profile = Profile.load("warehouse-2019")
    assert {f for f in FEATURES if profile.lacks(f)} == {
        "recovery_codes",
        "api_tokens",
        "remember_device",
    }


def test_features_left_out_of_a_profile_are_present(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "[features]", "[features]\ntotp = false")
    profile = Profile.load(path)
    assert profile.lacks("totp")
    assert not profile.lacks("webauthn")


def test_profile_naming_an_unknown_feature_is_refused(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "[features]", "[features]\nteleportation = true")
    with pytest.raises(ProfileError, match="unknown feature 'teleportation'; features are"):
        Profile.load(path)


def test_profile_feature_that_is_not_a_boolean_is_refused(tmp_path: Path) -> None:
    path = profile_file(tmp_path, "[features]", '[features]\ntotp = "yes"')
    with pytest.raises(ProfileError, match=r"features\.totp must be true or false"):
        Profile.load(path)


def test_profile_with_unknown_webauthn_encoding_is_refused(tmp_path: Path) -> None:
    path = profile_file(tmp_path, 'encoding = "base64url"', 'encoding = "utf-16"')
    with pytest.raises(ProfileError, match=r"webauthn\.encoding must be one of base64url, char"):
        Profile.load(path)


def test_asking_about_an_unknown_feature_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown feature 'flight'"):
        Profile.load("reference").lacks("flight")


def test_bundled_server_lifts_only_the_limits_shared_by_every_scenario() -> None:
    warehouse = Profile.load("warehouse")
    lifted = warehouse.for_bundled_server().rate_limits
    assert lifted.login_per_ip == lifted.login_global == lifted.two_factor_per_ip
    assert RateLimits.first_count(lifted.login_per_ip) > 1000
    assert lifted.login_per_user == warehouse.rate_limits.login_per_user
    assert lifted.two_factor_per_user == warehouse.rate_limits.two_factor_per_user


@pytest.fixture(scope="module")
def warehouse_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    profile = Profile.load("warehouse").for_bundled_server()
    with BundledServer(profile, tmp_path_factory.mktemp("server")) as server:
        assert server.target is not None
        yield server.target


def test_key_enrols_on_a_char_codes_target_when_the_client_reads_options_as_its_pages_do(
    warehouse_target: Target,
) -> None:
    account = AccountFactory(warehouse_target).create(two_factor_ready=True)
    client = warehouse_target.client()
    client.login(account.username, account.password)
    assert client.enrol_security_key(SoftKey(), "key 1", account.password).succeeded


def test_key_is_refused_on_a_char_codes_target_when_the_options_are_read_as_base64url(
    warehouse_target: Target,
) -> None:
    """The twin of the test above, differing by the client's encoding alone: the key signs
    the decoded challenge, not the one the target's pages sign, and the target refuses it."""
    account = AccountFactory(warehouse_target).create(two_factor_ready=True)
    client = IndexClient(warehouse_target.base_url, webauthn_encoding="base64url")
    client.login(account.username, account.password)
    answer = client.enrol_security_key(SoftKey(), "key 1", account.password)
    assert answer.errors == ["Invalid WebAuthn credential"]


def test_the_char_codes_page_enrols_a_key_and_logs_in_with_it(
    warehouse_target: Target, browser: Browser
) -> None:
    """The bundled server's page reads the options as Warehouse's does, in a real browser."""
    account = AccountFactory(warehouse_target).create(two_factor_ready=True)
    context = browser.new_context(base_url=warehouse_target.base_url)
    PlaywrightCredentials(context)
    page = context.new_page()
    try:
        LoginPage(page).open()
        LoginPage(page).log_in(account.username, account.password)
        provision = WebAuthnProvisionPage(page).open()
        ReauthenticateForm(page).confirm_if_asked(account.password)
        provision.enrol("key 1", authenticator="Playwright's credentials")
        assert provision.errors.all_inner_texts() == []
        IndexPage(page).log_out()
        two_factor = LoginPage(page).password_step(account.username, account.password)
        two_factor.use_security_key(authenticator="Playwright's credentials")
        expect(two_factor.user_indicator).to_have_text(account.username)
    finally:
        context.close()


def test_bundled_server_leaves_out_what_a_2019_profile_lacks() -> None:
    without = [a for a in Profile.load("warehouse-2019").reference_server_args() if "without" in a]
    assert without == [
        "--without=recovery-codes",
        "--without=api-tokens",
        "--without=remember-device",
    ]
    assert not any("without" in a for a in Profile.load("warehouse").reference_server_args())
