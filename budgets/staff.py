"""The admin group of brand managers: the model permissions a manager needs there.

Opening the admin takes `is_staff` and a model permission per page; the
brand rule (`budgets.access`) then narrows every page to the brands the
person manages. A manager who works in the admin is therefore a staff user
in this group, with a manager membership of each of their brands. Adding
and deleting brands, giving roles and the scheduler stay the agency
admins' (`budgets.manage_all_brands`), so the group has no permission on
them.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

BRAND_MANAGERS = "Brand managers"

BRAND_MANAGER_PERMISSIONS = (
    # Brands: read and change caps (not add or delete: agency admins').
    "budgets.view_brand",
    "budgets.change_brand",
    "budgets.view_budget",
    "budgets.add_budget",
    "budgets.change_budget",
    "budgets.delete_budget",
    # Alerts: read and acknowledge.
    "budgets.view_alert",
    "budgets.change_alert",
    "budgets.view_settingchange",
    "campaigns.view_campaign",
    "campaigns.add_campaign",
    "campaigns.change_campaign",
    "campaigns.delete_campaign",
    "campaigns.view_daypart",
    "campaigns.add_daypart",
    "campaigns.change_daypart",
    "campaigns.delete_daypart",
    "campaigns.view_campaignstatuschange",
    "spend.view_spendevent",
    "spend.view_brandspend",
    "spend.view_budgetspend",
    "spend.view_campaignspend",
)


def brand_managers_group() -> Group:
    """The group, created or brought back to exactly these permissions."""
    wanted = Q()
    for name in BRAND_MANAGER_PERMISSIONS:
        app_label, codename = name.split(".")
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    with transaction.atomic():
        group, _ = Group.objects.get_or_create(name=BRAND_MANAGERS)
        permissions = list(Permission.objects.filter(wanted))
        if len(permissions) != len(BRAND_MANAGER_PERMISSIONS):
            raise LookupError("Some permissions do not exist yet: run `manage.py migrate` first.")
        group.permissions.set(permissions)
    return group
