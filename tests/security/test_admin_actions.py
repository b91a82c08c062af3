"""Every admin action checks its own permission: a view-only staff user can run none of them.

Regression (issue 9, "Admin"): no action declared ``permissions=``, so a staff user holding only
view permissions confirmed a bank transfer (order paid, no money received) and approved a shop.
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse

from accounts.models import Shop
from marketplace.orders.models import Order, Payment
from tests.factories import ShopFactory, UserFactory
from tests.orders import factories as f

pytestmark = pytest.mark.django_db


def registered_actions():
    """(model admin, action name, function) for every action of every registered model."""
    for model_admin in admin.site._registry.values():
        for func, name, _description in model_admin._get_base_actions():
            yield model_admin, name, func


ACTIONS = sorted(
    (f"{ma.opts.app_label}.{ma.opts.model_name}", name) for ma, name, _ in registered_actions()
)


def _admin_for(label):
    return next(ma for ma in admin.site._registry.values() if ma.opts.label_lower == label)


def _staff_with(*perms: str):
    """A staff user (not superuser) holding every view permission plus ``perms``."""
    user = UserFactory(is_staff=True)
    view = Permission.objects.filter(codename__startswith="view_")
    extra = [
        Permission.objects.get(content_type__app_label=p.split(".")[0], codename=p.split(".")[1])
        for p in perms
    ]
    user.user_permissions.set([*view, *extra])
    return type(user).objects.get(pk=user.pk)  # a fresh permission cache


def _snapshot():
    """Every row of every model the admin shows, and the mail sent: the state actions change."""
    rows = {}
    for model in admin.site._registry:
        rows[model._meta.label] = list(model._default_manager.order_by("pk").values())
    return rows, len(mail.outbox)


def test_every_admin_action_declares_the_permissions_it_needs():
    undeclared, unchecked = [], []
    for model_admin, name, func in registered_actions():
        perms = getattr(func, "allowed_permissions", ())
        if not perms:
            undeclared.append(f"{model_admin.opts.label_lower}.{name}")
        for perm in perms:
            if not callable(getattr(model_admin, f"has_{perm}_permission", None)):
                unchecked.append(f"{model_admin.opts.label_lower}.{name}: {perm}")

    assert len(ACTIONS) >= 18  # 17 of ours plus Django's delete_selected
    assert undeclared == []
    assert unchecked == []


@pytest.fixture
def world(buyer, tshirt):
    """One record the actions could change: a pending shop, an unpaid bank-transfer order."""
    ShopFactory(status=Shop.Status.PENDING, display_name="Waiting Workshop")
    order = f.order_for(buyer, [(tshirt, 1)], method="bank_transfer")
    assert order.status == Order.Status.PENDING_PAYMENT
    return order


@pytest.mark.parametrize(("model", "action"), ACTIONS)
def test_a_view_only_staff_user_cannot_run_the_action(model, action, world, client):
    viewer = _staff_with()
    model_admin = _admin_for(model)
    request = RequestFactory().get("/")
    request.user = viewer
    assert action not in model_admin.get_actions(request)

    client.force_login(viewer)
    changelist = reverse(f"admin:{model.replace('.', '_')}_changelist")
    assert client.get(changelist).status_code == 200  # they may look
    selected = list(model_admin.model._default_manager.values_list("pk", flat=True)[:50]) or [1]
    mail.outbox.clear()
    before = _snapshot()

    response = client.post(
        changelist,
        {"action": action, "_selected_action": selected, "apply": "1", "reason": "probe"},
    )

    # Refused: the changelist again (or "No action selected"), never the action's own page.
    assert response.status_code in (200, 302)
    shown = {t.name for t in getattr(response, "templates", [])}
    assert not shown & {"admin/action_reason.html", "admin/delete_selected_confirmation.html"}
    assert _snapshot() == before


def test_confirming_a_bank_transfer_needs_the_confirm_payment_permission(world, client):
    order = world
    changelist = reverse("admin:orders_order_changelist")
    post = {"action": "confirm_bank_transfers", "_selected_action": [order.pk]}

    client.force_login(_staff_with("orders.view_order"))
    client.post(changelist, post)
    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_PAYMENT

    client.force_login(_staff_with("orders.confirm_payment"))
    client.post(changelist, post)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert order.payments.get().status == Payment.Status.CAPTURED


def test_approving_a_shop_needs_the_approve_shop_permission(world, client):
    shop = Shop.objects.get(status=Shop.Status.PENDING)
    changelist = reverse("admin:accounts_shop_changelist")
    post = {"action": "approve", "_selected_action": [shop.pk]}

    client.force_login(_staff_with("accounts.change_shop"))  # editing a shop is not reviewing
    client.post(changelist, post)
    shop.refresh_from_db()
    assert shop.status == Shop.Status.PENDING

    client.force_login(_staff_with("accounts.approve_shop"))
    client.post(changelist, post)
    shop.refresh_from_db()
    assert shop.status == Shop.Status.APPROVED
