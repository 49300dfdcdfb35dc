"""The map of Chihuahua by municipality: SVG shapes drawn once from INEGI's boundaries, coloured by the figures per
municipality (projects, money, money per 100,000 inhabitants) that projects.facets counts for any filtered list.

Sources (copied into projects/data/ with their note, chihuahua_municipalities.SOURCE.md): INEGI, Marco Geoestadístico
2025 (simplified geometry) and INEGI, Censo de Población y Vivienda 2020 (population).

Two rules, counted by projects.facets.Index.municipality_figures and nowhere else:
- a project is *statewide* when its municipalities reach every FICOSEC region; statewide projects are counted apart
  and never smeared over the municipalities;
- the money of a project working in several municipalities is split evenly between them (so the municipalities'
  money adds up to the money of the local projects).
"""

import csv
import json
import math
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from django.core.cache import cache
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Municipality

DATA = Path(__file__).resolve().parent / "data"
WIDTH = 480  # SVG units across; the height follows the state's shape
# ColorBrewer "YlGnBu" (sequential, colour-blind safe, prints in grey): one colour per class, lightest first.
PALETTE = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]
EMPTY = "#e8e8e8"  # municipalities with no project
MEASURES = {
    "proyectos": gettext_lazy("Proyectos"),
    "monto": gettext_lazy("Monto, todas las fuentes (MXN)"),
    "por-habitante": gettext_lazy("Monto por cada 100,000 habitantes (MXN)"),
}
FIELDS = {"proyectos": "projects", "monto": "money", "por-habitante": "per_100k"}  # measure -> row key
SORTS = ["nombre", "proyectos", "monto", "por-habitante"]
SOURCE_CREDIT = gettext_lazy(
    "Fuente: INEGI, Marco Geoestadístico 2025 (Áreas Geoestadísticas Municipales), geometría simplificada; "
    "población: INEGI, Censo de Población y Vivienda 2020."
)


@lru_cache(maxsize=1)
def shapes():
    """{inegi_code: SVG path} and the viewBox, projected once per process (equirectangular, scaled by the cosine
    of the state's middle latitude, which is faithful enough at a state's scale) and rounded to 0.1 unit."""
    features = json.loads((DATA / "chihuahua_municipalities.geojson").read_text(encoding="utf-8"))["features"]
    points = [p for f in features for polygon in f["geometry"]["coordinates"] for ring in polygon for p in ring]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = math.cos(math.radians((south + north) / 2))
    scale = WIDTH / ((east - west) * squeeze)
    height = round((north - south) * scale, 1)

    def ring_path(ring):
        out, last = [], None
        for lon, lat in ring:
            xy = (round((lon - west) * squeeze * scale, 1), round((north - lat) * scale, 1))
            if xy != last:
                out.append(f"{xy[0]:g} {xy[1]:g}")
                last = xy
        return "M" + "L".join(out) + "Z"

    # Numbers and the letters M, L and Z only, from the reference data: safe as they are (escaping ~100 KB of them
    # on every page that draws the map cost more than the rest of the map).
    paths = {
        f["properties"]["inegi_code"]: mark_safe(
            "".join(ring_path(ring) for polygon in f["geometry"]["coordinates"] for ring in polygon)
        )
        for f in features
    }
    return paths, f"0 0 {WIDTH} {height:g}"


@lru_cache(maxsize=1)
def population():
    """{inegi_code: inhabitants in 2020}."""
    with (DATA / "chihuahua_population_2020.csv").open(encoding="utf-8") as handle:
        return {row["inegi_code"]: int(row["population_2020"]) for row in csv.DictReader(handle)}


def region_count():
    """The number of regions with municipalities: a project in all of them is statewide (see the module's note)."""
    return len({m.region_id for m in municipalities() if m.region_id})


def municipalities():
    """The 67 municipalities (reference data), cached: drawing the map asks the database nothing on a hit."""
    found = cache.get("map-municipalities")
    if found is None:
        found = list(Municipality.objects.all())
        cache.set("map-municipalities", found, 60 * 60 * 24)
    return found


def breaks(values, classes=5):
    """Upper bounds of up to `classes` quantile classes of the positive `values` (each bound a value that occurs)."""
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return []
    bounds = []
    for k in range(1, classes + 1):
        bound = positive[min(len(positive) - 1, math.ceil(k * len(positive) / classes) - 1)]
        if not bounds or bound > bounds[-1]:
            bounds.append(bound)
    return bounds


def display(value, measure):
    if measure == "proyectos":
        return number_format(value, 0, force_grouping=True)
    return "$" + number_format(value, 0, force_grouping=True)


def choropleth(figures, measure="proyectos", sort="nombre"):
    """Everything a template needs to draw the map, its legend and its table for `figures`, the pair
    ({municipality id: {"projects", "money"}} of the local projects, {"projects", "money"} of the statewide ones)
    that projects.facets counts."""
    measure = measure if measure in MEASURES else "proyectos"
    local, apart = figures
    paths, viewbox = shapes()
    people = population()
    rows = []
    for municipality in municipalities():
        figures = local.get(municipality.pk, {"projects": 0, "money": Decimal(0)})
        inhabitants = people.get(municipality.inegi_code)
        per_100k = (figures["money"] * 100_000 / inhabitants) if inhabitants else Decimal(0)
        rows.append(
            {
                "municipality": municipality,
                "path": paths.get(municipality.inegi_code, ""),
                "url": reverse("municipality_detail", args=[municipality.slug]),
                "population": inhabitants,
                "projects": figures["projects"],
                "money": figures["money"],
                "per_100k": per_100k,
            }
        )
    bounds = breaks([row[FIELDS[measure]] for row in rows])
    palette = PALETTE[len(PALETTE) - len(bounds) :] if bounds else []
    label, measure_name = _("%(name)s, %(measure)s: %(value)s"), str(MEASURES[measure]).lower()
    for row in rows:
        value = row[FIELDS[measure]]
        row["value"] = display(value, measure)
        row["fill"] = EMPTY if value <= 0 else palette[next(i for i, b in enumerate(bounds) if value <= b)]
        row["label"] = label % {"name": row["municipality"].name, "measure": measure_name, "value": row["value"]}
    legend = [{"fill": EMPTY, "label": _("Sin proyectos")}]
    lower = 0
    for fill, bound in zip(palette, bounds, strict=True):
        label = _("más de %(low)s a %(high)s") % {"low": display(lower, measure), "high": display(bound, measure)}
        legend.append({"fill": fill, "label": label})
        lower = bound
    rows.sort(key=sort_key(sort))
    return {
        "rows": rows,
        "viewbox": viewbox,
        "measure": measure,
        "measure_label": MEASURES[measure],
        "measures": MEASURES,
        "sort": sort if sort in SORTS else "nombre",
        "columns": SORTS,
        "legend": legend,
        "statewide": apart,
        "credit": SOURCE_CREDIT,
    }


def sort_key(sort):
    if sort in FIELDS:
        return lambda row: (-row[FIELDS[sort]], row["municipality"].slug)
    return lambda row: row["municipality"].slug
