"""Platforms, deployments, login state, and who launched from where."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, UtcDateTime, utcnow


class Platform(Base):
    """One LMS registration: (issuer, client_id). Canvas shares one issuer across customers."""

    __tablename__ = "platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    auth_login_url: Mapped[str] = mapped_column(String(1024))
    auth_token_url: Mapped[str] = mapped_column(String(1024))
    key_set_url: Mapped[str] = mapped_column(String(1024))
    # Some platforms want a different `aud` in the token request than the token URL.
    auth_audience: Mapped[str | None] = mapped_column(String(1024))
    # "active" launches; "pending" waits for an admin (dynamic registration, auto_activate off).
    status: Mapped[str] = mapped_column(String(16), default="active")
    # Origins allowed to frame the tool besides the issuer's and the login URL's (Canvas
    # frames from each school's own domain). Grows from validated launches' return_url.
    frame_origins: Mapped[list] = mapped_column(JSON, default=list)
    product_family: Mapped[str] = mapped_column(String(64), default="")
    # True: a launch whose login state no browser binding (cookie, platform storage) carries is
    # still accepted. Off by default: such a launch is open to login CSRF (README "Iframes and
    # cookies"); an institution that accepts the risk turns it on (`lti-tool platform unbound`).
    allow_unbound_launch: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )


class Deployment(Base):
    """A deployment_id the platform launches with (Moodle: the tool type id)."""

    __tablename__ = "deployments"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    platform: Mapped[Platform] = relationship(back_populates="deployments")


class RegistrationInvite(Base):
    """A single-use, expiring dynamic registration URL issued by the tool's administrator.

    Only the sha256 of the invite token is kept: the database (or a backup) read by someone
    else does not hand out registration URLs.
    """

    __tablename__ = "registration_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set while a registration runs (claimed) and kept once it succeeded (used).
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The platform the registration created (or updated).
    platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("platforms.id", ondelete="SET NULL"))
    # Re-registration: this invite may replace the URLs of this one existing platform.
    update_platform_id: Mapped[int | None] = mapped_column(
        ForeignKey("platforms.id", ondelete="CASCADE"))


class PlatformKeySet(Base):
    """The last key set fetched from a platform's key set URL."""

    __tablename__ = "platform_key_sets"

    url: Mapped[str] = mapped_column(String(1024), primary_key=True)
    jwks: Mapped[dict] = mapped_column(JSON)
    fetched_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class LoginState(Base):
    """OIDC login state and nonce: made at login, used once at launch, then dead."""

    __tablename__ = "login_states"
    __table_args__ = (Index("ix_login_states_expires_at", "expires_at"),)

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    target_link_uri: Mapped[str] = mapped_column(String(1024))
    # The frame name from lti_storage_target when the platform offers postMessage storage.
    storage_target: Mapped[str | None] = mapped_column(String(255))
    # The login initiation parameters, to restart the login in a new window when the
    # browser blocks every cookie in the iframe (last resort, see new_window.html).
    login_params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class User(Base):
    """A person on one platform, known by the platform's `sub`."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform_id", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), default="")
    given_name: Mapped[str] = mapped_column(String(255), default="")
    family_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str] = mapped_column(String(255), default="")
    locale: Mapped[str] = mapped_column(String(16), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    @property
    def display_name(self) -> str:
        """The name to show: full name, else given + family, else the platform's id."""
        return (self.name or " ".join(p for p in (self.given_name, self.family_name) if p)
                or self.sub)


class Context(Base):
    """A course (or section) on a platform."""

    __tablename__ = "contexts"
    __table_args__ = (UniqueConstraint("platform_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    context_id: Mapped[str] = mapped_column(String(255))
    label: Mapped[str] = mapped_column(String(255), default="")
    title: Mapped[str] = mapped_column(String(512), default="")
    # Service endpoints from the latest launch (AGS line items, NRPS memberships).
    lineitems_url: Mapped[str | None] = mapped_column(String(1024))
    memberships_url: Mapped[str | None] = mapped_column(String(1024))
    ags_scopes: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class Membership(Base):
    """A user's roles in a context, as the latest launch (or roster) said."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    roles: Mapped[list] = mapped_column(JSON, default=list)
    role: Mapped[str] = mapped_column(String(16))
    # NRPS membership status: Active, Inactive, Deleted (a launch means Active).
    status: Mapped[str] = mapped_column(String(16), default="Active", server_default="Active")
    # Who told us last: "launch" or "roster".
    source: Mapped[str] = mapped_column(String(16), default="launch", server_default="launch")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class ResourceLink(Base):
    """A placement of the tool in a course; `placement` says what it shows."""

    __tablename__ = "resource_links"
    __table_args__ = (UniqueConstraint("context_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    context_id: Mapped[int] = mapped_column(ForeignKey("contexts.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(512), default="")
    placement: Mapped[str] = mapped_column(String(64), default="")
    lineitem_url: Mapped[str | None] = mapped_column(String(1024))
    custom: Mapped[dict] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
