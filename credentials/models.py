"""Credentials of machines that post spend: spend feeds.

A feed's key is made and checked by djangorestframework-api-key
(`AbstractAPIKey`): a random `prefix.secret`, shown once, stored as a
SHA-512 digest (`hashed_key`) and found again by its prefix. The library's
fields keep their names: `created`, `expiry_date` (when the key stops
working, optional) and `revoked` (which cannot be undone).

User tokens (people's `Authorization: Token`) are django-rest-knox's
`AuthToken`, hashed the same way; see `credentials.services.token_create`.
"""

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from rest_framework_api_key.models import AbstractAPIKey

from budgets.models import Brand

# An event's `source` is the feed's name (`spend.SpendEvent.source`, 64 characters).
FEED_NAME_MAX_LENGTH = 64
# People's events are `user:<username>`; the server's own are `system`, the
# simulator's `simulator` (spend.simulation.engine), and events from before feeds `api`.
RESERVED_PREFIX = "user:"
RESERVED_NAMES = frozenset({"system", "simulator", "api"})
# How stale `last_used_at` may get: written at most once a minute per feed.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def validate_feed_name(value: str) -> None:
    if not value or not value.strip():
        raise ValidationError("A feed needs a name.")
    if len(value) > FEED_NAME_MAX_LENGTH:
        raise ValidationError(f"A feed's name has at most {FEED_NAME_MAX_LENGTH} characters.")
    if value != value.strip():
        raise ValidationError("A feed's name must not start or end with blanks.")
    if _CONTROL_CHARACTERS.search(value):
        raise ValidationError("A feed's name must not contain control characters.")
    if value.lower().startswith(RESERVED_PREFIX) or value.lower() in RESERVED_NAMES:
        raise ValidationError(
            f"\"{value}\" names people's or the server's own events; choose another name."
        )


class SpendFeed(AbstractAPIKey):
    """A machine (an ad platform's connector, an agency script) that posts spend.

    It may post spend only for `brands`, and adjustments (negative amounts)
    only when `may_adjust`. Its name is the `source` of every event it posts.
    """

    name = models.CharField(
        max_length=FEED_NAME_MAX_LENGTH,
        unique=True,
        validators=[validate_feed_name],
        help_text="Unique; recorded as the source of every event the feed posts.",
    )
    brands = models.ManyToManyField(
        Brand, related_name="spend_feeds", help_text="The brands it may post spend for."
    )
    may_adjust = models.BooleanField(
        default=False,
        help_text="May post adjustments (negative amounts) and events dated long ago.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="To the minute."
    )

    class Meta(AbstractAPIKey.Meta):
        ordering = ("name",)
        verbose_name = "spend feed"
        verbose_name_plural = "spend feeds"
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked=False, revoked_at__isnull=True)
                | Q(revoked=True, revoked_at__isnull=False),
                name="spendfeed_revoked_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def expires_at(self) -> dt.datetime | None:
        return self.expiry_date

    def usable_at(self, now: dt.datetime) -> bool:
        return not self.revoked and (self.expiry_date is None or self.expiry_date > now)

    def last_used_is_stale(self, now: dt.datetime) -> bool:
        return self.last_used_at is None or now - self.last_used_at >= LAST_USED_RESOLUTION

    @property
    def state(self) -> str:
        if self.revoked:
            return "revoked"
        if self.expiry_date is not None and self.expiry_date <= timezone.now():
            return "expired"
        return "active"
