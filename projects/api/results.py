"""The API of the results framework: reporting periods (targets and narrative) and the breakdown of a measurement.
Reporting is one permission: the measurement permissions plus Project.objects.reportable_by (staff everywhere,
partners on their own projects), as for measurements."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions
from rest_framework.decorators import action
from rest_framework.response import Response

from ..models import Measurement, Period, Project, is_staff_user, own_project_ids, set_breakdown
from ..serializers import BreakdownSerializer, MeasurementSerializer, PeriodSerializer
from .viewsets import ERRORS, WRITE_ERRORS, MeasurementViewSet, ParticipationViewSet


@extend_schema_view(
    list=extend_schema(responses={200: PeriodSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: PeriodSerializer} | ERRORS),
    create=extend_schema(responses={201: PeriodSerializer} | WRITE_ERRORS),
    partial_update=extend_schema(
        responses={200: PeriodSerializer} | WRITE_ERRORS,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)],
    ),
)
class PeriodViewSet(ParticipationViewSet):
    """Reporting periods of an indicator: target per period and the narrative (what happened, difficulties)."""

    queryset = Period.objects.select_related("indicator__project").order_by("pk")
    serializer_class = PeriodSerializer
    write_model = Measurement  # reporting a period is reporting: the measurement permissions

    def get_queryset(self):
        return self.queryset.filter(indicator__project__in=Project.objects.visible_to(self.request.user).values("pk"))

    def check_write(self, serializer):
        indicator = serializer.validated_data.get("indicator") or serializer.instance.indicator
        if not Project.objects.reportable_by(self.request.user).filter(pk=indicator.project_id).exists():
            raise exceptions.PermissionDenied(_("Solo puede reportar avances de los proyectos de su organización."))

    def perform_create(self, serializer):
        self.check_write(serializer)
        serializer.save(narrative_by=self.request.user if getattr(self.request.user, "pk", None) else None)


class ReportingMeasurementViewSet(MeasurementViewSet):
    """Measurements, plus POST …/breakdown/ to replace a measurement's breakdown."""

    queryset = MeasurementViewSet.queryset.prefetch_related("breakdown")

    def get_queryset(self):
        """A sensitive site's dated series is published only as period totals (on its page): the API lists its
        measurements to staff and to the project's own partners only."""
        found = super().get_queryset()
        if is_staff_user(self.request.user):
            return found
        return found.exclude(
            Q(indicator__project__sensitive_site=True) & ~Q(indicator__project__in=own_project_ids(self.request.user))
        )

    @extend_schema(request=BreakdownSerializer, responses={200: MeasurementSerializer} | WRITE_ERRORS)
    @action(detail=True, methods=["post"], url_path="breakdown")
    def breakdown(self, request, pk=None):
        measurement = self.get_object()
        if not Project.objects.reportable_by(request.user).filter(pk=measurement.indicator.project_id).exists():
            raise exceptions.PermissionDenied(_("Solo puede reportar avances de los proyectos de su organización."))
        given = BreakdownSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        parts = [(p["dimension"], p["category"], p["value"]) for p in given.validated_data["parts"]]
        try:
            set_breakdown(measurement, parts)
        except DjangoValidationError as error:
            raise exceptions.ValidationError({"parts": error.messages}) from error
        measurement = self.get_queryset().get(pk=measurement.pk)
        return Response(MeasurementSerializer(measurement, context=self.get_serializer_context()).data)
