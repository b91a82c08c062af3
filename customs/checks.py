"""Deployment checks of the customs app, run by ``manage.py check --deploy``."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from customs.schemes import is_well_formed, label, scheme_number, schemes_in_use


@register(Tags.security, deploy=True)
def tax_scheme_numbers(app_configs, **kwargs):
    """Every scheme the regimes collect tax under has a real, well-formed number.

    Without one the quote falls back to DAP (the buyer pays on delivery), which is safe but
    not what the marketplace registered for; a demo number would be worse: a parcel declared
    under a number the destination does not know is taxed again at the border.
    """
    errors = []
    demo = settings.CUSTOMS_DEMO_TAX_SCHEME_IDS
    for scheme in sorted(schemes_in_use()):
        number = scheme_number(scheme)
        if not number:
            errors.append(
                Error(
                    f"No {label(scheme)} is configured: tax under {scheme} is not collected at "
                    "checkout and buyers pay it on delivery.",
                    hint=f"Add {scheme}=<number> to CUSTOMS_TAX_SCHEME_IDS.",
                    id="customs.E001",
                )
            )
        elif not is_well_formed(scheme, number):
            errors.append(
                Error(
                    f"The {label(scheme)} in CUSTOMS_TAX_SCHEME_IDS is not well formed: "
                    f"{number!r}.",
                    hint="Copy the number exactly as the tax administration issued it.",
                    id="customs.E002",
                )
            )
        elif settings.PRODUCTION and demo.get(scheme) == number:
            errors.append(
                Error(
                    f"The {label(scheme)} is the demo number {number}.",
                    hint=f"Set the marketplace's real {scheme} number in CUSTOMS_TAX_SCHEME_IDS.",
                    id="customs.E003",
                )
            )
    return errors
