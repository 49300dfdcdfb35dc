"""The public accountability figures ("¿A dónde va el dinero?"): committed, paid and proven money of the published
projects, by year, axis, funder sector, cash or in kind and award type, the leverage of FICOSEC's money, and the
reconciliation with the totals FICOSEC published. One function computes them (two reads of the sums PostgreSQL keeps
from the ledger at the figures' grain, MoneyFigure and MoneyProjectCount: a few thousand rows, whatever the number of
projects and invoices); the page, its CSV and the API all read it, so their numbers cannot differ. What is cached
is language-neutral (numbers, keys, both names of each axis); the labels are put on for each request, in its
language, so an English visit never leaves English labels on the Spanish page (nor the other way round).

Years: a commitment counts in the year of its date, a disbursement in the year it was paid (actual date), a proof in
the year of its invoice. Leverage is cash from other sources per peso of FICOSEC cash; in-kind contributions are
shown beside it, never mixed into it."""

import functools
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils.translation import gettext as _

from axes.models import Axis, pick
from ficosec.history import newest_change_sql

from .models import (
    AnnualReport,
    CatalogueChange,
    Charge,
    Commitment,
    Disbursement,
    ExpenseProof,
    MoneyFact,
    MoneyFigure,
    MoneyProjectCount,
    Organization,
    Project,
    Sector,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MEASURES = MoneyFact.Measure.values


def ratio(numerator, denominator):
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


@functools.cache
def _stamp_sql():
    newest = [CatalogueChange.newest_sql()]
    newest += [newest_change_sql(model) for model in (Commitment, Disbursement, Charge, ExpenseProof, AnnualReport)]
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
    """The figures without labels: what can be cached for every language. Read from the sums PostgreSQL keeps at
    their grain (MoneyFigure, MoneyProjectCount: a few thousand rows whatever the number of projects)."""
    table = defaultdict(lambda: dict.fromkeys(MEASURES, ZERO))  # (dimension, key) -> measures
    leverage = defaultdict(lambda: {"ficosec": ZERO, "others_cash": ZERO, "others_in_kind": ZERO})
    cells = MoneyFigure.cells(**({"year": year} if year else {}))
    for measure, year_, kind, is_ficosec, funder_kind, axis, award, amount, _facts in cells:
        sector = Organization.sector_of(is_ficosec, funder_kind)
        keys = [("total", ""), ("year", year_), ("axis", axis), ("sector", sector), ("kind", kind), ("award", award)]
        for key in keys:
            table[key][measure] += amount
        if measure == MoneyFact.Measure.COMMITTED:
            part = (
                "ficosec"
                if sector == Sector.FICOSEC
                else ("others_cash" if kind == Commitment.Kind.CASH else "others_in_kind")
            )
            for key in (("total", ""), ("year", year_), ("axis", axis)):
                leverage[key][part] += amount

    # Projects with a commitment (in the chosen year, or in any): per award type, axis and in all; per year.
    chosen = year or MoneyProjectCount.ANY_YEAR
    projects = {("total", ""): 0}
    for year_, axis, award, n in MoneyProjectCount.cells(**({"year": year} if year else {})):
        if year_ != MoneyProjectCount.ANY_YEAR:
            projects[("year", year_)] = projects.get(("year", year_), 0) + n
        if year_ == chosen:
            for key in (("total", ""), ("axis", axis), ("award", award)):
                projects[key] = projects.get(key, 0) + n

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
