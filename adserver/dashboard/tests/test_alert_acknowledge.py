"""Alerts acknowledged on the dashboard: one or many at once, with who and when.

Only a manager of every ticked alert's brand may: a viewer's request is a
403, an alert the person may not see a 404, and either way nothing changes.
"""

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from adserver.dashboard.tests.conftest import MakeClient, make_member
from budgets.models import Alert, Brand, Role
from budgets.services import membership_set
from budgets.tests.factories import AlertFactory, BrandFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def brand() -> Brand:
    return BrandFactory.create(name="Northwind")


@pytest.fixture
def manager(brand: Brand) -> User:
    return make_member("account-manager", manages=[brand])


def _alerts(brand: Brand) -> list[Alert]:
    return [
        AlertFactory.create(brand=brand, threshold=threshold, period_start=NOW.date())
        for threshold in (50, 80, 100)
    ]


def _acknowledged() -> list[tuple[int, dt.datetime | None, int | None]]:
    return list(
        Alert.objects.order_by("id").values_list("id", "acknowledged_at", "acknowledged_by")
    )


@time_machine.travel(NOW, tick=False)
def test_a_manager_acknowledges_two_alerts_at_once(
    client_for: MakeClient, brand: Brand, manager: User
) -> None:
    first, second, third = _alerts(brand)
    client = client_for(manager)

    listing = client.get("/alerts/").content.decode()
    assert f'name="alert" value="{first.pk}"' in listing
    response = client.post(
        "/alerts/acknowledge/",
        {"alert": [first.pk, second.pk], "next": "/alerts/?state=open"},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == "/alerts/?state=open"
    assert "2 alerts acknowledged." in response.content.decode()
    assert _acknowledged() == [
        (first.pk, NOW, manager.pk),
        (second.pk, NOW, manager.pk),
        (third.pk, None, None),
    ]
    # The list says who, and offers no box for what is done.
    listing = client.get("/alerts/").content.decode()
    assert "by account-manager" in listing
    assert f'name="alert" value="{first.pk}"' not in listing
    assert f'name="alert" value="{third.pk}"' in listing


def test_acknowledging_again_keeps_the_first_who_and_when(
    client_for: MakeClient, brand: Brand, manager: User
) -> None:
    (alert, *_) = _alerts(brand)
    client = client_for(manager)
    with time_machine.travel(NOW, tick=False):
        client.post("/alerts/acknowledge/", {"alert": [alert.pk]})
    other = make_member("second-manager", manages=[brand])
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        response = client_for(other).post(
            "/alerts/acknowledge/", {"alert": [alert.pk]}, follow=True
        )
    assert "0 alerts acknowledged. 1 already were." in response.content.decode()
    alert.refresh_from_db()
    assert (alert.acknowledged_at, alert.acknowledged_by) == (NOW, manager)


def test_one_alert_from_its_page(client_for: MakeClient, brand: Brand, manager: User) -> None:
    (alert, *_) = _alerts(brand)
    client = client_for(manager)
    assert 'id="acknowledge"' in client.get(alert.get_absolute_url()).content.decode()
    client.post("/alerts/acknowledge/", {"alert": [alert.pk], "next": alert.get_absolute_url()})
    page = client.get(alert.get_absolute_url()).content.decode()
    assert "by account-manager" in page
    assert 'id="acknowledge"' not in page


def test_a_viewer_may_not_acknowledge_and_nothing_changes(
    client_for: MakeClient, brand: Brand
) -> None:
    alerts = _alerts(brand)
    viewer = client_for(make_member("brand-viewer", views=[brand]))
    assert 'name="alert"' not in viewer.get("/alerts/").content.decode()
    assert 'id="acknowledge"' not in viewer.get(alerts[0].get_absolute_url()).content.decode()

    response = viewer.post("/alerts/acknowledge/", {"alert": [alerts[0].pk]})

    assert response.status_code == 403
    assert all(acknowledged is None for _id, acknowledged, _by in _acknowledged())


def test_one_refused_alert_refuses_them_all(
    client_for: MakeClient, brand: Brand, manager: User
) -> None:
    """A manager of one brand and viewer of another ticks alerts of both: 403, none changes."""
    own = _alerts(brand)[0]
    viewed = BrandFactory.create(name="Fjord")
    membership_set(brand=viewed, user=manager, role=Role.VIEWER)
    theirs = AlertFactory.create(brand=viewed)

    response = client_for(manager).post("/alerts/acknowledge/", {"alert": [own.pk, theirs.pk]})

    assert response.status_code == 403
    assert all(acknowledged is None for _id, acknowledged, _by in _acknowledged())


def test_an_alert_of_a_brand_the_person_may_not_see_is_not_found(
    client_for: MakeClient, brand: Brand, manager: User
) -> None:
    own = _alerts(brand)[0]
    hidden = AlertFactory.create(brand=BrandFactory.create(name="Hidden"))

    response = client_for(manager).post("/alerts/acknowledge/", {"alert": [own.pk, hidden.pk]})

    assert response.status_code == 404
    assert all(acknowledged is None for _id, acknowledged, _by in _acknowledged())


@pytest.mark.parametrize(
    "data",
    [{}, {"alert": ["x"]}, {"alert": ["0"]}, {"alert": [str(n) for n in range(1, 502)]}],
)
def test_no_or_bad_ids_are_a_400(
    client_for: MakeClient, manager: User, data: dict[str, list[str]]
) -> None:
    response = client_for(manager).post("/alerts/acknowledge/", data)
    assert response.status_code == 400


def test_acknowledging_needs_a_post_and_a_login(client: Client, brand: Brand) -> None:
    alert = _alerts(brand)[0]
    response = client.post("/alerts/acknowledge/", {"alert": [alert.pk]})
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert all(acknowledged is None for _id, acknowledged, _by in _acknowledged())


def test_an_offsite_next_goes_to_the_alert_list(
    client_for: MakeClient, brand: Brand, manager: User
) -> None:
    alert = _alerts(brand)[0]
    response = client_for(manager).post(
        "/alerts/acknowledge/", {"alert": [alert.pk], "next": "https://evil.example/"}
    )
    assert response["Location"] == "/alerts/"
