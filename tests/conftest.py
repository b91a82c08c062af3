"""Shared fixtures: personas, database capabilities, on-commit helpers.

Personas (healthchecks/pretix style): ``buyer``, ``seller`` (owner of ``shop``),
``seller_staff`` (staff member of ``shop``), ``other_seller`` (owner of ``other_shop``),
``staff`` (admin user) and ``stranger`` (signed-up user with no relation to anything).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import ShopMembership
from tests.factories import AddressFactory, MembershipFactory, ShopFactory, UserFactory


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _broker_circuit_closed():
    """Each test starts with the publish circuit breaker closed (marketplace/celery.py)."""
    import marketplace.celery

    marketplace.celery._broker_down_until = 0.0


@pytest.fixture
def buyer(db):
    user = UserFactory(email="buyer@example.test", name="Bea Buyer", country="DE")
    AddressFactory(user=user)
    return user


@pytest.fixture
def shop(db):
    return ShopFactory(
        display_name="Maple & Thread",
        slug="maple-thread",
        country="US",
        currency="USD",
        time_zone="America/New_York",
        eori="",
        legal_name="Maple & Thread LLC",
        city="Portland",
        postcode="97204",
        region="OR",
    )


@pytest.fixture
def seller(shop):
    user = UserFactory(email="seller@example.test", name="Sam Seller", country="US")
    MembershipFactory(shop=shop, user=user, role=ShopMembership.Role.OWNER)
    return user


@pytest.fixture
def seller_staff(shop):
    user = UserFactory(email="helper@example.test", name="Hal Helper", country="US")
    MembershipFactory(shop=shop, user=user, role=ShopMembership.Role.STAFF)
    return user


@pytest.fixture
def other_shop(db):
    return ShopFactory(
        display_name="Jade Studio",
        slug="jade-studio",
        country="CN",
        currency="CNY",
        time_zone="Asia/Shanghai",
        eori="",
        legal_name="Hangzhou Jade Studio Co., Ltd.",
        city="Hangzhou",
        postcode="310000",
    )


@pytest.fixture
def other_seller(other_shop):
    user = UserFactory(email="other@example.test", name="Olu Other", country="CN")
    MembershipFactory(shop=other_shop, user=user, role=ShopMembership.Role.OWNER)
    return user


@pytest.fixture
def staff(db):
    return UserFactory(
        email="staff@example.test", name="Stef Staff", is_staff=True, is_superuser=True
    )


@pytest.fixture
def stranger(db):
    return UserFactory(email="stranger@example.test", name="Stray Stranger", country="FR")


@pytest.fixture
def client_for(client):
    """``client_for(user)``: the test client, signed in as ``user`` (None: anonymous)."""

    def sign_in(user):
        client.logout()
        if user is not None:
            client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run the after-commit callbacks (task publishing) that a test's transaction hides."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip_pg = pytest.mark.skip(
        reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI does, see .ci/run)"
    )
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip_pg)
    _skip_without_redis(items)


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


def _skip_without_redis(items):
    if settings.REDIS_URL:
        return
    skip = pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0 (CI does)")
    for item in items:
        if "redis" in item.keywords:
            item.add_marker(skip)
