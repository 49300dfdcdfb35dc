"""Template helpers shared by the public pages and the staff workspace."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def mxn(value, decimals=2):
    """Money in Mexican pesos: $1,234,567.89, rounded half up (Django's number_format alone truncates); cards, pages
    and totals all show the cents. An amount nobody has published (None) says so: it is not zero."""
    if value is None or value == "":
        return _("Monto no publicado")
    try:
        amount = Decimal(value)
    except (TypeError, ValueError, InvalidOperation):
        return "—"
    amount = amount.quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_UP)  # half up, as accountants do
    return f"${number_format(amount, int(decimals), force_grouping=True)}"


@register.filter
def whole(value):
    """A count of people (or of anything that cannot be split) as a whole number, rounded half up: 233.4 -> 233."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except (TypeError, ValueError, InvalidOperation):
        return "—"
    return number_format(amount, 0, force_grouping=True)


@register.filter
def get_label(form, name):
    field = form.fields.get(name)
    return field.label if field else name


FACET_ORDER = [
    "axis",
    "line",
    "region",
    "municipality",
    "status",
    "prevention_level",
    "population",
    "organization",
    "year",
    "award_type",
    "evidence_level",
]


@register.filter
def facet_order(items):
    """Facet groups in the order a reader scans them: the framework, places, the project, who, when."""
    return sorted(items, key=lambda item: FACET_ORDER.index(item[0]) if item[0] in FACET_ORDER else 99)


@register.filter
def sparkline_points(indicator):
    """SVG polyline points (300x60 box) for an indicator's measurements, scaled between baseline, target and values."""
    values = [float(m.value) for m in indicator.measurements.all()]
    if not values:
        return ""
    bounds = values + [float(v) for v in (indicator.baseline, indicator.target) if v is not None]
    low, high = min(bounds), max(bounds)
    span = (high - low) or 1
    step = 300 / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{55 - (v - low) * 50 / span:.1f}" for i, v in enumerate(values))


@register.filter
def populations_display(project):
    from projects.models import Population

    labels = dict(Population.choices)
    return ", ".join(str(labels[p]) for p in project.populations if p in labels)


@register.filter
def last_of(items):
    """The last element of a (prefetched) sequence, or None."""
    items = list(items)
    return items[-1] if items else None
