"""`campaigns.access.campaigns_not_managed`, the spend path's check, against the one rule.

Its query is written out in SQL for speed; here it must agree with
`may_manage_brand` for every person and every set of campaign ids.
"""

from itertools import combinations

import pytest
from django.contrib.auth.models import AnonymousUser, User

from adserver.api.tests.conftest import agency_admin_user, member_of
from budgets.access import manages_all_brands, may_manage_brand
from budgets.models import Role
from budgets.services import membership_set
from budgets.tests.factories import BrandFactory
from campaigns.access import campaigns_not_managed
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

UNKNOWN = 987654


def test_it_agrees_with_may_manage_brand_for_every_person_and_set_of_campaigns(
    staff_user: User,
) -> None:
    x, y, z = BrandFactory.create_batch(3)
    campaigns = [CampaignFactory.create(brand=brand) for brand in (x, x, y, z)]
    viewer = member_of(x, Role.VIEWER, "viewer")
    manager = member_of(x, Role.MANAGER, "manager")
    membership_set(brand=y, user=manager, role=Role.MANAGER)
    membership_set(brand=z, user=manager, role=Role.VIEWER)
    gone = member_of(z, Role.MANAGER, "gone")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    people: list[User | AnonymousUser] = [
        AnonymousUser(),
        User.objects.create_user("nobody"),
        viewer,
        manager,
        gone,
        agency_admin_user(),
        staff_user,
    ]
    ids = [campaign.pk for campaign in campaigns] + [UNKNOWN]
    brand_of = dict(Campaign.objects.values_list("pk", "brand_id"))
    for person in people:
        for size in range(1, len(ids) + 1):
            for chosen in combinations(ids, size):
                # An agency admin may post for any id (the service then names an
                # unknown one); for anyone else an unknown id is refused as well.
                expected = (
                    set()
                    if manages_all_brands(person)
                    else {
                        pk
                        for pk in chosen
                        if pk not in brand_of or not may_manage_brand(person, brand_of[pk])
                    }
                )
                assert campaigns_not_managed(person, chosen) == expected, (person, chosen)
