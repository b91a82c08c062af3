"""Account, shop and notification services: every write that crosses rows lives here."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    Address,
    Notification,
    Shop,
    ShopEvent,
    ShopInvitation,
    ShopMembership,
    User,
)
from marketplace.core.emails import render_email, send_email
from marketplace.core.errors import DomainError

logger = logging.getLogger(__name__)


# --- Notifications ------------------------------------------------------------------------


def notify(
    *,
    user: User,
    kind: str,
    context: dict,
    url: str = "",
    dedupe_key: str | None = None,
    email: bool = True,
) -> Notification | None:
    """Put a message in ``user``'s inbox and email it after commit, in their language.

    ``kind`` names the email triplet under ``templates/emails/<kind>/``; its subject is the
    inbox title and its text body the inbox text. With a ``dedupe_key`` the same event never
    notifies the same user twice; the second call returns None.
    """
    subject, text, _html = render_email(kind, context, language=user.preferred_language)
    title = subject.removeprefix(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX)
    status = Notification.EmailStatus.PENDING if email else Notification.EmailStatus.SKIPPED
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                user=user,
                kind=kind,
                title=title[:200],
                body=text.strip(),
                url=url,
                context=context,
                dedupe_key=dedupe_key,
                email_status=status,
            )
    except IntegrityError:
        if dedupe_key is None:
            raise
        return None
    if email:
        from accounts.tasks import deliver_notification_email

        deliver_notification_email.delay_on_commit(notification.pk)
    return notification


def notify_staff(*, kind: str, context: dict, url: str = "", dedupe_key: str | None = None):
    for admin in User.objects.filter(is_staff=True, is_active=True).order_by("pk"):
        notify(user=admin, kind=kind, context=context, url=url, dedupe_key=dedupe_key)


def send_notification_email(*, notification_id: int, now: datetime | None = None) -> bool:
    """Email one notification. Returns False when it was already sent or is being sent.

    The conditional UPDATE is the claim: of two workers that get the same job (a redelivery,
    the sweeper racing the first publish), exactly one sends.
    """
    now = now or timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, email_status=Notification.EmailStatus.PENDING
    ).update(email_status=Notification.EmailStatus.SENDING, email_attempts=F("email_attempts") + 1)
    if not claimed:
        return False
    notification = Notification.objects.select_related("user").get(pk=notification_id)
    try:
        send_email(
            to=notification.user.email,
            name=notification.kind,
            context=notification.context,
            language=notification.user.preferred_language,
            headers={"X-Tradepost-Notification": str(notification.pk)},
        )
    except Exception as exc:
        Notification.objects.filter(pk=notification_id).update(
            email_status=Notification.EmailStatus.PENDING, email_error=str(exc)[:2000]
        )
        raise
    Notification.objects.filter(pk=notification_id).update(
        email_status=Notification.EmailStatus.SENT, emailed_at=now, email_error=""
    )
    return True


def mark_notification_email_failed(*, notification_id: int, reason: str) -> None:
    Notification.objects.filter(pk=notification_id).exclude(
        email_status=Notification.EmailStatus.SENT
    ).update(email_status=Notification.EmailStatus.FAILED, email_error=reason[:2000])


def pending_notification_emails(*, now: datetime) -> list[int]:
    """Emails that were never published (broker down) or whose worker died mid-send."""
    stale_pending = now - timedelta(minutes=2)
    stale_sending = now - timedelta(minutes=10)
    Notification.objects.filter(
        email_status=Notification.EmailStatus.SENDING, created_at__lt=stale_sending
    ).update(email_status=Notification.EmailStatus.PENDING)
    return list(
        Notification.objects.filter(
            email_status=Notification.EmailStatus.PENDING, created_at__lt=stale_pending
        ).values_list("pk", flat=True)[:500]
    )


def mark_notifications_read(*, user: User, now: datetime, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=now)


# --- Profile and addresses --------------------------------------------------------------


@transaction.atomic
def save_address(*, user: User, address: Address, make_default: bool) -> Address:
    """Save ``address`` for ``user``; the first address, or one asked for, becomes the default."""
    address.user = user
    has_default = user.addresses.filter(is_default_shipping=True).exclude(pk=address.pk).exists()
    if make_default or not has_default:
        user.addresses.exclude(pk=address.pk).update(is_default_shipping=False)
        address.is_default_shipping = True
    address.save()
    return address


@transaction.atomic
def set_default_address(*, user: User, address: Address) -> None:
    user.addresses.exclude(pk=address.pk).update(is_default_shipping=False)
    Address.objects.filter(pk=address.pk, user=user).update(is_default_shipping=True)


@transaction.atomic
def delete_address(*, user: User, address: Address) -> None:
    was_default = address.is_default_shipping
    address.delete()
    if was_default:
        successor = user.addresses.order_by("pk").first()
        if successor:
            set_default_address(user=user, address=successor)


# --- Shops: application and review ----------------------------------------------------------


@transaction.atomic
def apply_for_shop(*, user: User, shop: Shop, now: datetime) -> Shop:
    """File ``shop`` (an unsaved instance from the form) as an application owned by ``user``."""
    shop.status = Shop.Status.PENDING
    shop.applied_at = now
    shop.save()
    ShopMembership.objects.create(shop=shop, user=user, role=ShopMembership.Role.OWNER)
    ShopEvent.objects.create(shop=shop, kind=ShopEvent.Kind.APPLIED, actor=user, created_at=now)
    notify_staff(
        kind="shop_application_received",
        context={
            "shop_name": shop.display_name,
            "legal_name": shop.legal_name,
            "country": str(shop.country.name),
            "applicant": user.email,
        },
        url=reverse("admin:accounts_shop_change", args=[shop.pk]),
        dedupe_key=f"shop-applied:{shop.pk}",
    )
    return shop


def _move_shop(
    *, shop: Shop, target: str, actor: User | None, reason: str, now: datetime
) -> ShopEvent:
    """Compare-and-swap the status, so two admins clicking at once cannot both win."""
    shop.check_transition(target)
    moved = Shop.objects.filter(pk=shop.pk, status=shop.status).update(
        status=target, status_reason=reason, reviewed_at=now, reviewed_by=actor
    )
    if not moved:
        raise DomainError(_("This shop was changed by someone else. Reload and try again."))
    kind = {
        Shop.Status.APPROVED: ShopEvent.Kind.APPROVED,
        Shop.Status.REJECTED: ShopEvent.Kind.REJECTED,
        Shop.Status.SUSPENDED: ShopEvent.Kind.SUSPENDED,
        Shop.Status.PENDING: ShopEvent.Kind.APPLIED,
    }[target]
    event = ShopEvent.objects.create(shop=shop, kind=kind, actor=actor, note=reason, created_at=now)
    shop.refresh_from_db()
    return event


def _notify_owners(*, shop: Shop, kind: str, context: dict, url: str, event: str):
    owners = User.objects.filter(
        memberships__shop=shop, memberships__role=ShopMembership.Role.OWNER
    ).order_by("pk")
    for owner in owners:
        notify(user=owner, kind=kind, context=context, url=url, dedupe_key=event)


@transaction.atomic
def approve_shop(*, shop: Shop, actor: User, now: datetime) -> Shop:
    event = _move_shop(shop=shop, target=Shop.Status.APPROVED, actor=actor, reason="", now=now)
    _notify_owners(
        shop=shop,
        kind="shop_approved",
        context={"shop_name": shop.display_name, "dashboard_url": shop.get_absolute_url()},
        url=shop.get_absolute_url(),
        event=f"shop-approved:{event.pk}",
    )
    return shop


@transaction.atomic
def reject_shop(*, shop: Shop, actor: User, reason: str, now: datetime) -> Shop:
    if not reason.strip():
        raise DomainError(_("Give the applicant a reason for the rejection."))
    event = _move_shop(shop=shop, target=Shop.Status.REJECTED, actor=actor, reason=reason, now=now)
    _notify_owners(
        shop=shop,
        kind="shop_rejected",
        context={"shop_name": shop.display_name, "reason": reason},
        url=reverse("accounts:seller-home"),
        event=f"shop-rejected:{event.pk}",
    )
    return shop


@transaction.atomic
def suspend_shop(*, shop: Shop, actor: User, reason: str, now: datetime) -> Shop:
    if not reason.strip():
        raise DomainError(_("Give the seller a reason for the suspension."))
    event = _move_shop(shop=shop, target=Shop.Status.SUSPENDED, actor=actor, reason=reason, now=now)
    _notify_owners(
        shop=shop,
        kind="shop_suspended",
        context={"shop_name": shop.display_name, "reason": reason},
        url=shop.get_absolute_url(),
        event=f"shop-suspended:{event.pk}",
    )
    return shop


@transaction.atomic
def reapply_for_shop(*, shop: Shop, actor: User, now: datetime) -> Shop:
    _move_shop(shop=shop, target=Shop.Status.PENDING, actor=actor, reason="", now=now)
    return shop


@transaction.atomic
def update_export_profile(*, shop: Shop, actor: User, now: datetime) -> Shop:
    """Save the export profile fields already set on ``shop`` by the form."""
    shop.save(
        update_fields=[
            "eori",
            "vat_number",
            "exporter_reference",
            "origin_statement_on_file",
            "default_incoterm",
            "non_delivery",
            "signatory_name",
            "updated_at",
        ]
    )
    ShopEvent.objects.create(
        shop=shop, kind=ShopEvent.Kind.EXPORT_PROFILE, actor=actor, created_at=now
    )
    return shop


# --- Shops: team ----------------------------------------------------------------------------


@transaction.atomic
def invite_member(*, shop: Shop, actor: User, email: str, role: str, now: datetime):
    email = email.strip().lower()
    if ShopMembership.objects.filter(shop=shop, user__email__iexact=email).exists():
        raise DomainError(_("%(email)s is already a member of this shop.") % {"email": email})
    if ShopInvitation.objects.filter(
        shop=shop,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
    ).exists():
        raise DomainError(_("%(email)s has already been invited.") % {"email": email})
    # An expired invitation frees the address for a new one.
    ShopInvitation.objects.filter(
        shop=shop, email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    invitation = ShopInvitation.objects.create(
        shop=shop,
        email=email,
        role=role,
        invited_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=14),
    )
    ShopEvent.objects.create(
        shop=shop, kind=ShopEvent.Kind.INVITED, actor=actor, note=email, created_at=now
    )
    from accounts.tasks import send_invitation_email

    send_invitation_email.delay_on_commit(invitation.pk)
    return invitation


def deliver_invitation_email(*, invitation_id: int) -> None:
    invitation = ShopInvitation.objects.select_related("shop", "invited_by").get(pk=invitation_id)
    if invitation.accepted_at or invitation.revoked_at:
        return
    inviter = invitation.invited_by
    language = inviter.preferred_language if inviter else settings.LANGUAGE_CODE
    existing = User.objects.filter(email__iexact=invitation.email).first()
    if existing:
        language = existing.preferred_language
    send_email(
        to=invitation.email,
        name="shop_invitation",
        context={
            "shop_name": invitation.shop.display_name,
            "inviter": inviter.get_full_name() if inviter else "Tradepost",
            "role": invitation.get_role_display(),
            "accept_url": reverse("accounts:invitation-accept", args=[invitation.token]),
            "expires_at": invitation.expires_at,
        },
        language=language,
    )


@transaction.atomic
def accept_invitation(*, invitation: ShopInvitation, user: User, now: datetime):
    # Lock the invitation: two tabs accepting at once create one membership.
    invitation = ShopInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open(now):
        raise DomainError(_("This invitation has expired or was already used."))
    if user.email.lower() != invitation.email.lower():
        raise DomainError(
            _("This invitation was sent to %(email)s. Sign in with that address to accept it.")
            % {"email": invitation.email}
        )
    membership, _created = ShopMembership.objects.get_or_create(
        shop=invitation.shop, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = now
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    ShopEvent.objects.create(
        shop=invitation.shop,
        kind=ShopEvent.Kind.JOINED,
        actor=user,
        note=user.email,
        created_at=now,
    )
    return membership


@transaction.atomic
def remove_member(*, shop: Shop, actor: User, membership: ShopMembership, now: datetime):
    if membership.role == ShopMembership.Role.OWNER:
        owners = shop.memberships.filter(role=ShopMembership.Role.OWNER).count()
        if owners <= 1:
            raise DomainError(_("A shop needs at least one owner."))
    membership.delete()
    ShopEvent.objects.create(
        shop=shop,
        kind=ShopEvent.Kind.REMOVED,
        actor=actor,
        note=membership.user.email,
        created_at=now,
    )


def update_profile_language(*, user: User, language: str) -> None:
    if language in dict(settings.LANGUAGES) and user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
