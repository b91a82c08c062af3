"""The shared state-machine helper and money field (marketplace.core)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.core.errors import IllegalTransition
from marketplace.core.fields import MoneyField
from marketplace.listings.models import Variant
from marketplace.orders.models import Order, Payment, ShopOrder


def test_every_machine_refuses_a_move_its_table_does_not_list():
    order = Order(status=Order.Status.PENDING_PAYMENT)
    assert order.can_become(Order.Status.PAID)
    assert not order.can_become(Order.Status.SHIPPED)
    with pytest.raises(IllegalTransition, match="An order that is “Awaiting payment”"):
        order.check_transition(Order.Status.SHIPPED)
    payment = Payment(status=Payment.Status.VOIDED)
    assert payment.available_transitions() == []
    with pytest.raises(IllegalTransition, match="A payment that is “Voided”"):
        payment.check_transition(Payment.Status.CAPTURED)


def test_a_parcel_names_what_can_happen_next():
    parcel = ShopOrder(status=ShopOrder.Status.SHIPPED, international=True)
    assert parcel.available_transitions(None) == ["deliver"]  # no user: no money actions
    assert "cannot be shipped" in parcel.ship_refusal()
    paid = ShopOrder(status=ShopOrder.Status.PAID, international=True)
    assert "paperwork is not ready" in paid.ship_refusal()
    paid.international = False
    assert paid.ship_refusal() == ""


def test_money_fields_keep_their_precision_and_change_no_migration():
    orders_total = Order._meta.get_field("total")
    price = Variant._meta.get_field("price")
    assert isinstance(orders_total, MoneyField) and isinstance(price, MoneyField)
    assert (orders_total.max_digits, orders_total.decimal_places) == (14, 3)
    assert (price.max_digits, price.decimal_places) == (12, 2)
    _name, path, _args, kwargs = orders_total.deconstruct()
    assert path == "django.db.models.DecimalField"
    assert kwargs["decimal_places"] == 3 and kwargs["default"] == Decimal("0")


def test_the_paperwork_job_table_lists_every_move_the_customs_services_make():
    """customs.services moves jobs with conditional UPDATEs; the table is the map of them."""
    from customs.models import PaperworkJob

    S = PaperworkJob.Status
    moves = [
        (S.PENDING, S.RUNNING),  # process_paperwork_job claims it
        (S.RUNNING, S.RUNNING),  # ... or re-claims it after a dead worker's lease
        (S.RUNNING, S.DONE),  # rendered (or superseded)
        (S.RUNNING, S.PENDING),  # release_paperwork_job after a transient error
        (S.PENDING, S.FAILED),  # fail_paperwork_job
        (S.RUNNING, S.FAILED),
        (S.FAILED, S.PENDING),  # retry_job
    ]
    for old, new in moves:
        assert PaperworkJob(status=old).can_become(new), (old, new)
    with pytest.raises(IllegalTransition, match="A paperwork job that is “done”"):
        PaperworkJob(status=S.DONE).check_transition(S.PENDING)
