"""Template helpers shared by the public pages and the staff workspace."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from django import template
from django.utils.formats import get_format, number_format
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()


@cache
def separators(language):
    """The (decimal, thousands) marks of a language's numbers where it groups digits by threes, as Python's own
    formatting does (es-MX and English: 1,234,567.89); None where it groups otherwise."""
    if get_format("NUMBER_GROUPING", language) != 3:
        return None
    return get_format("DECIMAL_SEPARATOR", language), get_format("THOUSAND_SEPARATOR", language)


def grouped(value, decimals=0):
    """A number already rounded to `decimals` places, grouped in thousands with the active language's marks: what
    number_format(value, decimals, force_grouping=True) writes, at a sixth of its cost (the catalogue's map and
    filter panel write some 400 numbers a page)."""
    marks = separators(get_language())
    if marks is None:
        return number_format(value, decimals, force_grouping=True)
    # "z": a value that rounds to zero reads 0, never -0 (number_format's cutoff)
    text = format(value, ",d") if isinstance(value, int) else format(value, f"z,.{decimals}f")
    return text if marks == (".", ",") else text.translate(str.maketrans({".": marks[0], ",": marks[1]}))


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
    if not amount.is_finite():
        return "—"
    amount = amount.quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_UP)  # half up, as accountants do
    return f"${grouped(amount, int(decimals))}"


@register.filter
def whole(value):
    """A count of people (or of anything that cannot be split) as a whole number, rounded half up: 233.4 -> 233."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    except (TypeError, ValueError, InvalidOperation):
        return "—"
    return grouped(amount) if amount.is_finite() else "—"


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


# The catalogue's hot loops are written here rather than as template loops: its ~160 facet values and the map's 67
# municipalities (a shape and a table row each), as f-strings whose every value is escaped (format_html costs about
# 16 µs a call, ten times an escape) and numbers grouped by `grouped`.
CHECKED, OPEN, CURRENT = (
    mark_safe(" checked"),
    mark_safe(" open"),
    mark_safe(' aria-current="page" class="map__current"'),
)


@register.simple_tag
def facet_groups(facets, form):
    """The filter panel's groups: each filter's values (projects.facets.Catalogue.facets) as checkboxes (radios for
    the year and the kind of award) with the number of projects each would list; a group with a chosen value is
    open, and an uncounted group says why."""
    groups = []
    for name, values in facet_order(facets.items()):
        if not values:
            continue
        kind = "radio" if name in ("year", "award_type") else "checkbox"
        label = get_label(form, name)
        start = f'<li><label><input type="{kind}" name="{escape(name)}" value="'
        items = mark_safe(
            "\n".join(
                f'{start}{escape(value)}"{CHECKED if selected else ""}>\n              {conditional_escape(text)}'
                + ("" if count is None else f' <span class="facet__count">({grouped(count)})</span>')
                + "</label></li>"
                for value, text, count, selected in values
            )
        )
        note = ""
        if values[0][2] is None:
            note = format_html(
                '<p class="muted">{}</p>',
                _(
                    "Sin cuentas: con estas palabras, la lista sin este filtro es demasiado amplia para contarla. "
                    "Quite el filtro para ver las demás opciones."
                ),
            )
        groups.append(
            format_html(
                '<details class="facet-group"{}>\n<summary>{}</summary>\n<fieldset class="facet">\n'
                '<legend class="visually-hidden">{}</legend>\n<ul>\n{}\n</ul>\n{}</fieldset>\n</details>',
                OPEN if any(value[3] for value in values) else "",
                label,
                label,
                items,
                note,
            )
        )
    return mark_safe("\n".join(groups))


@register.simple_tag
def map_shapes(choropleth, current=None):
    """The map's municipalities (projects.geo.choropleth) as SVG links, the `current` one marked."""
    here = getattr(current, "pk", None)
    return mark_safe(
        "".join(
            f'<a href="{escape(row["url"])}" aria-label="{label}"{CURRENT if row["municipality"].pk == here else ""}>'
            f'<path d="{conditional_escape(row["path"])}" fill="{row["fill"]}"><title>{label}</title></path></a>'
            for row in choropleth["rows"]
            if row["path"]
            for label in [escape(row["label"])]
        )
    )


@register.simple_tag
def map_rows(choropleth):
    """The map's table body: each municipality's projects, money and money per 100,000 inhabitants."""
    return mark_safe(
        "".join(
            f'<tr><th scope="row"><a href="{escape(row["url"])}">{escape(row["municipality"].name)}</a></th>'
            f'<td class="num">{grouped(row["projects"])}</td><td class="num money">{escape(mxn(row["money"], 0))}</td>'
            f'<td class="num money">{escape(mxn(row["per_100k"], 0))}</td></tr>'
            for row in choropleth["rows"]
        )
    )


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
