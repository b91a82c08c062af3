from django import template
from django.utils import translation

from marketplace.core.money import format_money

register = template.Library()


@register.simple_tag
def money(amount, currency):
    if amount is None or not currency:
        return ""
    return format_money(amount, currency, translation.get_language() or "en")
