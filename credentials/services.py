"""Creating and revoking API credentials: spend feeds' keys and people's tokens.

A key or token is returned once, by the service that makes it, and never
stored in clear. Feeds' creations and revocations are on the audit trail of
each of their brands.
"""

import datetime as dt
from collections.abc import Collection
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from knox.models import AuthToken

from budgets import audit
from budgets.models import Brand
from credentials.models import LAST_USED_RESOLUTION, SpendFeed, validate_feed_name

MAX_EXPIRY_DAYS = 3650
FEED = "spend feed"


def _expiry(expires_days: int | None, *, field: str, now: dt.datetime) -> dt.datetime | None:
    if expires_days is None:
        return None
    if not 1 <= expires_days <= MAX_EXPIRY_DAYS:
        raise ValidationError({field: [f"Give a number of days from 1 to {MAX_EXPIRY_DAYS}."]})
    return now + dt.timedelta(days=expires_days)


def _feed_brands(brand_ids: Collection[int]) -> list[Brand]:
    if not brand_ids:
        raise ValidationError({"brands": ["A feed needs at least one brand."]})
    brands = list(Brand.objects.filter(pk__in=set(brand_ids)).order_by("pk"))
    unknown = sorted(set(brand_ids) - {brand.pk for brand in brands})
    if unknown:
        listed = ", ".join(str(pk) for pk in unknown)
        raise ValidationError({"brands": [f"No brand with id {listed}."]})
    return brands


@transaction.atomic
def feed_create(
    *,
    name: str,
    brand_ids: Collection[int],
    may_adjust: bool = False,
    expires_days: int | None = None,
    created_by: User | None = None,
) -> tuple[SpendFeed, str]:
    """A new feed and its key, which is shown this once and stored hashed."""
    now = timezone.now()
    try:
        validate_feed_name(name)
    except ValidationError as exc:
        raise ValidationError({"name": exc.messages}) from None
    expires_at = _expiry(expires_days, field="expires_days", now=now)
    brands = _feed_brands(brand_ids)
    if SpendFeed.objects.filter(name=name).exists():
        raise ValidationError({"name": [f'A feed named "{name}" exists already.']})
    created, key = SpendFeed.objects.create_key(
        name=name, may_adjust=may_adjust, expiry_date=expires_at, created_by=created_by
    )
    feed = cast(SpendFeed, created)
    feed.brands.set(brands)
    for brand in brands:
        audit.record_changes(
            brand=brand,
            object_type=FEED,
            object_id=None,
            object_repr=name,
            changes={
                "name": (None, name),
                "may_adjust": (None, may_adjust),
                "expires_at": (None, expires_at),
            },
            now=now,
        )
    return feed, key


@transaction.atomic
def feed_revoke(*, name: str) -> SpendFeed:
    """Revoke a feed's key for good: every web process refuses it within a second."""
    now = timezone.now()
    feed = cast(SpendFeed | None, SpendFeed.objects.select_for_update().filter(name=name).first())
    if feed is None:
        raise SpendFeed.DoesNotExist(f'No feed named "{name}".')
    if feed.revoked:
        return feed
    SpendFeed.objects.filter(pk=feed.pk).update(revoked=True, revoked_at=now)
    feed.refresh_from_db(fields=["revoked", "revoked_at"])
    for brand in feed.brands.all():
        audit.record_changes(
            brand=brand,
            object_type=FEED,
            object_id=None,
            object_repr=name,
            changes={"revoked": (False, True)},
            now=now,
        )
    return feed


def feed_touch(*, feed_id: str, now: dt.datetime) -> None:
    """Note that the feed was used: one write a minute at most, whichever process asks."""
    stale = now - LAST_USED_RESOLUTION
    SpendFeed.objects.filter(pk=feed_id).exclude(last_used_at__gt=stale).update(last_used_at=now)


def token_create(*, username: str, expires_days: int | None = None) -> tuple[AuthToken, str]:
    """A person's API token (`Authorization: Token <key>`), shown once, stored hashed."""
    now = timezone.now()
    expires_at = _expiry(expires_days, field="expires_days", now=now)
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise ValidationError({"username": [f'No user named "{username}".']})
    if not user.is_active:
        raise ValidationError({"username": [f'"{username}" is deactivated.']})
    ttl = None if expires_at is None else expires_at - now
    token: AuthToken
    token, key = AuthToken.objects.create(user=user, expiry=ttl)
    return token, key
