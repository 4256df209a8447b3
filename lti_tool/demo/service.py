"""The demo platform's row in the tool (registered on first use) and starting it over."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..lti.models import Platform
from ..lti.registry import add_platform
from .models import DemoLineItem, DemoLink, DemoScore
from .platform import CLIENT_ID, DEPLOYMENT_ID, PRODUCT_FAMILY, Urls


def demo_platform(db: Session) -> Platform | None:
    """The tool's demo platform row, if registered."""
    return db.scalars(
        select(Platform).where(Platform.product_family == PRODUCT_FAMILY).order_by(Platform.id)
    ).first()


def register(db: Session, urls: Urls) -> tuple[Platform, bool]:
    """Register the demo LMS with the tool (as an administrator would with `lti-tool platform
    add`); True when it was not registered before. Flushed, not committed."""
    existing = demo_platform(db)
    if existing is not None and existing.issuer != urls.issuer:
        existing.issuer = urls.issuer  # the tool moved to another port: same demo, new URLs
    platform = add_platform(
        db,
        issuer=urls.issuer,
        client_id=CLIENT_ID,
        auth_login_url=urls.auth,
        auth_token_url=urls.token,
        key_set_url=urls.jwks,
        deployment_ids=[DEPLOYMENT_ID],
        name="Demo LMS",
        product_family=PRODUCT_FAMILY,
        frame_origins=[urls.site],
    )
    return platform, existing is None


def remove(db: Session) -> list[str]:
    """Remove the demo platform with everything launched from it and the demo gradebook;
    the stored evidence files to unlink once committed."""
    from ..evidence.storage import stored_names_of_platform

    files: list[str] = []
    platform = demo_platform(db)
    if platform is not None:
        files = list(stored_names_of_platform(db, platform.id))
        db.delete(platform)
    db.execute(delete(DemoScore))
    db.execute(delete(DemoLineItem))
    db.execute(delete(DemoLink))
    db.flush()
    return files
