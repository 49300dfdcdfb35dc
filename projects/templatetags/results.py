"""Template filters of the results pages: counts of people through the small-cell rule (projects.privacy)."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.formats import number_format

from .. import privacy
from .portal import whole

register = template.Library()


@register.filter
def people(value):
    """A public count of people: "menos de 10" when small, the number with separators otherwise, "—" when unknown."""
    if value is None or value == "":
        return "—"
    shown = privacy.suppress(value)
    return shown if isinstance(shown, str) else intcomma(shown)


@register.filter
def indicator_value(value, indicator):
    """A public value of `indicator`: counts of people through the small-cell rule, the rest as numbers."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if indicator.counts_people:
        return people(value)
    if indicator.counts_whole:  # people or things counted (personas, escuelas): no "233.40 personas"
        return whole(value)
    return number_format(value, 2 if value != int(value) else 0, force_grouping=True)
