"""The API's representations and input validation.

Projects are read through `project_rows()`: one SQL query builds each project with its partners, places, lines and
indicators (latest measurement included) as JSON in PostgreSQL, whatever the page size. List and detail both use
it, so they cannot drift; `ProjectSerializer` documents that shape for the OpenAPI schema and validates writes.
Writes call the model's own rules (`full_clean()`, which includes the database constraints' Spanish messages).
Lists read each project's document as `project_documents()` stored it, built by `project_rows()` when it is missing
or out of date.
"""

import functools
import hashlib
from decimal import Decimal
from pathlib import Path

import orjson
from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import F, OuterRef, Subquery, TextField
from django.db.models.functions import Cast, Coalesce, JSONObject
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from axes.models import Axis, Line

from . import privacy
from .models import (
    BreakdownPart,
    Commitment,
    Disbursement,
    ExpenseProof,
    Indicator,
    Measurement,
    Municipality,
    Organization,
    Participation,
    Period,
    Population,
    Project,
    ProjectDocument,
    ProjectVersion,
    Region,
    Sector,
    is_staff_user,
    leverage,
    money_by_sector,
    sector_expression,
)


def model_errors(error):
    """A Django ValidationError as DRF field errors (the model's non-field errors under `non_field_errors`)."""
    from django.core.exceptions import NON_FIELD_ERRORS
    from rest_framework.settings import api_settings

    errors = serializers.as_serializer_error(error)
    if NON_FIELD_ERRORS in errors:
        errors[api_settings.NON_FIELD_ERRORS_KEY] = errors.pop(NON_FIELD_ERRORS)
    return serializers.ValidationError(errors)


def as_text(name):
    return Cast(name, TextField())


def project_rows(queryset, detail=False, staff=False, window=None):
    """Plain dicts ready for JSON, one per project of `queryset` (in its order; `window` a slice), in one query."""
    rows = project_values(queryset, detail, staff)
    if window is not None:
        rows = rows[window]
    return [shape(row) for row in rows]


def project_values(queryset, detail=False, staff=False, extra=()):
    """The values query of project_rows(): each project's columns with its lines, places, partners and indicators
    read as arrays and JSON in the same statement (and `extra`, names of the queryset's own annotations)."""
    partners = (
        Participation.objects.filter(project=OuterRef("pk"))
        .order_by("role", F("amount").desc(nulls_last=True), "pk")
        .values(
            json=JSONObject(
                organization=F("organization__slug"),
                name=F("organization__name"),
                role=F("role"),
                amount=as_text("amount"),
                contribution_kind=F("contribution_kind"),
                sector=sector_expression("organization__"),
            )
        )
    )
    latest = Measurement.objects.filter(indicator=OuterRef("pk")).order_by("-date")
    indicators = (
        Indicator.objects.filter(project=OuterRef("pk"))
        .order_by("order", "pk")
        .values(
            json=JSONObject(
                id=F("pk"),
                name=F("name"),
                unit=F("unit"),
                unit_kind=F("unit_kind"),
                baseline=as_text("baseline"),
                target=as_text("target"),
                direction=F("direction"),
                frequency=F("frequency"),
                latest_value=Subquery(latest.values(v=as_text("value"))[:1]),
                latest_date=Subquery(latest.values("date")[:1]),
            )
        )
    )
    places = Project.municipalities.through.objects.filter(project=OuterRef("pk")).order_by("municipality__inegi_code")
    lines = Project.lines.through.objects.filter(project=OuterRef("pk")).order_by("line__number")
    related = ["axis", *Project.LINKS, "description", "internal_notes"]  # read below, or only for some callers
    fields = (
        [name for name in Project.EDITABLE_FIELDS if name not in related]
        + ["slug", "publication_state", "total_amount", "ficosec_amount", "published_at", "updated_at", "version"]
        + (["description"] if detail else [])
        + (["internal_notes"] if staff else [])
    )
    rows = queryset.annotate(
        axis_slug=F("axis__slug"),
        line_slugs=ArraySubquery(lines.values("line__slug")),
        municipality_codes=ArraySubquery(places.values("municipality__inegi_code")),
        region_slugs=ArraySubquery(
            places.exclude(municipality__region=None).values("municipality__region__slug").distinct()
        ),
        partner_list=ArraySubquery(partners),
        indicator_list=ArraySubquery(indicators),
    ).values(
        *fields,
        "axis_slug",
        "line_slugs",
        "municipality_codes",
        "region_slugs",
        "partner_list",
        "indicator_list",
        *extra,
    )
    return rows


# --- Stored documents -----------------------------------------------------------------------------------------------
# A list of projects is the concatenation of their JSON documents as stored (ProjectDocument), each served while its
# project's version (ProjectVersion, which PostgreSQL moves with every change a document reads: migration 0020) is
# still the one it was built at. A missing or out-of-date one is built by project_rows() with the version read in the
# same statement, and stored for the next caller.


def project_documents(queryset, staff=False, window=None, fields=()):
    """[(*fields, document)] for the projects of `queryset` (in its order; `window` a slice): each project's `fields`
    as values and its list document as JSON text (shape() of project_rows(), for a staff caller or the public, in
    the active language). One query when every document is stored; two more build and store the others."""
    variant, build = f"{'staff' if staff else 'public'}:{get_language()}", document_build()
    version = Coalesce(Subquery(ProjectVersion.objects.filter(project=OuterRef("pk")).values("version")), 0)
    stored = ProjectDocument.objects.filter(
        project=OuterRef("pk"), variant=variant, build=build, version=OuterRef("document_version")
    )
    rows = queryset.annotate(document_version=version, document=Subquery(stored.values("body")))
    rows = rows.values_list(*fields, "pk", "document")
    rows = list(rows[window] if window is not None else rows)
    missing = [row[-2] for row in rows if row[-1] is None]
    if not missing:
        return [(*row[:-2], row[-1]) for row in rows]
    built = {}
    fresh = Project.objects.filter(pk__in=missing).annotate(document_version=version)
    for row in project_values(fresh, staff=staff, extra=("pk", "document_version")):
        built[row.pop("pk")] = (row.pop("document_version"), orjson.dumps(shape(row), default=str).decode())
    ids = sorted(built)  # stored in id order: two callers storing the same documents never deadlock
    with connection.cursor() as cursor:
        cursor.execute(STORE, [variant, build, ids, [built[pk][0] for pk in ids], [built[pk][1] for pk in ids]])
    return [  # (a project deleted between the two statements is left out)
        (*row[:-2], row[-1] if row[-1] is not None else built[row[-2]][1])
        for row in rows
        if row[-1] is not None or row[-2] in built
    ]


STORE = f"""
INSERT INTO {ProjectDocument._meta.db_table} AS stored (variant, build, project_id, version, body)
SELECT %s, %s, * FROM unnest(%s::bigint[], %s::bigint[], %s::text[])
    ON CONFLICT (project_id, variant)
    DO UPDATE SET build = EXCLUDED.build, version = EXCLUDED.version, body = EXCLUDED.body
    WHERE (stored.build, stored.version) IS DISTINCT FROM (EXCLUDED.build, EXCLUDED.version)
"""


def document_build():
    """A digest of what writes a document besides the data: the projects app's code and translations, and the
    settings it reads (the small-cell threshold, the address prefix). A document is never served by another build."""
    return hashlib.sha256(
        f"{_code()}:{settings.SMALL_CELL_THRESHOLD}:{settings.FORCE_SCRIPT_NAME}".encode()
    ).hexdigest()[:16]


@functools.cache
def _code():
    digest = hashlib.sha256()
    app = Path(__file__).parent
    for path in sorted([*app.rglob("*.py"), *Path(settings.LOCALE_PATHS[0]).rglob("*.mo")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def shape(row):
    """The public JSON shape of one project row (ISO dates, money as decimal strings)."""
    total, ficosec = row.pop("total_amount"), row.pop("ficosec_amount")
    ratio = leverage(total, ficosec)
    out = {key: row[key] for key in ("code", "slug", "title", "summary")}
    out.update(
        url=Project.url_for(row["slug"]),
        axis=row["axis_slug"],
        lines=row["line_slugs"],
        municipalities=row["municipality_codes"],
        regions=sorted(set(row["region_slugs"])),
        status=row["status"],
        publication_state=row["publication_state"],
        prevention_level=row["prevention_level"],
        populations=row["populations"],
        planned_start=iso(row["planned_start"]),
        planned_end=iso(row["planned_end"]),
        actual_start=iso(row["actual_start"]),
        actual_end=iso(row["actual_end"]),
        beneficiaries_target=row["beneficiaries_target"],
        beneficiaries_reached=row["beneficiaries_reached"],
        evidence_level=row["evidence_level"],
        evaluation_design=row["evaluation_design"],
        award_type=row["award_type"],
        call_name=row["call_name"],
        conflict_of_interest=row["conflict_of_interest"],
        total_amount=None if total is None else f"{total:.2f}",
        ficosec_amount=None if ficosec is None else f"{ficosec:.2f}",
        leverage=None if ratio is None else f"{ratio:.4f}",
        money_by_sector=[
            {"sector": sector, "amount": f"{amount:.2f}"}
            for sector, amount in money_by_sector((p["sector"], p["amount"]) for p in row["partner_list"])
        ],
        partners=[
            {**partner, "amount": None if partner["amount"] is None else f"{Decimal(partner['amount']):.2f}"}
            for partner in row["partner_list"]
        ],
        indicators=row["indicator_list"],
        published_at=iso(row["published_at"]),
        updated_at=iso(row["updated_at"]),
        version=row["version"],
    )
    if "description" in row:
        out["description"] = row["description"]
    if "internal_notes" in row:
        out["internal_notes"] = row["internal_notes"]
    else:
        public_counts(out)
    return out


def public_counts(out):
    """Counts of people through the small-cell rule (projects.privacy) for anyone but staff."""
    for key in ("beneficiaries_target", "beneficiaries_reached"):
        out[key] = privacy.suppress(out[key])
    for indicator in out["indicators"]:
        if indicator.get("unit_kind") == Indicator.UnitKind.PEOPLE and indicator.get("latest_value") is not None:
            shown = privacy.suppress(Decimal(indicator["latest_value"]))
            indicator["latest_value"] = shown if isinstance(shown, str) else indicator["latest_value"]


def iso(value):
    return value.isoformat() if value else None


class ModelRulesMixin:
    """The one validation path of every write serializer: the model's full_clean() (validators and database
    constraints, in Spanish) on the would-be instance; DRF's ModelSerializer does not call it by itself."""

    clean_exclude = []

    def validate(self, data):
        instance = self.instance or self.Meta.model()
        for field, value in data.items():
            if not instance._meta.get_field(field).many_to_many:  # links are set after the save
                setattr(instance, field, value)
        try:
            instance.full_clean(exclude=self.clean_exclude)
        except DjangoValidationError as error:
            raise model_errors(error) from error
        return data


# --- Documentation of the project shape (and the nested parts) -------------------------------------------------


class PartnerSerializer(serializers.Serializer):
    organization = serializers.SlugField(help_text="Slug de la organización")
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Participation.Role.choices)
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, allow_null=True, help_text="MXN; null: no publicado"
    )
    contribution_kind = serializers.ChoiceField(choices=Participation.ContributionKind.choices)
    sector = serializers.ChoiceField(choices=Sector.choices)


class SectorAmountSerializer(serializers.Serializer):
    sector = serializers.ChoiceField(choices=Sector.choices)
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


# Counts of people go through the small-cell rule (projects.privacy) for the public: a figure under the threshold is
# the text "menos de 10" ("fewer than 10" in English). The schema says so, so that clients expect it.
SUPPRESSED = {
    "type": "string",
    "pattern": r"^\D",
    "description": "Cifra suprimida por privacidad (p. ej. «menos de 10»).",
}


@extend_schema_field(
    {"anyOf": [{"type": "string", "format": "decimal", "pattern": r"^-?\d{0,12}(?:\.\d{0,4})?$"}, SUPPRESSED]}
)
class PeopleDecimalField(serializers.DecimalField):
    """A decimal figure that may be a count of people, shown suppressed to the public when small."""


@extend_schema_field({"anyOf": [{"type": "integer", "minimum": 0}, SUPPRESSED]})
class PeopleCountField(serializers.IntegerField):
    """A count of people, shown suppressed to the public when small."""


class IndicatorSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    unit = serializers.CharField()
    baseline = serializers.DecimalField(max_digits=16, decimal_places=4, allow_null=True)
    target = serializers.DecimalField(max_digits=16, decimal_places=4, allow_null=True)
    direction = serializers.ChoiceField(choices=Indicator.Direction.choices)
    frequency = serializers.ChoiceField(choices=Indicator.Frequency.choices)
    latest_value = PeopleDecimalField(max_digits=16, decimal_places=4, allow_null=True)
    latest_date = serializers.DateField(allow_null=True)


class ProjectSerializer(ModelRulesMixin, serializers.ModelSerializer):
    """A project as the API returns it (list items and detail share it; detail adds `description`)."""

    url = serializers.CharField(read_only=True)
    axis = serializers.SlugRelatedField(slug_field="slug", queryset=Axis.objects.all(), allow_null=True, required=False)
    lines = serializers.SlugRelatedField(slug_field="slug", queryset=Line.objects.all(), many=True, required=False)
    municipalities = serializers.SlugRelatedField(
        slug_field="inegi_code", queryset=Municipality.objects.all(), many=True, required=False
    )
    regions = serializers.ListField(child=serializers.SlugField(), read_only=True)
    populations = serializers.ListField(child=serializers.ChoiceField(choices=Population.choices), required=False)
    total_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, allow_null=True)
    ficosec_amount = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True, allow_null=True)
    leverage = serializers.DecimalField(max_digits=20, decimal_places=4, read_only=True, allow_null=True)
    beneficiaries_target = PeopleCountField(min_value=0, allow_null=True, required=False)
    beneficiaries_reached = PeopleCountField(min_value=0, allow_null=True, required=False)
    money_by_sector = SectorAmountSerializer(many=True, read_only=True)
    partners = PartnerSerializer(many=True, read_only=True)
    indicators = IndicatorSummarySerializer(many=True, read_only=True)
    internal_notes = serializers.CharField(
        required=False, allow_blank=True, help_text="Solo para el personal; nunca público."
    )

    class Meta:
        model = Project
        fields = [
            *Project.EDITABLE_FIELDS,
            "slug",
            "url",
            "regions",
            "publication_state",
            "total_amount",
            "ficosec_amount",
            "leverage",
            "money_by_sector",
            "partners",
            "indicators",
            "published_at",
            "updated_at",
            "version",
        ]
        read_only_fields = ["slug", "publication_state", "published_at", "updated_at", "version"]
        extra_kwargs = {"description": {"required": False}, "code": {"validators": []}}

    clean_exclude = ["search_vector", "slug"]  # generated, and made from the title on the first save

    def save_project(self, user, expected_version=None):
        """Create, or update through the version check (StaleVersion when stale): Project.save_edit, as the staff
        page and the importer do."""
        data = dict(self.validated_data)
        links = {name: data.pop(name) for name in Project.LINKS if name in data}
        project = self.instance or Project()
        for field, value in data.items():
            setattr(project, field, value)
        return project.save_edit(user, expected_version, links)


class TransitionSerializer(serializers.Serializer):
    to_state = serializers.ChoiceField(choices=Project.Publication.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API."""

    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)


# --- Reference data and the other resources ----------------------------------------------------------------------


class AxisSerializer(serializers.ModelSerializer):
    class Meta:
        model = Axis
        fields = ["number", "slug", "name", "short_name", "description", "colour"]


class LineSerializer(serializers.ModelSerializer):
    class Meta:
        model = Line
        fields = ["number", "slug", "name", "short_name", "description"]


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["slug", "name"]


class MunicipalitySerializer(serializers.ModelSerializer):
    region = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Municipality
        fields = ["inegi_code", "slug", "name", "region"]


class OrganizationSerializer(serializers.ModelSerializer):
    municipality = serializers.SlugRelatedField(slug_field="inegi_code", read_only=True, allow_null=True)
    sector = serializers.ChoiceField(choices=Sector.choices, read_only=True)

    class Meta:
        model = Organization
        fields = [
            "slug",
            "name",
            "acronym",
            "kind",
            "sector",
            "rfc",
            "cluni",
            "is_donataria",
            "website",
            "municipality",
            "description",
            "is_active",
        ]


class ParticipationSerializer(ModelRulesMixin, serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="code", queryset=Project.objects.all())
    organization = serializers.SlugRelatedField(slug_field="slug", queryset=Organization.objects.all())

    class Meta:
        model = Participation
        fields = ["id", "project", "organization", "role", "amount", "contribution_kind", "note"]
        validators = []  # the unique (project, organization, role) rule is checked by full_clean, in Spanish


class IndicatorSerializer(ModelRulesMixin, serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="code", queryset=Project.objects.all())

    class Meta:
        model = Indicator
        fields = ["id", "project", "name", "unit", "unit_kind", "baseline", "target", "direction", "frequency", "order"]


class VisibleIndicatorField(serializers.PrimaryKeyRelatedField):
    """An indicator of a project the caller may see: any other answers exactly like one that does not exist."""

    def get_queryset(self):
        return Indicator.objects.visible_to(self.context["request"].user)  # `queryset` names the model for the schema


class MeasurementSerializer(serializers.ModelSerializer):
    """Validated by Measurement.record (who may report, then the model's rules), which the viewset calls."""

    indicator = VisibleIndicatorField(queryset=Indicator.objects.all())
    project = serializers.CharField(source="indicator.project.code", read_only=True)
    value = PeopleDecimalField(max_digits=16, decimal_places=4, label="Valor")

    class Meta:
        model = Measurement
        fields = [
            "id",
            "indicator",
            "project",
            "date",
            "value",
            "note",
            "source",
            "document_url",
            "breakdown",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators = []

    breakdown = serializers.SerializerMethodField()

    def get_breakdown(self, measurement) -> list[dict]:
        parts = [(p.dimension, p.category, p.value) for p in measurement.breakdown.all()]
        if not self.public or not measurement.indicator.counts_people:
            return [{"dimension": d, "category": c, "value": f"{v:f}"} for d, c, v in parts]
        out = []
        for dimension in dict.fromkeys(d for d, _c, _v in parts):
            cells = {c: v for d, c, v in parts if d == dimension}
            shown, _total = privacy.suppress_cells(cells, measurement.value)
            out += [{"dimension": dimension, "category": c, "value": str(v)} for c, v in shown.items()]
        return out

    @property
    def public(self):
        request = self.context.get("request")
        return request is None or not is_staff_user(request.user)

    def to_representation(self, measurement):
        data = super().to_representation(measurement)
        if self.public and measurement.indicator.counts_people and privacy.is_small(measurement.value):
            data["value"] = privacy.label()
        return data


# --- Money (projects/models/money.py) ----------------------------------------------------------------------------


class CommitmentSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.code", read_only=True)
    organization = serializers.CharField(source="organization.slug", read_only=True)
    approved = serializers.SerializerMethodField()

    class Meta:
        model = Commitment
        fields = [
            "id",
            "project",
            "organization",
            "amount",
            "date",
            "kind",
            "in_kind_description",
            "valuation_method",
            "agreement_reference",
            "approved",
        ]

    def get_approved(self, obj) -> bool:
        return obj.approved_at is not None


class DisbursementSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="commitment.project.code", read_only=True)
    funder = serializers.CharField(source="commitment.organization.slug", read_only=True)
    recipient = serializers.CharField(source="recipient.slug", read_only=True)
    approved = serializers.SerializerMethodField()

    class Meta:
        model = Disbursement
        fields = ["id", "commitment", "project", "funder", "recipient", "tranche", "amount", "planned_date"]
        fields += ["actual_date", "approved"]

    def get_approved(self, obj) -> bool:
        return obj.approved_at is not None


class ChargeSerializer(serializers.Serializer):
    project = serializers.CharField(source="disbursement.commitment.project.code")
    disbursement = serializers.IntegerField(source="disbursement_id")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


class ExpenseProofSerializer(serializers.ModelSerializer):
    """A CFDI as read from its XML, with where it is charged. Written by uploading the file (ProofUploadSerializer)."""

    charges = ChargeSerializer(many=True, read_only=True)
    in_review = serializers.SerializerMethodField()

    class Meta:
        model = ExpenseProof
        fields = ["id", "uuid", "version", "issuer_rfc", "issuer_name", "receiver_rfc", "issued_on", "total"]
        fields += ["currency", "serie", "folio", "charged", "review_reason", "in_review", "charges", "created_at"]

    def get_in_review(self, obj) -> bool:
        return bool(obj.review_reason) and obj.reviewed_at is None


class ProofUploadSerializer(serializers.Serializer):
    xml = serializers.FileField(help_text="El archivo XML del CFDI timbrado (3.3 o 4.0).")
    disbursement = serializers.IntegerField(help_text="La ministración a la que se carga.")
    amount = serializers.DecimalField(
        max_digits=16, decimal_places=2, min_value=Decimal("0.01"), required=False, allow_null=True
    )


class TextUUIDField(serializers.UUIDField):
    """A folio fiscal written as text: DRF's UUIDField would also take a number (even `false`, as UUID 0)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class UuidCheckSerializer(serializers.Serializer):
    uuids = serializers.ListField(child=TextUUIDField(), min_length=1, max_length=500)


# --- Results: periods with targets and narratives, breakdowns of a measurement ------------------------------------


class PeriodSerializer(ModelRulesMixin, serializers.ModelSerializer):
    indicator = serializers.PrimaryKeyRelatedField(queryset=Indicator.objects.all())

    class Meta:
        model = Period
        fields = ["id", "indicator", "start", "end", "target", "narrative", "difficulties", "updated_at"]
        read_only_fields = ["updated_at"]
        validators = []  # the unique (indicator, start) rule is checked by full_clean, in Spanish


class BreakdownPartSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(choices=BreakdownPart.Dimension.choices)
    category = serializers.CharField(max_length=20)
    value = serializers.DecimalField(max_digits=16, decimal_places=4)


class BreakdownSerializer(serializers.Serializer):
    """The whole breakdown of a measurement, replaced at once; the parts of each dimension add up to its value."""

    parts = BreakdownPartSerializer(many=True)
