"""The Flask application: wiring of configuration, database, sessions, mail and views."""

from __future__ import annotations

import time
from collections.abc import Callable

from flask import Flask, Response, render_template
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker
from werkzeug.exceptions import HTTPException

from reference_server import csrf, features
from reference_server.auth import current_user
from reference_server.checks import performed_by, performs
from reference_server.config import ServerConfig
from reference_server.db import close_db, make_engine
from reference_server.mail import LogOnlyMailSender, MailSender, SmtpMailSender
from reference_server.passwords import Passwords
from reference_server.ratelimits import RateLimits
from reference_server.sessions import DatabaseSessionInterface
from reference_server.shifted_clock import ShiftedClock
from reference_server.tokens import Tokens
from reference_server.totp_clocks import TotpClocks

# Bigger forms are refused with 413 before any view sees them.
MAX_CONTENT_LENGTH = 64 * 1024


def create_app(
    config: ServerConfig,
    *,
    engine: Engine | None = None,
    mail_sender: MailSender | None = None,
    clock: Callable[[], float] = time.time,
) -> Flask:
    """Build the app for ``config``.

    ``engine`` defaults to one made from ``config.database_url`` (schema created);
    ``mail_sender`` to SMTP when ``config.smtp`` is set, else a log line per message;
    ``clock`` (POSIX seconds) drives TOTP steps, token ages and re-authentication, so tests
    can move time. With ``config.test_mode`` the ``/_test/`` hooks are served, the clock is a
    ``ShiftedClock`` they can move, and every page carries the test-mode banner. Raises
    ``db.DatabaseError`` or ``ratelimits.RateLimitConfigError`` for unusable settings.
    """
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=config.secret_key,
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        MAX_FORM_MEMORY_SIZE=MAX_CONTENT_LENGTH,
    )
    if config.test_mode:
        clock = ShiftedClock(clock)
    if engine is None:
        engine = make_engine(config.database_url)
    if mail_sender is None:
        mail_sender = SmtpMailSender(*config.smtp) if config.smtp else LogOnlyMailSender()
    app.extensions.update(
        {
            "reference_server.config": config,
            "reference_server.engine": engine,
            "reference_server.sessionmaker": sessionmaker(engine, expire_on_commit=False),
            "reference_server.clock": clock,
            "reference_server.mail": mail_sender,
            "reference_server.passwords": Passwords(
                config.argon2_time_cost, config.argon2_memory_cost, config.argon2_parallelism
            ),
            "reference_server.tokens": Tokens(
                config.secret_key, clock, performed_by(config, "token-signature")
            ),
            "reference_server.ratelimits": RateLimits(config),
        }
    )
    if config.test_mode:
        app.extensions["reference_server.totp_clocks"] = TotpClocks()
    app.session_interface = DatabaseSessionInterface()
    app.jinja_env.globals.update(
        csrf_token=csrf.csrf_token,
        current_user=current_user,
        test_mode=config.test_mode,
        disabled_checks=config.disabled_checks,
        webauthn_encoding=config.webauthn_encoding,
        has_feature=features.has,
    )

    app.before_request(features.refuse_missing_pages)
    app.before_request(csrf.check_csrf)

    @app.after_request
    def finish(response: Response) -> Response:
        # Release the database before the session is saved, so that no transaction of the
        # view keeps SQLite locked while the session row is written.
        close_db()
        if performs("frame-options"):
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    app.teardown_appcontext(lambda _exc: close_db())

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        return render_template("error.html", error=error), error.code or 500

    from reference_server.views import (
        accounts,
        collaboration,
        manage,
        projects,
        tokens,
        two_factor,
        upload,
        webauthn,
    )

    app.register_blueprint(accounts.bp)
    app.register_blueprint(two_factor.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(webauthn.bp)
    app.register_blueprint(projects.bp)
    app.register_blueprint(collaboration.bp)
    app.register_blueprint(tokens.bp)
    app.register_blueprint(upload.bp)
    if config.test_mode:
        from reference_server.views import hooks

        app.register_blueprint(hooks.bp)
    return app
