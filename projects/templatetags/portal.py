"""Template helpers shared by the public pages and the staff workspace."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def mxn(value, decimals=2):
    """Money in Mexican pesos: $1,234,567.89 (separators follow the active locale's formats)."""
    try:
        amount = Decimal(value)
    except (TypeError, ValueError, InvalidOperation):
        return "—"
    return f"${number_format(amount, int(decimals), force_grouping=True)}"
