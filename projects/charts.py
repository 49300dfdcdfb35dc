"""Server-rendered bar charts: the numbers a template needs to draw accessible bars (HTML text, SVG bars)."""

from decimal import ROUND_HALF_UP, Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _

OUTLIER_RATIO = 5  # a bar this many times the second largest is noted, and the others are scaled to the second


def bars(rows, value_key, label, money=False, colour=None, sort=True):
    """[{label, value, display, percent, colour}] for `rows`, largest first unless `sort` is False (years keep their
    order). A single bar far larger than the rest would flatten them: it is drawn full and marked, the others are
    scaled to the second largest (see `outlier_note`)."""
    values = [row[value_key] or 0 for row in rows]
    pairs = list(zip(rows, values, strict=False))
    if sort:
        pairs.sort(key=lambda pair: -pair[1])
    ranked = sorted(values, reverse=True)
    largest = ranked[0] if ranked else 0
    scale = largest
    if len(ranked) > 2 and ranked[1] and largest > OUTLIER_RATIO * ranked[1]:
        scale = ranked[1]
    scale = scale or 1
    return [
        {
            "label": label(row),
            "value": value,
            "display": ("$" if money else "") + number_format(whole(value), 0, force_grouping=True),
            "percent": round(min(float(value) * 100 / float(scale), 100), 1),
            "outlier": scale != largest and value == largest,
            "colour": colour(row) if colour else None,
        }
        for row, value in pairs
    ]


def whole(value):
    return Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)


def outlier_note(chart):
    """A sentence naming the bar that is off the scale of the others, or ''."""
    for bar in chart:
        if bar["outlier"]:
            return _(
                "«%(label)s» (%(value)s) rebasa la escala: las demás barras se dibujan a la escala del segundo valor."
            ) % {
                "label": bar["label"],
                "value": bar["display"],
            }
    return ""
