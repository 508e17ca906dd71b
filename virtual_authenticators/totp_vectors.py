"""The published test vectors of RFC 4226 (HOTP) and RFC 6238 (TOTP), as the RFCs print them.

Scenarios check the harness's TOTP app against them, and the index's TOTP step with them.
"""

from __future__ import annotations

import base64

RFC4226_SECRET = b"12345678901234567890"
"""RFC 4226 Appendix D's secret (ASCII)."""

RFC4226_HOTP = (
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
)
"""RFC 4226 Appendix D: the 6-digit HOTP values for counters 0 to 9."""

RFC6238_SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
"""RFC 6238 Appendix B's seed per HMAC digest (ASCII, 20, 32 and 64 bytes)."""

RFC6238_TOTP = {
    59: {"sha1": "94287082", "sha256": "46119246", "sha512": "90693936"},
    1111111109: {"sha1": "07081804", "sha256": "68084774", "sha512": "25091201"},
    1111111111: {"sha1": "14050471", "sha256": "67062674", "sha512": "99943326"},
    1234567890: {"sha1": "89005924", "sha256": "91819424", "sha512": "93441116"},
    2000000000: {"sha1": "69279037", "sha256": "90698825", "sha512": "38618901"},
    20000000000: {"sha1": "65353130", "sha256": "77737706", "sha512": "47863826"},
}
"""RFC 6238 Appendix B: Unix time -> the 8-digit code per digest, with 30-second steps."""


def base32(seed: bytes) -> str:
    """A seed as an authenticator app takes it: base32, without padding."""
    return base64.b32encode(seed).decode("ascii").rstrip("=")
