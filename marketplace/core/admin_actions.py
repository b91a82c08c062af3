"""Admin actions that ask why: an intermediate page for the reason the customer will read,
then one service call per selected row."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.template.response import TemplateResponse

from marketplace.core.errors import DomainError


def action_with_reason(
    modeladmin,
    request,
    queryset,
    *,
    title: str,
    apply: Callable[[object, str], object],
    form_class: type[forms.Form],
    done: Callable[[int], str],
):
    """Show ``admin/action_reason.html`` until a valid reason is posted, then call
    ``apply(row, reason)`` for each row in pk order; a ``DomainError`` is shown per row."""
    if "apply" in request.POST:
        form = form_class(request.POST)
        if form.is_valid():
            count = 0
            for obj in queryset.order_by("pk"):
                try:
                    apply(obj, form.cleaned_data["reason"])
                    count += 1
                except DomainError as exc:
                    modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
            if count:
                modeladmin.message_user(request, done(count), messages.SUCCESS)
            return None
    else:
        form = form_class()
    return TemplateResponse(
        request,
        "admin/action_reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "objects": queryset,
            "action": request.POST.get("action"),
            "opts": modeladmin.model._meta,
        },
    )
