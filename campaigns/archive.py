"""Archiving brands and campaigns: the services (split from services.py by concept).

What has spend is never deleted (spend is money already spent), so a brand
or campaign that is done with is archived instead: it leaves the lists of
the dashboard, the API and the admin (a filter shows it), takes no new spend
(spend.services refuses it with SpendArchived, a 409 in the API), and keeps
its spend, its status history and its audit trail.

Archiving pauses what it takes out of service in the same transaction (a
manual pause, noted), and the database holds an archived campaign paused
(`campaign_archived_is_paused`): nothing archived serves. Unarchiving leaves
the pauses in place, for a person to lift. Archiving (or unarchiving) twice
changes nothing.

Who may do it is the caller's to check: a campaign by a manager of its
brand, a brand by an agency admin (`budgets.access`). Both are audited as
the field `archived`.
"""

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from budgets import audit
from budgets.locks import brands_lock
from budgets.models import Brand
from campaigns.models import Campaign
from campaigns.services import campaigns_set_enabled

BRAND_ARCHIVED_NOTE = "Brand archived"
CAMPAIGN_ARCHIVED_NOTE = "Archived"


def _audit_archived(
    *,
    brand: Brand,
    object_type: str,
    object_id: int,
    name: str,
    archived: bool,
    user: AbstractBaseUser | None,
) -> None:
    actor = None if user is None else audit.actor_for(user, audit.current_actor().via)
    audit.record_changes(
        brand=brand,
        object_type=object_type,
        object_id=object_id,
        object_repr=name,
        changes={"archived": (not archived, archived)},
        actor=actor,
    )


def brand_archive(*, brand_id: int, user: AbstractBaseUser | None = None) -> Brand:
    """Archive a brand and pause every campaign of it that is not paused by a person.

    Raises Brand.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        brands_lock(brand_ids={brand_id})
        brand = Brand.objects.get(pk=brand_id)
        if brand.archived_at is not None:
            return brand
        campaigns_set_enabled(
            campaign_ids=list(brand.campaigns.filter(enabled=True).values_list("id", flat=True)),
            enabled=False,
            user=user,
            note=BRAND_ARCHIVED_NOTE,
        )
        brand.archived_at = timezone.now()
        brand.save(update_fields=["archived_at"])
        _audit_archived(
            brand=brand,
            object_type="brand",
            object_id=brand.pk,
            name=brand.name,
            archived=True,
            user=user,
        )
    return brand


def brand_unarchive(*, brand_id: int, user: AbstractBaseUser | None = None) -> Brand:
    """Bring a brand back to the lists and to spend; its campaigns stay paused.

    Raises Brand.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        brands_lock(brand_ids={brand_id})
        brand = Brand.objects.get(pk=brand_id)
        if brand.archived_at is None:
            return brand
        brand.archived_at = None
        brand.save(update_fields=["archived_at"])
        _audit_archived(
            brand=brand,
            object_type="brand",
            object_id=brand.pk,
            name=brand.name,
            archived=False,
            user=user,
        )
    return brand


def _locked_campaign(campaign_id: int) -> Campaign:
    # The brand first, as every writer of serving state does (budgets.locks).
    brands_lock(brand_ids={Campaign.objects.values_list("brand_id", flat=True).get(pk=campaign_id)})
    return (
        Campaign.objects.select_for_update(of=("self",)).select_related("brand").get(pk=campaign_id)
    )


def campaign_archive(*, campaign_id: int, user: AbstractBaseUser | None = None) -> Campaign:
    """Pause (if a person has not) and archive a campaign.

    Raises Campaign.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        campaign = _locked_campaign(campaign_id)
        if campaign.archived_at is not None:
            return campaign
        campaigns_set_enabled(
            campaign_ids=[campaign.pk], enabled=False, user=user, note=CAMPAIGN_ARCHIVED_NOTE
        )
        campaign.archived_at = timezone.now()
        Campaign.objects.filter(pk=campaign.pk).update(
            archived_at=campaign.archived_at, updated_at=campaign.archived_at
        )
        _audit_archived(
            brand=campaign.brand,
            object_type="campaign",
            object_id=campaign.pk,
            name=campaign.name,
            archived=True,
            user=user,
        )
        return Campaign.objects.get(pk=campaign.pk)


def campaign_unarchive(*, campaign_id: int, user: AbstractBaseUser | None = None) -> Campaign:
    """Bring a campaign back to the lists and to spend; it stays paused until resumed.

    Refused (a ValidationError naming `archived`) while its brand is archived.
    Raises Campaign.DoesNotExist for an unknown id.
    """
    with transaction.atomic():
        campaign = _locked_campaign(campaign_id)
        if campaign.archived_at is None:
            return campaign
        if campaign.brand.archived_at is not None:
            raise ValidationError(
                {
                    "archived": [
                        f"Its brand {campaign.brand.name} is archived: unarchive the brand first."
                    ]
                }
            )
        Campaign.objects.filter(pk=campaign.pk).update(archived_at=None, updated_at=timezone.now())
        _audit_archived(
            brand=campaign.brand,
            object_type="campaign",
            object_id=campaign.pk,
            name=campaign.name,
            archived=False,
            user=user,
        )
        return Campaign.objects.get(pk=campaign.pk)
