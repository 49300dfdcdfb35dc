"""Read-only API of governance (issue 15): award decisions (with the conflict flag, recusals and the declarations
relating to them) and calls with their numbers. Visibility is the projects': a visitor reads the decisions on
published projects only; the names of organizations not selected in a call are never exposed."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers

from ..models import AwardDecision, Recusal
from ..views.governance import calls_with_numbers
from .viewsets import ERRORS, ApiViewSet


class RecusalSerializer(serializers.ModelSerializer):
    member = serializers.CharField(source="member.name")

    class Meta:
        model = Recusal
        fields = ["member", "reason"]


class AwardDecisionSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.code")
    project_title = serializers.CharField(source="project.title")
    date = serializers.DateField(source="session.held_on")
    body = serializers.CharField(source="session.body")
    call = serializers.CharField(source="call.title", default=None, allow_null=True)
    recusals = RecusalSerializer(many=True)
    unresolved_conflict = serializers.BooleanField()

    class Meta:
        model = AwardDecision
        fields = [
            "id",
            "project",
            "project_title",
            "date",
            "body",
            "session",
            "method",
            "call",
            "outcome",
            "amount",
            "votes_for",
            "votes_against",
            "votes_abstained",
            "recusals",
            "unresolved_conflict",
        ]


class CallSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    opens_on = serializers.DateField()
    closes_on = serializers.DateField()
    budget = serializers.DecimalField(max_digits=16, decimal_places=2)
    terms_url = serializers.CharField()
    applied = serializers.IntegerField()
    eligible = serializers.IntegerField()
    selected = serializers.SerializerMethodField()

    def get_selected(self, call) -> list[str]:
        return [application.organization.name for application in call.selected]


@extend_schema_view(
    list=extend_schema(responses={200: AwardDecisionSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: AwardDecisionSerializer} | ERRORS),
)
class AwardDecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = AwardDecisionSerializer
    queryset = AwardDecision.objects.all()

    def get_queryset(self):
        return (
            AwardDecision.objects.visible_to(self.request.user)
            .with_conflict_flag()
            .select_related("project", "session", "call")
            .prefetch_related(Prefetch("recusals", queryset=Recusal.objects.select_related("member")))
            .order_by("-session__held_on", "-pk")
        )


@extend_schema_view(
    list=extend_schema(responses={200: CallSerializer(many=True)} | ERRORS),
    retrieve=extend_schema(responses={200: CallSerializer} | ERRORS),
)
class CallViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = CallSerializer
    queryset = calls_with_numbers().order_by("-opens_on", "pk")

    def get_queryset(self):
        return calls_with_numbers().order_by("-opens_on", "pk")
