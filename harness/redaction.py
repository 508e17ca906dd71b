"""Secrets that keep out of reports: their repr is masked, their value is the real string.

pytest explains a failed assertion with the repr of every value in it, and those explanations
go into JUnit and Allure reports; a password, TOTP seed or recovery code wrapped in
:class:`Secret` shows there as ``'***'`` while requests and browsers still send it as is.
"""

from __future__ import annotations


class Secret(str):
    """A string whose repr never shows its value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'***'"
