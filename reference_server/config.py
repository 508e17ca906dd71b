"""Every setting of the reference server, in one immutable object.

``create_app`` takes a :class:`ServerConfig`; the command line (``cli.py``) only builds one.
The defaults are Warehouse's, so a test that passes here has a chance on the real index.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal

Profile = Literal["current", "2019-beta"]
PROFILES: tuple[Profile, ...] = ("current", "2019-beta")
WebAuthnEncoding = Literal["base64url", "char-codes"]
WEBAUTHN_ENCODINGS: tuple[WebAuthnEncoding, ...] = ("base64url", "char-codes")
"""How a page turns the WebAuthn options' challenge and user id strings into the bytes a key
signs: base64url decoding (WebAuthn's JSON forms), or each character's code, as Warehouse's
JavaScript does (``Uint8Array.from(text, c => c.charCodeAt(0))``)."""


@dataclass(frozen=True)
class ServerConfig:
    """Settings of one server instance.

    Ages are in seconds; rate limits are strings for the ``limits`` library
    (e.g. ``"5 per 5 minutes; 20 per hour"``).
    """

    host: str = "localhost"
    port: int = 8000
    database_url: str = "sqlite:///reference-server.sqlite3"
    # (host, port) of the SMTP server; None logs one line per message instead of sending it.
    smtp: tuple[str, int] | None = None
    # "current": recovery codes first, the last 2FA method cannot be removed;
    # "2019-beta": the 2019 beta's rules (no such requirements).
    profile: Profile = "current"
    ratelimit_storage: str = "memory://"
    # Prefix of the counters' keys in a Redis storage (None: the ``limits`` library's own,
    # "LIMITS"), so that servers sharing one Redis keep their own counts.
    ratelimit_key_prefix: str | None = None
    # A random key per start unless one is read from --secret-key-file: tokens and
    # remember-device cookies then die with the process, accounts and sessions do not.
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32), repr=False)
    # WebAuthn relying party: None derives them from each request (RP ID = the request's host
    # name without port, origin = scheme://host[:port]); set them behind a proxy or when the
    # public name differs from the one the server is reached by.
    rp_id: str | None = None
    origin: str | None = None
    # How the pages read the options' challenge and user id: "base64url" (decoded), or
    # "char-codes" (each character's code), as Warehouse's JavaScript does.
    webauthn_encoding: WebAuthnEncoding = "base64url"
    # Features left out (``features.OPTIONAL_FEATURES``: recovery-codes, api-tokens,
    # remember-device), as the 2019 index had none of them.
    without: frozenset[str] = frozenset()
    # Test mode (``--test-mode``): the ``/_test/`` hooks the harness drives (a per-user TOTP
    # clock, seeding a TOTP secret) and a banner on every page. Never for real users: anyone
    # on the server's own host could replace a user's TOTP secret.
    test_mode: bool = False
    # Security checks turned off (``--disable-check``, test mode only): the names of
    # ``checks.CHECKS`` whose code is skipped, to show the harness notices each one missing.
    disabled_checks: frozenset[str] = frozenset()

    login_user_limit: str = "10 per 5 minutes"
    login_ip_limit: str = "10 per 5 minutes"
    login_global_limit: str = "1000 per 5 minutes"
    two_factor_user_limit: str = "5 per 5 minutes; 20 per hour; 50 per day"
    two_factor_ip_limit: str = "10 per 5 minutes; 50 per hour"
    password_reset_limit: str = "5 per day"

    reauth_max_age: int = 30 * 60
    reauth_recovery_codes_max_age: int = 10
    two_factor_max_age: int = 300
    password_reset_max_age: int = 6 * 60 * 60
    email_verify_max_age: int = 72 * 60 * 60
    role_invitation_max_age: int = 72 * 60 * 60
    remember_device_max_age: int = 30 * 24 * 60 * 60
    session_max_age: int = 12 * 60 * 60

    # Warehouse's argon2 parameters (passlib's argon2 with time 6, memory 1024 KiB, 6 lanes);
    # tests lower them to stay fast.
    argon2_time_cost: int = 6
    argon2_memory_cost: int = 1024
    argon2_parallelism: int = 6
