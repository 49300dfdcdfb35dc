"""The one definition of how the project list is filtered: the public catalogue and the API both use ProjectFilter.

Multi-valued filters use EXISTS subqueries rather than joins, so a project never appears twice and no DISTINCT is
needed. Values inside one filter are alternatives (OR); different filters narrow each other (AND).
"""

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from axes.models import Axis, Line

from .models import Municipality, Organization, Participation, Population, Project, Region

MAX_QUERY_LENGTH = 200


class ProjectFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Buscar"), method="filter_search", max_length=MAX_QUERY_LENGTH)
    axis = django_filters.ModelMultipleChoiceFilter(
        label=_("Eje estratégico"), field_name="axis", to_field_name="slug", queryset=Axis.objects.all()
    )
    line = django_filters.ModelMultipleChoiceFilter(
        label=_("Línea de acción"), to_field_name="slug", queryset=Line.objects.all(), method="filter_line"
    )
    region = django_filters.ModelMultipleChoiceFilter(
        label=_("Región"), to_field_name="slug", queryset=Region.objects.all(), method="filter_region"
    )
    municipality = django_filters.ModelMultipleChoiceFilter(
        label=_("Municipio"), to_field_name="inegi_code", queryset=Municipality.objects.all(), method="filter_municipality"
    )
    status = django_filters.MultipleChoiceFilter(label=_("Estado del proyecto"), choices=Project.Status.choices)
    prevention_level = django_filters.MultipleChoiceFilter(label=_("Nivel de prevención"), choices=Project.PreventionLevel.choices)
    population = django_filters.MultipleChoiceFilter(
        label=_("Población objetivo"), choices=Population.choices, method="filter_population"
    )
    organization = django_filters.ModelMultipleChoiceFilter(
        label=_("Organización"), to_field_name="slug", queryset=Organization.objects.all(), method="filter_organization"
    )
    year = django_filters.NumberFilter(label=_("Año"), method="filter_year", min_value=2000, max_value=2100)
    award_type = django_filters.ChoiceFilter(label=_("Tipo de asignación"), choices=Project.Award.choices)
    evidence_level = django_filters.MultipleChoiceFilter(label=_("Nivel de evidencia"), choices=Project.Evidence.choices)
    updated_since = django_filters.IsoDateTimeFilter(label=_("Actualizado desde"), field_name="updated_at", lookup_expr="gte")

    class Meta:
        model = Project
        fields = []

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
        if value is None:
            return queryset
        year = int(value)
        starts = Q(actual_start__year__lte=year) | Q(actual_start__isnull=True, planned_start__year__lte=year)
        ends = (
            Q(actual_end__year__gte=year)
            | Q(actual_end__isnull=True, planned_end__year__gte=year)
            | Q(actual_end__isnull=True, planned_end__isnull=True)
        )
        return queryset.filter(starts & ends)
