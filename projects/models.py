"""The FICOSEC domain: places, organizations, projects, their money, indicators, workflow and API keys.

Each rule lives here once (a constraint, a validator, a queryset predicate or a model method) and every interface,
HTML pages, the API, imports and management commands, calls it.
"""

import hashlib
import re
import hmac
import secrets
from datetime import date, timedelta
from decimal import Decimal

import nh3
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.aggregates import StringAgg
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.db.models import F, Q, Sum, Value
from django.db.models.functions import Coalesce, Concat
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

SEARCH_CONFIG = "spanish_unaccent"  # created by migration 0001: Spanish stemming that ignores accents, ñ and ü

# Formats, each written once and used by both a validator (forms, API) and a database constraint.
RFC_PATTERN = r"^[A-ZÑ&]{3,4}[0-9]{6}[A-Z0-9]{3}$"  # 12 chars for companies and associations, 13 for persons
CLUNI_PATTERN = r"^[A-Z0-9]{8,20}$"
INEGI_PATTERN = r"^[0-9]{5}$"
PROJECT_CODE_PATTERN = r"^[A-Z]{2,6}-[0-9]{4}-[0-9]{3,7}$"

rfc_validator = RegexValidator(RFC_PATTERN, _("RFC inválido: 12 caracteres para personas morales o 13 para físicas (p. ej. CAP900101AB1)."), "invalid_rfc")
cluni_validator = RegexValidator(CLUNI_PATTERN, _("CLUNI inválida: de 8 a 20 letras mayúsculas o dígitos."), "invalid_cluni")
inegi_validator = RegexValidator(INEGI_PATTERN, _("La clave INEGI tiene 5 dígitos (p. ej. 08037)."), "invalid_inegi")
code_validator = RegexValidator(PROJECT_CODE_PATTERN, _("Clave inválida: use el formato FIC-2024-017."), "invalid_code")


def sanitize_html(html):
    """The only rich text the portal stores: a small safe subset of HTML, never a script or an event handler."""
    return nh3.clean(
        html or "",
        tags={"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a", "h2", "h3", "h4", "blockquote"},
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )


class RichTextField(models.TextField):
    """A TextField whose value is sanitised on its way to the database, whatever path writes it
    (forms, API, imports, admin, bulk_create, QuerySet.update)."""

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else sanitize_html(value)


def history_user(instance=None, request=None, **kwargs):
    """Who a history row names: the signed-in person, or a staff key's person; an organization's key acts for no
    person (the measurement itself records the key)."""
    explicit = getattr(instance, "_history_user", None)
    if explicit is not None:
        return explicit
    user = getattr(request, "user", None)
    return user if getattr(user, "pk", None) and user.is_authenticated else None


def months_before(day, months):
    """The day `months` months before `day` (clamped to the 28th, like Indicator.next_due)."""
    month = day.month - 1 - months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def constraint_message(text):
    return {"violation_error_message": text}


# --- Geography ------------------------------------------------------------------------------------------------


class Region(models.Model):
    """FICOSEC's operating regions (Juárez, Chihuahua, Cuauhtémoc, Delicias, Parral, Nuevo Casas Grandes)."""

    name = models.CharField(_("nombre"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("orden"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("región")
        verbose_name_plural = _("regiones")

    def __str__(self):
        return self.name


class Municipality(models.Model):
    """One of the 67 municipalities of Chihuahua, identified by its 5-digit INEGI code."""

    inegi_code = models.CharField(_("clave INEGI"), max_length=5, unique=True, validators=[inegi_validator])
    name = models.CharField(_("nombre"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    region = models.ForeignKey(
        Region, verbose_name=_("región"), null=True, blank=True, on_delete=models.SET_NULL, related_name="municipalities"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipio")
        verbose_name_plural = _("municipios")
        constraints = [
            models.CheckConstraint(
                condition=Q(inegi_code__regex=INEGI_PATTERN), name="municipality_inegi_format",
                **constraint_message(_("La clave INEGI tiene 5 dígitos (p. ej. 08037).")),
            ),
        ]

    def __str__(self):
        return self.name


# --- Organizations --------------------------------------------------------------------------------------------


class Sector(models.TextChoices):
    FICOSEC = "ficosec", _("FICOSEC")
    PRIVATE = "private", _("Iniciativa privada")
    GOVERNMENT = "government", _("Gobierno")
    CIVIL_SOCIETY = "civil_society", _("Sociedad civil")
    INTERNATIONAL = "international", _("Cooperación internacional")


class Organization(models.Model):
    class Kind(models.TextChoices):
        OSC = "osc", _("Organización de la sociedad civil")
        GOV_MUNICIPAL = "gov_municipal", _("Gobierno municipal")
        GOV_STATE = "gov_state", _("Gobierno estatal")
        GOV_FEDERAL = "gov_federal", _("Gobierno federal")
        AUTONOMOUS = "autonomous", _("Organismo autónomo")
        COMPANY = "company", _("Empresa")
        ACADEMIA = "academia", _("Academia")
        FOUNDATION = "foundation", _("Fundación")
        INTERNATIONAL = "international", _("Cooperación internacional")

    SECTOR_BY_KIND = {
        Kind.OSC: Sector.CIVIL_SOCIETY,
        Kind.ACADEMIA: Sector.CIVIL_SOCIETY,
        Kind.GOV_MUNICIPAL: Sector.GOVERNMENT,
        Kind.GOV_STATE: Sector.GOVERNMENT,
        Kind.GOV_FEDERAL: Sector.GOVERNMENT,
        Kind.AUTONOMOUS: Sector.GOVERNMENT,
        Kind.COMPANY: Sector.PRIVATE,
        Kind.FOUNDATION: Sector.PRIVATE,
        Kind.INTERNATIONAL: Sector.INTERNATIONAL,
    }

    name = models.CharField(_("nombre"), max_length=250)
    acronym = models.CharField(_("siglas"), max_length=40, blank=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    kind = models.CharField(_("tipo"), max_length=20, choices=Kind.choices)
    is_ficosec = models.BooleanField(
        _("es FICOSEC"), default=False, help_text=_("Marca al propio fideicomiso; solo una organización puede serlo.")
    )
    rfc = models.CharField(_("RFC"), max_length=13, blank=True, validators=[rfc_validator])
    cluni = models.CharField(_("CLUNI"), max_length=20, blank=True, validators=[cluni_validator])
    is_donataria = models.BooleanField(_("donataria autorizada"), default=False)
    website = models.URLField(_("sitio web"), blank=True)
    email = models.EmailField(_("correo de contacto"), blank=True)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipio"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="organizations",
    )
    description = models.TextField(_("descripción"), blank=True)
    is_active = models.BooleanField(_("activa"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("miembros"), blank=True, related_name="organizations",
        help_text=_("Personas de la organización que pueden entrar a ver sus proyectos."),
    )
    created_at = models.DateTimeField(_("creada"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizada"), auto_now=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organización")
        verbose_name_plural = _("organizaciones")
        constraints = [
            models.CheckConstraint(
                condition=Q(rfc="") | Q(rfc__regex=RFC_PATTERN), name="organization_rfc_format",
                **constraint_message(_("RFC inválido: 12 caracteres para personas morales o 13 para físicas.")),
            ),
            models.CheckConstraint(
                condition=Q(cluni="") | Q(cluni__regex=CLUNI_PATTERN), name="organization_cluni_format",
                **constraint_message(_("CLUNI inválida: de 8 a 20 letras mayúsculas o dígitos.")),
            ),
            models.UniqueConstraint(
                fields=["rfc"], condition=~Q(rfc=""), name="organization_rfc_unique",
                **constraint_message(_("Ya existe una organización con este RFC.")),
            ),
            models.UniqueConstraint(
                fields=["is_ficosec"], condition=Q(is_ficosec=True), name="organization_single_ficosec",
                **constraint_message(_("Solo una organización puede ser FICOSEC.")),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def get_absolute_url(self):
        return reverse("organization_detail", args=[self.slug])

    @property
    def sector(self):
        return Sector.FICOSEC if self.is_ficosec else self.SECTOR_BY_KIND[self.kind]

    def save(self, *args, **kwargs):
        self.rfc = self.rfc.strip().upper()
        self.cluni = self.cluni.strip().upper()
        if not self.slug:
            self.slug = unique_slug(Organization, self.acronym or self.name)
        super().save(*args, **kwargs)

    def merge_into(self, target):
        """Fold this duplicate record into `target`: its participations (adding amounts where `target` already has
        the same role in a project), members and API keys move over, then this record is deleted. One transaction."""
        if target.pk == self.pk:
            raise ValidationError(_("Una organización no puede fusionarse consigo misma."), code="merge_self")
        with transaction.atomic():
            project_ids = set()
            for participation in self.participations.select_for_update():
                project_ids.add(participation.project_id)
                twin = target.participations.filter(project_id=participation.project_id, role=participation.role).first()
                if twin:
                    twin.amount += participation.amount
                    twin.note = "; ".join(filter(None, [twin.note, participation.note]))[:250]
                    twin.save()
                    participation.delete()
                else:
                    participation.organization = target
                    participation.save()
            target.members.add(*self.members.all())
            self.api_keys.update(organization=target)
            self.delete()
            Project.objects.filter(pk__in=project_ids).refresh_derived()


def sector_expression(prefix=""):
    """The SQL twin of Organization.sector, for aggregating money by sector in one query."""
    whens = [models.When(**{f"{prefix}is_ficosec": True}, then=Value(Sector.FICOSEC.value))]
    whens += [models.When(**{f"{prefix}kind": kind}, then=Value(sector.value)) for kind, sector in Organization.SECTOR_BY_KIND.items()]
    return models.Case(*whens, output_field=models.CharField())


def unique_slug(model, text, max_length=100):
    base = slugify(text)[:max_length].strip("-") or model._meta.model_name
    slug, n = base, 2
    while model._default_manager.filter(slug=slug).exists():
        slug = f"{base[: max_length - 4]}-{n}"
        n += 1
    return slug


# --- Projects -------------------------------------------------------------------------------------------------


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
        """Spanish full-text search that ignores accents and stems words, ranked by relevance.
        The websearch query (phrases, OR, -exclusions) is OR-ed with a prefix match of every stemmed word, because
        Spanish stems differ between forms ("joven" stems to "jov", "jóvenes" to "joven")."""
        from django.contrib.postgres.search import SearchQuery, SearchRank

        words = re.findall(r"\w+", query)[:12]
        search_query = SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
        if words:
            prefixes = " & ".join(f"{word}:*" for word in words)
            search_query |= SearchQuery(prefixes, config=SEARCH_CONFIG, search_type="raw")
        return self.filter(search_vector=search_query).annotate(rank=SearchRank(F("search_vector"), search_query))

    def count_up_to(self, bound):
        """The number of rows, counting no further than bound + 1 (ids only: no rank or other annotation)."""
        return self.order_by().values("pk")[: bound + 1].count()

    def refresh_derived(self):
        """Recompute the columns derived from related rows (money totals and search text) for these projects,
        in one UPDATE. Called by every operation that changes participations, places or organizations."""
        money = Participation.objects.filter(project=models.OuterRef("pk")).values("project")
        total = money.annotate(s=Sum("amount")).values("s")
        ficosec = money.filter(organization__is_ficosec=True).annotate(s=Sum("amount")).values("s")
        organizations = (
            Participation.objects.filter(project=models.OuterRef("pk")).values("project")
            .annotate(names=StringAgg(Concat("organization__name", Value(" "), "organization__acronym"), " "))
            .values("names")
        )
        places = (
            Project.municipalities.through.objects.filter(project=models.OuterRef("pk")).values("project")
            .annotate(names=StringAgg(Concat("municipality__name", Value(" "), Coalesce("municipality__region__name", Value(""))), " "))
            .values("names")
        )
        zero = Value(Decimal("0"))
        return self.update(
            updated_at=timezone.now(),
            total_amount=Coalesce(models.Subquery(total), zero),
            ficosec_amount=Coalesce(models.Subquery(ficosec), zero),
            search_places=Coalesce(models.Subquery(places), Value("")),
            search_organizations=Coalesce(models.Subquery(organizations), Value("")),
        )


class StaleVersion(Exception):
    """Somebody else saved the project since this copy was read."""

    def __init__(self, current_version):
        super().__init__(current_version)
        self.current_version = current_version


class Project(models.Model):
    class Status(models.TextChoices):
        FORMULATION = "formulation", _("En formulación")
        APPROVED = "approved", _("Aprobado")
        IN_PROGRESS = "in_progress", _("En ejecución")
        COMPLETED = "completed", _("Concluido")
        SUSPENDED = "suspended", _("Suspendido")
        CANCELLED = "cancelled", _("Cancelado")

    class Publication(models.TextChoices):
        DRAFT = "draft", _("Borrador")
        REVIEW = "review", _("En revisión")
        PUBLISHED = "published", _("Publicado")
        ARCHIVED = "archived", _("Archivado")

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

    code = models.CharField(_("clave"), max_length=20, unique=True, validators=[code_validator], help_text=_("p. ej. FIC-2024-017"))
    title = models.CharField(_("título"), max_length=250)
    slug = models.SlugField(_("slug"), max_length=200, unique=True, blank=True)
    summary = models.TextField(_("resumen"), max_length=1000, blank=True)
    description = RichTextField(_("descripción"), blank=True)
    axis = models.ForeignKey(
        "axes.Axis", verbose_name=_("eje estratégico"), null=True, blank=True, on_delete=models.PROTECT, related_name="projects"
    )
    lines = models.ManyToManyField("axes.Line", verbose_name=_("líneas de acción"), blank=True, related_name="projects")
    status = models.CharField(_("estado del proyecto"), max_length=20, choices=Status.choices, default=Status.FORMULATION)
    publication_state = models.CharField(
        _("estado de publicación"), max_length=20, choices=Publication.choices, default=Publication.DRAFT, editable=False
    )
    prevention_level = models.CharField(_("nivel de prevención"), max_length=20, choices=PreventionLevel.choices, blank=True)
    populations = ArrayField(
        models.CharField(max_length=20, choices=Population.choices), verbose_name=_("población objetivo"), default=list, blank=True
    )
    municipalities = models.ManyToManyField(Municipality, verbose_name=_("municipios"), blank=True, related_name="projects")
    planned_start = models.DateField(_("inicio planeado"), null=True, blank=True)
    planned_end = models.DateField(_("fin planeado"), null=True, blank=True)
    actual_start = models.DateField(_("inicio real"), null=True, blank=True)
    actual_end = models.DateField(_("fin real"), null=True, blank=True)
    beneficiaries_target = models.PositiveIntegerField(_("personas beneficiarias (meta)"), null=True, blank=True)
    beneficiaries_reached = models.PositiveIntegerField(_("personas beneficiarias (alcanzadas)"), null=True, blank=True)
    evidence_level = models.CharField(_("nivel de evidencia"), max_length=20, choices=Evidence.choices, default=Evidence.UNRATED)
    evaluation_design = models.PositiveSmallIntegerField(
        _("solidez de la evaluación (escala Maryland)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    award_type = models.CharField(_("tipo de asignación"), max_length=20, choices=Award.choices, blank=True)
    call_name = models.CharField(_("convocatoria"), max_length=250, blank=True)
    conflict_of_interest = models.TextField(
        _("conflicto de interés declarado"), blank=True,
        help_text=_("Vínculos declarados entre quienes aprobaron el proyecto y las organizaciones que lo ejecutan."),
    )
    internal_notes = models.TextField(_("notas internas"), blank=True, help_text=_("Nunca se publican."))

    # Derived columns, maintained by ProjectQuerySet.refresh_derived(); never typed.
    total_amount = models.DecimalField(_("monto total (MXN)"), max_digits=16, decimal_places=2, default=0, editable=False)
    ficosec_amount = models.DecimalField(_("monto FICOSEC (MXN)"), max_digits=16, decimal_places=2, default=0, editable=False)
    search_places = models.TextField(default="", editable=False)
    search_organizations = models.TextField(default="", editable=False)
    search_vector = models.GeneratedField(
        expression=SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("code", "summary", weight="B", config=SEARCH_CONFIG)
        + SearchVector("search_organizations", "search_places", weight="B", config=SEARCH_CONFIG)
        + SearchVector("description", weight="C", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    published_at = models.DateTimeField(_("publicado el"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("creado por"), null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actualizado por"), null=True, blank=True, editable=False,
        on_delete=models.SET_NULL, related_name="+",
    )
    version = models.PositiveIntegerField(_("versión"), default=1, editable=False)

    history = HistoricalRecords(get_user=history_user, m2m_fields=[lines, municipalities], excluded_fields=["search_places", "search_organizations", "search_vector"])
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
            # The catalogue's and the API's default order; with the id, pages are chosen from the index alone.
            models.Index(fields=["publication_state", "-published_at", "-id"], name="project_state_published"),
            # The sync cursor's order: for staff, and (after the state) for the public.
            models.Index(fields=["updated_at", "code"], name="project_updated"),
            models.Index(fields=["publication_state", "updated_at", "code"], name="project_state_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=PROJECT_CODE_PATTERN), name="project_code_format",
                **constraint_message(_("Clave inválida: use el formato FIC-2024-017.")),
            ),
            models.CheckConstraint(
                condition=Q(planned_start__isnull=True) | Q(planned_end__isnull=True) | Q(planned_end__gte=F("planned_start")),
                name="project_planned_dates_order",
                **constraint_message(_("El fin planeado no puede ser anterior al inicio planeado.")),
            ),
            models.CheckConstraint(
                condition=Q(actual_start__isnull=True) | Q(actual_end__isnull=True) | Q(actual_end__gte=F("actual_start")),
                name="project_actual_dates_order",
                **constraint_message(_("El fin real no puede ser anterior al inicio real.")),
            ),
            models.CheckConstraint(
                condition=Q(evaluation_design__isnull=True) | Q(evaluation_design__gte=1, evaluation_design__lte=5),
                name="project_evaluation_design_range",
                **constraint_message(_("La escala Maryland va de 1 a 5.")),
            ),
            models.CheckConstraint(
                condition=~Q(award_type="open_call") | ~Q(call_name=""), name="project_open_call_named",
                **constraint_message(_("Indique el nombre de la convocatoria abierta.")),
            ),
            models.CheckConstraint(
                condition=Q(publication_state__in=["draft", "review"]) | Q(axis__isnull=False),
                name="project_public_has_axis",
                **constraint_message(_("Un proyecto publicado debe tener eje estratégico.")),
            ),
            models.CheckConstraint(
                condition=Q(total_amount__gte=0) & Q(ficosec_amount__gte=0), name="project_amounts_not_negative",
                **constraint_message(_("Los montos no pueden ser negativos.")),
            ),
        ]

    def __str__(self):
        return f"{self.code} · {self.title}"

    def get_absolute_url(self):
        return reverse("project_detail", args=[self.slug])

    @property
    def is_public(self):
        return self.publication_state == self.Publication.PUBLISHED

    @property
    def start_date(self):
        return self.actual_start or self.planned_start

    @property
    def end_date(self):
        return self.actual_end or self.planned_end

    @property
    def leverage(self):
        """Pesos co-invested by others for each peso from FICOSEC (None when FICOSEC put nothing in)."""
        if not self.ficosec_amount:
            return None
        return (self.total_amount - self.ficosec_amount) / self.ficosec_amount

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

    def save_if_current(self, expected_version, user=None):
        """Optimistic concurrency: save only if nobody saved since `expected_version` was read.
        Raises StaleVersion (with the version now stored) otherwise; nothing is written then."""
        with transaction.atomic():
            current = Project.objects.select_for_update().filter(pk=self.pk).values_list("version", flat=True).first()
            if current != int(expected_version):
                raise StaleVersion(current)
            self.version = current
            if user is not None and user.is_authenticated and user.pk:
                self.updated_by = user
            self.save()

    # Fields a restore brings back: everything a person edits, never the workflow state or derived columns.
    RESTORABLE = [
        "code", "title", "summary", "description", "axis_id", "status", "prevention_level", "populations", "planned_start",
        "planned_end", "actual_start", "actual_end", "beneficiaries_target", "beneficiaries_reached", "evidence_level",
        "evaluation_design", "award_type", "call_name", "conflict_of_interest", "internal_notes",
    ]

    def restore(self, record, user):
        """Bring back the edited fields, lines and places of an earlier historical `record`. The restore is itself a
        new version in the history, with the reason given; the publication state is left as it is."""
        with transaction.atomic():
            for field in self.RESTORABLE:
                setattr(self, field, getattr(record, field))
            self.full_clean(exclude=["slug"])
            self.updated_by = user
            self._change_reason = gettext("Restaurada la versión %(version)s") % {"version": record.version}
            self.save()
            self.lines.set([row.line_id for row in record.lines.all()])
            self.municipalities.set([row.municipality_id for row in record.municipalities.all()])
            self.refresh_derived()

    def refresh_derived(self):
        Project.objects.filter(pk=self.pk).refresh_derived()
        self.refresh_from_db(fields=["total_amount", "ficosec_amount", "search_places", "search_organizations"])

    # --- workflow -----------------------------------------------------------------------------------------

    def publication_gaps(self):
        """What the project still lacks to be published (empty when it is ready), in Spanish. Reads the related rows
        through .all(), so that a list prefetching them asks nothing more per project."""
        gaps = []
        if not self.summary.strip():
            gaps.append(_("Falta el resumen."))
        if not self.axis_id:
            gaps.append(_("Falta el eje estratégico."))
        if not self.pk or not self.lines.all():
            gaps.append(_("Falta al menos una línea de acción."))
        if not self.pk or not self.municipalities.all():
            gaps.append(_("Falta al menos un municipio."))
        if not self.pk or not any(p.role == Participation.Role.IMPLEMENTER for p in self.participations.all()):
            gaps.append(_("Falta la organización implementadora."))
        if not (self.start_date and self.end_date):
            gaps.append(_("Faltan las fechas de inicio y fin."))
        if not self.pk or not self.indicators.all():
            gaps.append(_("Falta al menos un indicador."))
        return gaps

    # Allowed moves, and the permission each needs.
    TRANSITIONS = {
        (Publication.DRAFT, Publication.REVIEW): "projects.change_project",
        (Publication.REVIEW, Publication.DRAFT): "projects.change_project",
        (Publication.REVIEW, Publication.PUBLISHED): "projects.publish_project",
        (Publication.PUBLISHED, Publication.DRAFT): "projects.publish_project",
        (Publication.PUBLISHED, Publication.ARCHIVED): "projects.publish_project",
        (Publication.DRAFT, Publication.ARCHIVED): "projects.publish_project",
        (Publication.REVIEW, Publication.ARCHIVED): "projects.publish_project",
        (Publication.ARCHIVED, Publication.DRAFT): "projects.publish_project",
    }

    def allowed_transitions(self, user):
        return [to for (frm, to), perm in self.TRANSITIONS.items() if frm == self.publication_state and user.has_perm(perm)]

    def transition(self, to_state, user, comment="", api_key=None):
        """Move the project along the publication workflow, recording who, when and why.
        Raises PermissionDenied or ValidationError (in Spanish) and writes nothing when the move is not allowed."""
        perm = self.TRANSITIONS.get((self.publication_state, to_state))
        if perm is None:
            raise ValidationError(
                _("No se puede pasar de «%(from)s» a «%(to)s».")
                % {"from": self.get_publication_state_display(), "to": self.Publication(to_state).label},
                code="invalid_transition",
            )
        if not user.has_perm(perm):
            raise PermissionDenied(_("No tiene permiso para este cambio de estado."))
        if to_state == self.Publication.PUBLISHED:
            gaps = self.publication_gaps()
            if gaps:
                raise ValidationError(gaps, code="not_ready")
        with transaction.atomic():
            from_state = self.publication_state
            self.publication_state = to_state
            if to_state == self.Publication.PUBLISHED and not self.published_at:
                self.published_at = timezone.now()
            if user.is_authenticated and user.pk:
                self.updated_by = user
            self._change_reason = comment or f"{from_state} → {to_state}"
            self.save()
            WorkflowStep.objects.create(
                project=self, from_state=from_state, to_state=to_state, comment=comment,
                actor=user if user.pk else None, api_key=api_key,
            )


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

    project = models.ForeignKey(Project, verbose_name=_("proyecto"), on_delete=models.CASCADE, related_name="participations")
    organization = models.ForeignKey(
        Organization, verbose_name=_("organización"), on_delete=models.PROTECT, related_name="participations"
    )
    role = models.CharField(_("rol"), max_length=20, choices=Role.choices)
    amount = models.DecimalField(
        _("aportación (MXN)"), max_digits=16, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)]
    )
    contribution_kind = models.CharField(
        _("tipo de aportación"), max_length=10, choices=ContributionKind.choices, default=ContributionKind.CASH
    )
    note = models.CharField(_("nota"), max_length=250, blank=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["role", "-amount", "pk"]
        verbose_name = _("participación")
        verbose_name_plural = _("participaciones")
        constraints = [
            models.UniqueConstraint(
                fields=["project", "organization", "role"], name="participation_unique_role",
                **constraint_message(_("Esta organización ya tiene ese rol en el proyecto.")),
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0), name="participation_amount_not_negative",
                **constraint_message(_("La aportación no puede ser negativa.")),
            ),
        ]

    def __str__(self):
        return f"{self.organization} · {self.get_role_display()}"

    @property
    def iati_role(self):
        return self.IATI_ROLE[self.role]

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        Project.objects.filter(pk=self.project_id).refresh_derived()

    def delete(self, *args, **kwargs):
        result = super().delete(*args, **kwargs)
        Project.objects.filter(pk=self.project_id).refresh_derived()
        return result


# --- Indicators -----------------------------------------------------------------------------------------------


class Indicator(models.Model):
    class Direction(models.TextChoices):
        INCREASE = "increase", _("Aumentar")
        DECREASE = "decrease", _("Disminuir")

    class Frequency(models.IntegerChoices):
        MONTHLY = 1, _("Mensual")
        QUARTERLY = 3, _("Trimestral")
        SEMIANNUAL = 6, _("Semestral")
        ANNUAL = 12, _("Anual")

    project = models.ForeignKey(Project, verbose_name=_("proyecto"), on_delete=models.CASCADE, related_name="indicators")
    name = models.CharField(_("nombre"), max_length=250)
    unit = models.CharField(_("unidad"), max_length=60, help_text=_("p. ej. personas, %, sesiones"))
    baseline = models.DecimalField(_("línea base"), max_digits=16, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(_("meta"), max_digits=16, decimal_places=4, null=True, blank=True)
    direction = models.CharField(_("sentido"), max_length=10, choices=Direction.choices, default=Direction.INCREASE)
    frequency = models.PositiveSmallIntegerField(_("periodicidad"), choices=Frequency.choices, default=Frequency.QUARTERLY)
    order = models.PositiveSmallIntegerField(_("orden"), default=0)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("indicador")
        verbose_name_plural = _("indicadores")

    def __str__(self):
        return f"{self.name} ({self.unit})"

    def progress(self, value):
        """Share of the way from baseline to target reached by `value` (0..1, None when undefined)."""
        if value is None or self.target is None:
            return None
        baseline = self.baseline or Decimal("0")
        span = self.target - baseline
        if span == 0:
            return None
        return max(Decimal("0"), min(Decimal("1"), (value - baseline) / span))

    @classmethod
    def overdue(cls, projects, today=None):
        """Indicators of running `projects` whose next measurement, one period after the latest (or after the
        project's start when there is none), is past due; each annotated with `last_date` and `since`."""
        today = today or timezone.localdate()
        latest = Measurement.objects.filter(indicator=models.OuterRef("pk")).order_by("-date").values("date")[:1]
        since = Coalesce(models.Subquery(latest), "project__actual_start", "project__planned_start")
        late = Q()
        for months in cls.Frequency.values:  # due = since + frequency months; one bound per frequency, in SQL
            late |= Q(frequency=months, since__lt=months_before(today, months))
        return (
            cls.objects.filter(project__in=projects.filter(status=Project.Status.IN_PROGRESS).values("pk"))
            .annotate(last_date=models.Subquery(latest), since=since).filter(late)
            .select_related("project").order_by("since", "pk")
        )

    def next_due(self, last_date):
        """When the next measurement is due after `last_date` (a date)."""
        month = last_date.month - 1 + self.frequency
        year, month = last_date.year + month // 12, month % 12 + 1
        return date(year, month, min(last_date.day, 28))

    def record(self, when, value, user, note="", source="", api_key=None):
        """Add the measurement for `when`, or correct the one already there. The permission rule is
        Project.objects.reportable_by(user); callers check it before calling."""
        measurement, _created = Measurement.objects.update_or_create(
            indicator=self, date=when,
            defaults={
                "value": value, "note": note, "source": source,
                "reported_by": user if getattr(user, "pk", None) else None, "reported_by_key": api_key,
            },
        )
        return measurement


class Measurement(models.Model):
    """A dated value of an indicator (an avance)."""

    indicator = models.ForeignKey(Indicator, verbose_name=_("indicador"), on_delete=models.CASCADE, related_name="measurements")
    date = models.DateField(_("fecha"))
    value = models.DecimalField(_("valor"), max_digits=16, decimal_places=4)
    note = models.CharField(_("nota"), max_length=500, blank=True)
    source = models.CharField(_("fuente"), max_length=250, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reportado por"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    reported_by_key = models.ForeignKey(
        "ApiKey", verbose_name=_("reportado con la llave"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("registrado"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["indicator", "date"]
        verbose_name = _("medición")
        verbose_name_plural = _("mediciones")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "date"], name="measurement_one_per_date",
                **constraint_message(_("Ya hay una medición de este indicador en esa fecha.")),
            ),
        ]

    def __str__(self):
        return f"{self.indicator.name}: {self.value} ({self.date:%d/%m/%Y})"


# --- Workflow record ------------------------------------------------------------------------------------------


class WorkflowStep(models.Model):
    """One move along the publication workflow: who, when, from which state to which, and why."""

    project = models.ForeignKey(Project, verbose_name=_("proyecto"), on_delete=models.CASCADE, related_name="workflow_steps")
    from_state = models.CharField(_("de"), max_length=20, choices=Project.Publication.choices)
    to_state = models.CharField(_("a"), max_length=20, choices=Project.Publication.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("quién"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    api_key = models.ForeignKey("ApiKey", verbose_name=_("llave de API"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    comment = models.TextField(_("comentario"), blank=True)
    created_at = models.DateTimeField(_("cuándo"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("paso del flujo de publicación")
        verbose_name_plural = _("pasos del flujo de publicación")

    def __str__(self):
        return f"{self.project.code}: {self.get_from_state_display()} → {self.get_to_state_display()}"


# --- API keys -------------------------------------------------------------------------------------------------


class KeyUser(AnonymousUser):
    """The identity a partner organization's API key acts as: it answers the same permission questions as a
    user (has_perm, visible_to, reportable_by), and may only report measurements on its organization's projects."""

    is_authenticated = True
    PERMISSIONS = {"projects.add_measurement", "projects.change_measurement", "projects.view_measurement"}

    def __init__(self, api_key):
        self.api_key = api_key
        self.organization_ids = [api_key.organization_id]

    def __str__(self):
        return f"llave {self.api_key.prefix}"

    def has_perm(self, perm, obj=None):
        return perm in self.PERMISSIONS


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def authenticate(self, raw_key):
        """The active key matching `raw_key`, or None. Keys are stored as SHA-256 hashes only."""
        try:
            _prefix_tag, prefix, _secret = raw_key.split("_", 2)
        except (AttributeError, ValueError):
            return None
        key = self.active().select_related("organization", "user").filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.key_hash, ApiKey.hash(raw_key)):
            return None
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return key


class ApiKey(models.Model):
    """A partner organization's key (reports measurements on its projects) or a staff key (acts as its user)."""

    name = models.CharField(_("nombre"), max_length=100)
    prefix = models.CharField(_("prefijo"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    organization = models.ForeignKey(
        Organization, verbose_name=_("organización"), null=True, blank=True, on_delete=models.CASCADE, related_name="api_keys"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("usuario del personal"), null=True, blank=True, on_delete=models.CASCADE,
        related_name="api_keys",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("emitida por"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("emitida"), auto_now_add=True)
    expires_at = models.DateTimeField(_("vence"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revocada"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("último uso"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()
    history = HistoricalRecords(get_user=history_user, excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("llave de API")
        verbose_name_plural = _("llaves de API")
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=False, user__isnull=True) | Q(organization__isnull=True, user__isnull=False),
                name="apikey_one_owner",
                **constraint_message(_("Una llave pertenece a una organización o a una persona del personal, no a ambas.")),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key):
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def issue(cls, name, created_by, organization=None, user=None, expires_at=None):
        """Create a key and return (key, raw_key). The raw key is shown once and never stored."""
        prefix = secrets.token_hex(4)
        raw_key = f"fic_{prefix}_{secrets.token_urlsafe(32)}"
        key = cls.objects.create(
            name=name, prefix=prefix, key_hash=cls.hash(raw_key), organization=organization, user=user,
            created_by=created_by, expires_at=expires_at,
        )
        return key, raw_key

    def revoke(self):
        if not self.revoked_at:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    @property
    def is_active(self):
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def acting_user(self):
        """Who the key speaks as, for every permission question."""
        return self.user if self.user_id else KeyUser(self)
