"""Secrets that keep out of reports: their repr is masked, their value is the real string.

pytest explains a failed assertion with the repr of every value in it, and those explanations
go into JUnit and Allure reports; a password, TOTP seed or recovery code wrapped in
:class:`Secret` shows there as ``'***'`` while requests and browsers still send it as is.

Every :class:`Secret` also records its value in a process-wide registry, so that whatever
writes reports (:mod:`harness.report.scrub`) can remove the values from files the repr never
touched: traces, logs, attachments. :func:`known_secrets` reads that registry.
"""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

MIN_SECRET_LENGTH = 6
"""Values shorter than this are not recorded: replacing short strings in every report would
mangle them (a 3-letter value matches words, numbers and base64 everywhere)."""

_registry: set[str] = set()
_registry_lock = threading.Lock()


class Secret(str):
    """A string whose repr never shows its value.

    Creating one (directly, or by ``copy`` or ``pickle``, which rebuild it through
    ``__new__``) records its value in the registry that :func:`known_secrets` reads, unless
    the value is shorter than :data:`MIN_SECRET_LENGTH`. Methods that derive new strings
    (``upper()``, slicing, ``+``) return plain ``str``, which are neither masked nor recorded.
    """

    __slots__ = ()

    def __new__(cls, value: object = "") -> Secret:
        secret = super().__new__(cls, value)
        if len(secret) >= MIN_SECRET_LENGTH:
            plain = str.__str__(secret)
            with _registry_lock:
                _registry.add(plain)
        return secret

    def __repr__(self) -> str:
        return "'***'"


def known_secrets() -> frozenset[str]:
    """The values of every :class:`Secret` made in this process so far, as plain strings.

    Values shorter than :data:`MIN_SECRET_LENGTH` characters are never recorded (see there).
    The registry belongs to one process: a pytest-xdist worker knows only its own secrets.
    """
    with _registry_lock:
        return frozenset(_registry)


def otpauth_uri(uri: str) -> Secret:
    """An ``otpauth://`` URI, as a :class:`Secret`; its ``secret`` parameter, the TOTP seed,
    is recorded too, since pages and traces also show the seed alone."""
    for seed in parse_qs(urlsplit(uri).query).get("secret", []):
        Secret(seed)
    return Secret(uri)
