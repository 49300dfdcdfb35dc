"""The one definition of how the project list is filtered: the public catalogue and the API both use ProjectFilter.

Multi-valued filters use EXISTS subqueries rather than joins, so a project never appears twice and no DISTINCT is
needed. Values inside one filter are alternatives (OR); different filters narrow each other (AND).
"""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from axes.models import Axis, Line, pick

from .models import Municipality, Organization, Participation, Population, Project, Region

MAX_QUERY_LENGTH = 200


def year_condition(year):
    """Active during `year`: started by its end, and not finished before its start (or with no end date)."""
    starts = Q(actual_start__year__lte=year) | Q(actual_start__isnull=True, planned_start__year__lte=year)
    ends = (
        Q(actual_end__year__gte=year)
        | Q(actual_end__isnull=True, planned_end__year__gte=year)
        | Q(actual_end__isnull=True, planned_end__isnull=True)
    )
    return starts & ends


class ProjectFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Buscar"), method="filter_search", max_length=MAX_QUERY_LENGTH)
    axis = django_filters.ModelMultipleChoiceFilter(
        label=_("Eje estratégico"),
        field_name="axis__slug",
        to_field_name="slug",
        queryset=Axis.objects.all(),
        distinct=False,  # a foreign key never repeats a project; DISTINCT would make every list query sort its rows
    )
    line = django_filters.ModelMultipleChoiceFilter(
        label=_("Línea de acción"), to_field_name="slug", queryset=Line.objects.all(), method="filter_line"
    )
    region = django_filters.ModelMultipleChoiceFilter(
        label=_("Región"), to_field_name="slug", queryset=Region.objects.all(), method="filter_region"
    )
    municipality = django_filters.ModelMultipleChoiceFilter(
        label=_("Municipio"),
        to_field_name="inegi_code",
        queryset=Municipality.objects.all(),
        method="filter_municipality",
    )
    status = django_filters.MultipleChoiceFilter(label=_("Estado del proyecto"), choices=Project.Status.choices)
    prevention_level = django_filters.MultipleChoiceFilter(
        label=_("Nivel de prevención"), choices=Project.PreventionLevel.choices
    )
    population = django_filters.MultipleChoiceFilter(
        label=_("Población objetivo"), choices=Population.choices, method="filter_population"
    )
    organization = django_filters.ModelMultipleChoiceFilter(
        label=_("Organización"), to_field_name="slug", queryset=Organization.objects.all(), method="filter_organization"
    )
    year = django_filters.NumberFilter(label=_("Año"), method="filter_year", min_value=2000, max_value=2100)
    award_type = django_filters.ChoiceFilter(label=_("Tipo de asignación"), choices=Project.Award.choices)
    evidence_level = django_filters.MultipleChoiceFilter(
        label=_("Nivel de evidencia"), choices=Project.Evidence.choices
    )
    updated_since = django_filters.IsoDateTimeFilter(
        label=_("Actualizado desde"), field_name="updated_at", lookup_expr="gte"
    )

    class Meta:
        model = Project
        fields = []

    def qs_without(self, name):
        """The filtered queryset with every chosen filter but `name` (values validated once, by is_valid())."""
        queryset = self.queryset
        for filter_name, value in self.form.cleaned_data.items():
            if filter_name != name:
                queryset = self.filters[filter_name].filter(queryset, value)
        return queryset

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.search(value) if value else queryset

    def filter_line(self, queryset, name, value):
        if not value:
            return queryset
        through = Project.lines.through.objects.filter(project=OuterRef("pk"), line__in=value)
        return queryset.filter(Exists(through))

    def filter_region(self, queryset, name, value):
        if not value:
            return queryset
        through = Project.municipalities.through.objects.filter(project=OuterRef("pk"), municipality__region__in=value)
        return queryset.filter(Exists(through))

    def filter_municipality(self, queryset, name, value):
        if not value:
            return queryset
        through = Project.municipalities.through.objects.filter(project=OuterRef("pk"), municipality__in=value)
        return queryset.filter(Exists(through))

    def filter_population(self, queryset, name, value):
        return queryset.filter(populations__overlap=value) if value else queryset

    def filter_organization(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(Exists(Participation.objects.filter(project=OuterRef("pk"), organization__in=value)))

    def filter_year(self, queryset, name, value):
        """Projects active at some point of the year (started by its end and not finished before its start)."""
        return queryset if value is None else queryset.filter(year_condition(int(value)))


# --- Facets ---------------------------------------------------------------------------------------------------
# Each value of each filter shows how many published projects the list would have with that value chosen: the
# counts of a dimension apply every OTHER active filter (values inside one filter are alternatives). The columns
# of the project row (axis, status, level, populations, award, evidence, year) are counted with conditional
# aggregates in one scan per distinct base; lines, regions, municipalities and organizations with one GROUP BY
# over their link table each. The number of queries depends on how many filters are active (at most a dozen),
# never on the number of results.

FACET_YEARS = range(2012, 2027)
LINKED = ("line", "region", "municipality", "organization")


def _column_conditions():
    """(dimension, value, label, condition) for the dimensions counted by conditional aggregation."""
    rows = [("axis", a.slug, str(a), Q(axis_id=a.pk)) for a in Axis.objects.all()]
    rows += [("status", value, label, Q(status=value)) for value, label in Project.Status.choices]
    rows += [
        ("prevention_level", value, label, Q(prevention_level=value))
        for value, label in Project.PreventionLevel.choices
    ]
    rows += [("population", value, label, Q(populations__contains=[value])) for value, label in Population.choices]
    rows += [("award_type", value, label, Q(award_type=value)) for value, label in Project.Award.choices]
    rows += [("evidence_level", value, label, Q(evidence_level=value)) for value, label in Project.Evidence.choices]
    rows += [("year", str(year), str(year), year_condition(year)) for year in FACET_YEARS]
    return rows


def _linked_counts(dimension, projects):
    """[(value, label, count)] of a linked dimension over the projects of `projects` (a values("pk") queryset)."""
    from django.db.models import Count

    places = Project.municipalities.through.objects.filter(project__in=projects)
    if dimension == "line":
        rows = (
            Project.lines.through.objects.filter(project__in=projects)
            .values("line__slug", "line__name", "line__name_en", "line__number")
            .annotate(n=Count("project"))
            .order_by("line__number")
        )
        return [(r["line__slug"], pick(r["line__name"], r["line__name_en"]), r["n"]) for r in rows]
    if dimension == "region":
        rows = (
            places.exclude(municipality__region=None)
            .values("municipality__region__slug", "municipality__region__name", "municipality__region__order")
            .annotate(n=Count("project", distinct=True))
            .order_by("municipality__region__order")
        )
        return [(r["municipality__region__slug"], r["municipality__region__name"], r["n"]) for r in rows]
    if dimension == "municipality":
        rows = (
            places.values("municipality__inegi_code", "municipality__name")
            .annotate(n=Count("project"))
            .order_by("municipality__name")
        )
        return [(r["municipality__inegi_code"], r["municipality__name"], r["n"]) for r in rows]
    rows = (
        Participation.objects.filter(project__in=projects)
        .values("organization__slug", "organization__name")
        .annotate(n=Count("project", distinct=True))
        .order_by("-n", "organization__name")[:40]
    )
    return [(r["organization__slug"], r["organization__name"], r["n"]) for r in rows]


def facet_counts(filterset):
    """{dimension: [(value, label, count, selected)]} for a valid ProjectFilter's data over its queryset."""
    from django.db.models import Count

    data = filterset.data
    conditions = _column_conditions()
    active = {name for name in ProjectFilter.base_filters if name != "q" and any(data.getlist(name))}

    def base_without(dimension):
        # A plain pk list keeps the counts free of the list's annotations (search rank) and ordering.
        return filterset.qs_without(dimension).order_by().values("pk")

    results = {}
    dimensions = {c[0] for c in conditions} | set(LINKED)
    bases = {dimension: dimension if dimension in active else None for dimension in dimensions}
    for base_key in set(bases.values()):
        projects = base_without(base_key or "__none__")
        wanted = [c for c in conditions if bases[c[0]] == base_key]
        if wanted:
            counts = Project.objects.filter(pk__in=projects).aggregate(
                **{f"c{i}": Count("pk", filter=cond) for i, (_d, _v, _l, cond) in enumerate(wanted)}
            )
            for i, (dimension, value, label, _cond) in enumerate(wanted):
                results.setdefault(dimension, []).append((value, label, counts[f"c{i}"]))
        for dimension in LINKED:
            if bases[dimension] == base_key:
                results[dimension] = _linked_counts(dimension, projects)
                missing = set(data.getlist(dimension)) - {value for value, _label, _n in results[dimension]}
                if missing:  # a chosen value with no result stays listed (count 0), so that it can be unticked
                    field = ProjectFilter.base_filters[dimension]
                    for row in field.queryset.filter(**{f"{field.extra['to_field_name']}__in": missing}):
                        results[dimension].append(
                            (getattr(row, field.extra["to_field_name"]), str(getattr(row, "name", row)), 0)
                        )
    return {
        dimension: [
            (value, label, count, value in data.getlist(dimension))
            for value, label, count in values
            if count or value in data.getlist(dimension)
        ]
        for dimension, values in results.items()
    }
