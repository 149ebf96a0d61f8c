import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings

from budgets.models import Brand, Budget
from campaigns.models import Campaign

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent() -> None:
    call_command("seed_demo")
    counts = (Brand.objects.count(), Budget.objects.count(), Campaign.objects.count())
    call_command("seed_demo")
    assert (Brand.objects.count(), Budget.objects.count(), Campaign.objects.count()) == counts
    assert counts[0] >= 3
    assert Campaign.objects.filter(enabled=False).exists()


@override_settings(DEBUG=True)
def test_dev_admin_creates_a_superuser_once() -> None:
    call_command("dev_admin")
    call_command("dev_admin")
    user = User.objects.get(username="admin")
    assert user.is_superuser
    assert user.check_password("admin")


@override_settings(DEBUG=False)
def test_dev_admin_refuses_without_debug() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="DEBUG"):
        call_command("dev_admin")
    assert not User.objects.exists()
