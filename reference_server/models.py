"""The tables: users, their email addresses, recovery codes, WebAuthn keys, events, web
sessions, projects with their releases, files and roles, and API tokens.

Times are POSIX seconds (floats) from the app's clock, so tests can move time and the
comparisons "issued before the last login / password change" are exact.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reference_server.db import Base


class User(Base):
    """An account. ``last_totp_step`` is the last accepted TOTP time step (replay guard)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(50), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    password: Mapped[str] = mapped_column(String(255))
    password_date: Mapped[float] = mapped_column(Float)
    date_joined: Mapped[float] = mapped_column(Float)
    last_login: Mapped[float | None] = mapped_column(Float, nullable=True)
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary(20), nullable=True)
    last_totp_step: Mapped[int | None] = mapped_column(Integer, nullable=True)

    emails: Mapped[list[Email]] = relationship(
        back_populates="user", order_by="Email.id", cascade="all, delete-orphan"
    )
    recovery_codes: Mapped[list[RecoveryCode]] = relationship(
        back_populates="user", order_by="RecoveryCode.id", cascade="all, delete-orphan"
    )
    webauthn: Mapped[list[WebAuthn]] = relationship(
        back_populates="user", order_by="WebAuthn.id", cascade="all, delete-orphan"
    )

    @property
    def primary_email(self) -> Email | None:
        """The address mail goes to, or None."""
        return next((e for e in self.emails if e.primary), None)

    @property
    def has_totp(self) -> bool:
        """True when an authentication application is set up."""
        return self.totp_secret is not None

    @property
    def has_webauthn(self) -> bool:
        """True when at least one security key (WebAuthn credential) is enrolled."""
        return bool(self.webauthn)

    @property
    def two_factor_methods(self) -> list[str]:
        """The second factors set up (TOTP, WebAuthn keys); recovery codes are not one."""
        return (["totp"] if self.has_totp else []) + (["webauthn"] if self.has_webauthn else [])

    @property
    def has_two_factor(self) -> bool:
        """True when a second factor is required at login."""
        # Not bool(two_factor_methods): a TOTP user's keys need not be loaded (a query) here.
        return self.has_totp or self.has_webauthn

    @property
    def has_recovery_codes(self) -> bool:
        """True when a set of recovery codes exists (used or not)."""
        return bool(self.recovery_codes)

    @property
    def has_burned_recovery_codes(self) -> bool:
        """True when one of the current codes has been used (the "burn" step is done)."""
        return any(c.burned is not None for c in self.recovery_codes)


class Email(Base):
    """An email address of a user; exactly one is primary."""

    __tablename__ = "user_emails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    primary: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[User] = relationship(back_populates="emails")


class RecoveryCode(Base):
    """One recovery code, hashed (see ``recovery_codes.py``); ``burned`` is when it was used."""

    __tablename__ = "user_recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(255))
    generated: Mapped[float] = mapped_column(Float)
    burned: Mapped[float | None] = mapped_column(Float, nullable=True)

    user: Mapped[User] = relationship(back_populates="recovery_codes")


class WebAuthn(Base):
    """One security key of a user.

    ``credential_id`` is unique across all users (an authenticator cannot be claimed twice);
    ``label`` is unique per user. ``attested_data`` is fido2's ``AttestedCredentialData``
    (AAGUID, credential id, COSE public key) as bytes; ``sign_count`` is the last signature
    counter seen, which an assertion must exceed (unless it stays at zero).
    """

    __tablename__ = "webauthn"
    __table_args__ = (UniqueConstraint("user_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True, index=True)
    attested_data: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[float] = mapped_column(Float)

    user: Mapped[User] = relationship(back_populates="webauthn")


class WebAuthnUserHandle(Base):
    """The random, stable WebAuthn user handle (``user.id`` in the options) of a user.

    A table of its own rather than a column of ``users``: ``create_all`` adds new tables to
    an existing database but never new columns, and this project has no migrations.
    """

    __tablename__ = "webauthn_user_handles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)


class Event(Base):
    """A security event of an account, tagged like Warehouse's (``account:login:success``)."""

    __tablename__ = "user_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tag: Mapped[str] = mapped_column(String(100), index=True)
    time: Mapped[float] = mapped_column(Float)
    ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    additional: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class WebSession(Base):
    """A server-side web session; the cookie ``session_id`` holds only ``id``."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    expires: Mapped[float] = mapped_column(Float, index=True)


class Project(Base):
    """A project; ``normalized_name`` is PEP 503's form, unique, what URLs and uploads match."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    normalized_name: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    created: Mapped[float] = mapped_column(Float)

    releases: Mapped[list[Release]] = relationship(
        back_populates="project", order_by="Release.created", cascade="all, delete-orphan"
    )
    roles: Mapped[list[Role]] = relationship(
        back_populates="project", order_by="Role.id", cascade="all, delete-orphan"
    )
    invitations: Mapped[list[RoleInvitation]] = relationship(
        back_populates="project", order_by="RoleInvitation.id", cascade="all, delete-orphan"
    )

    @property
    def owners(self) -> list[User]:
        return [role.user for role in self.roles if role.role_name == "Owner"]


class Release(Base):
    """A version of a project."""

    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    version: Mapped[str] = mapped_column(String(100))
    created: Mapped[float] = mapped_column(Float)

    project: Mapped[Project] = relationship(back_populates="releases")
    files: Mapped[list[ReleaseFile]] = relationship(
        back_populates="release", order_by="ReleaseFile.id", cascade="all, delete-orphan"
    )


class ReleaseFile(Base):
    """An uploaded file of a release; only its name, size and digest are kept."""

    __tablename__ = "release_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(300), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded: Mapped[float] = mapped_column(Float)

    release: Mapped[Release] = relationship(back_populates="files")


class Role(Base):
    """A user's role on a project: ``Owner`` or ``Maintainer``."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("user_id", "project_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    role_name: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship()
    project: Mapped[Project] = relationship(back_populates="roles")


class RoleInvitation(Base):
    """An invitation to a role on a project, waiting for the invited user to accept it."""

    __tablename__ = "role_invitations"
    __table_args__ = (UniqueConstraint("user_id", "project_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    role_name: Mapped[str] = mapped_column(String(20))
    created: Mapped[float] = mapped_column(Float)

    user: Mapped[User] = relationship()
    project: Mapped[Project] = relationship(back_populates="invitations")


class ApiToken(Base):
    """An API token: only a SHA-256 of the secret is kept, so it can be shown just once.

    ``project_id`` None is a token for the whole account.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), nullable=True
    )
    description: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created: Mapped[float] = mapped_column(Float)
    last_used: Mapped[float | None] = mapped_column(Float, nullable=True)

    user: Mapped[User] = relationship()
    project: Mapped[Project | None] = relationship()
