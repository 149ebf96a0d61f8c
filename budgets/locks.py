"""The lock that orders every change to a brand's serving state.

Whoever changes a serving fact of a brand's campaigns (a cap, a budget limit,
dayparts, flight dates) or writes their holds takes this lock first, before
touching campaign rows, and in brand id order: the reconcile tick does, the
`serving_facts_changed` receiver does, and so should every service that edits
those facts. One order for everyone means two writers wait for each other
instead of deadlocking, and the later one sees what the earlier committed.
Spend recording takes the same rows `FOR SHARE`, so recorders of one brand do
not wait for each other, only for a reconcile of that brand.
"""

from collections.abc import Collection

from budgets.models import Brand


def brands_lock(*, brand_ids: Collection[int]) -> list[int]:
    """Lock the brands `FOR UPDATE` in id order; return the ids that exist. One query.

    Must run inside a transaction (the lock lasts until it ends).
    """
    if not brand_ids:
        return []
    # * lock the brands, in id order so that concurrent lockers queue rather than deadlock
    return list(
        Brand.objects.select_for_update()
        .filter(id__in=sorted(brand_ids))
        .order_by("id")
        .values_list("id", flat=True)
    )
