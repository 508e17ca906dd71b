"""The one interface every virtual WebAuthn authenticator offers, and its errors.

An authenticator here plays the browser and the key together: it takes the options JSON the
index sends (``PublicKeyCredentialCreationOptionsJSON`` / ``…RequestOptionsJSON``) and returns
what ``credential.toJSON()`` gives in a browser, binary values base64url without padding. So a
scenario can hand the same dicts to a bridged page, to the protocol-level client, or to an
independent relying party.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Authenticator(Protocol):
    """A WebAuthn authenticator behind ``navigator.credentials``."""

    def create(self, options: Mapping[str, Any], origin: str) -> dict[str, Any]:
        """Make a new credential, as ``navigator.credentials.create()`` does.

        :param options: ``PublicKeyCredentialCreationOptionsJSON`` as the index sends it.
        :param origin: the page's origin, e.g. ``http://localhost:8000``.
        :return: a ``RegistrationResponseJSON``.
        :raises ExcludedCredentialError: a held credential is in ``excludeCredentials``.
        :raises UnsupportedAlgorithmError: no offered algorithm is one the key supports.
        """
        ...

    def get(self, options: Mapping[str, Any], origin: str) -> dict[str, Any]:
        """Sign a challenge with a held credential, as ``navigator.credentials.get()`` does.

        :param options: ``PublicKeyCredentialRequestOptionsJSON`` as the index sends it.
        :param origin: the page's origin, e.g. ``http://localhost:8000``.
        :return: an ``AuthenticationResponseJSON``.
        :raises NoCredentialError: the key holds no credential the options allow.
        """
        ...


class AuthenticatorError(Exception):
    """An authenticator declined a request, as a browser's promise rejects.

    ``dom_name`` is the ``DOMException`` name a browser rejects with, so that a bridge into a
    page can raise the same error the page's own code expects.
    """

    dom_name = "UnknownError"


class NoCredentialError(AuthenticatorError):
    """Nothing in ``allowCredentials`` (or, when it is empty, for the RP ID) is held."""

    dom_name = "NotAllowedError"

    def __init__(self, rp_id: str) -> None:
        super().__init__(f"no credential for RP ID {rp_id!r} matches allowCredentials")


class ExcludedCredentialError(AuthenticatorError):
    """A held credential is listed in ``excludeCredentials``: the key is registered already."""

    dom_name = "InvalidStateError"

    def __init__(self, credential_id: bytes) -> None:
        super().__init__(f"credential {credential_id.hex()[:16]}… is in excludeCredentials")


class UnsupportedAlgorithmError(AuthenticatorError):
    """None of ``pubKeyCredParams`` is an algorithm the key can make a credential for."""

    dom_name = "NotSupportedError"

    def __init__(self, offered: list[int], supported: list[int]) -> None:
        super().__init__(f"offered COSE algorithms {offered}, the key supports {supported}")


class TouchTimeoutError(AuthenticatorError):
    """Nobody touched the key in time, and the request was cancelled."""

    dom_name = "NotAllowedError"

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the key was not touched within {seconds:g} s: the request was cancelled")
