"""Budget alerts: rows written with the spend, delivered by the worker (an outbox).

The recorder inserts each alert with `INSERT ... ON CONFLICT DO NOTHING`
inside its transaction (spend.recording.ledger.rollups_add), so an alert exists once
per cap, period and threshold however many processes cross it together.
Nothing is sent inside the request: once the transaction commits, a robust
on-commit callback sends `spend.tasks.alerts_deliver` to the broker (giving
up at once if the broker is unreachable), and the worker delivers. A beat
sweep (`spend.tasks.alerts_sweep`) delivers whatever is still undelivered,
whether the broker was down at commit time or a worker was lost.

Raising them is the recorder's (spend.recording.alerts: announced on
commit, or withheld for a simulation); this module delivers them.

Channels: "email" (one mail to ALERT_EMAILS) and "webhook <url>" for each
URL of ALERT_WEBHOOK_URLS and of the alert's brand (`AlertWebhook`). Each
alert is delivered once per channel: an `AlertDelivery` row is claimed for
a while before sending (so two deliverers do not send at once), and
`delivered_at` is set by compare-and-swap after the send. A failure is kept
on the row (attempts, last error), shown on the alert's dashboard page.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db.models import F, Q
from django.utils import timezone

from budgets.models import Alert, AlertScope
from spend.models import AlertDelivery, AlertWebhook

logger = logging.getLogger(__name__)

PERIOD_WORDS = {"day": "daily", "month": "monthly"}
EMAIL = "email"
WEBHOOK = "webhook "
SIGNATURE_HEADER = "X-Adserver-Signature"


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


# --- channels ------------------------------------------------------------------------


def channels_for(alert: Alert, brand_webhooks: dict[int | None, list[str]]) -> list[str]:
    """The channels an alert goes to, in a fixed order."""
    channels = [EMAIL] if settings.ALERT_EMAILS else []
    urls = [*settings.ALERT_WEBHOOK_URLS, *brand_webhooks.get(None, [])]
    urls += brand_webhooks.get(alert.brand_id, [])
    channels += [WEBHOOK + url for url in dict.fromkeys(urls)]
    return channels


def _webhooks_of(brand_ids: set[int]) -> dict[int | None, list[str]]:
    found: dict[int | None, list[str]] = {}
    for brand_id, url in AlertWebhook.objects.filter(
        Q(brand_id__in=brand_ids) | Q(brand__isnull=True)
    ).values_list("brand_id", "url"):
        found.setdefault(brand_id, []).append(url)
    return found


def _mail(alert: Alert, summary: str) -> None:
    message = EmailMessage(
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
    get_connection(timeout=settings.EMAIL_TIMEOUT).send_messages([message])


def webhook_body(alert: Alert, summary: str) -> bytes:
    """The JSON posted to a webhook: Slack's `text`, and the alert's fields."""
    return json.dumps(
        {
            "text": f"Budget alert: {summary}",
            "alert": {
                "id": alert.pk,
                "brand_id": alert.brand_id,
                "brand": alert.brand.name,
                "budget_id": alert.budget_id,
                "scope": alert.scope,
                "period": alert.period,
                "period_start": alert.period_start.isoformat(),
                "threshold": alert.threshold,
                "cap": str(alert.cap),
                "spend": str(alert.spend),
                "currency": alert.brand.currency,
                "raised_at": alert.raised_at.isoformat(),
            },
        },
        separators=(",", ":"),
    ).encode()


def webhook_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(url: str, alert: Alert, summary: str) -> None:
    body = webhook_body(alert, summary)
    headers = {"Content-Type": "application/json"}
    if settings.ALERT_WEBHOOK_SECRET:
        headers[SIGNATURE_HEADER] = webhook_signature(body, settings.ALERT_WEBHOOK_SECRET)
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    # urlopen raises HTTPError for any answer outside 2xx/3xx.
    with urllib.request.urlopen(request, timeout=settings.ALERT_WEBHOOK_TIMEOUT):  # noqa: S310
        pass


def _send(channel: str, alert: Alert, summary: str) -> None:
    if channel == EMAIL:
        _mail(alert, summary)
    elif channel.startswith(WEBHOOK):
        _post(channel.removeprefix(WEBHOOK), alert, summary)
    else:
        raise ValueError(f"unknown channel {channel!r}")


# --- delivery ------------------------------------------------------------------------


@dataclass
class DeliveryResult:
    delivered: list[tuple[int, str]] = field(default_factory=list)
    failed: list[tuple[int, str, str]] = field(default_factory=list)


def alerts_deliver_now(
    alert_ids: Sequence[int], *, lease_seconds: int | None = None
) -> DeliveryResult:
    """Deliver the given alerts on every channel they still lack.

    Each (alert, channel) is claimed for `lease_seconds` (longer than a
    send can take), sent, then marked delivered only if nobody else marked
    it first. Runs in autocommit: each claim and each mark commits at once.
    """
    result = DeliveryResult()
    alerts = list(
        Alert.objects.select_related("brand", "budget")
        .filter(id__in=alert_ids, simulated=False)
        .order_by("id")
    )
    if not alerts:
        return result
    webhooks = _webhooks_of({alert.brand_id for alert in alerts})
    wanted = [
        AlertDelivery(alert_id=alert.pk, channel=channel)
        for alert in alerts
        for channel in channels_for(alert, webhooks)
    ]
    AlertDelivery.objects.bulk_create(wanted, ignore_conflicts=True)
    by_id = {alert.pk: alert for alert in alerts}
    lease = lease_seconds or int(
        max(settings.EMAIL_TIMEOUT, settings.ALERT_WEBHOOK_TIMEOUT) * 2 + 30
    )
    for alert in alerts:
        logger.warning("Budget alert %s: %s", alert.pk, alert_summary(alert))
    for delivery_id, alert_id, channel in _claim(by_id, lease):
        _deliver(delivery_id, by_id[alert_id], channel, result)
    return result


def _deliver(delivery_id: int, alert: Alert, channel: str, result: DeliveryResult) -> None:
    """Send one claimed delivery; mark it delivered, or record its error for a retry."""
    try:
        _send(channel, alert, alert_summary(alert))
    except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        AlertDelivery.objects.filter(pk=delivery_id, delivered_at__isnull=True).update(
            last_error=error, claimed_until=None
        )
        logger.warning("Alert %s not delivered by %s: %s", alert.pk, channel, error)
        result.failed.append((alert.pk, channel, error))
        return
    marked = AlertDelivery.objects.filter(pk=delivery_id, delivered_at__isnull=True).update(
        delivered_at=timezone.now(), last_error="", claimed_until=None
    )
    if marked:
        result.delivered.append((alert.pk, channel))


def _claim(by_id: dict[int, Alert], lease: int) -> list[tuple[int, int, str]]:
    """Claim the undelivered, unclaimed rows of these alerts; each claim counts an attempt."""
    now = timezone.now()
    claimed = []
    for delivery_id, alert_id, channel in (
        AlertDelivery.objects.filter(alert_id__in=list(by_id), delivered_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("id")
        .values_list("id", "alert_id", "channel")
    ):
        # Compare-and-swap: only one deliverer wins an expired or absent claim.
        won = (
            AlertDelivery.objects.filter(pk=delivery_id, delivered_at__isnull=True)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(
                claimed_until=now + dt.timedelta(seconds=lease),
                last_attempt_at=now,
                attempts=F("attempts") + 1,
            )
        )
        if won:
            claimed.append((delivery_id, alert_id, channel))
    return claimed


def alerts_undelivered(*, now: dt.datetime | None = None, settle_seconds: int = 60) -> list[int]:
    """Alerts of the delivery window that some channel still lacks.

    Alerts younger than `settle_seconds` are left to the task sent on commit;
    a row claimed by a deliverer that is still working is left to it.
    """
    now = now or timezone.now()
    window_start = now - dt.timedelta(hours=settings.ALERT_DELIVERY_WINDOW_HOURS)
    alerts = list(
        Alert.objects.filter(
            raised_at__gte=window_start,
            raised_at__lt=now - dt.timedelta(seconds=settle_seconds),
            simulated=False,
        ).only("id", "brand_id")
    )
    if not alerts:
        return []
    done: dict[int, set[str]] = {}
    for alert_id, channel, delivered_at, claimed_until in AlertDelivery.objects.filter(
        alert_id__in=[a.pk for a in alerts]
    ).values_list("alert_id", "channel", "delivered_at", "claimed_until"):
        if delivered_at is not None or (claimed_until is not None and claimed_until > now):
            done.setdefault(alert_id, set()).add(channel)
    webhooks = _webhooks_of({alert.brand_id for alert in alerts})
    return sorted(
        alert.pk
        for alert in alerts
        if set(channels_for(alert, webhooks)) - done.get(alert.pk, set())
    )
