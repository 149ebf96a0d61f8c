"""One OS process of the concurrency test: records its share of the event plan.

    python -m spend.tests.concurrency_worker DATABASE_URL WORKER WORKERS EVENTS BATCH CAMPAIGN_ID...

BATCH 0 records each event with spend_record; BATCH n records batches of n
events with spend_record_batch (and fewer replays of the next worker's ids,
so that most batches hold none and take the path written before the locks).

The plan is a pure function of (worker, index), so the test knows every event
each worker sent, including the replays of event ids that another worker
sends too, and can compute the exact totals the database must hold.
"""

import hashlib
import os
import sys
from decimal import Decimal

REPLAY_OTHER_EVERY = 10  # the 10th event replays an id of the next worker
BATCH_REPLAY_OTHER_EVERY = 250  # in batches, the 250th
REPLAY_OWN_EVERY = 7  # the 7th replays one of this worker's earlier ids
ANONYMOUS_EVERY = 13  # the 13th carries no event_id at all

Planned = tuple[str | None, int, Decimal]  # (event_id, campaign index, amount)


def _payload(key: str, campaigns: int) -> tuple[int, Decimal]:
    """The campaign and amount of an event, the same in every process that sends it."""
    digest = int(hashlib.sha256(key.encode()).hexdigest(), 16)
    return digest % campaigns, Decimal(digest % 9_000_000 + 1_000_000).scaleb(-6)


def plan(
    worker: int, workers: int, events: int, campaigns: int, *, batched: bool = False
) -> list[Planned]:
    planned: list[Planned] = []
    other_every = BATCH_REPLAY_OTHER_EVERY if batched else REPLAY_OTHER_EVERY
    for i in range(events):
        if i % other_every == other_every - 1:
            key: str | None = f"w{(worker + 1) % workers}-{i - 5}"
        elif i % REPLAY_OWN_EVERY == REPLAY_OWN_EVERY - 1:
            key = f"w{worker}-{i - 3}"
        elif i % ANONYMOUS_EVERY == 0:
            key = None
        else:
            key = f"w{worker}-{i}"
        campaign, amount = _payload(key or f"anonymous-{worker}-{i}", campaigns)
        planned.append((key, campaign, amount))
    return planned


def main() -> None:
    url, worker, workers, events, batch, *campaign_ids = sys.argv[1:]
    os.environ.update(
        DATABASE_URL=url,
        DEBUG="0",
        SECRET_KEY="concurrency-test-only",
        DJANGO_SETTINGS_MODULE="adserver.settings",
    )
    import django

    django.setup()
    from spend.services import SpendInput, spend_record, spend_record_batch

    ids = [int(pk) for pk in campaign_ids]
    size = int(batch)
    planned = plan(int(worker), int(workers), int(events), len(ids), batched=size > 0)
    if not size:
        for key, campaign, amount in planned:
            spend_record(campaign_id=ids[campaign], amount=amount, event_id=key)
        return
    for offset in range(0, len(planned), size):
        spend_record_batch(
            [
                SpendInput(campaign_id=ids[campaign], amount=amount, event_id=key)
                for key, campaign, amount in planned[offset : offset + size]
            ]
        )


if __name__ == "__main__":
    main()
