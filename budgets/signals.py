"""Notifications that travel against the import direction.

Imports flow spend -> campaigns -> budgets, but a change made down here (a
brand's cap, a budget's limit, a campaign's dayparts or flight dates) must
make the serving state, computed up in `spend`, follow at once. The services
that make such changes send `serving_facts_changed` with the brand ids; the
spend app connects the receiver that reconciles those brands in the same
transaction. It is an explicit call from a service, not a model signal.
"""

from django.dispatch import Signal

# Sent with brand_ids: frozenset[int].
serving_facts_changed = Signal()

# Sent with brand_id: int, to ask whether the brand has recorded spend (the
# ledger lives up in `spend`, which answers). A brand's time zone is fixed
# from its first spend on (budgets.services.brand_update).
brand_spend_asked = Signal()


def brand_has_spend(brand_id: int) -> bool:
    """Whether any spend was recorded for the brand (committed, as this transaction sees it)."""
    answers = brand_spend_asked.send(sender=None, brand_id=brand_id)
    return any(answer for _receiver, answer in answers)
