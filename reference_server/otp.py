"""TOTP (RFC 6238: SHA-1, 6 digits, 30 s) secrets, codes and verification.

Input is canonicalised before anything else: whitespace removed, then exactly six ASCII
digits or a format error. Full-width digits are refused rather than normalised (pyotp's
``verify`` would NFKC-normalise them), so there is one accepted spelling of a code. Replay is
prevented by the caller storing the matched *time step*, not the code's text.
"""

from __future__ import annotations

import base64
import hmac
import io
import re
import secrets

import pyotp
import segno

DIGITS = 6
INTERVAL = 30
ISSUER = "Reference package index"
SECRET_BYTES = 20
# One step of drift either way is accepted, now first.
WINDOW = (0, -1, 1)
# At provisioning, a code this many steps away means the device's clock is off.
OUT_OF_SYNC_STEPS = 10
MAX_INPUT = 64
_SIX_DIGITS = re.compile(r"[0-9]{6}", re.ASCII)
_SIX_UNICODE_DIGITS = re.compile(r"\d{6}")
_WHITESPACE = re.compile(r"\s+")

FORMAT_ERROR = "TOTP code must be 6 digits."


class TotpFormatError(ValueError):
    """The submitted value is not six digits (after removing whitespace)."""


def generate_secret() -> bytes:
    """20 random bytes (160 bits, RFC 4226's recommendation)."""
    return secrets.token_bytes(SECRET_BYTES)


def secret_base32(secret: bytes) -> str:
    """The secret as users type it: 32 base32 characters, no padding."""
    return base64.b32encode(secret).decode("ascii").rstrip("=")


def provisioning_uri(secret: bytes, username: str) -> str:
    """The ``otpauth://totp/…`` URI of the QR code."""
    return pyotp.TOTP(secret_base32(secret)).provisioning_uri(name=username, issuer_name=ISSUER)


def qr_svg(uri: str) -> bytes:
    """The URI as an SVG QR code."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(out, kind="svg", scale=4, xmldecl=False)
    return out.getvalue()


def canonical_code(value: str, *, ascii_only: bool = True) -> str:
    """The code without whitespace; raise TotpFormatError unless it is six ASCII digits.

    ``ascii_only=False`` (the ``totp-code-format`` check turned off) lets any Unicode digits
    through, as a server using ``str.isdigit`` would.
    """
    if len(value) > MAX_INPUT:
        raise TotpFormatError(FORMAT_ERROR)
    code = _WHITESPACE.sub("", value)
    if not (_SIX_DIGITS if ascii_only else _SIX_UNICODE_DIGITS).fullmatch(code):
        raise TotpFormatError(FORMAT_ERROR)
    return code


def code_at_step(secret: bytes, step: int) -> str:
    """The code of time step ``step`` (time // 30)."""
    return pyotp.TOTP(secret_base32(secret), digits=DIGITS, interval=INTERVAL).at(step * INTERVAL)


def matching_step(
    secret: bytes, code: str, now: float, window: tuple[int, ...] = WINDOW
) -> int | None:
    """The time step within ``window`` of ``now`` whose code is ``code``, or None.

    ``code`` must already be canonical. Every candidate is compared in constant time.
    """
    current = int(now // INTERVAL)
    found = None
    for offset in window:
        if hmac.compare_digest(code_at_step(secret, current + offset), code) and found is None:
            found = current + offset
    return found


def out_of_sync(secret: bytes, code: str, now: float) -> bool:
    """True when ``code`` belongs to a step 2 to 10 steps away from ``now``."""
    far = tuple(o for o in range(-OUT_OF_SYNC_STEPS, OUT_OF_SYNC_STEPS + 1) if abs(o) >= 2)
    return matching_step(secret, code, now, far) is not None


def b32decode(text: str) -> bytes:
    """The secret from its base32 form (as kept in the session during provisioning)."""
    return base64.b32decode(text + "=" * (-len(text) % 8))
