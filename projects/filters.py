"""The one definition of how the project list is filtered and ordered: the public catalogue, its downloads, the
staff index and the API all use ProjectFilter (with its ordering and the broad-search rule).

Linked rows (lines, places, regions, organizations) are matched on the project's own id arrays (kept by
refresh_derived), so a project never appears twice and no DISTINCT is needed. Values inside one filter are
alternatives (OR); different filters narrow each other (AND).
"""

from datetime import timedelta

import django_filters
from django import forms
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from axes.models import Axis, Line

from .models import BROAD_SEARCH, Municipality, Organization, Participation, Population, Project, Region

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


# PostgreSQL stores a time with an offset of less than 16 hours from UTC; ISO 8601 allows up to 24.
MAX_UTC_OFFSET = timedelta(hours=15, minutes=59, seconds=59)


def storable_moment(moment):
    """True when PostgreSQL can compare with this moment (its UTC offset within MAX_UTC_OFFSET)."""
    offset = moment.utcoffset()
    return offset is None or abs(offset) <= MAX_UTC_OFFSET


class StorableDateTimeField(django_filters.fields.IsoDateTimeField):
    def clean(self, value):
        moment = super().clean(value)
        if moment is not None and not storable_moment(moment):
            raise forms.ValidationError(_("Zona horaria fuera de rango (máximo ±15:59)."), code="offset")
        return moment


# An ISO 8601 date and time whose offset PostgreSQL can store (the schema says so, so that clients know).
STORABLE_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-](0\d|1[0-5]):?[0-5]\d)?$"


@extend_schema_field({"type": "string", "format": "date-time", "pattern": STORABLE_DATETIME})
class StorableDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = StorableDateTimeField


class ChosenRowsField(django_filters.fields.ModelMultipleChoiceField):
    """The chosen rows as a list: none chosen is an empty list, where Django's empty queryset would be compiled
    into SQL each time a filter asks whether anything was chosen (five filters on every list request)."""

    def clean(self, value):
        if not value and not self.required:
            return []
        return list(super().clean(value))


@extend_schema_field(OpenApiTypes.STR)
class SlugMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """Rows chosen by a text key (slug, INEGI code), several at once: the schema types the values as text."""

    field_class = ChosenRowsField


class ProjectFilter(django_filters.FilterSet):
    # One ordering vocabulary for pages and API (`ordering`); the catalogue's older `orden` and its Spanish values
    # are accepted as aliases, so that links already shared keep working.
    ORDERINGS = {
        "relevance": ("-rank", "-pk"),
        "-published_at": ("-published_at", "-pk"),
        "published_at": ("published_at", "pk"),
        "-total_amount": (F("total_amount").desc(nulls_last=True), "-pk"),  # unknown amounts last either way
        "total_amount": (F("total_amount").asc(nulls_last=True), "pk"),
        "title": ("title", "pk"),
        "-title": ("-title", "-pk"),
        "-updated_at": ("-updated_at", "-pk"),
        "updated_at": ("updated_at", "pk"),
    }
    ORDERING_ALIASES = {
        "relevancia": "relevance",
        "recientes": "-published_at",
        "monto": "-total_amount",
        "titulo": "title",
    }

    q = django_filters.CharFilter(label=_("Buscar"), method="filter_search", max_length=MAX_QUERY_LENGTH)
    axis = SlugMultipleChoiceFilter(
        label=_("Eje estratégico"),
        field_name="axis__slug",
        to_field_name="slug",
        queryset=Axis.objects.all(),
        distinct=False,  # a foreign key never repeats a project; DISTINCT would make every list query sort its rows
    )
    line = SlugMultipleChoiceFilter(
        label=_("Línea de acción"), to_field_name="slug", queryset=Line.objects.all(), method="filter_line"
    )
    region = SlugMultipleChoiceFilter(
        label=_("Región"), to_field_name="slug", queryset=Region.objects.all(), method="filter_region"
    )
    municipality = SlugMultipleChoiceFilter(
        label=_("Municipio"),
        to_field_name="inegi_code",
        queryset=Municipality.objects.all(),
        method="filter_municipality",
    )
    # distinct=False: a column of the project row never repeats a project (django-filter's default would make every
    # list query DISTINCT over the whole row).
    status = django_filters.MultipleChoiceFilter(
        label=_("Estado del proyecto"), choices=Project.Status.choices, distinct=False
    )
    prevention_level = django_filters.MultipleChoiceFilter(
        label=_("Nivel de prevención"), choices=Project.PreventionLevel.choices, distinct=False
    )
    population = django_filters.MultipleChoiceFilter(
        label=_("Población objetivo"), choices=Population.choices, method="filter_population"
    )
    organization = SlugMultipleChoiceFilter(
        label=_("Organización"), to_field_name="slug", queryset=Organization.objects.all(), method="filter_organization"
    )
    year = django_filters.NumberFilter(label=_("Año"), method="filter_year", min_value=2000, max_value=2100)
    award_type = django_filters.ChoiceFilter(label=_("Tipo de asignación"), choices=Project.Award.choices)
    evidence_level = django_filters.MultipleChoiceFilter(
        label=_("Nivel de evidencia"), choices=Project.Evidence.choices, distinct=False
    )
    updated_since = StorableDateTimeFilter(label=_("Actualizado desde"), field_name="updated_at", lookup_expr="gte")
    estado = django_filters.ChoiceFilter(
        label=_("Estado de publicación"), field_name="publication_state", choices=Project.Publication.choices
    )
    ordering = django_filters.ChoiceFilter(
        label=_("Orden"), choices=[(key, key) for key in ORDERINGS], method="filter_ordering", empty_label=None
    )

    class Meta:
        model = Project
        fields = []

    def __init__(self, data=None, *args, default_ordering="-published_at", **kwargs):
        if data is not None and (data.get("orden") or data.get("ordering") in self.ORDERING_ALIASES):
            data = data.copy()
            value = data.get("ordering") or data.get("orden")
            data["ordering"] = self.ORDERING_ALIASES.get(value, value)
        super().__init__(data, *args, **kwargs)
        self.default_ordering = default_ordering
        # An organization is a valid choice only when it takes part in a project of the queryset (what the caller
        # may see): the slug of an organization whose projects are all hidden is refused like an unknown one, and
        # its name is never printed (facet chip, "count 0" row). Built only when an organization is asked for: it
        # would cost a list request as much as the rest of the filter.
        if data is not None and "organization" in data:
            visible = Participation.objects.filter(organization=OuterRef("pk"), project__in=self.queryset.values("pk"))
            self.filters["organization"].queryset = Organization.objects.filter(Exists(visible))
        else:
            self.filters["organization"].queryset = Organization.objects.none()

    def get_form_class(self):
        """The form's fields are the class's filters', the same for every request: the form class is built once per
        class (a tenth of a list request went into building it). The organization field's choices depend on the
        caller: `form` gives each form its filter's own."""
        cls = type(self)
        if "built_form" not in cls.__dict__:
            built = super().get_form_class()
            built.base_fields["organization"].queryset = Organization.objects.none()  # not this caller's choices
            cls.built_form = built
        return cls.built_form

    @property
    def form(self):
        if not hasattr(self, "_form"):
            super().form.fields["organization"].queryset = self.filters["organization"].queryset
        return self._form

    @property
    def searching(self):
        return bool(self.form.cleaned_data.get("q", "").strip())

    @cached_property
    def filtered(self):
        """The queryset with every chosen filter applied, not yet ordered."""
        return super().filter_queryset(self.queryset)

    @cached_property
    def matched(self):
        """For a search, the number of matches counted no further than BROAD_SEARCH + 1 (None when not searching)."""
        return self.filtered.count_up_to(BROAD_SEARCH) if self.searching else None

    def known_matches(self, count):
        """The number of matches of a search, when the caller has counted them (projects.facets): `matched` is then
        not asked of the database."""
        self.__dict__["matched"] = count

    @property
    def bound(self):
        return BROAD_SEARCH

    @property
    def broad(self):
        return self.matched is not None and self.matched > BROAD_SEARCH

    @property
    def order(self):
        """The order the list is given in: the one asked for, else relevance for a search and the default otherwise.
        Relevance means nothing without a search, and a search broader than BROAD_SEARCH projects is too broad to
        rank: both are listed newest first (no request makes PostgreSQL rank every project)."""
        order = self.form.cleaned_data.get("ordering") or ("relevance" if self.searching else self.default_ordering)
        if order == "relevance" and (not self.searching or self.broad):
            return "-published_at"
        return order

    def filter_queryset(self, queryset):
        return self.filtered.order_by(*self.ORDERINGS[self.order])

    def filter_ordering(self, queryset, name, value):
        return queryset  # applied by filter_queryset, after every filter

    def qs_without(self, name):
        """The filtered queryset with every chosen filter but `name` (values validated once, by is_valid())."""
        queryset = self.queryset
        for filter_name, value in self.form.cleaned_data.items():
            if filter_name not in (name, "ordering"):
                queryset = self.filters[filter_name].filter(queryset, value)
        return queryset

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.search(value) if value else queryset

    # Linked rows are matched on the project's own id arrays (GIN indexes), kept by refresh_derived().
    def filter_line(self, queryset, name, value):
        return queryset.filter(line_ids__overlap=[row.pk for row in value]) if value else queryset

    def filter_region(self, queryset, name, value):
        return queryset.filter(region_ids__overlap=[row.pk for row in value]) if value else queryset

    def filter_municipality(self, queryset, name, value):
        return queryset.filter(municipality_ids__overlap=[row.pk for row in value]) if value else queryset

    def filter_population(self, queryset, name, value):
        return queryset.filter(populations__overlap=value) if value else queryset

    def filter_organization(self, queryset, name, value):
        return queryset.filter(organization_ids__overlap=[row.pk for row in value]) if value else queryset

    def filter_year(self, queryset, name, value):
        """Projects active at some point of the year (started by its end and not finished before its start)."""
        return queryset if value is None else queryset.filter(year_condition(int(value)))


# --- Facets (counted by projects.facets) ------------------------------------------------------------------------

FIRST_FACET_YEAR = 2012  # FICOSEC's first projects


def facet_years():
    """The years offered as a facet: from the first projects to next year (projects are planned ahead)."""
    return range(FIRST_FACET_YEAR, timezone.localdate().year + 2)
