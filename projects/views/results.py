"""Public pages about where the projects work and what they achieve: the map by municipality and a page for each
municipality."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods

from ficosec.history import newest_change_sql

from .. import facets, geo, privacy
from ..models import (
    STATUS_LABELS,
    Indicator,
    Measurement,
    Municipality,
    Project,
    period_of,
    progress_status,
)


def map_for(request, figures):
    """The choropleth of `figures` (projects.facets), with the measure and table order the query string asks for."""
    return geo.choropleth(figures, request.GET.get("medida", ""), request.GET.get("mapa_orden", ""))


IMPLEMENTERS = 20  # listed on a municipality's page


@require_GET
def municipality_detail(request, slug):
    municipality = get_object_or_404(Municipality.objects.select_related("region"), slug=slug)
    published = Project.objects.published()
    projects = published.filter(municipality_ids__contains=[municipality.pk])
    index = facets.current()
    chosen = index.union("municipality", [municipality.pk])
    here = index.totals(chosen)  # its projects, and their money unsplit
    paginator = Paginator(projects.select_related("axis").prefetch_related("municipalities"), 20)
    paginator.count = here["projects"]
    everywhere = facets.map_figures(index)
    local, _statewide = everywhere
    figures = local.get(municipality.pk, {"projects": 0, "money": 0})
    inhabitants = geo.population().get(municipality.inegi_code)
    # The organizations that implement most of its projects (a big municipality has thousands), with their number
    implementers = facets.busiest(index.linked_counts("implementer", chosen), IMPLEMENTERS)
    page = paginator.get_page(request.GET.get("page"))
    # The indicators of the projects listed on this page (all of a big municipality's would be a sort of thousands)
    indicators = (
        Indicator.objects.filter(project__in=[project.pk for project in page])
        .select_related("project")
        .order_by("project__title", "order", "pk")[:30]
    )
    return render(
        request,
        "projects/public/municipality_detail.html",
        {
            "municipality": municipality,
            "figures": figures,
            "total_money": here["money"] or 0,
            "inhabitants": inhabitants,
            "per_100k": figures["money"] * 100_000 / inhabitants if inhabitants else None,
            "page": page,
            "implementers": implementers,
            "indicators": indicators,
            "map": map_for(request, everywhere),
            "current": municipality,
        },
    )


# --- Progress of a project's indicators ----------------------------------------------------------------------


def indicator_progress(project, today=None):
    """For each indicator of `project` (indicators, measurements, periods and breakdowns prefetched): its status
    by the one rule (progress_status), the numbers of its progress bar, its public series (period totals only for
    a sensitive site) and the public breakdown of its latest measurement (small cells suppressed)."""
    today = today or timezone.localdate()
    late = set(Indicator.overdue(Project.objects.filter(pk=project.pk), today).values_list("pk", flat=True))
    out = []
    for indicator in project.indicators.all():
        measurements = list(indicator.measurements.all())
        periods = list(indicator.periods.all())
        latest = measurements[-1] if measurements else None
        status = progress_status(indicator, latest, today, periods, overdue=indicator.pk in late)
        out.append(
            {
                "indicator": indicator,
                "latest": latest,
                "status": status,
                "status_label": STATUS_LABELS[status],
                "overdue": indicator.pk in late,
                "bar": progress_bar(indicator, latest),
                "series": public_series(project, measurements, periods),
                "periods": periods,
                "breakdown": public_breakdown(indicator, latest),
            }
        )
    return out


def progress_bar(indicator, latest):
    """Positions (0..100 along the bar) of the baseline, the target and the latest value."""
    points = [v for v in (indicator.baseline, indicator.target, latest.value if latest else None) if v is not None]
    if indicator.target is None or not points:
        return None
    low, high = min(points + [0]), max(points)
    span = (high - low) or 1

    def at(value):
        return round(float((value - low) * 100 / span), 1) if value is not None else None

    baseline = indicator.baseline if indicator.baseline is not None else 0
    value = at(latest.value) if latest else None
    return {
        "baseline": at(baseline),
        "target": at(indicator.target),
        "value": value,
        "fill_from": min(at(baseline), value) if value is not None else None,
        "fill_width": abs(value - at(baseline)) if value is not None else None,
    }


def public_series(project, measurements, periods):
    """The measurements the public sees: each dated value, or for a sensitive site one total per period (the
    latest value within each period; per calendar year when the indicator has no periods), with no notes."""
    if not project.sensitive_site:
        return [
            {"label": short(m.date), "value": m.value, "source": m.source, "document": m.document_url}
            for m in measurements
        ]
    totals = {}
    for m in measurements:
        period = period_of(periods, m.date)
        key = f"{short(period.start)} – {short(period.end)}" if period else str(m.date.year)
        totals[key] = m.value
    return [{"label": key, "value": value, "source": "", "document": ""} for key, value in totals.items()]


def short(day):
    return date_format(day, "SHORT_DATE_FORMAT")


def public_breakdown(indicator, latest):
    """{dimension label: [(category label, public value)]} for the latest measurement, each dimension's cells
    suppressed against the measurement's total when the indicator counts people."""
    if latest is None:
        return {}
    by_dimension = {}
    for part in latest.breakdown.all():
        by_dimension.setdefault(part.get_dimension_display(), {})[part.category_label] = part.value
    if not indicator.counts_people:
        return {dimension: list(cells.items()) for dimension, cells in by_dimension.items()}
    return {
        dimension: list(privacy.suppress_cells(cells, latest.value)[0].items())
        for dimension, cells in by_dimension.items()
    }


# --- Roll-up: indicators on track, per axis and for the portfolio -------------------------------------------


@functools.cache
def _measured_sql():
    return f"SELECT {', '.join(newest_change_sql(model) for model in (Indicator, Measurement))}"


def rollup(today=None):
    """{axis id or None (portfolio): {status: count}} over the indicators of published projects, by the one rule
    (counted in the database: progress_status_counts). Cached for the day until a project changes (figures.stamp)
    or an indicator or measurement does (their newest history row: a partner's report through the API touches no
    project)."""
    from django.core.cache import cache

    from .. import figures
    from ..models import progress_status_counts

    today = today or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(_measured_sql())
        measured = "-".join(str(moment.timestamp() if moment else 0) for moment in cursor.fetchone())
    key = f"results-rollup:{figures.stamp()}:{measured}:{today.isoformat()}"
    counts = cache.get(key)
    if counts is None:
        counts = {}
        for (axis_id, status), n in progress_status_counts(Project.objects.published(), today).items():
            for axis in (axis_id, None):
                counts.setdefault(axis, dict.fromkeys(STATUS_LABELS, 0))[status] += n
        cache.set(key, counts, 60 * 60)
    return counts


def sql_sum(values):
    """The sum of the values that are not None, or None when none is: SQL's SUM over groups' own sums."""
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def evidence_figures(published):
    """Projects and money by evidence level, projects by axis and level, and people reached and targeted per axis
    and for the portfolio: all from one grouped read of the published projects."""

    rows = list(
        published.values("axis", "evidence_level")
        .annotate(
            projects=Count("pk"),
            money=Sum("total_amount"),
            reached=Sum("beneficiaries_reached"),
            target=Sum("beneficiaries_target"),
        )
        .order_by()
    )

    levels = {value: {"projects": 0, "money": 0} for value, _label in Project.Evidence.choices}
    people = {}
    for row in rows:
        level = levels[row["evidence_level"]]
        level["projects"] += row["projects"]
        level["money"] = sql_sum([level["money"], row["money"]])
        axis = people.setdefault(row["axis"], {"reached": None, "target": None})
        for name in ("reached", "target"):
            axis[name] = sql_sum([axis[name], row[name]])
    return {
        "levels": levels,
        "by_axis_level": {(row["axis"], row["evidence_level"]): row["projects"] for row in rows},
        "people": people,
        "totals": {name: sql_sum(axis[name] for axis in people.values()) for name in ("reached", "target")},
    }


def what_works(published, axes, per_axis=3):
    """{axis id: its `per_axis` strongest published projects (effective first, then the most rigorous evaluation)}
    in one query: a union of one ordered slice per axis, each read from the project_works index."""
    from django.db.models import F

    strongest = published.filter(evidence_level__in=[Project.Evidence.EFFECTIVE, Project.Evidence.PROMISING])
    slices = [
        strongest.filter(axis=axis).order_by("evidence_level", F("evaluation_design").desc(nulls_last=True), "title")[
            :per_axis
        ]
        for axis in axes
    ]
    works = {axis.pk: [] for axis in axes}
    if slices:
        for project in slices[0].union(*slices[1:], all=True):
            works[project.axis_id].append(project)
    return works


@require_GET
def evidence(request):
    """The evidence hub: what each level means, the evaluations behind them, money and projects by level and axis,
    what works per axis, and how the portfolio's indicators are doing."""
    from django.db.models import Prefetch

    from axes.models import Axis

    from ..models import Evaluation

    published = Project.objects.published()
    evaluations = (
        Evaluation.objects.filter(projects__in=published.values("pk"))
        .distinct()
        .prefetch_related(Prefetch("projects", queryset=published.order_by("title"), to_attr="public_projects"))
    )
    axes = list(Axis.objects.all())
    data = evidence_figures(published)
    works = what_works(published, axes)
    status = rollup()
    return render(
        request,
        "projects/public/evidence.html",
        {
            "evaluations": evaluations,
            "levels": [
                {"value": value, "label": label, **data["levels"][value]} for value, label in Project.Evidence.choices
            ],
            "axes": [
                {
                    "axis": axis,
                    "levels": [
                        data["by_axis_level"].get((axis.pk, value), 0) for value, _label in Project.Evidence.choices
                    ],
                    "works": works[axis.pk],
                    "status": status.get(axis.pk, dict.fromkeys(STATUS_LABELS, 0)),
                    "people": data["people"].get(axis.pk, {}),
                }
                for axis in axes
            ],
            "level_choices": Project.Evidence.choices,
            "portfolio": status.get(None, dict.fromkeys(STATUS_LABELS, 0)),
            "totals": data["totals"],
            "status_labels": STATUS_LABELS,
        },
    )


@require_GET
def privacy_notice(request):
    from django.conf import settings

    return render(
        request,
        "projects/public/privacy_notice.html",
        {"threshold": privacy.threshold(), "contact": settings.PRIVACY_CONTACT_EMAIL},
    )


# --- Workspace: partners and staff report periods, narratives and breakdowns -------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def project_results(request, code):
    """Report a project's results: add or edit a period (target, what happened, difficulties) and the breakdown of
    a measurement. Open to whoever may report on the project (Project.objects.reportable_by), as the API is."""
    from django.contrib import messages
    from django.db.models import Prefetch
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from ..forms import BreakdownForm, PeriodForm
    from ..models import Measurement, Period

    project = get_object_or_404(Project.objects.reportable_by(request.user), code=code)
    indicators = project.indicators.prefetch_related(
        "periods",
        Prefetch("measurements", queryset=Measurement.objects.order_by("date").prefetch_related("breakdown")),
    )
    periods = Period.objects.filter(indicator__project=project)
    measurements = Measurement.objects.filter(indicator__project=project).select_related("indicator__project")
    chosen_period = get_object_or_404(periods, pk=request.GET["periodo"]) if request.GET.get("periodo") else None
    chosen = get_object_or_404(measurements, pk=request.GET["medicion"]) if request.GET.get("medicion") else None
    posted = request.method == "POST"
    period_form = PeriodForm(
        project, request.POST if posted and "period" in request.POST else None, instance=chosen_period
    )
    breakdown_form = (
        BreakdownForm(chosen, request.POST if posted and "breakdown" in request.POST else None) if chosen else None
    )
    status = 400 if posted else 200
    if posted and "period" in request.POST and period_form.is_valid():
        period = period_form.save(commit=False)
        period.narrative_by = request.user
        period.save()
        messages.success(request, _("Periodo guardado."))
        return redirect("project_results", code=project.code)
    if posted and breakdown_form is not None and breakdown_form.is_valid() and breakdown_form.save():
        messages.success(request, _("Desglose guardado."))
        return redirect("project_results", code=project.code)
    return render(
        request,
        "projects/staff/project_results.html",
        {
            "project": project,
            "indicators": indicators,
            "period_form": period_form,
            "chosen_period": chosen_period,
            "breakdown_form": breakdown_form,
            "chosen": chosen,
        },
        status=status,
    )
