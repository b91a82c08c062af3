"""Applying for a shop, review in the admin, notifications, export profile, team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import Notification, Shop, ShopEvent, ShopInvitation, ShopMembership
from marketplace.core.errors import DomainError
from tests.factories import ShopFactory, UserFactory

pytestmark = pytest.mark.django_db

APPLICATION = {
    "display_name": "Alpine Wool",
    "slug": "alpine-wool",
    "legal_name": "Alpine Wool AG",
    "business_type": "company",
    "description": "Knitwear from the Alps.",
    "country": "CH",
    "address_line1": "Bahnhofstrasse 1",
    "city": "Zürich",
    "postcode": "8001",
    "phone": "+41 44 668 18 00",
    "email": "hello@alpine.example",
    "time_zone": "Europe/Zurich",
    "currency": "CHF",
}


def _admin_action(client, action, shops, **extra):
    return client.post(
        reverse("admin:accounts_shop_changelist"),
        {"action": action, "_selected_action": [s.pk for s in shops], **extra},
    )


def test_a_signed_in_user_applies_and_becomes_owner_of_a_pending_shop(
    client_for, stranger, staff, run_on_commit
):
    with run_on_commit():
        response = client_for(stranger).post(reverse("accounts:shop-apply"), APPLICATION)

    shop = Shop.objects.get(slug="alpine-wool")
    assert response["Location"] == reverse("accounts:shop-dashboard", args=["alpine-wool"])
    assert shop.status == Shop.Status.PENDING
    assert shop.memberships.get().user == stranger
    assert shop.memberships.get().role == ShopMembership.Role.OWNER
    assert list(shop.events.values_list("kind", flat=True)) == [ShopEvent.Kind.APPLIED]
    # Admins hear about it in their inbox and by email.
    assert Notification.objects.get(user=staff).kind == "shop_application_received"
    assert [m.to for m in mail.outbox] == [[staff.email]]


@pytest.mark.parametrize(
    ("slug", "message"),
    [("maple-thread", "This shop address is taken"), ("admin", "This shop address is reserved")],
)
def test_a_taken_or_reserved_slug_is_a_field_error_and_nothing_is_saved(
    client_for, stranger, shop, slug, message
):
    response = client_for(stranger).post(
        reverse("accounts:shop-apply"), {**APPLICATION, "slug": slug}
    )

    assert response.status_code == 200
    assert message in response.context["form"].errors["slug"][0]
    assert not Shop.objects.filter(display_name="Alpine Wool").exists()
    assert not stranger.memberships.exists()


def test_an_invalid_phone_number_names_the_field(client_for, stranger):
    response = client_for(stranger).post(
        reverse("accounts:shop-apply"), {**APPLICATION, "phone": "12"}
    )

    assert "phone" in response.context["form"].errors
    assert not Shop.objects.filter(slug="alpine-wool").exists()


def test_admin_approves_and_the_owner_is_told_by_email_and_inbox(
    client_for, seller, staff, run_on_commit
):
    shop = ShopFactory(status=Shop.Status.PENDING, reviewed_at=None)
    ShopMembership.objects.create(shop=shop, user=seller, role=ShopMembership.Role.OWNER)

    with run_on_commit():
        _admin_action(client_for(staff), "approve", [shop])

    shop.refresh_from_db()
    assert shop.status == Shop.Status.APPROVED
    assert shop.reviewed_by == staff
    note = Notification.objects.get(user=seller)
    assert note.kind == "shop_approved"
    assert note.url == reverse("accounts:shop-dashboard", args=[shop.slug])
    assert note.email_status == Notification.EmailStatus.SENT
    assert mail.outbox[-1].to == [seller.email]
    assert shop.display_name in mail.outbox[-1].subject
    assert mail.outbox[-1].alternatives[0][1] == "text/html"


def test_admin_rejects_with_a_reason_the_applicant_reads(client_for, seller, staff, run_on_commit):
    shop = ShopFactory(status=Shop.Status.PENDING)
    ShopMembership.objects.create(shop=shop, user=seller, role=ShopMembership.Role.OWNER)
    client = client_for(staff)

    form_page = _admin_action(client, "reject", [shop])
    assert form_page.status_code == 200 and b"Reason" in form_page.content
    with run_on_commit():
        _admin_action(
            client, "reject", [shop], apply="1", reason="We could not verify the address."
        )

    shop.refresh_from_db()
    assert shop.status == Shop.Status.REJECTED
    assert shop.status_reason == "We could not verify the address."
    assert "We could not verify the address." in mail.outbox[-1].body
    assert Notification.objects.get(user=seller).kind == "shop_rejected"


def test_suspend_needs_a_reason_and_illegal_moves_are_refused(staff):
    shop = ShopFactory(status=Shop.Status.PENDING)
    now = timezone.now()

    with pytest.raises(DomainError, match="“Pending review” cannot become “Suspended”"):
        services.suspend_shop(shop=shop, actor=staff, reason="x", now=now)
    services.approve_shop(shop=shop, actor=staff, now=now)
    with pytest.raises(DomainError, match="reason"):
        services.suspend_shop(shop=shop, actor=staff, reason="  ", now=now)
    services.suspend_shop(shop=shop, actor=staff, reason="Chargebacks", now=now)
    with pytest.raises(DomainError):
        services.reject_shop(shop=shop, actor=staff, reason="late", now=now)

    shop.refresh_from_db()
    assert shop.status == Shop.Status.SUSPENDED
    assert list(shop.events.order_by("pk").values_list("kind", flat=True)) == [
        "approved",
        "suspended",
    ]


def test_two_admins_approving_at_once_notify_the_owner_once(seller, staff):
    shop = ShopFactory(status=Shop.Status.PENDING)
    ShopMembership.objects.create(shop=shop, user=seller, role=ShopMembership.Role.OWNER)
    stale_copy = Shop.objects.get(pk=shop.pk)
    services.approve_shop(shop=shop, actor=staff, now=timezone.now())

    with pytest.raises(DomainError, match="changed by someone else"):
        services.approve_shop(shop=stale_copy, actor=staff, now=timezone.now())

    assert Notification.objects.filter(user=seller, kind="shop_approved").count() == 1


def test_rejected_applicant_corrects_and_resubmits(client_for, seller, shop):
    Shop.objects.filter(pk=shop.pk).update(status=Shop.Status.REJECTED, status_reason="Blurry")
    data = {**APPLICATION, "slug": shop.slug, "display_name": "Maple and Thread"}

    response = client_for(seller).post(reverse("accounts:shop-application", args=[shop.slug]), data)

    assert response.status_code == 302
    shop.refresh_from_db()
    assert (shop.status, shop.display_name) == (Shop.Status.PENDING, "Maple and Thread")


# --- Export profile --------------------------------------------------------------------------


def _export(client, shop, **fields):
    data = {
        "eori": "",
        "vat_number": "",
        "exporter_reference": "",
        "default_incoterm": "DAP",
        "non_delivery": "return_priority",
        "signatory_name": "Anna Schmidt",
        **fields,
    }
    return client.post(reverse("accounts:shop-export-profile", args=[shop.slug]), data)


@pytest.fixture
def german_shop(seller):
    shop = ShopFactory(country="DE", eori="", signatory_name="")
    ShopMembership.objects.create(shop=shop, user=seller, role=ShopMembership.Role.OWNER)
    return shop


def test_valid_vat_and_eori_are_saved_in_compact_form(client_for, seller, german_shop):
    response = _export(
        client_for(seller), german_shop, vat_number="136 695 976", eori="de 1234567890 12345"
    )

    assert response.status_code == 302
    german_shop.refresh_from_db()
    assert german_shop.vat_number == "DE136695976"
    assert german_shop.eori == "DE123456789012345"
    assert german_shop.export_profile_missing() == []
    assert german_shop.events.filter(kind=ShopEvent.Kind.EXPORT_PROFILE).count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"vat_number": "DE136695977"}, "vat_number", "is not a valid VAT number"),
        ({"vat_number": "FR40303265045"}, "vat_number", "starts with DE"),
        ({"eori": "DE12"}, "eori", None),
        ({"eori": "FR123456789"}, "eori", "starts with DE"),
        ({"eori": "GB12345"}, "eori", "GB followed by 12 digits"),
        ({"eori": "not an eori!"}, "eori", "country code followed by"),
    ],
)
def test_invalid_numbers_get_a_form_error_naming_the_field(
    client_for, seller, german_shop, fields, field, message
):
    response = _export(client_for(seller), german_shop, **fields)

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    if message:
        assert message in errors[field][0]
    german_shop.refresh_from_db()
    assert (german_shop.vat_number, german_shop.eori, german_shop.signatory_name) == ("", "", "")


def test_missing_export_profile_is_listed_on_the_dashboard(client_for, seller, german_shop):
    response = client_for(seller).get(reverse("accounts:shop-dashboard", args=[german_shop.slug]))

    assert response.context["export_missing"] == ["certifying signatory", "EORI number"]


# --- Team ------------------------------------------------------------------------------------


def test_owner_invites_by_email_and_the_invitee_joins(client_for, seller, shop, run_on_commit):
    with run_on_commit():
        client_for(seller).post(
            reverse("accounts:shop-team", args=[shop.slug]),
            {"email": "Friend@Example.test", "role": "staff"},
        )

    invitation = ShopInvitation.objects.get(shop=shop)
    assert invitation.email == "friend@example.test"
    assert mail.outbox[-1].to == ["friend@example.test"]
    assert invitation.token in mail.outbox[-1].body

    friend = UserFactory(email="friend@example.test")
    response = client_for(friend).post(
        reverse("accounts:invitation-accept", args=[invitation.token])
    )

    assert response["Location"] == reverse("accounts:shop-dashboard", args=[shop.slug])
    assert ShopMembership.objects.get(shop=shop, user=friend).role == ShopMembership.Role.STAFF
    invitation.refresh_from_db()
    assert invitation.accepted_by == friend


def test_an_invitation_cannot_be_used_by_another_account_or_twice(seller, shop, stranger):
    now = timezone.now()
    invitation = services.invite_member(
        shop=shop, actor=seller, email="friend@example.test", role="staff", now=now
    )

    with pytest.raises(DomainError, match=r"was sent to friend@example\.test"):
        services.accept_invitation(invitation=invitation, user=stranger, now=now)
    friend = UserFactory(email="friend@example.test")
    services.accept_invitation(invitation=invitation, user=friend, now=now)
    with pytest.raises(DomainError, match="expired or was already used"):
        services.accept_invitation(invitation=invitation, user=friend, now=now)

    assert shop.memberships.filter(user=stranger).count() == 0


def test_an_expired_invitation_is_refused_and_can_be_renewed(seller, shop):
    now = timezone.now()
    old = services.invite_member(
        shop=shop, actor=seller, email="f@example.test", role="staff", now=now - timedelta(days=20)
    )
    friend = UserFactory(email="f@example.test")

    with pytest.raises(DomainError, match="expired"):
        services.accept_invitation(invitation=old, user=friend, now=now)
    fresh = services.invite_member(
        shop=shop, actor=seller, email="f@example.test", role="staff", now=now
    )
    services.accept_invitation(invitation=fresh, user=friend, now=now)

    old.refresh_from_db()
    assert old.revoked_at is not None


def test_inviting_a_member_twice_is_a_field_error(client_for, seller, seller_staff, shop):
    response = client_for(seller).post(
        reverse("accounts:shop-team", args=[shop.slug]),
        {"email": seller_staff.email, "role": "staff"},
    )

    assert "already a member" in response.context["form"].errors["email"][0]
    assert not ShopInvitation.objects.exists()


def test_staff_member_cannot_invite(client_for, seller_staff, shop):
    response = client_for(seller_staff).post(
        reverse("accounts:shop-team", args=[shop.slug]),
        {"email": "x@example.test", "role": "owner"},
    )

    assert response.status_code == 403
    assert not ShopInvitation.objects.exists()


def test_the_last_owner_cannot_be_removed(seller, shop):
    with pytest.raises(DomainError, match="at least one owner"):
        services.remove_member(
            shop=shop,
            actor=seller,
            membership=shop.memberships.get(user=seller),
            now=timezone.now(),
        )
