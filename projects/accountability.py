"""The public accountability figures ("¿A dónde va el dinero?"): committed, paid and proven money of the published
projects, by year, axis, funder sector, cash or in kind and award type, the leverage of FICOSEC's money, and the
reconciliation with the totals FICOSEC published. One function computes them (two aggregate queries over the money
facts that PostgreSQL keeps per project from the ledger, MoneyFact, whatever the number of invoices); the page, its
CSV and the API all read it, so their numbers cannot differ. What is
cached is language-neutral (numbers, keys, both names of each axis); the labels are put on for each request, in its
language, so an English visit never leaves English labels on the Spanish page (nor the other way round).

Years: a commitment counts in the year of its date, a disbursement in the year it was paid (actual date), a proof in
the year of its invoice. Leverage is cash from other sources per peso of FICOSEC cash; in-kind contributions are
shown beside it, never mixed into it."""

import functools
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import F, Sum
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
    Project,
    Sector,
    sector_expression,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MEASURES = MoneyFact.Measure.values


def ratio(numerator, denominator):
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(CENT, rounding=ROUND_HALF_UP)


def facts(year=None):
    """The money facts (MoneyFact: what the ledger's triggers keep per project) of the published projects."""
    queryset = MoneyFact.objects.filter(project__publication_state=Project.Publication.PUBLISHED)
    return queryset.filter(year=year) if year else queryset


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
    """The figures without labels: what can be cached for every language."""
    table = defaultdict(lambda: dict.fromkeys(MEASURES, ZERO))  # (dimension, key) -> measures
    leverage = defaultdict(lambda: {"ficosec": ZERO, "others_cash": ZERO, "others_in_kind": ZERO})
    sums = facts(year).values(
        "measure", "year", "kind", funder_sector=sector_expression("organization__"), ax=F("project__axis")
    )
    for row in sums.annotate(aw=F("project__award_type"), total=Sum("amount")):
        keys = [
            ("total", ""),
            ("year", row["year"]),
            ("axis", row["ax"]),
            ("sector", row["funder_sector"]),
            ("kind", row["kind"]),
            ("award", row["aw"] or ""),
        ]
        for key in keys:
            table[key][row["measure"]] += row["total"]
        if row["measure"] == "committed":
            part = (
                "ficosec"
                if row["funder_sector"] == Sector.FICOSEC
                else ("others_cash" if row["kind"] == Commitment.Kind.CASH else "others_in_kind")
            )
            for key in (("total", ""), ("year", row["year"]), ("axis", row["ax"])):
                leverage[key][part] += row["total"]

    # Projects with a commitment: per award type (for the share of projects), per year (for the reconciliation), per
    # axis and in all, counted in one pass.
    committed = facts(year).filter(measure=MoneyFact.Measure.COMMITTED)
    sql, params = committed.values_list(
        "project", "year", "project__award_type", "project__axis"
    ).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT GROUPING(award, year, axis), award, year, axis, COUNT(DISTINCT project)
                FROM ({sql}) AS committed (project, year, award, axis)
                GROUP BY GROUPING SETS ((award), (year), (axis), ())""",
            params,
        )
        counted = cursor.fetchall()
    by = {0b011: "award", 0b101: "year", 0b110: "axis", 0b111: "total"}  # GROUPING: 1 for each column not grouped by
    projects = {("total", ""): 0}
    for grouping, award, year_, axis, n in counted:
        dimension = by[grouping]
        projects[(dimension, {"award": award or "", "year": year_, "axis": axis, "total": ""}[dimension])] = n

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
