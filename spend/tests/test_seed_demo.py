"""seed_demo: a realistic, idempotent demo data set, sized on request."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from budgets.models import Brand, Budget
from campaigns.models import Campaign, CampaignStatusChange, Daypart

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Brand.objects.count(),
        Budget.objects.count(),
        Campaign.objects.count(),
        Daypart.objects.count(),
        CampaignStatusChange.objects.count(),
    )


def test_default_set_covers_zones_currencies_dayparts_flights_and_a_manual_pause() -> None:
    call_command("seed_demo", stdout=io.StringIO())
    assert len(set(Brand.objects.values_list("timezone", flat=True))) >= 5
    assert len(set(Brand.objects.values_list("currency", flat=True))) >= 5
    assert Budget.objects.filter(daily_limit__isnull=False).exists()
    assert Budget.objects.filter(monthly_limit__isnull=False).exists()
    overnight = [d for d in Daypart.objects.all() if d.is_overnight]
    assert overnight
    reasons = set(Campaign.objects.values_list("pause_reason", flat=True))
    # Flight dates in the past and the future, and a person's pause, whatever the hour.
    assert {"ended", "not_started", "manual"} <= reasons
    manual = CampaignStatusChange.objects.filter(new_reason="manual")
    assert manual.count() == Brand.objects.count()


def test_seeding_twice_changes_nothing() -> None:
    call_command("seed_demo", "--brands", "3", "--campaigns-per-brand", "8", stdout=io.StringIO())
    first = _counts()
    call_command("seed_demo", "--brands", "3", "--campaigns-per-brand", "8", stdout=io.StringIO())
    assert _counts() == first
    assert first[:3] == (3, 6, 24)


def test_size_options_reach_past_the_named_brands() -> None:
    call_command("seed_demo", "--brands", "10", "--campaigns-per-brand", "2", stdout=io.StringIO())
    assert Brand.objects.count() == 10
    assert Campaign.objects.count() == 20
    assert Brand.objects.filter(name__startswith="Demo brand").count() == 2


def test_once_skips_when_brands_exist() -> None:
    call_command("seed_demo", "--brands", "1", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", "--once", "--brands", "5", stdout=out)
    assert "skipping" in out.getvalue()
    assert Brand.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--brands", "0"], "--brands"),
        (["--brands", "20000"], "--brands"),
        (["--campaigns-per-brand", "0"], "--campaigns-per-brand"),
    ],
)
def test_bad_sizes_are_refused(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("seed_demo", *args)
    assert not Brand.objects.exists()
