"""The Django admin, for superusers: every model, searchable and filterable, with its history."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .forms import AdminSignInForm
from .models import (
    ApiKey,
    Indicator,
    Measurement,
    Municipality,
    Organization,
    Participation,
    Project,
    Region,
    WorkflowStep,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "order"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request, obj=None):
        return False  # reference data: the projects' derived region ids name them


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["inegi_code", "name", "region"]
    list_filter = ["region"]
    search_fields = ["name", "inegi_code"]

    def has_delete_permission(self, request, obj=None):
        return False  # INEGI's 67 municipalities are reference data

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "region" in form.changed_data:  # the projects there now reach another region
            Project.objects.filter(municipalities=obj).refresh_derived()


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    list_display = ["name", "acronym", "kind", "rfc", "is_donataria", "is_active"]
    list_filter = ["kind", "is_donataria", "is_active", "is_ficosec"]
    search_fields = ["name", "acronym", "rfc", "cluni"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    autocomplete_fields = ["municipality"]


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    autocomplete_fields = ["organization"]


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0
    show_change_link = True


@admin.register(Project)
class ProjectAdmin(SimpleHistoryAdmin):
    list_display = ["code", "title", "axis", "status", "publication_state", "total_amount", "updated_at"]
    list_filter = ["publication_state", "status", "axis", "lines", "prevention_level", "evidence_level", "award_type"]
    search_fields = ["code", "title", "summary"]
    readonly_fields = [
        "publication_state",
        "total_amount",
        "ficosec_amount",
        "version",
        "published_at",
        "created_by",
        "updated_by",
    ]
    filter_horizontal = ["lines", "municipalities"]
    inlines = [ParticipationInline, IndicatorInline]
    date_hierarchy = "created_at"


@admin.register(Participation)
class ParticipationAdmin(SimpleHistoryAdmin):
    list_display = ["project", "organization", "role", "amount", "contribution_kind"]
    list_filter = ["role", "contribution_kind"]
    search_fields = ["project__code", "project__title", "organization__name"]
    autocomplete_fields = ["project", "organization"]

    def delete_queryset(self, request, queryset):
        projects = list(queryset.values_list("project", flat=True))
        super().delete_queryset(request, queryset)  # a bulk delete skips Participation.delete()
        Project.objects.filter(pk__in=projects).refresh_derived()


class MeasurementInline(admin.TabularInline):
    model = Measurement
    extra = 0
    readonly_fields = ["reported_by", "reported_by_key"]


@admin.register(Indicator)
class IndicatorAdmin(SimpleHistoryAdmin):
    list_display = ["name", "project", "unit", "baseline", "target", "direction", "frequency"]
    list_filter = ["direction", "frequency"]
    search_fields = ["name", "project__code", "project__title"]
    autocomplete_fields = ["project"]
    inlines = [MeasurementInline]


@admin.register(Measurement)
class MeasurementAdmin(SimpleHistoryAdmin):
    list_display = ["indicator", "date", "value", "reported_by"]
    list_filter = ["date"]
    search_fields = ["indicator__name", "indicator__project__code", "source"]
    autocomplete_fields = ["indicator"]


@admin.register(WorkflowStep)
class WorkflowStepAdmin(admin.ModelAdmin):
    list_display = ["project", "from_state", "to_state", "actor", "created_at"]
    list_filter = ["to_state"]
    search_fields = ["project__code", "comment"]


@admin.register(ApiKey)
class ApiKeyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "prefix", "organization", "user", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix", "organization__name"]
    readonly_fields = ["prefix", "last_used_at"]


admin.site.login_form = AdminSignInForm  # one sign-in policy for every sign-in form (lockouts, ficosec.throttle)
