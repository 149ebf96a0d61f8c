"""Writes to campaigns' serving state. Every change leaves a history row.

`status` and `pause_reason` are generated columns (see models.py); these
services change only the facts they own and then record, for each campaign
whose derived state moved, one `CampaignStatusChange`.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from campaigns.models import Actor, Campaign, CampaignStatusChange

HoldColumn = Literal["schedule_hold", "budget_hold"]
State = tuple[str, str | None]


@dataclass(frozen=True)
class StateChange:
    campaign_id: int
    old_status: str
    old_reason: str | None
    new_status: str
    new_reason: str | None


def _states(campaign_ids: Iterable[int]) -> dict[int, State]:
    rows = Campaign.objects.filter(id__in=list(campaign_ids)).values_list(
        "id", "status", "pause_reason"
    )
    return {pk: (status, reason) for pk, status, reason in rows}


def status_changes_record(
    *,
    before: Mapping[int, State],
    actor: str = Actor.SYSTEM,
    user: AbstractBaseUser | None = None,
    note: str = "",
) -> list[StateChange]:
    """Write a history row for every campaign whose derived state moved.

    `before` holds each campaign's (status, pause_reason) as read, under lock,
    before the facts were changed. Two queries: read the new states, insert.
    """
    if not before:
        return []
    after = _states(before.keys())
    changes = [
        StateChange(pk, old[0], old[1], *after[pk])
        for pk, old in before.items()
        if pk in after and after[pk] != old
    ]
    now = timezone.now()
    CampaignStatusChange.objects.bulk_create(
        CampaignStatusChange(
            campaign_id=change.campaign_id,
            changed_at=now,
            old_status=change.old_status,
            old_reason=change.old_reason,
            new_status=change.new_status,
            new_reason=change.new_reason,
            actor=actor,
            user_id=user.pk if user is not None and actor == Actor.USER else None,
            note=note[:255],
        )
        for change in changes
    )
    return changes


def campaigns_set_holds(
    *, column: HoldColumn, desired: Mapping[int, str | None], note: str = ""
) -> list[StateChange]:
    """Set one hold fact on many campaigns; write history for what changed.

    A constant number of queries whatever the number of campaigns: one to
    lock and read the current facts, one UPDATE per distinct hold value (at
    most five), one to read the derived states, one bulk insert of history.
    Rows already in the desired state are not touched, so running it twice
    changes nothing.
    """
    if not desired:
        return []
    with transaction.atomic():
        # NO KEY UPDATE: holds are not keys, so this lock does not wait for
        # (nor block) rows that merely reference the campaign, such as a
        # daypart or a spend event being inserted.
        current = {
            pk: (hold, status, reason)
            for pk, hold, status, reason in Campaign.objects.select_for_update(no_key=True)
            .filter(id__in=list(desired))
            .order_by("id")
            .values_list("id", column, "status", "pause_reason")
        }
        by_value: dict[str | None, list[int]] = defaultdict(list)
        for pk, (hold, _status, _reason) in current.items():
            if hold != desired[pk]:
                by_value[desired[pk]].append(pk)
        if not by_value:
            return []
        now = timezone.now()
        for value, ids in by_value.items():
            Campaign.objects.filter(id__in=ids).update(**{column: value, "updated_at": now})
        before = {pk: (current[pk][1], current[pk][2]) for ids in by_value.values() for pk in ids}
        return status_changes_record(before=before, note=note)


def campaigns_set_enabled(
    *,
    campaign_ids: Sequence[int],
    enabled: bool,
    user: AbstractBaseUser | None = None,
    note: str = "",
) -> list[StateChange]:
    """Set the user's intent on many campaigns at once; history for each change.

    Only campaigns whose `enabled` differs are written, so repeating a pause
    or a resume changes nothing.
    """
    with transaction.atomic():
        before = {
            pk: (status, reason)
            for pk, status, reason in Campaign.objects.select_for_update()
            .filter(id__in=list(campaign_ids))
            .exclude(enabled=enabled)
            .order_by("id")
            .values_list("id", "status", "pause_reason")
        }
        if not before:
            return []
        Campaign.objects.filter(id__in=list(before)).update(
            enabled=enabled, updated_at=timezone.now()
        )
        return status_changes_record(
            before=before,
            actor=Actor.USER if user is not None else Actor.SYSTEM,
            user=user,
            note=note or ("Resumed manually" if enabled else "Paused manually"),
        )


def campaign_pause(
    *, campaign_id: int, user: AbstractBaseUser | None = None, note: str = ""
) -> Campaign:
    """A manual pause: it holds until a person resumes the campaign.

    Raises Campaign.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        campaigns_set_enabled(campaign_ids=[campaign_id], enabled=False, user=user, note=note)
        return Campaign.objects.get(pk=campaign_id)


def campaign_resume(
    *, campaign_id: int, user: AbstractBaseUser | None = None, note: str = ""
) -> Campaign:
    """Lift the manual pause only; schedule and budget holds stay as they are.

    Raises Campaign.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        campaigns_set_enabled(campaign_ids=[campaign_id], enabled=True, user=user, note=note)
        return Campaign.objects.get(pk=campaign_id)
