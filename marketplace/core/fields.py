"""Model fields the apps share."""

from __future__ import annotations

from django.db import models


class MoneyField(models.DecimalField):
    """An amount in the currency of a sibling currency field (``marketplace.core.money``
    rounds it). Defaults: 14 digits with 3 decimal places, which holds KWD/BHD fils; a
    model that stores prices as sellers type them may ask for 2.

    Deconstructs as a plain ``DecimalField``: using it changes no migration.
    """

    def __init__(self, *args, max_digits: int = 14, decimal_places: int = 3, **kwargs):
        super().__init__(*args, max_digits=max_digits, decimal_places=decimal_places, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs
