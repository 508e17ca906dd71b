"""The hardware scenarios as a tester runs them, in CI: two software keys behind python-fido2's
real ``CtapHidDevice`` (``tests/harness/soft_security_keys.py``, a CTAP2 key and a U2F-only one)
stand in for plugged-in keys; without them, the scenarios skip, saying why."""

from __future__ import annotations

import glob
import re
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
HARDWARE_SCENARIOS = "scenarios/webauthn/test_webauthn_hardware.py"
SOFT_KEYS = ["-p", "tests.harness.soft_security_keys"]
QUIET = ["-q", "-rs", "-p", "no:cacheprovider"]


def run_hardware_scenarios(*options: str) -> tuple[dict[str, int], list[str]]:
    """Run the hardware scenarios; their outcome counts and the skip reasons pytest gave."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", HARDWARE_SCENARIOS, *QUIET, *options],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = done.stdout.strip().splitlines()[-1]
    counts = {word: int(number) for number, word in re.findall(r"(\d+) (\w+)", summary)}
    reasons = re.findall(r"^SKIPPED \[\d+\] [^:]+:\d+: (.*)$", done.stdout, re.MULTILINE)
    return counts, reasons


@pytest.mark.parametrize("key", ["1", "2"], ids=["ctap2-key", "u2f-only-key"])
def test_hardware_scenarios_pass_with_a_key_behind_the_hid_transport(key: str) -> None:
    counts, reasons = run_hardware_scenarios(*SOFT_KEYS, "--authenticator", "hid", "--key", key)
    assert counts == {"passed": 2, "skipped": 1}
    assert reasons == ["the browser-level hardware scenarios need --headed: the browser asks there"]


@pytest.mark.skipif(bool(glob.glob("/dev/hidraw*")), reason="a HID device is plugged in here")
def test_hardware_scenarios_without_a_key_are_skipped_saying_none_was_found() -> None:
    counts, reasons = run_hardware_scenarios()
    assert counts == {"skipped": 3}
    assert len(reasons) == 3
    assert all(reason.startswith("no security key found: plug one in") for reason in reasons)


def test_hardware_scenarios_wait_for_authenticator_hid_even_with_a_key() -> None:
    counts, reasons = run_hardware_scenarios(*SOFT_KEYS, "--key", "1")
    assert counts == {"skipped": 3}
    assert set(reasons) == {
        "a security key is plugged in, but the hardware scenarios wait for its touch: run them"
        " with --authenticator hid"
    }


def test_several_keys_without_a_number_skip_asking_for_one() -> None:
    counts, reasons = run_hardware_scenarios(*SOFT_KEYS, "--authenticator", "hid")
    assert counts == {"skipped": 3}
    assert set(reasons) == {
        "2 security keys are plugged in: choose one with --key N (`harness doctor --keys` lists"
        " them)"
    }
