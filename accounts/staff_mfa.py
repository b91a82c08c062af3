"""Staff two-factor enrolment needs a second proof: a one-time link emailed to the staff address.

With ``ADMIN_REQUIRE_MFA`` on, a staff user who has not set up TOTP used to be sent straight to
allauth's "activate TOTP" page, which asks only for the password again: whoever knew the
password could enrol their own authenticator and reach the admin. Now that page, for such a
user, first needs proof of the mailbox: a signed link, valid for
``STAFF_MFA_ENROLMENT_LINK_MINUTES`` and usable once, emailed to the account's address. Opening
it while signed in as that user marks the session for the next
``STAFF_MFA_ENROLMENT_WINDOW_MINUTES``; then allauth's page works as usual.
"""

from __future__ import annotations

import hashlib
import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.views import activate_totp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from marketplace.admin_site import staff_needs_mfa
from marketplace.core.emails import send_email

SALT = "tradepost.staff-mfa-enrolment"
SESSION_KEY = "staff_mfa_enrolment"


def _state(user: User) -> str:
    # A new password or a new authenticator voids every link sent before it.
    authenticators = Authenticator.objects.filter(user=user).count()
    return salted_hmac(SALT, f"{user.password}:{authenticators}").hexdigest()[:16]


def make_token(user: User) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"u": user.pk, "s": _state(user)})


def redeem_token(*, user: User, token: str) -> bool:
    """True once for a fresh, unused link made for ``user``; False for anything else."""
    max_age = settings.STAFF_MFA_ENROLMENT_LINK_MINUTES * 60
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(token[:1000], max_age=max_age)
    except signing.BadSignature:
        return False
    if not isinstance(data, dict) or data.get("u") != user.pk or data.get("s") != _state(user):
        return False
    used_key = "staff-mfa-link-used:" + hashlib.sha256(token.encode()).hexdigest()
    return cache.add(used_key, 1, timeout=max_age)


def send_enrolment_link(*, user_id: int) -> None:
    user = User.objects.get(pk=user_id)
    send_email(
        to=user.email,
        name="staff_mfa_enrolment",
        context={
            "name": user.get_full_name() or user.email,
            "link": reverse("accounts:staff-mfa-confirm", args=[make_token(user)]),
            "minutes": settings.STAFF_MFA_ENROLMENT_LINK_MINUTES,
        },
        language=user.preferred_language,
    )


def has_proof(request: HttpRequest) -> bool:
    proof = request.session.get(SESSION_KEY) or {}
    return proof.get("user") == request.user.pk and proof.get("until", 0) > time.time()


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """The staff user's first step: ask for the enrolment link."""
    if not staff_needs_mfa(request.user):
        return redirect("mfa_index")
    return render(
        request,
        "accounts/staff_mfa_enrol.html",
        {"minutes": settings.STAFF_MFA_ENROLMENT_LINK_MINUTES},
    )


@login_required
@require_POST
def send_link(request: HttpRequest) -> HttpResponse:
    if staff_needs_mfa(request.user):
        from accounts.tasks import send_staff_mfa_enrolment_link

        send_staff_mfa_enrolment_link.delay_on_commit(request.user.pk)
        messages.success(
            request,
            _("We emailed a one-time link to %(email)s. Open it in this browser.")
            % {"email": request.user.email},
        )
    return redirect("accounts:staff-mfa-enrol")


@login_required
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    if not staff_needs_mfa(request.user):
        return redirect("mfa_index")
    if not redeem_token(user=request.user, token=token):
        messages.error(
            request,
            _("This link is not valid: it expired, was used already or is for another account."),
        )
        return redirect("accounts:staff-mfa-enrol")
    window = settings.STAFF_MFA_ENROLMENT_WINDOW_MINUTES * 60
    request.session[SESSION_KEY] = {"user": request.user.pk, "until": time.time() + window}
    return redirect("mfa_activate_totp")


def activate_totp_with_proof(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """allauth's "activate TOTP", behind the emailed proof for staff who must use MFA."""
    if request.user.is_authenticated and staff_needs_mfa(request.user) and not has_proof(request):
        return redirect("accounts:staff-mfa-enrol")
    return activate_totp(request, *args, **kwargs)
