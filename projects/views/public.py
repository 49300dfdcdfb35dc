"""The public catalogue: pages anyone may read.

Lists, facets, totals, charts, downloads and the sitemap show published projects only; a project page answers for
the projects the visitor may see (`Project.objects.visible_to`), which for the public is the published ones too, and
the organization pages for the organizations taking part in those (`Organization.objects.visible_to`).
"""

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from axes.models import Axis

from .. import exports, facets, figures
from ..charts import bars, outlier_note
from ..filters import ProjectFilter
from ..models import Measurement, Organization, Participation, Project, money_by_sector
from . import governance
from .money import money_received, project_money
from .results import indicator_progress, map_for

PAGE_SIZE = 20
ORDER_LABELS = [
    ("relevance", _("Relevancia")),
    ("-published_at", _("Más recientes")),
    ("-total_amount", _("Mayor monto")),
    ("title", _("Título")),
]


def catalogue_filter(request):
    """The catalogue's filter set: the published projects, as the query string filters, searches and orders them."""
    return ProjectFilter(request.GET, queryset=Project.objects.published())


def catalogue(request):
    """The published projects, filtered, searched and ordered as the query string says (ProjectFilter)."""
    filterset = catalogue_filter(request)
    projects = filterset.qs if filterset.is_valid() else Project.objects.none()
    return projects, filterset


@require_GET
def home(request):
    data = figures.figures()
    latest = (
        Project.objects.published()
        .select_related("axis")
        .prefetch_related("municipalities")
        .order_by("-published_at", "-pk")[:6]
    )
    return render(
        request,
        "projects/public/home.html",
        {
            "figures": data,
            "totals": data["totals"],
            "latest": latest,
            "money_chart": axis_money_chart(data),
            "map": map_for(request, facets.map_figures()),
        },
    )


def axis_money_chart(data):
    return bars(
        data["axes"],
        "money",
        lambda row: row["axis"].local_short_name,
        money=True,
        colour=lambda row: row["axis"].number,
    )


@require_GET
def project_list(request):
    """The catalogue. The whole page is cached per address, language, build, host and whether the visitor is signed
    in, while nothing it shows changes (figures.catalogue_generation, figures.page_key): a page still shown as drawn
    is sent as it was, after one query and without a template. On a miss, what the page shows is recorded
    (figures.remember_catalogue)."""
    generation, remember = figures.catalogue_generation(request.get_full_path(), get_language())
    key = figures.page_key(request, generation)
    body = cache.get(key) if key and not remember else None
    if body is not None:
        return HttpResponse(body)
    page = catalogue_page(request)
    response = render(request, "projects/public/project_list.html", {"orderings": ORDER_LABELS, **page})
    if remember:
        figures.remember_catalogue(remember, generation, page)
    if key and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):  # (a page holding a form's token is one's own)
        cache.set(key, response.content, 60 * 60)
    return response


def catalogue_page(request):
    """The page of the list, its count, facets, totals and map: counted by projects.facets (the count too, so that
    the page's figures and its list agree), except a search broader than the bound, counted up to it."""
    filterset = catalogue_filter(request)
    valid = filterset.is_valid()
    counted = facets.Catalogue(filterset) if valid else None  # first: it counts a search's matches
    listed = counted.listed(Project.objects.published()) if counted else None
    if counted and counted.selected is None:
        counted = None
    projects = filterset.qs if valid else Project.objects.none()
    if listed is not None:  # ordered by projects.facets: the page's rows read by id
        projects = listed
    paginator = Paginator(projects.select_related("axis").prefetch_related("municipalities"), PAGE_SIZE)
    if counted:
        paginator.count = counted.count
    elif valid and filterset.matched is not None:
        paginator.count = filterset.matched  # the bound + 1: a search too broad to rank or count further
    return {
        "page": paginator.get_page(request.GET.get("page")),
        "filterset": filterset,
        "order": filterset.order if valid else None,
        "broad": valid and filterset.broad,
        "bound": filterset.bound,
        "facets": counted.facets() if counted else {},
        "active": active_filters(request, filterset),
        "totals": counted.totals() if counted else None,
        "map": map_for(request, counted.municipality_figures()) if counted else None,
    }


def active_filters(request, filterset):
    """(label, value label, query string without it) for each active filter value: one click removes it."""
    chips = []
    cleaned = getattr(filterset.form, "cleaned_data", {})  # the chosen rows of each valid filter, read once
    for name, field in filterset.form.fields.items():
        if name == "ordering":
            continue
        for value in request.GET.getlist(name):
            if not value:
                continue
            rest = request.GET.copy()
            rest.setlist(name, [v for v in rest.getlist(name) if v != value])
            rest.pop("page", None)
            if hasattr(field, "queryset"):  # the rows the form chose (its choices would read every row)
                rows = cleaned.get(name)
                if rows is None:  # an invalid filter: the chosen row only
                    rows = field.queryset.filter(**{f"{field.to_field_name}__in": [value]})
                choices = {str(getattr(obj, field.to_field_name)): str(obj) for obj in rows}
            else:
                choices = {str(k): v for k, v in getattr(field, "choices", []) if k != ""}
            chips.append((field.label, choices.get(value, value), rest.urlencode()))
    return chips


@require_GET
def project_download(request, fmt):
    filterset = catalogue_filter(request)
    if not filterset.is_valid():
        return render(request, "projects/public/bad_request.html", {"errors": filterset.errors}, status=400)
    # First: it counts a search's matches, so the order (relevance up to the bound) costs no COUNT in SQL.
    listed = facets.Catalogue(filterset, whole=True).listed(Project.objects.published())  # ids in order: no sort
    return exports.stream(filterset.qs if listed is None else listed, fmt)


@require_GET
def project_detail(request, slug):
    project = get_object_or_404(
        Project.objects.visible_to(request.user)
        .select_related("axis")
        .prefetch_related(
            "lines",
            "municipalities__region",
            "indicators",
            Prefetch("indicators__measurements", queryset=Measurement.objects.order_by("date")),
            "indicators__periods",
            "indicators__measurements__breakdown",
            "evaluations",
            Prefetch("participations", queryset=Participation.objects.select_related("organization")),
        ),
        slug=slug,
    )
    return render(
        request,
        "projects/public/project_detail.html",
        {
            "project": project,
            "money": money_breakdown(project),
            "award": governance.project_award(project),
            "ledger": project_money(project),
            "regions": sorted({m.region for m in project.municipalities.all() if m.region}, key=lambda r: r.order),
            "progress": indicator_progress(project),
        },
    )


def money_breakdown(project):
    """Money by funder and by sector, from the participations already fetched."""
    participations = [p for p in project.participations.all() if p.amount != 0]
    known = [p for p in participations if p.amount is not None]
    by_sector = {}
    for participation in known:
        sector = participation.organization.sector
        by_sector[sector] = by_sector.get(sector, 0) + participation.amount
    return {
        "funders": sorted(known, key=lambda p: -p.amount) + [p for p in participations if p.amount is None],
        "unknown": len(participations) - len(known),
        "sectors": bars(
            [
                {"label": sector.label, "money": amount}
                for sector, amount in money_by_sector((p.organization.sector, p.amount) for p in participations)
            ],
            "money",
            lambda row: row["label"],
            money=True,
        ),
    }


ORGANIZATION_ORDERINGS = {
    "nombre": ("name", "pk"),
    "proyectos": ("-projects", "name"),
    "monto": (F("money").desc(nulls_last=True), "name"),
}


def with_project_totals(organizations):
    """Each organization with the number of published projects it takes part in and those projects' known money
    (a project counted once even when the organization has two roles in it)."""
    theirs = Project.objects.published().filter(
        pk__in=Participation.objects.filter(organization=OuterRef(OuterRef("pk"))).values("project")
    )
    return organizations.annotate(
        projects=Subquery(theirs.order_by().values(g=Value(1)).annotate(n=Count("pk")).values("n")),
        money=Subquery(theirs.order_by().values(g=Value(1)).annotate(s=Sum("total_amount")).values("s")),
    )


@require_GET
def organization_list(request):
    organizations = Organization.objects.visible_to(request.user)
    q = request.GET.get("q", "")[:100].strip()
    if q:
        organizations = organizations.filter(Q(name__unaccent__icontains=q) | Q(acronym__iexact=q))
    order = request.GET.get("orden") if request.GET.get("orden") in ORGANIZATION_ORDERINGS else "nombre"
    organizations = with_project_totals(organizations.select_related("municipality"))
    page = Paginator(organizations.order_by(*ORGANIZATION_ORDERINGS[order]), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/public/organization_list.html",
        {"page": page, "q": q, "order": order, "kinds": Organization.Kind},
    )


@require_GET
def organization_detail(request, slug):
    organization = get_object_or_404(
        Organization.objects.visible_to(request.user).select_related("municipality"), slug=slug
    )
    projects = Project.objects.visible_to(request.user).filter(organization_ids__contains=[organization.pk])
    participations = (
        Participation.objects.filter(organization=organization, project__in=projects.values("pk"))
        .select_related("project__axis")
        .order_by("-project__published_at", "role", "pk")
    )
    return render(
        request,
        "projects/public/organization_detail.html",
        {
            "organization": organization,
            "page": Paginator(participations, PAGE_SIZE).get_page(request.GET.get("page")),
            "totals": projects.totals(),
            "received": money_received(organization),
        },
    )


def robots(request):
    return render(request, "robots.txt", content_type="text/plain")


# --- The strategic framework: the four axes with their figures and published projects ---------------------


@require_GET
def axis_list(request):
    data = figures.figures()
    year_chart = bars(data["by_year"], "money", lambda row: str(row["year"]), money=True, sort=False)
    region_chart = bars(data["by_region"], "projects", lambda row: row["region"].name)
    return render(
        request,
        "axes/axis_list.html",
        {
            "figures": data,
            "money_chart": axis_money_chart(data),
            "year_chart": year_chart,
            "year_outlier": outlier_note(year_chart),
            "region_chart": region_chart,
            "region_outlier": outlier_note(region_chart),
        },
    )


@require_GET
def axis_detail(request, slug):
    axis = get_object_or_404(Axis, slug=slug)
    row = next(row for row in figures.figures()["axes"] if row["axis"].pk == axis.pk)
    projects = (
        Project.objects.published()
        .filter(axis=axis)
        .select_related("axis")
        .prefetch_related("municipalities")
        .order_by("-published_at", "-pk")
    )
    paginator = Paginator(projects, 20)
    paginator.count = row["projects"]  # the axis's figures already count its published projects: no second count
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "axes/axis_detail.html", {"axis": axis, "row": row, "totals": row, "page": page})
