"""The money endpoints: commitments and disbursements (public for published projects), CFDI proofs (staff and the
owning partner; upload with an API key), the accountability figures, and the co-funders' yes/no check of folios
fiscales. Every rule is the model's (visible_to, Commitment.disburse, ExpenseProof.record) or accountability's."""

import logging
from decimal import Decimal

import django_filters
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import accountability
from ..models import AlreadyCharged, ApiKey, Charge, Commitment, Disbursement, ExpenseProof, Project, is_staff_user
from ..serializers import (
    CommitmentSerializer,
    DisbursementSerializer,
    ExpenseProofSerializer,
    ProofUploadSerializer,
    UuidCheckSerializer,
)
from .access import CallerThrottle, Conflict
from .viewsets import ERRORS, WRITE_ERRORS, ApiViewSet

log = logging.getLogger("ficosec.cofunder")


class LedgerFilter(django_filters.FilterSet):
    """The same filters for commitments, disbursements and proofs: project code, organization slug, year."""

    project = django_filters.CharFilter(method="filter_project", label=_("Clave del proyecto"))
    organization = django_filters.CharFilter(method="filter_organization", label=_("Organización (slug)"))
    year = django_filters.NumberFilter(method="filter_year", label=_("Año"), min_value=2000, max_value=2100)

    PATHS = {
        Commitment: ("project", ["organization"], "date"),
        Disbursement: ("commitment__project", ["commitment__organization", "recipient"], "actual_date"),
        ExpenseProof: ("charges__disbursement__commitment__project", ["charges__disbursement__recipient"], "issued_on"),
    }

    def paths(self):
        return self.PATHS[self.queryset.model]

    def filter_project(self, queryset, name, value):
        return queryset.filter(**{f"{self.paths()[0]}__code": value}).distinct()

    def filter_organization(self, queryset, name, value):
        from django.db.models import Q

        condition = Q()
        for path in self.paths()[1]:
            condition |= Q(**{f"{path}__slug": value})
        return queryset.filter(condition).distinct()

    def filter_year(self, queryset, name, value):
        return queryset.filter(**{f"{self.paths()[2]}__year": value})


class LedgerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    def get_queryset(self):
        filterset = LedgerFilter(
            self.request.query_params, queryset=self.queryset.model.objects.visible_to(self.request.user)
        )
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        return self.related(filterset.qs).order_by("pk")


@extend_schema_view(
    list=extend_schema(responses={200: CommitmentSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: CommitmentSerializer} | ERRORS),
)
class CommitmentViewSet(LedgerViewSet):
    """Commitments: who committed how much to a project, when, in cash or in kind. Public for published projects."""

    queryset = Commitment.objects.all()
    serializer_class = CommitmentSerializer

    def related(self, queryset):
        return queryset.select_related("project", "organization")


@extend_schema_view(
    list=extend_schema(responses={200: DisbursementSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: DisbursementSerializer} | ERRORS),
)
class DisbursementViewSet(LedgerViewSet):
    """Disbursements (ministraciones): tranche n of a commitment paid to an implementing organization."""

    queryset = Disbursement.objects.all()
    serializer_class = DisbursementSerializer

    def related(self, queryset):
        return queryset.select_related("commitment__project", "commitment__organization", "recipient")


class CofunderThrottle(CallerThrottle):
    """The co-funders' check has its own, smaller budget: it answers about invoices, so it must not be scraped."""

    scope = "cofunder"
    RATE = "60/hour"

    def get_rate(self):
        return self.RATE

    def get_cache_key(self, request, view):
        return super().get_cache_key(request, view).replace("throttle:api:", "throttle:cofunder:")


@extend_schema_view(
    list=extend_schema(responses={200: ExpenseProofSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: ExpenseProofSerializer} | ERRORS),
)
class ProofViewSet(mixins.CreateModelMixin, LedgerViewSet):
    """CFDI proofs of expense: staff see them all, a partner key those of its own projects; never the public.
    Upload a CFDI as multipart (`xml`, `disbursement`, optional `amount`)."""

    queryset = ExpenseProof.objects.all()
    serializer_class = ExpenseProofSerializer
    parser_classes = [MultiPartParser, FormParser]
    rule_checked_actions = ("check",)

    def related(self, queryset):
        charges = Charge.objects.select_related("disbursement__commitment__project").order_by("pk")
        return queryset.prefetch_related(Prefetch("charges", queryset=charges))

    @extend_schema(request=ProofUploadSerializer, responses={201: ExpenseProofSerializer} | WRITE_ERRORS)
    def create(self, request):
        upload = ProofUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        disbursement = get_object_or_404(
            Disbursement.objects.filter(commitment__project__in=self.writable_projects()), pk=data["disbursement"]
        )
        key = request.auth if isinstance(request.auth, ApiKey) else None
        try:
            proof = ExpenseProof.record(
                data["xml"].read(2 * 1024 * 1024 + 1),
                disbursement,
                data.get("amount"),
                user=request.user if getattr(request.user, "pk", None) else None,
                api_key=key,
                filename=data["xml"].name,
            )
        except AlreadyCharged as error:
            raise Conflict(self.duplicate_detail(error.proof)) from None
        proof = self.related(ExpenseProof.objects.filter(pk=proof.pk)).get()
        return Response(ExpenseProofSerializer(proof).data, status=status.HTTP_201_CREATED)

    def writable_projects(self):
        user = self.request.user
        if is_staff_user(user):
            return Project.objects.values("pk")
        return Project.objects.of_partner(user).values("pk")

    def duplicate_detail(self, proof):
        if not is_staff_user(self.request.user):
            return _("Este CFDI ya está registrado en el portal y no puede cargarse de nuevo.")
        codes = sorted(
            {
                c.disbursement.commitment.project.code
                for c in self.related(ExpenseProof.objects.filter(pk=proof.pk)).get().charges.all()
            }
        )
        return _("Este CFDI ya está registrado: cargado a %(codes)s por %(amount)s de un total de %(total)s.") % {
            "codes": ", ".join(codes),
            "amount": f"${proof.charged:,.2f}",
            "total": f"${proof.total:,.2f}",
        }

    @extend_schema(
        request=UuidCheckSerializer,
        responses={200: {"type": "object", "additionalProperties": {"type": "boolean"}}} | ERRORS,
        description="Para cofinanciadores: ¿cuáles de estos folios fiscales ya están cargados aquí? Sí/no por UUID.",
    )
    @action(detail=False, methods=["post"], throttle_classes=[CofunderThrottle], parser_classes=[JSONParser])
    def check(self, request):
        if not isinstance(request.auth, ApiKey) and not is_staff_user(request.user):
            raise exceptions.PermissionDenied(_("Esta consulta requiere una llave de API de cofinanciador."))
        payload = UuidCheckSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        asked = [str(uuid).upper() for uuid in payload.validated_data["uuids"]]
        found = {str(u).upper() for u in ExpenseProof.objects.filter(uuid__in=asked).values_list("uuid", flat=True)}
        log.info(
            "cofunder check by %s: %d asked, %d already charged",
            f"key:{request.auth.prefix}" if isinstance(request.auth, ApiKey) else f"user:{request.user.pk}",
            len(asked),
            len(found),
        )
        return Response({uuid: uuid in found for uuid in asked})


def as_json(value):
    return str(value) if isinstance(value, Decimal) else value


@extend_schema(
    parameters=[
        OpenApiParameter("anio", {"type": "integer", "minimum": 2000, "maximum": 2100}, description="Año (opcional)")
    ],
    responses={200: {"type": "object"}} | ERRORS,
)
class FiguresView(APIView):
    """The accountability figures of "¿A dónde va el dinero?" (amounts as decimal strings, MXN): one object, not a
    list, so a plain view rather than a viewset."""

    authentication_classes = ApiViewSet.authentication_classes
    permission_classes = ApiViewSet.permission_classes
    throttle_classes = ApiViewSet.throttle_classes
    renderer_classes = ApiViewSet.renderer_classes[:2]
    write_model = Commitment
    rule_checked_actions = ()

    def get(self, request):
        value = request.query_params.get("anio")  # given, it is a year: empty or "²" is refused as the schema says
        if value is not None and not (value.isascii() and value.isdigit() and 2000 <= int(value) <= 2100):
            raise exceptions.ValidationError({"anio": [_("Año inválido.")]})
        data = accountability.figures(int(value) if value else None)
        return Response(
            {
                "year": data["year"],
                "rows": [{k: as_json(v) for k, v in row.items()} for row in data["rows"]],
                "reconciliation": [{k: as_json(v) for k, v in row.items()} for row in data["reconciliation"]],
            }
        )
