"""Server-rendered bar charts: the numbers a template needs to draw an accessible SVG (and its text twin)."""

from django.utils.formats import number_format

ROW_HEIGHT = 34  # SVG units per bar
BAR_SPACE = 300  # SVG units for the longest bar
BAR_START = 200  # bars start after the labels


def bars(rows, value_key, label, money=False):
    """[{label, value, display, percent}] for `rows`, each bar's width as a share of the largest value."""
    values = [row[value_key] or 0 for row in rows]
    largest = max(values, default=0) or 1
    return [
        {
            "label": label(row),
            "value": value,
            "display": ("$" if money else "") + number_format(value, 0, force_grouping=True),
            "percent": round(float(value) * 100 / float(largest), 1),
            "length": round(float(value) * BAR_SPACE / float(largest), 1),
            "value_x": round(BAR_START + 8 + float(value) * BAR_SPACE / float(largest), 1),
            "y": index * ROW_HEIGHT,
        }
        for index, (row, value) in enumerate(zip(rows, values, strict=False))
    ]
