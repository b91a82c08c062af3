"""Admin actions check a named permission, not the broad "change" one.

Django calls ``has_<name>_permission(request)`` on the ModelAdmin for every name in an action's
``permissions=[...]``. ``requires("orders.confirm_payment")`` builds that method for a custom
permission declared in a model's ``Meta.permissions``::

    @admin.action(description="...", permissions=["confirm_payment"])
    def confirm(self, request, queryset): ...

    has_confirm_payment_permission = requires("orders.confirm_payment")
"""

from __future__ import annotations


def requires(permission: str):
    """A ``has_<codename>_permission`` method: True when the user holds ``app_label.codename``."""

    def has_permission(self, request) -> bool:
        return request.user.has_perm(permission)

    has_permission.__doc__ = f"Whether the user holds {permission}."
    return has_permission
