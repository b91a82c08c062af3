from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "marketplace.orders"
    label = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.navigation import SHOP_NAV, SHOP_SECTIONS
        from customs.signals import paperwork_finished
        from marketplace.listings.extensions import LISTING_ACTIONS
        from marketplace.orders import checks, dashboard, receivers  # noqa: F401

        for entry in (
            ("orders:seller-orders", _("Orders")),
            ("orders:seller-balance", _("Balance")),
        ):
            if entry not in SHOP_NAV:
                SHOP_NAV.append(entry)
        if dashboard.orders_section not in SHOP_SECTIONS:
            SHOP_SECTIONS.append(dashboard.orders_section)
        if "orders/_add_to_cart.html" not in LISTING_ACTIONS:
            LISTING_ACTIONS.append("orders/_add_to_cart.html")
        # The anonymous cart joins the account's at login (allauth logs in through Django).
        user_logged_in.connect(dashboard.merge_cart_at_login, dispatch_uid="orders-merge-cart")
        # Customs tells us when a parcel's documents are done (after its commit).
        paperwork_finished.connect(
            receivers.on_paperwork_finished, dispatch_uid="orders-paperwork-finished"
        )
