"""The HTTP views, one blueprint per area: accounts, the two-factor login step, management."""

from __future__ import annotations

from flask import Response, make_response, render_template

from reference_server.ratelimits import locked_out_message


def locked_out(template: str, retry_after: int, **context: object) -> Response:
    """``template`` with the lock-out message in its form errors: 429 with ``Retry-After``."""
    response = make_response(
        render_template(template, form_errors=[locked_out_message(retry_after)], **context), 429
    )
    response.headers["Retry-After"] = str(retry_after)
    return response
