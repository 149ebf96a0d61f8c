"""Writes to campaigns, their dayparts and their serving state.

`status` and `pause_reason` are generated columns (see models.py); the
serving-state services change only the facts they own and then record, for
each campaign whose derived state moved, one `CampaignStatusChange`.

The create/update/delete services validate like those of `budgets.services`
(a `ValidationError` naming the field) and send `serving_facts_changed` when
they move a serving fact: a new campaign, its budget, its flight dates, its
dayparts.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypedDict, Unpack

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from budgets.models import Brand, Budget
from budgets.services import deletion_guard, validated_save
from budgets.signals import serving_facts_changed
from campaigns.models import WEEKDAYS, Actor, Campaign, CampaignStatusChange, Daypart, days_to_mask

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
        current = {
            pk: (hold, status, reason)
            for pk, hold, status, reason in Campaign.objects.select_for_update()
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


# --- campaigns -------------------------------------------------------------------

CAMPAIGN_CONSTRAINT_FIELDS = {
    "campaign_name_unique_per_brand": "name",
    "campaign_flight_dates_ordered": "ends_on",
    "campaign_budget_same_brand": "budget",
    "campaign_name_not_empty": "name",
}
CAMPAIGN_SERVING_FIELDS = frozenset({"budget", "starts_on", "ends_on"})


class CampaignChanges(TypedDict, total=False):
    brand: Brand
    budget: Budget | None
    name: str
    enabled: bool
    starts_on: dt.date | None
    ends_on: dt.date | None


def _check_campaign(campaign: Campaign) -> None:
    """The rules that span rows or fields, each reported on the field to fix."""
    errors: dict[str, list[str]] = {}
    if campaign.budget is not None and campaign.budget.brand_id != campaign.brand_id:
        errors["budget"] = ["This budget belongs to another brand."]
    if (
        campaign.starts_on is not None
        and campaign.ends_on is not None
        and campaign.ends_on < campaign.starts_on
    ):
        errors["ends_on"] = ["The flight cannot end before it starts."]
    taken = Campaign.objects.filter(brand_id=campaign.brand_id, name=campaign.name)
    if campaign.name and taken.exclude(pk=campaign.pk).exists():
        errors["name"] = ["This brand already has a campaign with this name."]
    if errors:
        raise ValidationError(errors)


def _campaign_with_relations(campaign_id: int) -> Campaign:
    return Campaign.objects.select_related("brand", "budget").get(pk=campaign_id)


def campaign_create(
    *,
    brand: Brand,
    name: str,
    budget: Budget | None = None,
    enabled: bool = True,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Campaign:
    """A new campaign; its holds are set at once by the brand's reconcile."""
    campaign = Campaign(
        brand=brand,
        budget=budget,
        name=name,
        enabled=enabled,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    with transaction.atomic():
        _check_campaign(campaign)
        validated_save(campaign, constraint_fields=CAMPAIGN_CONSTRAINT_FIELDS)
        serving_facts_changed.send(sender=Campaign, brand_ids=frozenset({brand.pk}))
        return _campaign_with_relations(campaign.pk)


def campaign_update(
    *, campaign_id: int, user: AbstractBaseUser | None = None, **changes: Unpack[CampaignChanges]
) -> Campaign:
    """Change some of a campaign's fields. Its brand never changes.

    `enabled` goes through `campaigns_set_enabled`, so turning it off is a
    manual pause recorded with `user`. Raises Campaign.DoesNotExist for an
    unknown id.
    """
    with transaction.atomic():
        campaign = (
            Campaign.objects.select_for_update(of=("self",))
            .select_related("brand", "budget")
            .get(pk=campaign_id)
        )
        if "brand" in changes and changes["brand"] != campaign.brand:
            raise ValidationError({"brand": ["A campaign cannot move to another brand."]})
        fields = [f for f in ("budget", "name", "starts_on", "ends_on") if f in changes]
        changed = [f for f in fields if getattr(campaign, f) != changes[f]]
        if changed:
            for field in changed:
                setattr(campaign, field, changes[field])
            _check_campaign(campaign)
            validated_save(
                campaign,
                update_fields=[*changed, "updated_at"],
                constraint_fields=CAMPAIGN_CONSTRAINT_FIELDS,
            )
        if "enabled" in changes:
            campaigns_set_enabled(campaign_ids=[campaign.pk], enabled=changes["enabled"], user=user)
        if CAMPAIGN_SERVING_FIELDS.intersection(changed):
            serving_facts_changed.send(sender=Campaign, brand_ids=frozenset({campaign.brand_id}))
        return _campaign_with_relations(campaign.pk)


def campaign_delete(*, campaign_id: int) -> None:
    """Delete a campaign with its dayparts and history.

    Refused (DeletionRefused) while it has spend. Raises Campaign.DoesNotExist
    for an unknown id.
    """
    with deletion_guard(f"Campaign {campaign_id}"):
        Campaign.objects.select_for_update().get(pk=campaign_id).delete()


# --- dayparts ----------------------------------------------------------------------


class DaypartChanges(TypedDict, total=False):
    campaign: Campaign
    days: Iterable[str]
    start_time: dt.time
    end_time: dt.time


def _days_mask(days: Iterable[str]) -> int:
    names = list(days)
    unknown = sorted({str(name) for name in names} - set(WEEKDAYS))
    if unknown:
        raise ValidationError(
            {"days": [f"Unknown weekday {', '.join(unknown)}; use {', '.join(WEEKDAYS)}."]}
        )
    if not names:
        raise ValidationError({"days": ["Choose at least one weekday."]})
    return days_to_mask(names)


def _check_times(start_time: dt.time, end_time: dt.time) -> None:
    # Wall-clock times in the brand's zone: an offset would mean another zone.
    for field, value in (("start_time", start_time), ("end_time", end_time)):
        if value.tzinfo is not None:
            raise ValidationError({field: ["Use the brand's local time, without an offset."]})


def _send_for_campaign(campaign_id: int) -> None:
    brand_id = Campaign.objects.filter(pk=campaign_id).values_list("brand_id", flat=True).get()
    serving_facts_changed.send(sender=Daypart, brand_ids=frozenset({brand_id}))


def daypart_create(
    *, campaign: Campaign, days: Iterable[str], start_time: dt.time, end_time: dt.time
) -> Daypart:
    """A weekly window; `end_time <= start_time` runs overnight into the next day."""
    _check_times(start_time, end_time)
    daypart = Daypart(
        campaign=campaign, days=_days_mask(days), start_time=start_time, end_time=end_time
    )
    with transaction.atomic():
        validated_save(daypart, constraint_fields={"daypart_days_not_empty": "days"})
        serving_facts_changed.send(sender=Daypart, brand_ids=frozenset({campaign.brand_id}))
    return daypart


def daypart_update(*, daypart_id: int, **changes: Unpack[DaypartChanges]) -> Daypart:
    """Change a daypart's days or times. It never moves to another campaign.

    Raises Daypart.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        daypart = Daypart.objects.select_for_update().get(pk=daypart_id)
        if "campaign" in changes and changes["campaign"].pk != daypart.campaign_id:
            raise ValidationError({"campaign": ["A daypart cannot move to another campaign."]})
        new_values: dict[str, object] = {}
        if "days" in changes:
            new_values["days"] = _days_mask(changes["days"])
        for field in ("start_time", "end_time"):
            if field in changes:
                new_values[field] = changes[field]
        _check_times(
            changes.get("start_time", daypart.start_time), changes.get("end_time", daypart.end_time)
        )
        changed = [f for f, value in new_values.items() if getattr(daypart, f) != value]
        if not changed:
            return daypart
        for field in changed:
            setattr(daypart, field, new_values[field])
        validated_save(
            daypart, update_fields=changed, constraint_fields={"daypart_days_not_empty": "days"}
        )
        _send_for_campaign(daypart.campaign_id)
    return daypart


def daypart_delete(*, daypart_id: int) -> None:
    """Raises Daypart.DoesNotExist for an unknown id."""
    with transaction.atomic():
        daypart = Daypart.objects.select_for_update().get(pk=daypart_id)
        daypart.delete()
        _send_for_campaign(daypart.campaign_id)
