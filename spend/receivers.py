"""Receivers connected in SpendConfig.ready(): thin adapters onto the reconcile."""

from collections.abc import Collection

from spend.reconcile import reconcile_brands_now
from spend.selectors import brand_has_spend


def reconcile_brands_on_serving_facts_changed(
    sender: object, *, brand_ids: Collection[int], **kwargs: object
) -> None:
    """A cap, budget, daypart, flight date or `enabled` changed: follow at once.

    Runs in the sender's transaction, so the edit and the serving state it
    implies commit together (or not at all).
    """
    reconcile_brands_now(brand_ids=brand_ids)


def answer_brand_spend_asked(sender: object, *, brand_id: int, **kwargs: object) -> bool:
    return brand_has_spend(brand_id)
