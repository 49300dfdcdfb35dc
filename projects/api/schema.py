"""The OpenAPI schema tells the truth about access: reads are open to anonymous callers (the querysets decide what
exists for them), so safe methods declare "no authentication" beside ApiKey and the session; and the project list and
sync document every filter of the shared FilterSet (projects.filters.ProjectFilter)."""

from django.db import DatabaseError
from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import SAFE_METHODS


class PortalSchema(AutoSchema):
    def get_auth(self):
        auths = super().get_auth()
        if self.method in SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths

    def _get_filter_parameters(self):
        return precise_filter_parameters(super()._get_filter_parameters(), getattr(self.view, "filterset_class", None))

    def get_filter_backends(self):
        if getattr(self.view, "action", None) == "sync":  # not a list view to drf-spectacular, but filtered like one
            return getattr(self.view, "filter_backends", [])
        return super().get_filter_backends()


NO_NUL = "^[^\\u0000]*$"


def _public_values(name, filter_):
    """The values a filter accepts, for the schema's enum: reference data as it is; organizations, those taking
    part in a published project (the schema is public). None when the database cannot say yet (not migrated, as
    when `check --deploy` runs before `migrate`): the parameter is then plain text."""
    from ..models import Participation, Project

    queryset = filter_.queryset
    if name == "organization":
        published = Participation.objects.filter(project__in=Project.objects.published().values("pk"))
        queryset = queryset.filter(pk__in=published.values("organization"))
    try:
        return sorted(queryset.values_list(filter_.extra["to_field_name"], flat=True))
    except DatabaseError:
        return None


def precise_filter_parameters(parameters, filterset_class):
    """What ProjectFilter accepts, said in the schema: the values of each model choice (enum), the year's range,
    the search's length, and no NUL in any text (PostgreSQL cannot compare it: 400)."""
    for parameter in parameters:
        filter_ = filterset_class.base_filters.get(parameter["name"]) if filterset_class else None
        schema = parameter["schema"]
        target = schema.get("items", schema)
        values = None
        if filter_ is not None and getattr(filter_, "queryset", None) is not None:
            values = _public_values(parameter["name"], filter_)
        if values is not None:
            target.clear()
            target.update({"type": "string", "enum": values})
        elif parameter["name"] == "year":
            schema.clear()
            schema.update({"type": "integer", "minimum": 2000, "maximum": 2100})
        elif target.get("type") == "string" and "enum" not in target and "format" not in target:
            target["pattern"] = NO_NUL
            if parameter["name"] == "q":
                target["maxLength"] = filter_.extra.get("max_length", 200) if filter_ else 200
    return parameters
