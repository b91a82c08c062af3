"""System checks for the money path: production never takes cards through the test provider."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def card_provider(app_configs, **kwargs):
    errors = []
    provider = settings.ORDERS_CARD_PROVIDER
    production = settings.PRODUCTION
    if production and provider == "test":
        errors.append(
            Error(
                "ORDERS_CARD_PROVIDER=test in the production profile: the built-in test "
                "provider accepts test card numbers as real payments.",
                hint="Set ORDERS_CARD_PROVIDER=stripe and the STRIPE_* variables.",
                id="orders.E001",
            )
        )
    if production and not provider:
        errors.append(
            Error(
                "No card payment provider is configured for production.",
                hint="Set ORDERS_CARD_PROVIDER=stripe and the STRIPE_* variables.",
                id="orders.E002",
            )
        )
    if provider == "stripe":
        missing = [
            name
            for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET")
            if not getattr(settings, name, "")
        ]
        if missing:
            errors.append(
                Error(
                    f"ORDERS_CARD_PROVIDER=stripe but {', '.join(missing)} is not set.",
                    hint="Copy the keys and the webhook endpoint's signing secret from Stripe.",
                    id="orders.E003",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def bank_account(app_configs, **kwargs):
    from stdnum import iban

    if not settings.ORDERS_BANK_TRANSFER:
        return []
    account = settings.ORDERS_BANK_ACCOUNT
    missing = [
        f"ORDERS_BANK_ACCOUNT_{key.upper()}"
        for key in ("name", "iban", "bic")
        if not account.get("account_name" if key == "name" else key)
    ]
    if missing:
        return [
            Error(
                f"Bank transfer is enabled but {', '.join(missing)} is not set: buyers would "
                "not know where to pay.",
                hint="Set the platform's account, or ORDERS_BANK_TRANSFER=off.",
                id="orders.E004",
            )
        ]
    if not iban.is_valid(account["iban"]):
        return [
            Error(
                "ORDERS_BANK_ACCOUNT_IBAN is not a valid IBAN (its checksum fails).",
                id="orders.E005",
            )
        ]
    return []
