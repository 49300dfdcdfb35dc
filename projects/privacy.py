"""Small-cell suppression: the one rule for publishing counts of people.

Any public count of people between 1 and SMALL_CELL_THRESHOLD - 1 (a setting, 10 by default) is shown as
"menos de 10" (pages, downloads, the API and the open-data files all call these functions). Zero is shown: it
points at nobody. When a set of cells is published with its total, hiding one small cell is not enough (it could be
recovered by subtracting the others from the total), so the next smallest cell is hidden too (complementary
suppression).

Staff see the real figures in the workspace; only what the public reads goes through here.
"""

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext


def threshold():
    return settings.SMALL_CELL_THRESHOLD


def is_small(count):
    """True for a count of people too small to publish (1 .. threshold - 1); False for what is not a number (an
    already suppressed label, None)."""
    return isinstance(count, (int, float, Decimal)) and 0 < count < threshold()


def label():
    """What a suppressed count reads as, e.g. "menos de 10"."""
    return gettext("menos de %(threshold)s") % {"threshold": threshold()}


def suppress(count):
    """The public form of one count of people: the number itself, or "menos de 10"."""
    if is_small(count):
        return label()
    if isinstance(count, (int, float, Decimal)) and count == int(count):
        return int(count)
    return count


def suppress_cells(cells, total=None):
    """The public form of {key: count} published beside `total` (their sum when None): small cells hidden, and when
    exactly one cell is hidden among several, the next smallest hidden too, so none can be recovered by
    subtraction. Returns ({key: count or label}, public total)."""
    total = sum(v or 0 for v in cells.values()) if total is None else total
    hidden = {key for key, value in cells.items() if is_small(value)}
    if is_small(total):
        hidden = {key for key, value in cells.items() if value}
    elif len(hidden) == 1:
        others = sorted((value, str(key)) for key, value in cells.items() if key not in hidden and value)
        if others:
            hidden.add(next(key for key in cells if str(key) == others[0][1]))
    public = {key: (label() if key in hidden else suppress(value)) for key, value in cells.items()}
    return public, suppress(total)
