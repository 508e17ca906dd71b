"""Features a deployment may lack, as the index of the 2019 beta lacked recovery codes, API
tokens and remembered devices: their pages answer 404, their controls are not shown, and what
they would have done does not happen (a ``__token__`` upload is an unknown user's)."""

from __future__ import annotations

from flask import abort, request

from reference_server.auth import config

OPTIONAL_FEATURES: dict[str, tuple[str, ...]] = {
    "recovery-codes": ("/manage/account/recovery-codes/", "/account/recovery-code/"),
    "api-tokens": ("/manage/account/token/",),
    "remember-device": (),
}
"""Each feature ``--without`` can leave out, and the paths of its pages."""


def has(feature: str) -> bool:
    """Whether this server has ``feature`` (one of :data:`OPTIONAL_FEATURES`)."""
    return feature not in config().without


def refuse_missing_pages() -> None:
    """Before each request: 404 for the pages of a feature the server lacks."""
    for feature in config().without:
        if request.path.startswith(OPTIONAL_FEATURES[feature]):
            abort(404)
