"""Whether the periodic reconcile runs: the age of the last finished tick.

Every reconcile task records when it finished (`spend.tasks.tick_record`).
When the newest of those is older than HEALTH_RECONCILE_MAX_AGE_SECONDS,
beat or every worker has stopped: /healthz answers 503 `"reconcile":
"stale"` and the dashboard shows a banner on every page.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from spend.models import ReconcileTick


@dataclass(frozen=True)
class Liveness:
    last_finished: dt.datetime | None
    now: dt.datetime

    @property
    def age_seconds(self) -> float | None:
        if self.last_finished is None:
            return None
        return (self.now - self.last_finished).total_seconds()

    @property
    def stale(self) -> bool:
        age = self.age_seconds
        return age is None or age > settings.HEALTH_RECONCILE_MAX_AGE_SECONDS

    @property
    def status(self) -> str:
        return "stale" if self.stale else "ok"

    def banner(self) -> str:
        """The dashboard's sentence while stale, or an empty string."""
        if not self.stale:
            return ""
        consequence = (
            "campaigns are not resumed or paused by schedule until the worker and beat run"
        )
        age = self.age_seconds
        if age is None:
            return f"Budget checks have not run yet: {consequence}."
        minutes = int(age // 60)
        if minutes < 1:
            ago = f"{int(age)} seconds ago"
        elif minutes == 1:
            ago = "1 minute ago"
        elif minutes < 120:
            ago = f"{minutes} minutes ago"
        else:
            ago = f"{minutes // 60} hours ago"
        return f"Budget checks last ran {ago}: {consequence}."


def reconcile_liveness(*, now: dt.datetime | None = None) -> Liveness:
    """One query: the newest finish of any reconcile tick."""
    last = ReconcileTick.objects.aggregate(last=Max("finished_at"))["last"]
    return Liveness(last_finished=last, now=now or timezone.now())
