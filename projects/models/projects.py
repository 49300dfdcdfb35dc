"""Projects, who sees them, and their money by participating organization."""

import functools
import re
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.aggregates import ArrayAgg, StringAgg
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce, Concat
from django.db.models.signals import m2m_changed
from django.dispatch import receiver
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ficosec.history import history_user

from .common import PROJECT_CODE_PATTERN, SEARCH_CONFIG, RichTextField, code_validator, constraint_message
from .editing import Editing
from .organizations import Organization, unique_slug
from .places import Municipality
from .workflow import Publication, Workflow

# --- Projects -------------------------------------------------------------------------------------------------

# What the catalogue counts and sums (projects.facets reads them to build its index), in the project_facts index.
FACT_COLUMNS = [
    "id",
    "axis_id",
    "status",
    "prevention_level",
    "populations",
    "award_type",
    "evidence_level",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "total_amount",
    "ficosec_amount",
    "beneficiaries_reached",
    "line_ids",
    "municipality_ids",
    "region_ids",
    "organization_ids",
    "implementer_ids",
    "published_at",  # the default order: the index lists the newest first without asking the database to sort
]
# The columns ProjectQuerySet.refresh_derived() writes (besides updated_at); never typed.
LINKED_ID_COLUMNS = ["line_ids", "municipality_ids", "region_ids", "organization_ids", "implementer_ids"]
DERIVED_COLUMNS = ["total_amount", "ficosec_amount", "search_places", "search_organizations", *LINKED_ID_COLUMNS]


class Population(models.TextChoices):
    CHILDREN = "children", _("Niñas y niños")
    ADOLESCENTS = "adolescents", _("Adolescentes")
    YOUTH = "youth", _("Jóvenes")
    WOMEN = "women", _("Mujeres")
    FAMILIES = "families", _("Familias")
    MIGRANTS = "migrants", _("Personas migrantes")
    DETAINED = "detained", _("Personas privadas de la libertad o adolescentes en conflicto con la ley")
    POLICE = "police", _("Policías y operadores de justicia")
    COMMUNITY = "community", _("Comunidad en general")


def partner_organization_ids(user):
    """The organizations a caller speaks for: a partner member's organizations, or an API key's organization."""
    if not user.is_authenticated:
        return []
    if hasattr(user, "organization_ids"):
        return user.organization_ids
    if not hasattr(user, "_partner_organization_ids"):
        user._partner_organization_ids = list(user.organizations.values_list("pk", flat=True))
    return user._partner_organization_ids


def own_project_ids(user):
    """The ids of the projects in which a partner member's (or an API key's) organizations take part."""
    return Participation.objects.filter(organization_id__in=partner_organization_ids(user)).values("project_id")


def is_staff_user(user):
    """Editors, coordinators and superusers see every project, whatever its state."""
    return user.has_perm("projects.view_project")


# A search matching more projects than this is too broad for relevance to mean much: lists show it newest first and
# count it as "more than" this, so that no request makes PostgreSQL rank or count every project.
BROAD_SEARCH = 10_000


def search_vector(organizations, places):
    """What a project's text says, for search (its `search_vector` column): the title first, then its code, summary,
    organizations and places, then its description. `organizations` and `places` name the derived columns, or are
    expressions giving them (projects.models.Project.matched_since reads a past version with today's)."""
    return (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("code", "summary", weight="B", config=SEARCH_CONFIG)
        + SearchVector(organizations, places, weight="B", config=SEARCH_CONFIG)
        + SearchVector("description", weight="C", config=SEARCH_CONFIG)
    )


def search_query(query):
    """The search of a visitor's words: Spanish full-text search that ignores accents and stems words. The websearch
    query (phrases, OR, -exclusions) is OR-ed with a prefix match of every stemmed word, because Spanish stems differ
    between forms ("joven" stems to "jov", "jóvenes" to "joven")."""
    from django.contrib.postgres.search import SearchQuery

    prefixes = search_prefixes(query)
    found = SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
    if prefixes:
        found |= SearchQuery(prefixes, config=SEARCH_CONFIG, search_type="raw")
    return found


def search_prefixes(query):
    """The prefix half of search_query: every word of the query, stemmed and matched as a prefix, all required."""
    return " & ".join(f"{word}:*" for word in re.findall(r"\w+", query)[:12])


@functools.cache
def project_history():
    """The historical model of projects (simple_history's `Project.history` builds a manager class on each access)."""
    return Project.history.model


class ProjectQuerySet(models.QuerySet):
    def published(self):
        return self.filter(publication_state=Project.Publication.PUBLISHED)

    def visible_to(self, user):
        """The one rule for who sees which project: used by pages, search, exports, the sitemap and the API."""
        if is_staff_user(user):
            return self
        if not partner_organization_ids(user):
            return self.published()
        return self.filter(Q(publication_state=Project.Publication.PUBLISHED) | Q(pk__in=own_project_ids(user)))

    def of_partner(self, user):
        """The projects in which the caller's organizations take part, whatever their state."""
        return self.filter(pk__in=own_project_ids(user))

    def reportable_by(self, user):
        """Projects whose indicators this caller may measure: staff everywhere, partners on their own projects."""
        if not user.has_perm("projects.add_measurement"):
            return self.none()
        if is_staff_user(user):
            return self
        return self.of_partner(user).exclude(publication_state=Project.Publication.ARCHIVED)

    def search(self, query):
        """Spanish full-text search that ignores accents and stems words, ranked by relevance (search_query)."""
        from django.contrib.postgres.search import SearchRank

        words = search_query(query)
        return self.filter(search_vector=words).annotate(rank=SearchRank(F("search_vector"), words))

    def matched_since(self, query, since):
        """{id: {relevance}}: how each of these projects' text answered the search (its relevance, as search()
        ranks it, or None when it did not match) in every version from the one current at `since` (the newest saved
        with an `updated_at` no later) to the newest (its history, which every save writes), and as it is now. A
        project with no version saved at or before `since` (written without history, as a bulk load does) is left
        out: what its text said then is not known."""
        from django.contrib.postgres.search import SearchRank

        historical = project_history()
        known = historical.objects.filter(id=models.OuterRef("id"), updated_at__lte=since)
        at_since = known.order_by("-updated_at", "-history_id").values("history_id")[:1]
        project = Project.objects.filter(pk=models.OuterRef("id"))
        text = search_vector(
            models.Subquery(project.values("search_organizations")),
            models.Subquery(project.values("search_places")),
        )
        words = search_query(query)
        versions = (
            historical.objects.filter(id__in=self.values("pk"))
            .filter(Q(updated_at__gt=since) | Q(history_id=models.Subquery(at_since)))
            .filter(models.Exists(known))
            .annotate(text=text)
            .annotate(rank=models.Case(models.When(text=words, then=SearchRank(F("text"), words)), default=None))
            .values_list("id", "rank")
        )
        outcomes = {}
        for pk, rank in versions:
            outcomes.setdefault(pk, set()).add(rank)
        now = dict(self.filter(pk__in=list(outcomes)).search(query).values_list("pk", "rank"))
        for pk, ranks in outcomes.items():
            ranks.add(now.get(pk))
        return outcomes

    def count_up_to(self, bound):
        """The number of rows, counting no further than bound + 1 (ids only: no rank or other annotation)."""
        return self.order_by().values("pk")[: bound + 1].count()

    def totals(self):
        """What a list adds up to, in one query: projects, known money in total and from FICOSEC (unknown amounts
        are left out of the sums, never counted as zero) and how many projects have no published amount."""
        return self.order_by().aggregate(
            projects=models.Count("pk"),
            money=Sum("total_amount"),
            ficosec=Sum("ficosec_amount"),
            without_amount=models.Count("pk", filter=Q(total_amount=None)),
        )

    def refresh_derived(self):
        """Recompute the columns derived from related rows (money totals, search text, the linked ids) for these
        projects, in one UPDATE. Called by every operation that changes participations, places or organizations
        (and by links_changed for any change of lines or places)."""
        money = Participation.objects.filter(project=models.OuterRef("pk")).values("project")
        total = money.annotate(s=Sum("amount")).values("s")
        ficosec = money.filter(organization__is_ficosec=True).annotate(s=Sum("amount")).values("s")
        # (in the order the rows were added: the same text for the same rows, so a save that changes nothing else
        # logs no change to the catalogue, whatever order the database reads them in)
        organizations = (
            Participation.objects.filter(project=models.OuterRef("pk"))
            .values("project")
            .annotate(
                names=StringAgg(Concat("organization__name", Value(" "), "organization__acronym"), " ", order_by="pk")
            )
            .values("names")
        )
        places = (
            Project.municipalities.through.objects.filter(project=models.OuterRef("pk"))
            .values("project")
            .annotate(
                names=StringAgg(
                    Concat("municipality__name", Value(" "), Coalesce("municipality__region__name", Value(""))),
                    " ",
                    order_by="pk",
                )
            )
            .values("names")
        )
        # SUM skips unknown (NULL) amounts and is NULL when none is known; FICOSEC's share is zero (known) when the
        # trust takes no part in the project, and unknown when it takes part without a published amount.
        zero = Value(Decimal("0"))
        ficosec_takes_part = models.Exists(money.filter(organization__is_ficosec=True))
        return self.update(
            updated_at=timezone.now(),
            **linked_ids(),
            total_amount=models.Subquery(total),
            ficosec_amount=models.Case(
                models.When(ficosec_takes_part, then=models.Subquery(ficosec)),
                default=zero,
                output_field=models.DecimalField(max_digits=16, decimal_places=2),
            ),
            search_places=Coalesce(models.Subquery(places), Value("")),
            search_organizations=Coalesce(models.Subquery(organizations), Value("")),
        )


def linked_ids():
    """The derived id arrays of a project ({column: expression}): its lines, municipalities, their regions, its
    organizations and those of them that implement it, sorted and without repeats."""
    places = Project.municipalities.through.objects.filter(project=models.OuterRef("pk"))
    sources = {
        "line_ids": (Project.lines.through.objects.filter(project=models.OuterRef("pk")), "line_id"),
        "municipality_ids": (places, "municipality_id"),
        "region_ids": (places.exclude(municipality__region=None), "municipality__region_id"),
        "organization_ids": (Participation.objects.filter(project=models.OuterRef("pk")), "organization_id"),
        "implementer_ids": (
            Participation.objects.filter(project=models.OuterRef("pk"), role=Participation.Role.IMPLEMENTER),
            "organization_id",
        ),
    }
    empty = Value([], output_field=ArrayField(models.BigIntegerField()))
    return {
        column: Coalesce(
            models.Subquery(
                rows.values("project").annotate(ids=ArrayAgg(field, distinct=True, order_by=field)).values("ids")
            ),
            empty,
        )
        for column, (rows, field) in sources.items()
    }


class ProjectPartQuerySet(models.QuerySet):
    """Rows that hang from a project (through `project_path`): who sees them, and who may report on them, is who sees
    or may report on their project."""

    project_path = "project"

    def visible_to(self, user):
        return self.filter(**{f"{self.project_path}__in": Project.objects.visible_to(user).values("pk")})

    def reportable_by(self, user):
        return self.filter(**{f"{self.project_path}__in": Project.objects.reportable_by(user).values("pk")})


def leverage(total, ficosec):
    """Pesos co-invested by others for each peso from FICOSEC (None when FICOSEC put nothing in or the total is
    unknown)."""
    return (total - ficosec) / ficosec if ficosec and total is not None else None


def money_by_sector(amounts):
    """[(sector, total)] from (sector, amount) pairs, the largest first; sectors that put in nothing are left out."""
    totals = {}
    for sector, amount in amounts:
        if amount:
            totals[sector] = totals.get(sector, Decimal("0")) + Decimal(amount)
    return sorted(totals.items(), key=lambda item: -item[1])


class Project(Workflow, Editing, models.Model):
    class Status(models.TextChoices):
        FORMULATION = "formulation", _("En formulación")
        APPROVED = "approved", _("Aprobado")
        IN_PROGRESS = "in_progress", _("En ejecución")
        COMPLETED = "completed", _("Concluido")
        SUSPENDED = "suspended", _("Suspendido")
        CANCELLED = "cancelled", _("Cancelado")

    Publication = Publication

    class PreventionLevel(models.TextChoices):
        PRIMARY = "primary", _("Primaria")
        SECONDARY = "secondary", _("Secundaria")
        TERTIARY = "tertiary", _("Terciaria")

    class Evidence(models.TextChoices):
        UNRATED = "unrated", _("Sin evaluar")
        PROMISING = "promising", _("Prometedora")
        EFFECTIVE = "effective", _("Efectiva")
        NO_EFFECT = "no_effect", _("Sin efecto")
        NEGATIVE = "negative", _("Efectos negativos")

    class Award(models.TextChoices):
        OPEN_CALL = "open_call", _("Convocatoria abierta")
        DIRECT = "direct", _("Asignación directa")

    code = models.CharField(
        _("clave"), max_length=20, unique=True, validators=[code_validator], help_text=_("p. ej. FIC-2024-017")
    )
    title = models.CharField(_("título"), max_length=250)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, blank=True)
    summary = models.TextField(_("resumen"), max_length=1000, blank=True)
    description = RichTextField(_("descripción"), blank=True)
    axis = models.ForeignKey(
        "axes.Axis",
        verbose_name=_("eje estratégico"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    lines = models.ManyToManyField("axes.Line", verbose_name=_("líneas de acción"), blank=True, related_name="projects")
    status = models.CharField(
        _("estado del proyecto"), max_length=20, choices=Status.choices, default=Status.FORMULATION
    )
    publication_state = models.CharField(
        _("estado de publicación"),
        max_length=20,
        choices=Publication.choices,
        default=Publication.DRAFT,
        editable=False,
    )
    prevention_level = models.CharField(
        _("nivel de prevención"), max_length=20, choices=PreventionLevel.choices, blank=True
    )
    populations = ArrayField(
        models.CharField(max_length=20, choices=Population.choices),
        verbose_name=_("población objetivo"),
        default=list,
        blank=True,
    )
    municipalities = models.ManyToManyField(
        Municipality, verbose_name=_("municipios"), blank=True, related_name="projects"
    )
    planned_start = models.DateField(_("inicio planeado"), null=True, blank=True)
    planned_end = models.DateField(_("fin planeado"), null=True, blank=True)
    actual_start = models.DateField(_("inicio real"), null=True, blank=True)
    actual_end = models.DateField(_("fin real"), null=True, blank=True)
    beneficiaries_target = models.PositiveIntegerField(_("personas beneficiarias (meta)"), null=True, blank=True)
    beneficiaries_reached = models.PositiveIntegerField(_("personas beneficiarias (alcanzadas)"), null=True, blank=True)
    evidence_level = models.CharField(
        _("nivel de evidencia"), max_length=20, choices=Evidence.choices, default=Evidence.UNRATED
    )
    evaluation_design = models.PositiveSmallIntegerField(
        _("solidez de la evaluación (escala Maryland)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    award_type = models.CharField(_("tipo de asignación"), max_length=20, choices=Award.choices, blank=True)
    call_name = models.CharField(_("convocatoria"), max_length=250, blank=True)
    conflict_of_interest = models.TextField(
        _("conflicto de interés declarado"),
        blank=True,
        help_text=_("Vínculos declarados entre quienes aprobaron el proyecto y las organizaciones que lo ejecutan."),
    )
    internal_notes = models.TextField(_("notas internas"), blank=True, help_text=_("Nunca se publican."))
    sensitive_site = models.BooleanField(
        _("sitio sensible"),
        default=False,
        help_text=_(
            "Refugios, centros de atención a mujeres, centros de internamiento: las páginas públicas no muestran "
            "el sitio ni lugares por debajo del municipio, y las mediciones se publican solo como totales por periodo."
        ),
    )
    site_name = models.CharField(
        _("nombre del sitio (interno)"), max_length=250, blank=True, help_text=_("Nunca se publica.")
    )

    # Derived columns, maintained by ProjectQuerySet.refresh_derived(); never typed.
    # NULL when no participation has a published amount: unknown is not zero.
    total_amount = models.DecimalField(
        _("monto total (MXN)"), max_digits=16, decimal_places=2, null=True, blank=True, editable=False
    )
    ficosec_amount = models.DecimalField(
        _("monto FICOSEC (MXN)"), max_digits=16, decimal_places=2, null=True, blank=True, editable=False
    )
    search_places = models.TextField(default="", editable=False)
    search_organizations = models.TextField(default="", editable=False)
    # The ids of what the project links to, on its own row: the catalogue's filters (GIN indexes), its facet counts
    # and the map read these instead of joining the link tables (projects.filters, projects.geo).
    line_ids = ArrayField(models.BigIntegerField(), default=list, editable=False)
    municipality_ids = ArrayField(models.BigIntegerField(), default=list, editable=False)
    region_ids = ArrayField(models.BigIntegerField(), default=list, editable=False)
    organization_ids = ArrayField(models.BigIntegerField(), default=list, editable=False)
    implementer_ids = ArrayField(models.BigIntegerField(), default=list, editable=False)  # organization_ids' doers
    search_vector = models.GeneratedField(
        expression=search_vector("search_organizations", "search_places"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    published_at = models.DateTimeField(_("publicado el"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("creado por"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actualizado por"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(_("versión"), default=1, editable=False)

    history = HistoricalRecords(
        get_user=history_user,
        m2m_fields=[lines, municipalities],
        excluded_fields=["search_places", "search_organizations", "search_vector", *LINKED_ID_COLUMNS],
    )
    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name = _("proyecto")
        verbose_name_plural = _("proyectos")
        permissions = [
            ("publish_project", _("Puede publicar y archivar proyectos")),
            ("restore_project", _("Puede restaurar versiones anteriores")),
            ("merge_organization", _("Puede fusionar organizaciones")),
            ("manage_apikey", _("Puede emitir y revocar llaves de API")),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="project_search_gin"),
            GinIndex(fields=["populations"], name="project_populations_gin"),
            # The catalogue's counting columns of every project, narrow enough to stay in memory: projects.facets
            # builds its index from an index-only scan of this instead of reading the wide rows.
            models.Index(fields=["publication_state"], include=FACT_COLUMNS, name="project_facts"),
            GinIndex(fields=["line_ids"], name="project_line_ids_gin"),
            GinIndex(fields=["municipality_ids"], name="project_municipality_ids_gin"),
            GinIndex(fields=["region_ids"], name="project_region_ids_gin"),
            GinIndex(fields=["organization_ids"], name="project_organization_ids_gin"),
            # The catalogue's and the API's default order; with the id, pages are chosen from the index alone.
            models.Index(fields=["publication_state", "-published_at", "-id"], name="project_state_published"),
            # The sync cursor's order: for staff, and (after the state) for the public.
            models.Index(fields=["updated_at", "code"], name="project_updated"),
            models.Index(fields=["publication_state", "updated_at", "code"], name="project_state_updated"),
            # The evidence page's "what works" per axis: its first three read in order from the index.
            models.Index(
                "axis",
                "evidence_level",
                F("evaluation_design").desc(nulls_last=True),
                "title",
                condition=Q(publication_state="published", evidence_level__in=["effective", "promising"]),
                name="project_works",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=PROJECT_CODE_PATTERN),
                name="project_code_format",
                **constraint_message(_("Clave inválida: use el formato FIC-2024-017.")),
            ),
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True)
                | Q(planned_end__isnull=True)
                | Q(planned_end__gte=F("planned_start")),
                name="project_planned_dates_order",
                **constraint_message(_("El fin planeado no puede ser anterior al inicio planeado.")),
            ),
            models.CheckConstraint(
                condition=Q(actual_start__isnull=True)
                | Q(actual_end__isnull=True)
                | Q(actual_end__gte=F("actual_start")),
                name="project_actual_dates_order",
                **constraint_message(_("El fin real no puede ser anterior al inicio real.")),
            ),
            models.CheckConstraint(
                condition=Q(evaluation_design__isnull=True) | Q(evaluation_design__gte=1, evaluation_design__lte=5),
                name="project_evaluation_design_range",
                **constraint_message(_("La escala Maryland va de 1 a 5.")),
            ),
            models.CheckConstraint(
                condition=~Q(award_type="open_call") | ~Q(call_name=""),
                name="project_open_call_named",
                **constraint_message(_("Indique el nombre de la convocatoria abierta.")),
            ),
            models.CheckConstraint(
                condition=Q(publication_state__in=["draft", "review"]) | Q(axis__isnull=False),
                name="project_public_has_axis",
                **constraint_message(_("Un proyecto publicado debe tener eje estratégico.")),
            ),
            models.CheckConstraint(
                condition=Q(total_amount__gte=0) & Q(ficosec_amount__gte=0),
                name="project_amounts_not_negative",
                **constraint_message(_("Los montos no pueden ser negativos.")),
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.title}"

    def get_absolute_url(self):
        return self.url_for(self.slug)

    @staticmethod
    def url_for(slug):
        """The public page of the project with this slug (for rows read as plain values)."""
        return reverse("project_detail", args=[slug])

    @property
    def is_public(self):
        return self.publication_state == self.Publication.PUBLISHED

    # A project starts (ends) on its actual date when there is one, else on the planned one: the start_date and
    # end_date of an instance, and dates() for a query (exports, the figures by year, overdue indicators).
    START, END = ("actual_start", "planned_start"), ("actual_end", "planned_end")

    @classmethod
    def dates(cls, prefix=""):
        """{"start": ..., "end": ...} as SQL expressions for annotate(); `prefix` reaches the project from another
        model (e.g. "project__")."""
        return {
            name: Coalesce(*(prefix + field for field in fields))
            for name, fields in (("start", cls.START), ("end", cls.END))
        }

    @property
    def start_date(self):
        return getattr(self, self.START[0]) or getattr(self, self.START[1])

    @property
    def end_date(self):
        return getattr(self, self.END[0]) or getattr(self, self.END[1])

    @property
    def leverage(self):
        return leverage(self.total_amount, self.ficosec_amount)

    @classmethod
    def next_code(cls, year=None):
        year = year or timezone.localdate().year
        prefix = f"FIC-{year}-"
        codes = cls.objects.filter(code__startswith=prefix).values_list("code", flat=True)
        highest = max((int(code.rsplit("-", 1)[1]) for code in codes), default=0)
        return f"{prefix}{highest + 1:03d}"

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Project, self.title or self.code, max_length=180)
        if self.pk and not kwargs.pop("keep_version", False):
            self.version += 1
        super().save(*args, **kwargs)

    def refresh_derived(self):
        Project.objects.filter(pk=self.pk).refresh_derived()
        self.refresh_from_db(fields=DERIVED_COLUMNS)


class Participation(models.Model):
    """An organization's part in a project: its role and what it contributes, in MXN."""

    class Role(models.TextChoices):
        IMPLEMENTER = "implementer", _("Implementadora")
        FUNDER = "funder", _("Financiadora / co-inversionista")
        COUNTERPART = "counterpart", _("Contraparte gubernamental")
        EVALUATOR = "evaluator", _("Evaluadora")
        ALLY = "ally", _("Aliada")

    class ContributionKind(models.TextChoices):
        CASH = "cash", _("Monetaria")
        IN_KIND = "in_kind", _("En especie")

    # IATI organisation roles, for export: 1 funding, 2 accountable, 3 extending, 4 implementing.
    IATI_ROLE = {Role.FUNDER: 1, Role.COUNTERPART: 2, Role.EVALUATOR: 3, Role.ALLY: 3, Role.IMPLEMENTER: 4}

    project = models.ForeignKey(
        Project, verbose_name=_("proyecto"), on_delete=models.CASCADE, related_name="participations"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organización"), on_delete=models.PROTECT, related_name="participations"
    )
    role = models.CharField(_("rol"), max_length=20, choices=Role.choices)
    amount = models.DecimalField(
        _("aportación (MXN)"),
        max_digits=16,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Déjelo en blanco si el monto no se ha publicado (no es lo mismo que cero)."),
    )
    contribution_kind = models.CharField(
        _("tipo de aportación"), max_length=10, choices=ContributionKind.choices, default=ContributionKind.CASH
    )
    note = models.CharField(_("nota"), max_length=250, blank=True)
    history = HistoricalRecords(get_user=history_user)
    objects = ProjectPartQuerySet.as_manager()

    class Meta:
        ordering = ["role", models.F("amount").desc(nulls_last=True), "pk"]
        verbose_name = _("participación")
        verbose_name_plural = _("participaciones")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "organization", "role"],
                name="participation_unique_role",
                **constraint_message(_("Esta organización ya tiene ese rol en el proyecto.")),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="participation_amount_not_negative",
                **constraint_message(_("La aportación no puede ser negativa.")),
            ),
        ]

    def __str__(self):
        return f"{self.organization} · {self.get_role_display()}"

    @property
    def iati_role(self):
        return self.IATI_ROLE[self.role]

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance.stored_project_id = instance.__dict__.get("project_id")  # a participation moved: both projects change
        return instance

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        moved_from = getattr(self, "stored_project_id", None)
        Project.objects.filter(pk__in={self.project_id, moved_from} - {None}).refresh_derived()
        self.stored_project_id = self.project_id

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        Project.objects.filter(pk=self.project_id).refresh_derived()
        return result


@receiver(m2m_changed, sender=Project.lines.through)
@receiver(m2m_changed, sender=Project.municipalities.through)
def links_changed(sender, instance, action, reverse, pk_set, **kwargs):
    """A project's lines or places changed by any path (the staff form, the API, a restore, the admin and its
    history's revert): its derived columns follow (refresh_derived)."""
    if not reverse:
        if action in ("post_add", "post_remove", "post_clear"):
            Project.objects.filter(pk=instance.pk).refresh_derived()
        return
    if action == "pre_clear":  # from the line's or municipality's side: remember whose links go
        instance.cleared_projects = list(instance.projects.values_list("pk", flat=True))
    elif action in ("post_add", "post_remove", "post_clear"):
        projects = pk_set if action != "post_clear" else getattr(instance, "cleared_projects", [])
        Project.objects.filter(pk__in=projects or []).refresh_derived()


class CatalogueChange(models.Model):
    """A project inserted, deleted or changed in a column the catalogue counts, written by a database trigger
    (migration 0009) whatever the path of the write, with the writing transaction's id: how projects.facets keeps its
    counting index current in every process. No project (NULL) means the whole table was emptied."""

    project_id = models.BigIntegerField(null=True)
    xid = models.BigIntegerField(db_index=True)
    at = models.DateTimeField()
    # Only the project's own text (its search vector) changed (migration 0013): the counting index re-reads its
    # words; the caches of pages and figures, which check such an edit themselves, skip the entry (newest_sql).
    text_only = models.BooleanField(default=False, db_default=False)

    class Meta:
        verbose_name = _("cambio del catálogo")
        verbose_name_plural = _("cambios del catálogo")
        indexes = [models.Index(fields=["-id"], condition=Q(text_only=False), name="catalogue_change_newest")]

    @classmethod
    def newest_sql(cls):
        """SQL of the id of the newest entry but those of a change of text only: what cached pages and figures
        are keyed by."""
        return f"(SELECT id FROM {cls._meta.db_table} WHERE NOT text_only ORDER BY id DESC LIMIT 1)"


class ProjectVersion(models.Model):
    """The version of what the API shows of a project: a new number (from one sequence) each time a transaction
    changes anything its JSON document reads (the project, its partners and their organizations, indicators and
    measurements, lines, places, axis and region names), written by database triggers (migration 0020) whatever the
    path of the write. No row means version 0. Only PostgreSQL writes it."""

    project = models.OneToOneField(
        Project, on_delete=models.DO_NOTHING, primary_key=True, db_constraint=False, related_name="+"
    )
    version = models.BigIntegerField()

    class Meta:
        verbose_name = _("versión del documento de un proyecto")
        verbose_name_plural = _("versiones de los documentos de los proyectos")


class ProjectDocument(models.Model):
    """A project's JSON document as the API lists it (projects.serializers.project_documents), stored for one
    variant (public or staff, in one language) and one build of the code that writes it, at the project's version:
    it is served only while that is still the project's version. Deleted with its project (migration 0020)."""

    project = models.ForeignKey(
        Project, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    variant = models.CharField(max_length=32)
    build = models.CharField(max_length=16)
    version = models.BigIntegerField()
    body = models.TextField()

    class Meta:
        verbose_name = _("documento de un proyecto")
        verbose_name_plural = _("documentos de los proyectos")
        constraints = [models.UniqueConstraint(fields=["project", "variant"], name="project_document_variant")]
