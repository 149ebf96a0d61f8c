"""Budget alerts: announced once they are committed.

The recorder inserts each alert with `INSERT ... ON CONFLICT DO NOTHING`
inside its transaction (spend.ledger.rollups_add), so an alert exists once
per cap, period and threshold however many processes cross it together.
Announcing -- the log line and the mail -- waits for the commit and runs as
a robust on-commit callback: a rolled-back alert is never announced, and a
mail server that is down never fails the recording of spend.
"""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction

from budgets.models import Alert, AlertScope

logger = logging.getLogger(__name__)

PERIOD_WORDS = {"day": "daily", "month": "monthly"}


def alert_summary(alert: Alert) -> str:
    """One line naming the cap, how far it is spent, and the brand-local period."""
    period = PERIOD_WORDS.get(alert.period, alert.period)
    if alert.scope == AlertScope.BUDGET and alert.budget is not None:
        target = f'Shared budget "{alert.budget.name}" of {alert.brand.name}'
        cap = f"{period} limit"
    else:
        target = alert.brand.name
        cap = f"{period} budget"
    when = f"{alert.period_start:%Y-%m}" if alert.period == "month" else f"{alert.period_start}"
    return (
        f"{target} reached {alert.threshold}% of its {cap} for {when}: "
        f"{alert.spend:,.2f} of {alert.cap:,.2f} {alert.brand.currency}"
    )


def alerts_announce(alert_ids: Sequence[int]) -> None:
    """Log and mail the given new alerts: one query, one mail connection."""
    alerts = list(
        Alert.objects.select_related("brand", "budget").filter(id__in=alert_ids).order_by("id")
    )
    messages = []
    for alert in alerts:
        summary = alert_summary(alert)
        logger.warning("Budget alert %s: %s", alert.pk, summary)
        if settings.ALERT_EMAILS:
            messages.append(
                EmailMessage(
                    subject=f"[Budget alert] {summary}"[:200],
                    body=(
                        f"{summary}.\n\n"
                        f"Threshold: {alert.threshold}%\n"
                        f"Period: {alert.period} starting {alert.period_start} "
                        f"(the brand's time zone, {alert.brand.timezone})\n"
                        f"Raised at: {alert.raised_at:%Y-%m-%d %H:%M:%S %Z}\n"
                    ),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=list(settings.ALERT_EMAILS),
                )
            )
    if messages:
        get_connection().send_messages(messages)


def alerts_announce_on_commit(alert_ids: Sequence[int]) -> None:
    if alert_ids:
        ids = list(alert_ids)
        transaction.on_commit(lambda: alerts_announce(ids), robust=True)
