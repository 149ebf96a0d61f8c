"""Manual pauses and resumes take the brand lock first, like the recorders: no deadlock.

Threads (each with its own PostgreSQL connection) record spend for one brand,
crossing its daily cap up and down so that every event holds or releases all
its campaigns, while others pause and resume those campaigns in bulk (as the
admin action does). Any "deadlock detected" from PostgreSQL is counted and
must stay at zero.
"""

import threading
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from budgets.tests.factories import BrandFactory
from campaigns.models import Campaign
from campaigns.services import campaigns_set_enabled
from campaigns.tests.factories import CampaignFactory
from spend.models import SpendEvent
from spend.services import spend_record

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROUNDS = 30


def _rounds(
    body: Callable[[int], None],
    *,
    start: threading.Barrier,
    deadlocks: list[str],
    errors: list[BaseException],
) -> Callable[[], None]:
    """A thread's work: `body` for every round once all threads start; deadlocks and errors kept."""

    def run() -> None:
        start.wait()
        try:
            for i in range(ROUNDS):
                try:
                    body(i)
                except OperationalError as exc:
                    if "deadlock detected" not in str(exc):
                        raise
                    deadlocks.append(str(exc))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    return run


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's locks")
def test_pause_and_resume_against_recorders_of_one_brand_never_deadlock() -> None:
    # A daily cap of 1.00 crossed up and down by every pair of events below:
    # each crossing holds or releases all the brand's campaigns in the
    # recorder's transaction (row locks in id order, after the event's).
    brand = BrandFactory.create(daily_budget=Decimal("1"), monthly_budget=Decimal("1000000"))
    campaigns = [CampaignFactory.create(brand=brand) for _ in range(4)]
    ids = [c.pk for c in campaigns]
    deadlocks: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def guarded(body: Callable[[int], None]) -> Callable[[], None]:
        return _rounds(body, start=start, deadlocks=deadlocks, errors=errors)

    def record(worker: int) -> Callable[[int], None]:
        def body(i: int) -> None:
            for campaign_id in ids:
                spend_record(
                    campaign_id=campaign_id,
                    amount=Decimal("1"),
                    event_id=f"w{worker}-{i}-{campaign_id}",
                )
                spend_record(
                    campaign_id=campaign_id,
                    amount=Decimal("-1"),
                    kind="adjustment",
                    occurred_at=timezone.now(),  # a refund names the day it refunds
                    event_id=f"w{worker}-{i}-{campaign_id}-back",
                )

        return body

    def toggle(i: int) -> None:
        # Several campaigns at once, as the admin's bulk action does.
        campaigns_set_enabled(campaign_ids=list(reversed(ids)), enabled=i % 2 == 1)

    threads = [
        threading.Thread(target=guarded(record(0))),
        threading.Thread(target=guarded(record(1))),
        threading.Thread(target=guarded(toggle)),
        threading.Thread(target=guarded(toggle)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert deadlocks == []
    assert SpendEvent.objects.count() == 2 * 2 * ROUNDS * len(ids)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's locks")
def test_a_bulk_pause_waits_for_a_recorder_of_its_brand_instead_of_deadlocking() -> None:
    """The documented order, made certain instead of left to chance.

    A recorder's transaction is open on the brand (it holds the brand FOR
    SHARE). A bulk pause of the brand's campaigns started now must queue on
    the brand while holding no campaign row, so that the recorder's next
    event, which crosses the daily cap and makes enforcement lock every
    campaign of the brand, goes through, and the pause follows. With the
    campaign rows locked first (the old order), the pause never waited for
    the brand: it locked and changed the campaigns under an open recorder.
    """
    brand = BrandFactory.create(daily_budget=Decimal("10"), monthly_budget=Decimal("1000"))
    ids = sorted(CampaignFactory.create(brand=brand).pk for _ in range(4))
    outcome: dict[str, str] = {}
    pauser_pid: list[int] = []

    def pause() -> None:
        try:
            connection.ensure_connection()
            pauser_pid.append(connection.connection.info.backend_pid)
            campaigns_set_enabled(campaign_ids=ids, enabled=False)
            outcome["pause"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported by the test
            outcome["pause"] = f"{exc.__class__.__name__}: {exc}"
        finally:
            connections.close_all()

    def pauser_waits_for_a_lock() -> bool:
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pauser_pid[0]]
            )
            row = cursor.fetchone()
        return row is not None and row[0] == "Lock"

    def record() -> None:
        pauser = threading.Thread(target=pause)
        try:
            with transaction.atomic():
                spend_record(campaign_id=ids[-1], amount=Decimal("1"), event_id="first")
                pauser.start()
                deadline = time.monotonic() + 10
                while not (pauser_pid and pauser_waits_for_a_lock()):
                    assert time.monotonic() < deadline, "the pause never blocked"
                    time.sleep(0.05)
                spend_record(campaign_id=ids[-1], amount=Decimal("20"), event_id="crossing")
            outcome["record"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported by the test
            outcome["record"] = f"{exc.__class__.__name__}: {exc}"
        finally:
            pauser.join(timeout=30)
            connections.close_all()

    recorder = threading.Thread(target=record)
    recorder.start()
    recorder.join(timeout=60)

    assert outcome == {"record": "ok", "pause": "ok"}
    assert SpendEvent.objects.count() == 2
    assert set(Campaign.objects.filter(id__in=ids).values_list("enabled", "budget_hold")) == {
        (False, "brand_daily_budget")
    }
