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
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, renderers, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from axes.models import Axis, Line

from ..filters import ProjectFilter
from ..models import (
    ApiKey,
    Indicator,
    Measurement,
    Municipality,
    Organization,
    Participation,
    Project,
    Region,
    StaleVersion,
    Withdrawal,
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
    iso,
    project_documents,
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

ERRORS = {code: OpenApiResponse(ErrorSerializer) for code in (400, 401, 403, 404, 405, 413, 429)}
WRITE_ERRORS = ERRORS | {code: OpenApiResponse(ErrorSerializer) for code in (409, 412, 428)}


class WithdrawalSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Withdrawal.Kind.choices)
    code = serializers.CharField(help_text="Código del proyecto o slug de la organización.")
    reason = serializers.ChoiceField(choices=Withdrawal.Reason.choices)
    merged_into = serializers.CharField(allow_null=True, help_text="Slug de la organización que la absorbió.")
    withdrawn_at = serializers.DateTimeField()


class SyncPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    results = ProjectSerializer(many=True)
    withdrawn = WithdrawalSerializer(many=True)


NOT_EMPTY = {"format", "page", "page_size", "ordering"} | (set(ProjectFilter.base_filters) - {"q"})


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

    def initial(self, request, *args, **kwargs):
        """A method the endpoint does not have is 405 for everyone, before authentication and permissions ask
        anything (TRACE, PROPFIND, DELETE on a list...)."""
        method = request.method.lower()
        if method not in self.http_method_names or not hasattr(self, method):
            raise exceptions.MethodNotAllowed(request.method)
        empty = sorted(name for name in NOT_EMPTY if name in request.query_params and not request.query_params[name])
        if empty:  # what the schema says: a parameter given is a value, not "" (a search `q` may be empty)
            raise exceptions.ValidationError({name: [_("Este parámetro no puede estar vacío.")] for name in empty})
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        """Errors are always the structured JSON document, whatever format the list was asked in (?format=csv)."""
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and isinstance(getattr(response, "data", None), dict):
            response.accepted_renderer = FastJSONRenderer()
            response.accepted_media_type = "application/json"
        return response


def etag_of(data):
    """The one ETag scheme of the API: a weak validator hashed from the representation the caller reads."""
    return 'W/"' + hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32] + '"'


def check_if_match(request, current_etag):
    """Updates require If-Match with the resource's current ETag (or `*`, any current version): 428 without it, 412
    when it is stale, and nothing is written."""
    given = request.headers.get("If-Match")
    if not given:
        raise PreconditionRequired()
    if given.strip() not in (current_etag, "*"):
        raise PreconditionFailed()


class ETagUpdateMixin:
    """Updates go through check_if_match with the ETag of the stored row, read under a row lock."""

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
            check_if_match(request, etag_of(self.get_serializer(instance).data))
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.check_write(serializer)
            self.perform_update(serializer)
        data = self.get_serializer(serializer.instance).data
        return Response(data, headers={"ETag": etag_of(data)})

    def perform_update(self, serializer):
        serializer.save()

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
        return self.queryset.visible_to(self.request.user)


LIST_PARAMETERS = [
    OpenApiParameter(
        "ordering",
        str,
        enum=list(ProjectFilter.ORDERINGS),
        description="Orden (`orden` es un alias). `relevance` solo con `q`; sin `q`, o con más de 10 000 "
        "resultados, la lista va de la más reciente a la más antigua.",
    ),
    OpenApiParameter("page", {"type": "integer", "minimum": 1, "maximum": 999_999_999}),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": 999_999_999},
        description="Más de 1000 cuenta como 1000.",
    ),
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
    # For the schema only (drf-spectacular documents every filter of the FilterSet): list and sync apply
    # ProjectFilter themselves, in filtered().
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProjectFilter

    def filtered(self):
        filterset = ProjectFilter(self.request.query_params, queryset=Project.objects.visible_to(self.request.user))
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return filterset

    def list(self, request, *args, **kwargs):
        queryset = self.filtered().qs
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
        documents = project_documents(page, staff=is_staff_user(request.user))
        return paginator.get_paginated_response(self.as_results(document for (document,) in documents))

    def as_results(self, documents):
        """Stored JSON documents as list results: handed to the JSON renderer as they are (orjson.Fragment), read
        back into dicts for another format (CSV, the browsable page)."""
        if isinstance(self.request.accepted_renderer, FastJSONRenderer):
            return [orjson.Fragment(document) for document in documents]
        return [orjson.loads(document) for document in documents]

    def retrieve(self, request, code=None):
        project = get_object_or_404(Project.objects.visible_to(request.user), code=code)
        return self.detail_response(project, status.HTTP_200_OK)

    def create(self, request):
        serializer = ProjectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        project = serializer.save_project(request.user)
        return self.detail_response(project, status.HTTP_201_CREATED)

    def partial_update(self, request, code=None):
        project = get_object_or_404(Project.objects.visible_to(request.user), code=code)
        check_if_match(request, etag_of(self.detail_data(project)))
        serializer = ProjectSerializer(project, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:  # the version read with the ETag: a save in between is refused (Project.save_edit)
            project = serializer.save_project(request.user, expected_version=project.version)
        except StaleVersion:
            raise PreconditionFailed() from None
        return self.detail_response(project, status.HTTP_200_OK)

    def detail_data(self, project):
        staff = is_staff_user(self.request.user)
        return project_rows(Project.objects.filter(pk=project.pk), detail=True, staff=staff)[0]

    def detail_response(self, project, code):
        data = self.detail_data(project)
        return Response(data, status=code, headers={"ETag": etag_of(data)})

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
        parameters=[OpenApiParameter("cursor", str)],
        responses={200: SyncPageSerializer} | ERRORS,
    )
    @action(detail=False, methods=["get"])
    def sync(self, request):
        """Incremental synchronisation: every visible project ordered by last change, page after page by cursor
        (keyset pagination: no COUNT, the last page as fast as the first). `withdrawn` lists what left the caller's
        view since `updated_since` (or the cursor): archived or unpublished projects, merged organizations."""
        filterset = self.filtered()
        queryset = filterset.qs.order_by("updated_at", "code")
        size = self.paginator.get_page_size(request) or self.paginator.page_size
        since = filterset.form.cleaned_data.get("updated_since")
        if request.query_params.get("cursor"):
            moment, code = decode_cursor(request.query_params["cursor"])
            since = max(since, moment) if since else moment
            # A row comparison, so that the scan of the (updated_at, code) index starts at the cursor.
            after = RawSQL(
                '("projects_project"."updated_at", "projects_project"."code") > (%s, %s)',
                (moment, code),
                output_field=BooleanField(),
            )
            queryset = queryset.filter(after)
        rows = project_documents(
            queryset, staff=is_staff_user(request.user), window=slice(0, size + 1), fields=("updated_at", "code")
        )
        more, rows = len(rows) > size, rows[:size]
        next_url = None
        if more:
            updated_at, code, _document = rows[-1]
            cursor = encode_cursor({"updated_at": iso(updated_at), "code": code})
            next_url = request.build_absolute_uri(f"{request.path}?{_replace_query(request, cursor=cursor)}")
        results = self.as_results(document for *_fields, document in rows)
        return demo_marked(
            Response({"next": next_url, "results": results, "withdrawn": withdrawals_since(request.user, since)})
        )


def withdrawals_since(user, since):
    """Tombstones written at or after `since` (all those kept when None), except projects the caller sees again."""
    tombstones = Withdrawal.objects.exclude(
        kind=Withdrawal.Kind.PROJECT, code__in=Project.objects.visible_to(user).values("code")
    )
    if since is not None:
        tombstones = tombstones.filter(withdrawn_at__gte=since)
    return [
        {
            "kind": row.kind,
            "code": row.code,
            "reason": row.reason,
            "merged_into": row.merged_into or None,
            "withdrawn_at": row.withdrawn_at.isoformat().replace("+00:00", "Z"),
        }
        for row in tombstones
    ]


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
        return self.queryset.visible_to(self.request.user)

    def perform_create(self, serializer):
        self.check_write(serializer)
        serializer.save()

    def check_write(self, serializer):
        """The caller must reach the project the row belongs to now and the one it will belong to."""
        projects = {serializer.validated_data.get("project"), getattr(serializer.instance, "project", None)} - {None}
        reachable = Project.objects.visible_to(self.request.user).filter(pk__in=[project.pk for project in projects])
        if reachable.count() != len(projects):
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
    """Measurements (avances). Partners add and correct them on their own organizations' projects only, through
    Measurement.record (the same operation as the staff page); the measurements a caller may change are the ones
    it may report on, and an indicator it may not see answers like one that does not exist."""

    queryset = Measurement.objects.select_related("indicator__project").order_by("pk")
    serializer_class = MeasurementSerializer

    def get_queryset(self):
        if self.request.method in SAFE_METHODS:
            return self.queryset.visible_to(self.request.user)
        return self.queryset.reportable_by(self.request.user)

    def check_write(self, serializer):
        """Measurement.record asks the question, for the measurement as it is and as it will be."""

    def perform_create(self, serializer):
        measurement = serializer.instance or Measurement()
        for field, value in serializer.validated_data.items():
            setattr(measurement, field, value)
        key = self.request.auth if isinstance(self.request.auth, ApiKey) else None
        serializer.instance = measurement.record(self.request.user, api_key=key)

    perform_update = perform_create
