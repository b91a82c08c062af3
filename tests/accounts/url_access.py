from tests.url_matrix import MEMBER, OWNER, PUBLIC, SIGNED_IN, TOKEN, Rule


def _address(p):
    return {"pk": p["buyer"].addresses.first().pk}


def _notification(p):
    from accounts.services import notify

    n = notify(user=p["buyer"], kind="shop_rejected", context={"shop_name": "X", "reason": "Y"})
    return {"pk": n.pk}


def _shop(p):
    return {"slug": p["shop"].slug}


def _membership(p):
    return {"slug": p["shop"].slug, "pk": p["shop"].memberships.get(user=p["seller_staff"]).pk}


RULES = {
    "home": Rule(PUBLIC),
    "healthz": Rule(PUBLIC),
    "set-language": Rule(PUBLIC, method="post"),
    # allauth
    "account_login": Rule(PUBLIC),
    "account_logout": Rule(PUBLIC),
    "account_inactive": Rule(PUBLIC),
    "account_signup": Rule(PUBLIC),
    "account_reauthenticate": Rule(SIGNED_IN),
    "account_request_reauthentication_code": Rule(SIGNED_IN, no_probe="login-by-code is off"),
    "account_confirm_reauthentication_code": Rule(SIGNED_IN, no_probe="login-by-code is off"),
    "account_email": Rule(SIGNED_IN),
    "account_email_verification_sent": Rule(PUBLIC),
    "account_change_password": Rule(SIGNED_IN),
    "account_set_password": Rule(SIGNED_IN),
    "account_reset_password": Rule(PUBLIC),
    "account_confirm_login_code": Rule(PUBLIC, no_probe="only inside a login-by-code flow"),
    "account_confirm_email": Rule(TOKEN, kwargs=lambda p: {"key": "not-a-key"}),
    "account_reset_password_from_key_done": Rule(PUBLIC),
    "account_reset_password_from_key": Rule(
        TOKEN, kwargs=lambda p: {"uidb36": "1", "key": "bad-key"}
    ),
    "account_reset_password_done": Rule(PUBLIC),
    "mfa_index": Rule(SIGNED_IN),
    "mfa_authenticate": Rule(PUBLIC, no_probe="only inside a login flow"),
    "mfa_reauthenticate": Rule(SIGNED_IN, no_probe="only after an MFA login"),
    "mfa_activate_totp": Rule(SIGNED_IN),
    "mfa_deactivate_totp": Rule(SIGNED_IN, no_probe="needs an activated authenticator"),
    "mfa_view_recovery_codes": Rule(SIGNED_IN, no_probe="needs an activated authenticator"),
    "mfa_generate_recovery_codes": Rule(SIGNED_IN, no_probe="needs an activated authenticator"),
    "mfa_download_recovery_codes": Rule(SIGNED_IN, no_probe="needs an activated authenticator"),
    # account pages
    "accounts:overview": Rule(SIGNED_IN),
    "accounts:staff-mfa-enrol": Rule(SIGNED_IN),
    "accounts:staff-mfa-send": Rule(SIGNED_IN, method="post"),
    "accounts:staff-mfa-confirm": Rule(TOKEN, kwargs=lambda p: {"token": "not-a-token"}),
    "accounts:profile": Rule(SIGNED_IN),
    "accounts:address-list": Rule(SIGNED_IN),
    "accounts:address-create": Rule(SIGNED_IN),
    "accounts:address-edit": Rule(SIGNED_IN, kwargs=_address, owner="buyer"),
    "accounts:address-delete": Rule(SIGNED_IN, kwargs=_address, owner="buyer", method="post"),
    "accounts:address-make-default": Rule(SIGNED_IN, kwargs=_address, owner="buyer", method="post"),
    "accounts:notifications": Rule(SIGNED_IN),
    "accounts:notifications-mark-read": Rule(SIGNED_IN, method="post"),
    "accounts:notification-open": Rule(SIGNED_IN, kwargs=_notification, owner="buyer"),
    # selling
    "accounts:seller-home": Rule(PUBLIC),
    "accounts:shop-apply": Rule(SIGNED_IN),
    "accounts:invitation-accept": Rule(TOKEN, kwargs=lambda p: {"token": "no-such-token"}),
    "accounts:shop-dashboard": Rule(MEMBER, kwargs=_shop, owner="seller", also=("seller_staff",)),
    "accounts:shop-application": Rule(OWNER, kwargs=_shop, owner="seller", also=("seller_staff",)),
    "accounts:shop-export-profile": Rule(
        OWNER, kwargs=_shop, owner="seller", also=("seller_staff",)
    ),
    "accounts:shop-team": Rule(MEMBER, kwargs=_shop, owner="seller", also=("seller_staff",)),
    "accounts:shop-member-remove": Rule(
        OWNER, kwargs=_membership, owner="seller", method="post", also=("seller_staff",)
    ),
}
