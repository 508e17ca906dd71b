"""Playwright's own virtual authenticator, ``BrowserContext.credentials`` (Playwright ≥ 1.61).

Playwright replaces ``navigator.credentials`` in every page of the context with a script that
asks its driver, which holds ES256 credentials. It works in every Playwright browser. What it
cannot do: its attestation is always ``none``, it sets UV on every response, it ignores the
requested algorithms, and it takes the origin from the page. So it is one more honest key for
journeys; the faults live in :mod:`virtual_authenticators.faulty` behind the bridge.
"""

from __future__ import annotations

from playwright.sync_api import BrowserContext

from virtual_authenticators.base import AuthenticatorError

MINIMUM_PLAYWRIGHT = "1.61"


class PlaywrightCredentials:
    """Playwright's virtual authenticator installed in ``context``, on construction.

    :param context: a context whose pages have not touched ``navigator.credentials`` yet.
    :raises AuthenticatorError: the installed Playwright is older than 1.61 and has none.
    """

    def __init__(self, context: BrowserContext) -> None:
        credentials = getattr(context, "credentials", None)
        if credentials is None:
            raise AuthenticatorError(
                f"this Playwright has no BrowserContext.credentials: it needs "
                f"Playwright >= {MINIMUM_PLAYWRIGHT} (pip install -U playwright)"
            )
        credentials.install()
        self.context = context

    def __repr__(self) -> str:
        return "Playwright's virtual authenticator (context.credentials)"

    @property
    def credentials(self) -> tuple[str, ...]:
        """The base64url ids of the credentials held, in the order they were made."""
        return tuple(credential["id"] for credential in self.context.credentials.get())

    def sign_count(self, credential_id: str) -> int:
        """The signature counter the credential last reported.

        :raises KeyError: the authenticator does not hold it.
        """
        for credential in self.context.credentials.get(id=credential_id):
            return credential["signCount"]
        raise KeyError(credential_id)
