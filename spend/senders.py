"""Who sends spend, and what that sender may record.

The server, not the client, names an event's `source`: the spend feed's name,
or `user:<username>` for a person. `event_id` is unique per source, so one
sender can neither replay nor shadow another's events.

- `may_adjust`: the sender may record adjustments (the only kind that may be
  negative) and events dated before the start of the brand's previous local
  month. A feed has it when it was created with it; a person through the
  permission `spend.add_adjustment` (superusers hold every permission).
- `brand_ids`: the brands a feed may post for; None for a person, whose
  brand roles (`campaigns.access`) are checked by the API before recording.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.utils.functional import SimpleLazyObject

if TYPE_CHECKING:
    from rest_framework.request import Request

ADJUST_PERMISSION = "spend.add_adjustment"


@dataclass(frozen=True)
class Sender:
    source: str
    may_adjust: bool
    brand_ids: frozenset[int] | None


# Code of the server itself (simulations, the shell, tests): trusted, any brand.
SYSTEM = Sender(source="system", may_adjust=True, brand_ids=None)


def feed_sender(auth: Any) -> Sender:
    """The sender of a spend feed's credentials (`auth.is_spend_feed`)."""
    return Sender(
        source=str(auth.name), may_adjust=bool(auth.may_adjust), brand_ids=frozenset(auth.brand_ids)
    )


def sender_of(request: "Request") -> Sender:
    """The sender of an authenticated API request: a spend feed, or a person."""
    auth = request.auth
    if getattr(auth, "is_spend_feed", False):
        return feed_sender(auth)
    user = request.user
    # Asked only when a rule needs it (an adjustment, an old date): for anyone
    # but a superuser, has_perm reads the user's and their groups'
    # permissions, two queries that most spend requests would pay for nothing.
    may_adjust = SimpleLazyObject(lambda: user.has_perm(ADJUST_PERMISSION))
    return Sender(
        source=f"user:{user.get_username()}",
        may_adjust=cast(bool, may_adjust),
        brand_ids=None,
    )
