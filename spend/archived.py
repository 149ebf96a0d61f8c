"""The refusal of spend for what is archived (campaigns.archive).

On PostgreSQL the ledger refuses it itself: a statement-level trigger
(migration spend 0012) aborts the insert with SQLSTATE SPR02, so recording
costs no extra query and an archive committed while an event is recorded
is either seen or waits for it (both lock the brand). `archived_error`
turns that abort into SpendArchived. SQLite has no such trigger: there
`spend_refuse_archived` reads the campaigns first.

A replay of an event recorded before the archive inserts nothing, so it
is answered with the original event, as any replay is.
"""

from collections.abc import Sequence

from django.db import DatabaseError
from django.db.models import Q

from campaigns.models import Campaign
from spend.errors import SpendArchived

ARCHIVED = "SPR02"  # raised by spend_refuse_archived() (migration spend 0012)


def _refusal(
    what: str, campaign_id: int, campaign_ids: Sequence[int], *, batch: bool
) -> SpendArchived:
    return SpendArchived(
        campaign_id=campaign_id,
        archived=what,
        index=list(campaign_ids).index(campaign_id) if batch else None,
    )


def archived_error(error: DatabaseError, campaign_ids: Sequence[int], *, batch: bool) -> Exception:
    """SpendArchived for the ledger's refusal; any other database error as it is.

    `batch`: the error names the first event of `campaign_ids` concerned.
    """
    diag = getattr(error.__cause__, "diag", None)
    if getattr(error.__cause__, "sqlstate", None) != ARCHIVED or diag is None:
        return error
    return _refusal(diag.message_hint, int(diag.message_detail), campaign_ids, batch=batch)


def spend_refuse_archived(campaign_ids: Sequence[int], *, batch: bool) -> None:
    """Where the database does not refuse (SQLite): raise SpendArchived before recording."""
    # * the archived among the events' campaigns (by themselves or by their brand)
    archived = Campaign.objects.filter(
        Q(archived_at__isnull=False) | Q(brand__archived_at__isnull=False),
        id__in=set(campaign_ids),
    ).values_list("id", "name", "brand_id", "brand__name", "archived_at")
    found = {row[0]: row for row in archived}
    for campaign_id in campaign_ids:
        if campaign_id in found:
            _, name, brand_id, brand_name, campaign_archived = found[campaign_id]
            what = (
                f"Campaign {campaign_id} ({name})"
                if campaign_archived is not None
                else f"Brand {brand_id} ({brand_name})"
            )
            raise _refusal(what, campaign_id, campaign_ids, batch=batch)
