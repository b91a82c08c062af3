"""Extension points of catalog pages for other apps (register in their AppConfig.ready()).

``LISTING_ACTIONS``: template names included on the public listing page under the variants
table (e.g. the orders app's "add to cart" form). They get the page's context: ``listing``,
``variants``, ``buyer_country``, ``shipping_options``, ``display_currency``.
"""

from __future__ import annotations

LISTING_ACTIONS: list[str] = []
