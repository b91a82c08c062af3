"""The Django admin, behind allauth's login (rate limits, MFA) and, when required, MFA."""

from __future__ import annotations

from allauth.account.decorators import secure_admin_login
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _


def staff_needs_mfa(user) -> bool:
    return (
        settings.ADMIN_REQUIRE_MFA
        and user.is_authenticated
        and user.is_staff
        and not is_mfa_enabled(user)
    )


class TradepostAdminSite(admin.AdminSite):
    site_header = "Tradepost operations"
    site_title = "Tradepost admin"
    index_title = "Operations"

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and not staff_needs_mfa(request.user)

    def login(self, request, extra_context=None):
        if staff_needs_mfa(request.user):
            messages.warning(
                request, _("Set up two-factor authentication before you use the admin.")
            )
            # Enrolment first proves the staff mailbox (accounts.staff_mfa), then TOTP.
            return redirect("accounts:staff-mfa-enrol")
        # allauth's login page: its rate limits and second factor apply to staff too.
        return secure_admin_login(super().login)(request, extra_context)
