from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListingsConfig(AppConfig):
    name = "marketplace.listings"
    label = "listings"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        from accounts.navigation import SHOP_CHECKLIST, SHOP_NAV, SHOP_SECTIONS
        from marketplace.listings import dashboard

        for entry in (
            ("listings:seller-listings", _("Listings")),
            ("listings:seller-shipping", _("Shipping")),
            ("listings:seller-import", _("Import / export")),
        ):
            if entry not in SHOP_NAV:
                SHOP_NAV.append(entry)
        if dashboard.catalog_section not in SHOP_SECTIONS:
            SHOP_SECTIONS.append(dashboard.catalog_section)
            SHOP_SECTIONS.append(dashboard.stock_section)
        if dashboard.shipping_checklist not in SHOP_CHECKLIST:
            SHOP_CHECKLIST.append(dashboard.shipping_checklist)
            SHOP_CHECKLIST.append(dashboard.listing_checklist)
