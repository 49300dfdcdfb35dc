"""The API's viewsets: reference data, organizations, projects (list, detail, sync, workflow) and the partner writes
(participations, indicators, measurements)."""

import hashlib

import orjson
from django.core.paginator import InvalidPage
from django.db import transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, renderers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from axes.models import Axis, Line

from ..filters import ProjectFilter
from ..models import (
    BROAD_SEARCH,
    ApiKey,
    Indicator,
    Measurement,
    Municipality,
    Organization,
    Participation,
    Project,
    Region,
    StaleVersion,
    is_staff_user,
)
from ..serializers import (
    AxisSerializer,
    ErrorSerializer,
    IndicatorSerializer,
    LineSerializer,
    MeasurementSerializer,
    MunicipalitySerializer,
    OrganizationSerializer,
    ParticipationSerializer,
    ProjectSerializer,
    RegionSerializer,
    TransitionSerializer,
    project_rows,
)
from .access import ApiKeyAuthentication, CallerThrottle, PortalPermission, PreconditionFailed, PreconditionRequired
from .rendering import (
    CSVRenderer,
    FastJSONRenderer,
    Pages,
    decode_cursor,
    demo_marked,
    encode_cursor,
    public_count,
)

# --- Views --------------------------------------------------------------------------------------------------------

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 403, 404, 429)}
WRITE_ERRORS = ERRORS | {code: OpenApiResponse(ErrorSerializer) for code in (409, 412, 428)}


class ApiViewSet(viewsets.GenericViewSet):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [PortalPermission]
    throttle_classes = [CallerThrottle]
    renderer_classes = [FastJSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]
    pagination_class = Pages
    filter_backends = []
    rule_checked_actions = ("transition",)

    @property
    def write_model(self):
        return self.queryset.model


def etag_of(data):
    return 'W/"' + hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32] + '"'


class ETagUpdateMixin:
    """Updates require If-Match with the resource's current ETag; a stale one answers 412 and writes nothing."""

    def check_if_match(self, current_etag):
        given = self.request.headers.get("If-Match")
        if not given:
            raise PreconditionRequired()
        if given.strip() not in (current_etag, "*"):
            raise PreconditionFailed()

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        data = self.get_serializer(instance).data
        return Response(data, headers={"ETag": etag_of(data)})

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self.get_queryset().select_for_update(of=("self",)).get(pk=self.get_object().pk)
            self.check_if_match(etag_of(self.get_serializer(instance).data))
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.check_write(serializer)
            serializer.save()
        data = self.get_serializer(serializer.instance).data
        return Response(data, headers={"ETag": etag_of(data)})

    def check_write(self, serializer):
        """Extra object-level rules before saving (e.g. the project must be one the caller may change)."""


@extend_schema_view(
    list=extend_schema(responses={200: AxisSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: AxisSerializer} | ERRORS),
)
class AxisViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    queryset = Axis.objects.all()
    serializer_class = AxisSerializer
    lookup_field = "slug"
    pagination_class = None


@extend_schema_view(
    list=extend_schema(responses={200: LineSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: LineSerializer} | ERRORS),
)
class LineViewSet(AxisViewSet):
    queryset = Line.objects.all()
    serializer_class = LineSerializer


@extend_schema_view(
    list=extend_schema(responses={200: RegionSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: RegionSerializer} | ERRORS),
)
class RegionViewSet(AxisViewSet):
    queryset = Region.objects.all()
    serializer_class = RegionSerializer


@extend_schema_view(
    list=extend_schema(responses={200: MunicipalitySerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: MunicipalitySerializer} | ERRORS),
)
class MunicipalityViewSet(AxisViewSet):
    queryset = Municipality.objects.select_related("region")
    serializer_class = MunicipalitySerializer
    lookup_field = "inegi_code"


@extend_schema_view(
    list=extend_schema(responses={200: OrganizationSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: OrganizationSerializer} | ERRORS),
)
class OrganizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = OrganizationSerializer
    lookup_field = "slug"
    queryset = Organization.objects.select_related("municipality").order_by("name")

    def get_queryset(self):
        """Organizations taking part in a project the caller may see."""
        visible = Project.objects.visible_to(self.request.user).values("pk")
        return self.queryset.filter(pk__in=Participation.objects.filter(project__in=visible).values("organization"))


PROJECT_ORDERINGS = {
    "published_at": ("published_at", "pk"),
    "-published_at": ("-published_at", "-pk"),
    "total_amount": ("total_amount", "pk"),
    "-total_amount": ("-total_amount", "-pk"),
    "title": ("title", "pk"),
    "-title": ("-title", "-pk"),
    "updated_at": ("updated_at", "pk"),
    "-updated_at": ("-updated_at", "-pk"),
    "relevance": ("-rank", "-pk"),
}
LIST_PARAMETERS = [
    OpenApiParameter("ordering", str, enum=list(PROJECT_ORDERINGS), description="Orden; `relevance` requiere `q`."),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description="Máximo 1000."),
]


@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS, responses={200: ProjectSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: ProjectSerializer} | ERRORS),
    create=extend_schema(request=ProjectSerializer, responses={201: ProjectSerializer} | WRITE_ERRORS),
    partial_update=extend_schema(
        request=ProjectSerializer,
        responses={200: ProjectSerializer} | WRITE_ERRORS,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)],
    ),
)
class ProjectViewSet(mixins.ListModelMixin, ApiViewSet):
    """Projects. Anonymous callers see published projects only; partners also their organization's drafts."""

    queryset = Project.objects.all()
    serializer_class = ProjectSerializer
    lookup_field = "code"
    lookup_value_regex = r"[A-Za-z0-9-]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def filtered(self):
        filterset = ProjectFilter(self.request.query_params, queryset=Project.objects.visible_to(self.request.user))
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return filterset

    def list(self, request, *args, **kwargs):
        filterset = self.filtered()
        ordering = request.query_params.get("ordering") or (
            "relevance" if filterset.form.cleaned_data.get("q") else "-published_at"
        )
        if ordering not in PROJECT_ORDERINGS or (ordering == "relevance" and not filterset.form.cleaned_data.get("q")):
            raise exceptions.ValidationError({"ordering": [_("Orden no válido.")]})
        if ordering == "relevance" and filterset.qs.count_up_to(BROAD_SEARCH) > BROAD_SEARCH:
            ordering = "-published_at"  # too broad a search to rank: newest first, as in the catalogue
        queryset = filterset.qs.order_by(*PROJECT_ORDERINGS[ordering])
        paginator = self.paginator
        pages = paginator.django_paginator_class(queryset.values("pk"), paginator.get_page_size(request))
        if not request.user.is_authenticated:  # the public count changes only when a project does
            pages.count = public_count(request, queryset)
        try:
            paginator.page = pages.page(paginator.get_page_number(request, pages))
        except InvalidPage:
            raise exceptions.NotFound(_("Esa página no existe.")) from None
        paginator.request = request
        window = slice(paginator.page.start_index() - 1, paginator.page.end_index()) if pages.count else slice(0, 0)
        # The page's ids are chosen in a subquery, so that PostgreSQL builds the nested parts of the rows of this
        # page only (with a plain OFFSET it would build them for every row it skips: the last page would crawl).
        page = queryset.filter(pk__in=queryset.values("pk")[window])
        return paginator.get_paginated_response(project_rows(page, staff=is_staff_user(request.user)))

    def retrieve(self, request, code=None):
        project = get_object_or_404(Project.objects.visible_to(request.user), code=code)
        data = project_rows(Project.objects.filter(pk=project.pk), detail=True, staff=is_staff_user(request.user))[0]
        return Response(data, headers={"ETag": f'W/"{project.version}"'})

    def create(self, request):
        serializer = ProjectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = serializer.save_project(request.user)
        return self.detail_response(project, status.HTTP_201_CREATED)

    def partial_update(self, request, code=None):
        project = get_object_or_404(Project.objects.visible_to(request.user), code=code)
        given = request.headers.get("If-Match", "")
        if not given:
            raise PreconditionRequired()
        version = given.strip().removeprefix("W/").strip('"')
        if not version.isdigit() or int(version) != project.version:
            raise PreconditionFailed()
        serializer = ProjectSerializer(project, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            project = serializer.save_project(request.user, expected_version=int(version))
        except StaleVersion:
            raise PreconditionFailed() from None
        return self.detail_response(project, status.HTTP_200_OK)

    def detail_response(self, project, code):
        data = project_rows(Project.objects.filter(pk=project.pk), detail=True, staff=True)[0]
        return Response(data, status=code, headers={"ETag": f'W/"{project.version}"'})

    @extend_schema(request=TransitionSerializer, responses={200: ProjectSerializer} | WRITE_ERRORS)
    @action(detail=True, methods=["post"])
    def transition(self, request, code=None):
        """Move the project along the publication workflow (borrador → en revisión → publicado → archivado)."""
        project = get_object_or_404(Project.objects.visible_to(request.user), code=code)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key = request.auth if isinstance(request.auth, ApiKey) else None
        project.transition(
            serializer.validated_data["to_state"],
            request.user,
            serializer.validated_data.get("comment", ""),
            api_key=api_key,
        )
        return self.detail_response(project, status.HTTP_200_OK)

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str),
            OpenApiParameter("updated_since", str),
            OpenApiParameter("page_size", int),
        ],
        responses={200: OpenApiResponse(description="{next, results}: proyectos ordenados por (updated_at, code)")}
        | ERRORS,
    )
    @action(detail=False, methods=["get"])
    def sync(self, request):
        """Incremental synchronisation: every visible project ordered by last change, page after page by cursor
        (keyset pagination: no COUNT, the last page as fast as the first)."""
        queryset = self.filtered().qs.order_by("updated_at", "code")
        size = self.paginator.get_page_size(request) or api_settings.PAGE_SIZE
        if request.query_params.get("cursor"):
            moment, code = decode_cursor(request.query_params["cursor"])
            # A row comparison, so that the scan of the (updated_at, code) index starts at the cursor.
            after = RawSQL(
                '("projects_project"."updated_at", "projects_project"."code") > (%s, %s)',
                (moment, code),
                output_field=BooleanField(),
            )
            queryset = queryset.filter(after)
        rows = project_rows(queryset, staff=is_staff_user(request.user), window=slice(0, size + 1))
        more, rows = len(rows) > size, rows[:size]
        next_url = None
        if more:
            next_url = request.build_absolute_uri(
                f"{request.path}?{_replace_query(request, cursor=encode_cursor(rows[-1]))}"
            )
        return demo_marked(Response({"next": next_url, "results": rows}))


def _replace_query(request, **values):
    params = request.query_params.copy()
    for key, value in values.items():
        params[key] = value
    return params.urlencode()


@extend_schema_view(
    list=extend_schema(responses={200: ParticipationSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: ParticipationSerializer} | ERRORS),
    create=extend_schema(responses={201: ParticipationSerializer} | WRITE_ERRORS),
    partial_update=extend_schema(
        responses={200: ParticipationSerializer} | WRITE_ERRORS,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)],
    ),
)
class ParticipationViewSet(ETagUpdateMixin, mixins.ListModelMixin, mixins.CreateModelMixin, ApiViewSet):
    queryset = Participation.objects.select_related("project", "organization").order_by("pk")
    serializer_class = ParticipationSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return self.queryset.filter(project__in=Project.objects.visible_to(self.request.user).values("pk"))

    def perform_create(self, serializer):
        self.check_write(serializer)
        serializer.save()

    def check_write(self, serializer):
        project = serializer.validated_data.get("project") or serializer.instance.project
        if not Project.objects.visible_to(self.request.user).filter(pk=project.pk).exists():
            raise exceptions.PermissionDenied(_("No puede cambiar este proyecto."))


@extend_schema_view(
    list=extend_schema(responses={200: IndicatorSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: IndicatorSerializer} | ERRORS),
    create=extend_schema(responses={201: IndicatorSerializer} | WRITE_ERRORS),
    partial_update=extend_schema(
        responses={200: IndicatorSerializer} | WRITE_ERRORS,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)],
    ),
)
class IndicatorViewSet(ParticipationViewSet):
    queryset = Indicator.objects.select_related("project").order_by("pk")
    serializer_class = IndicatorSerializer


@extend_schema_view(
    list=extend_schema(responses={200: MeasurementSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: MeasurementSerializer} | ERRORS),
    create=extend_schema(responses={201: MeasurementSerializer} | WRITE_ERRORS),
    partial_update=extend_schema(
        responses={200: MeasurementSerializer} | WRITE_ERRORS,
        parameters=[OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=True)],
    ),
)
class MeasurementViewSet(ParticipationViewSet):
    """Measurements (avances). Partner keys add and correct them on their own organization's projects only."""

    queryset = Measurement.objects.select_related("indicator__project").order_by("pk")
    serializer_class = MeasurementSerializer

    def get_queryset(self):
        return self.queryset.filter(indicator__project__in=Project.objects.visible_to(self.request.user).values("pk"))

    def check_write(self, serializer):
        indicator = serializer.validated_data.get("indicator") or serializer.instance.indicator
        if not Project.objects.reportable_by(self.request.user).filter(pk=indicator.project_id).exists():
            raise exceptions.PermissionDenied(_("Solo puede reportar avances de los proyectos de su organización."))

    def perform_create(self, serializer):
        self.check_write(serializer)
        key = self.request.auth if isinstance(self.request.auth, ApiKey) else None
        user = self.request.user if getattr(self.request.user, "pk", None) else None
        serializer.save(reported_by=user, reported_by_key=key)
