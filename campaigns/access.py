"""The one access rule (`budgets.access`) for campaigns, where a path needs it cheaper.

Here rather than in `budgets`: it reads the campaigns table, and imports
flow `spend -> campaigns -> budgets`.
"""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import PermissionsMixin
from django.db import connection

from budgets.access import AnyUser, manages_all_brands
from budgets.models import Role


def campaigns_not_managed(user: AnyUser | None, campaign_ids: Iterable[int]) -> set[int]:
    """The ids among `campaign_ids` whose brand `user` may not change.

    An unknown id is "not managed" too, so the answer is the same whether a
    campaign exists or not. Made for spend recording, which must stay cheap:
    no query for a superuser, one for a member who manages every campaign's
    brand; only when memberships fall short is the agency-admin permission
    asked (`manages_all_brands`, whose answer Django caches on the user).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return set(campaign_ids)
    if isinstance(user, PermissionsMixin) and user.is_superuser:
        return set()  # without reading the ids: a batch holds 10,000
    wanted = set(campaign_ids)
    if not wanted:
        return wanted
    refused = wanted.difference(_campaigns_managed_through_memberships(user.pk, wanted))
    if refused and manages_all_brands(user):
        return set()
    return refused


# The same rule as `brand_q(user, manage=True)` on campaigns, written out: on
# the spend path the ORM's building and compiling of this join cost five times
# the query itself. A test holds the two equal (test_campaigns_not_managed.py).
_MANAGED_CAMPAIGNS_SQL = """
    SELECT campaign.id
    FROM campaigns_campaign AS campaign
    JOIN budgets_brandmembership AS membership ON membership.brand_id = campaign.brand_id
    WHERE membership.user_id = %s AND membership.role = %s AND campaign.id IN ({ids})
"""


def _campaigns_managed_through_memberships(user_id: Any, campaign_ids: set[int]) -> set[int]:
    sql = _MANAGED_CAMPAIGNS_SQL.format(ids=", ".join(["%s"] * len(campaign_ids)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id, Role.MANAGER.value, *campaign_ids])
        return {campaign_id for (campaign_id,) in cursor.fetchall()}
