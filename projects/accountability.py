"""The public accountability figures ("¿A dónde va el dinero?"): committed, paid and proven money of the published
projects, by year, axis, funder sector, cash or in kind and award type, the leverage of FICOSEC's money, and the
reconciliation with the totals FICOSEC published. One function computes them (a fixed handful of aggregate queries,
whatever the number of rows); the page, its CSV and the API all read it, so their numbers cannot differ. What is
cached is language-neutral (numbers, keys, both names of each axis); the labels are put on for each request, in its
language, so an English visit never leaves English labels on the Spanish page (nor the other way round).

Years: a commitment counts in the year of its date, a disbursement in the year it was paid (actual date), a proof in
the year of its invoice. Leverage is cash from other sources per peso of FICOSEC cash; in-kind contributions are
shown beside it, never mixed into it."""

import functools
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Count, F, Sum
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _

from axes.models import Axis, pick
from ficosec.history import newest_change_sql

from .models import (
    AnnualReport,
    CatalogueChange,
    Charge,
    Commitment,
    Disbursement,
    Project,
    Sector,
    sector_expression,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MEASURES = ("committed", "paid", "proven")


def ratio(numerator, denominator):
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def published(queryset, path):
    return queryset.filter(**{f"{path}__publication_state": Project.Publication.PUBLISHED})


def grouped(queryset, path, date_field, amount="amount", year=None):
    """Rows of (year, axis id, sector of the funder, cash/in kind, award type, amount) for the published projects."""
    queryset = published(queryset, path).annotate(
        y=ExtractYear(date_field), funder_sector=sector_expression(f"{path.rsplit('project', 1)[0]}organization__")
    )
    if year:
        queryset = queryset.filter(y=year)
    return queryset.values(
        "y", "funder_sector", ax=F(f"{path}__axis"), aw=F(f"{path}__award_type"), k=F(kind_path(path))
    ).annotate(total=Sum(amount))


def kind_path(path):
    return path.replace("project", "kind") if path != "project" else "kind"


@functools.cache
def _stamp_sql():
    newest = [CatalogueChange.newest_sql()]
    newest += [newest_change_sql(model) for model in (Commitment, Disbursement, Charge, AnnualReport)]
    return f"SELECT {', '.join(newest)}"


def stamp():
    """The newest change the figures read: to the ledger (every ledger write leaves a history row, simple_history;
    history_date is indexed) or to a project's publication, axis or award type (the catalogue's change log, which a
    trigger fills on every such change, whatever the write path). Part of the cache key, so figures are current at
    once; an edit of what they do not read (a title, a summary) leaves them cached. One query."""
    with connection.cursor() as cursor:
        cursor.execute(_stamp_sql())
        change, *latest = cursor.fetchone()
    return "-".join(str(value) for value in [change or 0, *(moment.timestamp() if moment else 0 for moment in latest)])


def figures(year=None):
    """compute(year), its numbers cached until what they read changes (stamp()): the page, its CSV and the API read
    this."""
    from django.core.cache import cache

    key = f"money-tally:{year}:{stamp()}"
    data = cache.get(key)
    if data is None:
        data = tally(year)
        cache.set(key, data, 60 * 60)
    return labelled(data)


def compute(year=None):
    """The figures, computed now (no cache), labelled in the active language."""
    return labelled(tally(year))


LABELS = {
    "total": lambda key, axes: _("Total"),
    "year": lambda key, axes: key,
    "axis": lambda key, axes: pick(*axes[key]) if key in axes else _("Sin eje"),
    "sector": lambda key, axes: str(Sector(key).label),
    "kind": lambda key, axes: str(Commitment.Kind(key).label),
    "award": lambda key, axes: str(Project.Award(key).label) if key else _("Sin dato"),
}


def labelled(data):
    """A copy of tally()'s figures with each row's label in the active language."""
    rows = [row | {"label": LABELS[row["dimension"]](row["key"], data["axes"])} for row in data["rows"]]
    return {"year": data["year"], "rows": rows, "reconciliation": data["reconciliation"]}


def tally(year=None):
    """The figures without labels: what can be cached for every language."""
    commitments = grouped(Commitment.objects.all(), "project", "date", year=year)
    paid = grouped(
        Disbursement.objects.filter(actual_date__isnull=False), "commitment__project", "actual_date", year=year
    )
    proven = grouped(Charge.objects.all(), "disbursement__commitment__project", "proof__issued_on", year=year)
    table = defaultdict(lambda: dict.fromkeys(MEASURES, ZERO))  # (dimension, key) -> measures
    leverage = defaultdict(lambda: {"ficosec": ZERO, "others_cash": ZERO, "others_in_kind": ZERO})
    for measure, rows in (("committed", commitments), ("paid", paid), ("proven", proven)):
        for row in rows:
            keys = [
                ("total", ""),
                ("year", row["y"]),
                ("axis", row["ax"]),
                ("sector", row["funder_sector"]),
                ("kind", row["k"]),
                ("award", row["aw"] or ""),
            ]
            for key in keys:
                table[key][measure] += row["total"]
            if measure == "committed":
                part = (
                    "ficosec"
                    if row["funder_sector"] == Sector.FICOSEC
                    else ("others_cash" if row["k"] == Commitment.Kind.CASH else "others_in_kind")
                )
                for key in (("total", ""), ("year", row["y"]), ("axis", row["ax"])):
                    leverage[key][part] += row["total"]

    # Projects per award type (for the share of projects), per year (for the reconciliation) and per axis.
    counted = published(Commitment.objects.all(), "project").annotate(y=ExtractYear("date"))
    if year:
        counted = counted.filter(y=year)
    projects = {
        ("award", row["project__award_type"] or ""): row["n"]
        for row in counted.values("project__award_type").annotate(n=Count("project", distinct=True))
    }
    projects |= {
        ("year", row["y"]): row["n"] for row in counted.values("y").annotate(n=Count("project", distinct=True))
    }
    projects |= {
        ("axis", row["project__axis"]): row["n"]
        for row in counted.values("project__axis").annotate(n=Count("project", distinct=True))
    }
    projects[("total", "")] = counted.aggregate(n=Count("project", distinct=True))["n"]

    axes = {axis.pk: axis for axis in Axis.objects.all()}
    links = {
        "year": lambda key: f"year={key}",
        "axis": lambda key: f"axis={axes[key].slug}" if key in axes else None,
        "award": lambda key: f"award_type={key}" if key else None,
    }
    total = table[("total", "")]["committed"]
    total_projects = projects[("total", "")] or 0
    rows = []
    order = {"total": 0, "year": 1, "axis": 2, "sector": 3, "kind": 4, "award": 5}
    for (dimension, key), values in sorted(table.items(), key=lambda item: (order[item[0][0]], str(item[0][1]))):
        lev = leverage.get((dimension, key))
        row = {
            "dimension": dimension,
            "key": "" if key is None else str(key),
            "label": None,  # labelled() puts it on, in the language of the request
            **values,
            "proven_share": ratio(values["proven"] * 100, values["paid"]),
            "share_of_committed": ratio(values["committed"] * 100, total),
            "projects": projects.get((dimension, key)),
            "share_of_projects": ratio((projects.get((dimension, key)) or 0) * 100, total_projects)
            if (dimension, key) in projects
            else None,
            "ficosec": lev["ficosec"] if lev else None,
            "leverage_cash": ratio(lev["others_cash"], lev["ficosec"]) if lev else None,
            "in_kind_per_ficosec_peso": ratio(lev["others_in_kind"], lev["ficosec"]) if lev else None,
            "catalogue": links[dimension](key) if dimension in links else None,
        }
        rows.append(row)
    return {
        "year": year,
        "rows": rows,
        "reconciliation": reconciliation(table, projects),
        "axes": {str(pk): (axis.short_name, axis.short_name_en) for pk, axis in axes.items()},
    }


def reconciliation(table, projects):
    """Each published annual total beside the portal's figure for that year (committed money, projects with a
    commitment dated that year), with the difference."""
    result = []
    for report in AnnualReport.objects.all():
        amount = table[("year", report.year)]["committed"] if ("year", report.year) in table else ZERO
        count = projects.get(("year", report.year), 0)
        result.append(
            {
                "year": report.year,
                "source": report.source,
                "published_projects": report.projects,
                "published_amount": report.amount,
                "portal_projects": count,
                "portal_amount": amount,
                "difference_projects": count - report.projects,
                "difference_amount": amount - report.amount,
            }
        )
    return result


CSV_COLUMNS = [
    ("dimension", "dimension"),
    ("key", "clave"),
    ("label", "etiqueta"),
    ("committed", "comprometido"),
    ("paid", "ministrado"),
    ("proven", "comprobado"),
    ("proven_share", "porcentaje_comprobado"),
    ("share_of_committed", "porcentaje_del_comprometido"),
    ("projects", "proyectos"),
    ("share_of_projects", "porcentaje_de_proyectos"),
    ("ficosec", "ficosec_comprometido"),
    ("leverage_cash", "apalancamiento_monetario"),
    ("in_kind_per_ficosec_peso", "especie_por_peso_ficosec"),
]
