"""Distinct test users for a load run: made on the target before the load starts, and handed
to the Locust processes through a file only the harness's user can read.

Each Locust user gets one :class:`LoadAccount` of its own (its password, TOTP seed, unused
recovery codes and software key), so no two concurrent users ever share an account, a TOTP
time step or a key's counter. The file is made with mode 0600 in a fresh temporary folder
that the run deletes; nothing of it goes on a command line.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from soft_webauthn import SoftWebauthnDevice

from harness.accounts import AccountFactory
from harness.redaction import Secret
from harness.targets import Target
from virtual_authenticators.soft import SoftKey

ACCOUNTS_VARIABLE = "HARNESS_LOAD_ACCOUNTS"
"""Environment variable naming the accounts file (its path, never its contents)."""


@dataclass(frozen=True)
class LoadAccount:
    """One load user's account and what its owner holds; the repr names only the username."""

    username: str
    password: Secret
    totp_secret: Secret | None
    recovery_codes: tuple[Secret, ...]
    security_key: dict[str, Any] | None

    def __repr__(self) -> str:
        return f"LoadAccount(username={self.username!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "password": str(self.password),
            "totp_secret": None if self.totp_secret is None else str(self.totp_secret),
            "recovery_codes": [str(code) for code in self.recovery_codes],
            "security_key": self.security_key,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadAccount:
        key = data.get("security_key")
        if key is not None:
            for credential in key["credentials"]:
                Secret(credential["private_key"])
        return cls(
            username=data["username"],
            password=Secret(data["password"]),
            totp_secret=None if data.get("totp_secret") is None else Secret(data["totp_secret"]),
            recovery_codes=tuple(Secret(code) for code in data.get("recovery_codes", [])),
            security_key=key,
        )

    def secrets(self) -> tuple[str, ...]:
        """Every secret value this account holds, to keep them out of error messages."""
        values = [self.password, *self.recovery_codes]
        if self.totp_secret is not None:
            values.append(self.totp_secret)
        for credential in (self.security_key or {}).get("credentials", []):
            values.append(credential["private_key"])
        return tuple(str(value) for value in values)


@dataclass(frozen=True)
class LoadPlan:
    """What every Locust process needs to run the journeys: the journeys, how the target's
    pages read WebAuthn options, and the accounts still to hand out."""

    journeys: tuple[str, ...]
    webauthn_encoding: str
    accounts: tuple[LoadAccount, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "journeys": list(self.journeys),
            "webauthn_encoding": self.webauthn_encoding,
            "accounts": [account.to_json() for account in self.accounts],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadPlan:
        return cls(
            journeys=tuple(data["journeys"]),
            webauthn_encoding=data["webauthn_encoding"],
            accounts=tuple(LoadAccount.from_json(account) for account in data["accounts"]),
        )


def provision(
    target: Target, count: int, journeys: Sequence[str], parallel: int = 4
) -> list[LoadAccount]:
    """``count`` fresh accounts on ``target``, each set up for every journey in ``journeys``
    (a TOTP app, recovery codes, a software key), made through the target's pages.

    :raises HarnessError: an account could not be made (the target is down, lacks a mailbox,
        or a page did not answer as the contract says).
    """
    factory = AccountFactory(target)
    # Recovery codes stand in for a second factor: an account with codes alone has none.
    totp = "totp" in journeys or "webauthn" not in journeys

    def make(_: int) -> LoadAccount:
        key = SoftKey() if "webauthn" in journeys else None
        account = factory.create(
            totp=totp,
            recovery_codes="recovery-code" in journeys,
            security_key=key,
        )
        return LoadAccount(
            username=account.username,
            password=Secret(account.password),
            totp_secret=None if account.totp is None else Secret(account.totp.secret),
            recovery_codes=tuple(
                code for code in account.recovery_codes if code not in account.used_recovery_codes
            ),
            security_key=None if key is None else export_key(key),
        )

    with ThreadPoolExecutor(max(1, min(parallel, count))) as pool:
        return list(pool.map(make, range(count)))


def export_key(key: SoftKey) -> dict[str, Any]:
    """A software key's credentials (id, private key, RP ID, user handle, counter) as JSON."""
    credentials = []
    for credential_id in key.credentials:
        device = key.credential(credential_id).device
        der = device.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        credentials.append(
            {
                "id": _b64(credential_id),
                "private_key": Secret(_b64(der)),
                "rp_id": device.rp_id,
                "user_handle": _b64(device.user_handle or b""),
                "aaguid": _b64(bytes(device.aaguid)),
                "sign_count": device.sign_count,
            }
        )
    return {"counter": key.counter, "credentials": credentials}


def restore_key(data: dict[str, Any]) -> SoftKey:
    """The software key :func:`export_key` wrote, its counters where they were."""
    key = SoftKey(counter=data["counter"])
    for stored in data["credentials"]:
        device = SoftWebauthnDevice()
        device.credential_id = _unb64(stored["id"])
        device.private_key = serialization.load_der_private_key(
            _unb64(stored["private_key"]), password=None
        )
        device.rp_id = stored["rp_id"]
        device.user_handle = _unb64(stored["user_handle"])
        device.aaguid = _unb64(stored["aaguid"])
        device.sign_count = stored["sign_count"]
        key.hold(device)
    return key


def write_plan(folder: Path, plan: LoadPlan) -> Path:
    """Write ``plan`` to a new file in ``folder`` readable by this user only (mode 0600)."""
    path = folder / "accounts.json"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(plan.to_json(), file)
    return path


def read_plan(path: Path) -> LoadPlan:
    return LoadPlan.from_json(json.loads(path.read_text(encoding="utf-8")))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text)
