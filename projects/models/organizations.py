"""Organizations: civil society, governments, companies and FICOSEC itself, with their sector."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import OuterRef, Q, Subquery, Value
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ficosec.history import history_user

from .common import (
    CLUNI_PATTERN,
    RFC_PATTERN,
    CopiedIntoProjects,
    cluni_validator,
    constraint_message,
    validate_rfc,
)
from .places import Municipality

# --- Organizations --------------------------------------------------------------------------------------------


class Sector(models.TextChoices):
    FICOSEC = "ficosec", _("FICOSEC")
    PRIVATE = "private", _("Iniciativa privada")
    GOVERNMENT = "government", _("Gobierno")
    CIVIL_SOCIETY = "civil_society", _("Sociedad civil")
    INTERNATIONAL = "international", _("Cooperación internacional")


class OrganizationQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The one rule for who sees which organization: those taking part in a project the caller may see
        (Project.objects.visible_to). Used by the directory pages, the sitemap and the API."""
        from .projects import Project  # projects.py imports this module

        # One visible project is enough: a correlated subquery that stops at the first one (LIMIT 1), which
        # PostgreSQL runs per organization from the participation index, where an IN or EXISTS became a hash of
        # every participation of every visible project (the directory at 100,000 projects: 0.2 s to 0.04 s).
        first = Project.objects.visible_to(user).filter(participations__organization=OuterRef("pk")).order_by()
        return self.alias(first_visible_project=Subquery(first.values("pk")[:1])).filter(
            first_visible_project__isnull=False
        )


class Organization(CopiedIntoProjects):
    copied_fields = ("name", "acronym", "is_ficosec")  # the search text and FICOSEC's share of its projects
    projects_lookup = "organization_ids__contains"

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
    rfc = models.CharField(_("RFC"), max_length=13, blank=True, validators=[validate_rfc])
    cluni = models.CharField(_("CLUNI"), max_length=20, blank=True, validators=[cluni_validator])
    is_donataria = models.BooleanField(_("donataria autorizada"), default=False)
    website = models.URLField(_("sitio web"), blank=True)
    email = models.EmailField(_("correo de contacto"), blank=True)
    municipality = models.ForeignKey(
        Municipality,
        verbose_name=_("municipio"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="organizations",
    )
    description = models.TextField(_("descripción"), blank=True)
    is_active = models.BooleanField(_("activa"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("miembros"),
        blank=True,
        related_name="organizations",
        help_text=_("Personas de la organización que pueden entrar a ver sus proyectos."),
    )
    created_at = models.DateTimeField(_("creada"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizada"), auto_now=True)
    history = HistoricalRecords(get_user=history_user)
    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organización")
        verbose_name_plural = _("organizaciones")
        constraints = [
            models.CheckConstraint(
                condition=Q(rfc="") | Q(rfc__regex=RFC_PATTERN),
                name="organization_rfc_format",
                **constraint_message(_("RFC inválido: 12 caracteres para personas morales o 13 para físicas.")),
            ),
            models.CheckConstraint(
                condition=Q(cluni="") | Q(cluni__regex=CLUNI_PATTERN),
                name="organization_cluni_format",
                **constraint_message(_("CLUNI inválida: de 8 a 20 letras mayúsculas o dígitos.")),
            ),
            models.UniqueConstraint(
                fields=["rfc"],
                condition=~Q(rfc=""),
                name="organization_rfc_unique",
                **constraint_message(_("Ya existe una organización con este RFC.")),
            ),
            models.UniqueConstraint(
                fields=["is_ficosec"],
                condition=Q(is_ficosec=True),
                name="organization_single_ficosec",
                **constraint_message(_("Solo una organización puede ser FICOSEC.")),
            ),
        ]
        # The directory's default order: a page of it is read in order, without sorting every organization.
        indexes = [models.Index(fields=["name", "id"], name="organization_name")]

    def __str__(self):
        return f"{self.name} ({self.acronym})" if self.acronym else self.name

    def get_absolute_url(self):
        return reverse("organization_detail", args=[self.slug])

    @property
    def sector(self):
        return self.sector_of(self.is_ficosec, self.kind)

    @classmethod
    def sector_of(cls, is_ficosec, kind):
        """The funder sector of an organization that is FICOSEC (or not) and of this kind."""
        return Sector.FICOSEC if is_ficosec else cls.SECTOR_BY_KIND[kind]

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
                twin = target.participations.filter(
                    project_id=participation.project_id, role=participation.role
                ).first()
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
            from .withdrawals import Withdrawal

            Withdrawal.record(
                Withdrawal.Kind.ORGANIZATION, self.slug, Withdrawal.Reason.MERGED, merged_into=target.slug
            )
            self.delete()
            Participation = self.participations.model  # projects.py imports this module, not the reverse
            Participation.project.field.related_model.objects.filter(pk__in=project_ids).refresh_derived()


def sector_expression(prefix=""):
    """The SQL twin of Organization.sector, for aggregating money by sector in one query."""
    whens = [models.When(**{f"{prefix}is_ficosec": True}, then=Value(Sector.FICOSEC.value))]
    whens += [
        models.When(**{f"{prefix}kind": kind}, then=Value(sector.value))
        for kind, sector in Organization.SECTOR_BY_KIND.items()
    ]
    return models.Case(*whens, output_field=models.CharField())


def unique_slug(model, text, max_length=100):
    base = slugify(text)[:max_length].strip("-") or model._meta.model_name
    slug, n = base, 2
    while model._default_manager.filter(slug=slug).exists():
        slug = f"{base[: max_length - 4]}-{n}"
        n += 1
    return slug
