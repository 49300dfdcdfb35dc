"""Governance and continuity: how projects are chosen (calls, applications, committee sessions, award decisions,
conflict-of-interest declarations and recusals) and how agreements with governments outlive a change of
administration (administrations, agreements, the transition radar).

The one rule of the "conflicto no resuelto" flag is AwardDecisionQuerySet.with_conflict_flag(): the workspace, the
public page, the CSV and the API all read it."""

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ficosec.history import history_user

from .common import constraint_message
from .organizations import Organization
from .places import Municipality, Region
from .projects import Participation, Project

# Who may do what: the existing vocabulary. Editors (change_project) capture; coordinators (publish_project) approve
# sessions and keep the administrations.
CAPTURE_PERMISSION = "projects.change_project"
APPROVE_PERMISSION = "projects.publish_project"

money_field_kwargs = dict(max_digits=16, decimal_places=2, default=Decimal("0"), validators=[MinValueValidator(0)])


class Body(models.TextChoices):
    TECHNICAL_COMMITTEE = "technical_committee", _("Comité técnico")
    BOARD = "board", _("Consejo directivo")


# --- Calls and applications -----------------------------------------------------------------------------------


class Call(models.Model):
    """A call for proposals (convocatoria), with the eligibility criteria that can be checked."""

    title = models.CharField(_("título"), max_length=250)
    axis = models.ForeignKey(
        "axes.Axis",
        verbose_name=_("eje estratégico"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    lines = models.ManyToManyField("axes.Line", verbose_name=_("líneas de acción"), blank=True, related_name="+")
    regions = models.ManyToManyField(Region, verbose_name=_("regiones elegibles"), blank=True, related_name="calls")
    opens_on = models.DateField(_("apertura"))
    closes_on = models.DateField(_("cierre"))
    budget = models.DecimalField(_("presupuesto (MXN)"), **money_field_kwargs)
    requires_cluni = models.BooleanField(_("requiere CLUNI"), default=False)
    requires_authorized_donee = models.BooleanField(_("requiere ser donataria autorizada"), default=False)
    min_years_operating = models.PositiveSmallIntegerField(_("años mínimos de operación"), default=0)
    terms_url = models.URLField(_("bases (enlace)"), blank=True)
    terms_file = models.FileField(_("bases (archivo)"), upload_to="convocatorias/", blank=True)
    history = HistoricalRecords(get_user=history_user, m2m_fields=[lines, regions])

    class Meta:
        ordering = ["-opens_on", "pk"]
        verbose_name = _("convocatoria")
        verbose_name_plural = _("convocatorias")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=F("opens_on")),
                name="call_dates_order",
                **constraint_message(_("El cierre de la convocatoria no puede ser anterior a su apertura.")),
            ),
            models.CheckConstraint(
                condition=Q(budget__gte=0),
                name="call_budget_not_negative",
                **constraint_message(_("El presupuesto no puede ser negativo.")),
            ),
        ]

    def __str__(self):
        return self.title


class Application(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Recibida")
        ELIGIBLE = "eligible", _("Elegible")
        NOT_ELIGIBLE = "not_eligible", _("No elegible")
        SELECTED = "selected", _("Seleccionada")
        NOT_SELECTED = "not_selected", _("No seleccionada")

    # Statuses that passed the eligibility check.
    ELIGIBLE_STATUSES = [Status.ELIGIBLE, Status.SELECTED, Status.NOT_SELECTED]

    call = models.ForeignKey(
        Call, verbose_name=_("convocatoria"), on_delete=models.CASCADE, related_name="applications"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organización"), on_delete=models.PROTECT, related_name="applications"
    )
    status = models.CharField(_("estado"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    reason = models.CharField(_("motivo"), max_length=500, blank=True, help_text=_("Obligatorio si no es elegible."))
    score = models.DecimalField(
        _("puntaje"), max_digits=5, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["call", "-score", "pk"]
        verbose_name = _("solicitud")
        verbose_name_plural = _("solicitudes")
        constraints = [
            models.UniqueConstraint(
                fields=["call", "organization"],
                name="application_once_per_call",
                **constraint_message(_("Esta organización ya tiene una solicitud en la convocatoria.")),
            ),
            models.CheckConstraint(
                condition=~Q(status="not_eligible") | ~Q(reason=""),
                name="application_not_eligible_has_reason",
                **constraint_message(_("Indique el motivo por el que la solicitud no es elegible.")),
            ),
        ]

    def __str__(self):
        return f"{self.organization} · {self.call}"


# --- Committee: members, declarations, sessions ---------------------------------------------------------------


class CommitteeMember(models.Model):
    """A person who sits on a deciding body. Only their name, whom they represent and their declarations are public."""

    name = models.CharField(_("nombre"), max_length=200)
    represents = models.CharField(_("representa a"), max_length=200, help_text=_("p. ej. sector empresarial, gobierno"))
    is_active = models.BooleanField(_("en funciones"), default=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["name"]
        verbose_name = _("integrante de comité")
        verbose_name_plural = _("integrantes de comité")

    def __str__(self):
        return self.name


class ConflictDeclaration(models.Model):
    """A tie a member declared with an organization; dated, and versioned through its history."""

    class Tie(models.TextChoices):
        FOUNDER = "founder", _("Fundador(a)")
        BOARD = "board", _("Integrante del consejo u órgano de gobierno")
        EMPLOYEE = "employee", _("Empleado(a)")
        RELATIVE = "relative", _("Familiar")
        DONOR = "donor", _("Donante")

    member = models.ForeignKey(
        CommitteeMember, verbose_name=_("integrante"), on_delete=models.CASCADE, related_name="declarations"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("organización"), on_delete=models.PROTECT, related_name="declared_ties"
    )
    tie = models.CharField(_("vínculo"), max_length=20, choices=Tie.choices)
    declared_on = models.DateField(_("declarado el"))
    ended_on = models.DateField(_("vínculo terminado el"), null=True, blank=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["member", "-declared_on", "pk"]
        verbose_name = _("declaración de conflicto de interés")
        verbose_name_plural = _("declaraciones de conflicto de interés")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("declared_on")),
                name="declaration_dates_order",
                **constraint_message(_("El vínculo no puede terminar antes de haberse declarado.")),
            ),
        ]

    def __str__(self):
        return f"{self.member} · {self.get_tie_display()} · {self.organization}"


class CommitteeSession(models.Model):
    body = models.CharField(_("órgano"), max_length=30, choices=Body.choices)
    held_on = models.DateField(_("fecha"))
    minutes_url = models.URLField(_("acta (enlace)"), blank=True)
    minutes_file = models.FileField(_("acta (archivo)"), upload_to="actas/", blank=True)
    approved_at = models.DateTimeField(_("aprobada el"), null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        "auth.User", verbose_name=_("aprobada por"), null=True, blank=True, editable=False, on_delete=models.SET_NULL
    )
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["-held_on", "-pk"]
        verbose_name = _("sesión de comité")
        verbose_name_plural = _("sesiones de comité")

    def __str__(self):
        return f"{self.get_body_display()} · {self.held_on:%d/%m/%Y}"


class Attendance(models.Model):
    """A member present at a session, and whom they represented there."""

    session = models.ForeignKey(
        CommitteeSession, verbose_name=_("sesión"), on_delete=models.CASCADE, related_name="attendances"
    )
    member = models.ForeignKey(
        CommitteeMember, verbose_name=_("integrante"), on_delete=models.PROTECT, related_name="attendances"
    )
    represents = models.CharField(_("en representación de"), max_length=200, blank=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["member__name"]
        verbose_name = _("asistencia")
        verbose_name_plural = _("asistencias")
        constraints = [
            # Also the target of the recusal's composite foreign key (a recused member was present).
            models.UniqueConstraint(
                fields=["session", "member"],
                name="attendance_once_per_session",
                **constraint_message(_("Esta persona ya figura como presente en la sesión.")),
            ),
        ]

    def __str__(self):
        return f"{self.member} ({self.represents or self.member.represents})"


# --- Award decisions and recusals -----------------------------------------------------------------------------


def unresolved_declarations(decision, session, held_on, project):
    """The declarations that make a decision "conflicto no resuelto": a member present at the decision's session
    declared a tie, in force that day, with an organization implementing the project, and did not recuse.
    The arguments are values or OuterRef expressions, so the same rule serves one decision and a whole list."""
    return ConflictDeclaration.objects.filter(
        Q(ended_on__isnull=True) | Q(ended_on__gte=held_on),
        declared_on__lte=held_on,
        member__attendances__session=session,
        organization__participations__project=project,
        organization__participations__role=Participation.Role.IMPLEMENTER,
    ).exclude(member__recusals__decision=decision)


class AwardDecisionQuerySet(models.QuerySet):
    def with_conflict_flag(self):
        """Annotate `unresolved_conflict` (the one rule of the flag, for the workspace, the public page and API)."""
        return self.annotate(
            unresolved_conflict=Exists(
                unresolved_declarations(
                    OuterRef("pk"), OuterRef("session"), OuterRef("session__held_on"), OuterRef("project")
                )
            )
        )

    def public(self):
        """Decisions on published projects: the only ones a visitor reads."""
        return self.filter(project__publication_state=Project.Publication.PUBLISHED)

    def visible_to(self, user):
        return self.filter(project__in=Project.objects.visible_to(user))


class AwardDecision(models.Model):
    """How a project was awarded, by which body, in which session (its date is the session's), for what amount."""

    class Method(models.TextChoices):
        OPEN_CALL = "open_call", _("Convocatoria abierta")
        INVITATION = "invitation", _("Invitación")
        DIRECT = "direct", _("Asignación directa")
        CO_INVESTMENT = "co_investment", _("Coinversión con gobierno")

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Aprobado")
        REJECTED = "rejected", _("Rechazado")

    project = models.OneToOneField(
        Project, verbose_name=_("proyecto"), on_delete=models.PROTECT, related_name="award_decision"
    )
    session = models.ForeignKey(
        CommitteeSession, verbose_name=_("sesión"), on_delete=models.PROTECT, related_name="decisions"
    )
    method = models.CharField(_("forma de asignación"), max_length=20, choices=Method.choices)
    call = models.ForeignKey(
        Call, verbose_name=_("convocatoria"), null=True, blank=True, on_delete=models.PROTECT, related_name="decisions"
    )
    outcome = models.CharField(_("decisión"), max_length=10, choices=Outcome.choices, default=Outcome.APPROVED)
    amount = models.DecimalField(_("monto aprobado (MXN)"), **money_field_kwargs)
    votes_for = models.PositiveSmallIntegerField(_("votos a favor"), default=0)
    votes_against = models.PositiveSmallIntegerField(_("votos en contra"), default=0)
    votes_abstained = models.PositiveSmallIntegerField(_("abstenciones"), default=0)
    history = HistoricalRecords(get_user=history_user)
    objects = AwardDecisionQuerySet.as_manager()

    class Meta:
        ordering = ["-session__held_on", "-pk"]
        verbose_name = _("decisión de asignación")
        verbose_name_plural = _("decisiones de asignación")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="decision_amount_not_negative",
                **constraint_message(_("El monto no puede ser negativo.")),
            ),
            models.CheckConstraint(
                condition=~Q(method="open_call") | Q(call__isnull=False),
                name="decision_open_call_names_call",
                **constraint_message(_("Una asignación por convocatoria abierta debe indicar la convocatoria.")),
            ),
            # Target of the recusal's composite foreign key: a recusal's session is its decision's session.
            models.UniqueConstraint(fields=["id", "session"], name="decision_id_session"),
        ]

    def __str__(self):
        return f"{self.project.code} · {self.get_method_display()}"

    @property
    def decided_on(self):
        return self.session.held_on

    def unresolved_declarations(self):
        return unresolved_declarations(self.pk, self.session_id, self.session.held_on, self.project_id).select_related(
            "member", "organization"
        )


class Recusal(models.Model):
    """A member present at a session who stepped out of one decision. The database refuses a recusal of a member who
    was not present (composite foreign keys to the attendance and to the decision's session, see the migration)."""

    decision = models.ForeignKey(
        AwardDecision, verbose_name=_("decisión"), on_delete=models.CASCADE, related_name="recusals"
    )
    session = models.ForeignKey(
        CommitteeSession, verbose_name=_("sesión"), editable=False, on_delete=models.CASCADE, related_name="+"
    )
    member = models.ForeignKey(
        CommitteeMember, verbose_name=_("integrante"), on_delete=models.PROTECT, related_name="recusals"
    )
    reason = models.CharField(_("motivo"), max_length=300, blank=True)
    history = HistoricalRecords(get_user=history_user)

    ABSENT_MESSAGE = _("Solo puede excusarse una persona presente en la sesión de la decisión.")

    class Meta:
        ordering = ["member__name"]
        verbose_name = _("excusa")
        verbose_name_plural = _("excusas")
        constraints = [
            models.UniqueConstraint(
                fields=["decision", "member"],
                name="recusal_once_per_decision",
                **constraint_message(_("Esta persona ya se excusó de esta decisión.")),
            ),
        ]

    def __str__(self):
        return f"{self.member} · {self.decision}"

    def clean(self):
        if self.decision_id and self.member_id:
            session_id = AwardDecision.objects.filter(pk=self.decision_id).values_list("session_id", flat=True).first()
            if not Attendance.objects.filter(session_id=session_id, member_id=self.member_id).exists():
                raise ValidationError({"member": self.ABSENT_MESSAGE}, code="absent")

    def save(self, *args, **kwargs):
        self.session_id = AwardDecision.objects.values_list("session_id", flat=True).get(pk=self.decision_id)
        super().save(*args, **kwargs)


# --- Continuity: administrations and agreements ---------------------------------------------------------------


class Administration(models.Model):
    class Level(models.TextChoices):
        FEDERAL = "federal", _("Federal")
        STATE = "state", _("Estatal")
        MUNICIPAL = "municipal", _("Municipal")

    level = models.CharField(_("nivel"), max_length=10, choices=Level.choices)
    municipality = models.ForeignKey(
        Municipality, verbose_name=_("municipio"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    governed_by = models.CharField(_("quién gobierna"), max_length=200)
    term_start = models.DateField(_("inicio del periodo"))
    term_end = models.DateField(_("fin del periodo"))
    is_demo = models.BooleanField(_("dato de demostración"), default=False, editable=False)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["level", "municipality__name", "-term_start"]
        verbose_name = _("administración")
        verbose_name_plural = _("administraciones")
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__gt=F("term_start")),
                name="administration_term_order",
                **constraint_message(_("El fin del periodo debe ser posterior a su inicio.")),
            ),
            models.CheckConstraint(
                condition=Q(level="municipal", municipality__isnull=False)
                | (~Q(level="municipal") & Q(municipality__isnull=True)),
                name="administration_municipality_iff_municipal",
                **constraint_message(_("Solo una administración municipal indica municipio, y debe indicarlo.")),
            ),
        ]

    def __str__(self):
        place = self.municipality.name if self.municipality_id else self.get_level_display()
        return f"{place} {self.term_start.year}-{self.term_end.year}"


class AgreementQuerySet(models.QuerySet):
    def at_risk(self, today=None):
        """Agreements in force that run past the end of the term of the administration that signed them, with
        that term still ahead: what the next change of government puts at risk (the transition radar)."""
        today = today or timezone.localdate()
        return (
            self.filter(status__in=[Agreement.Status.IN_FORCE, Agreement.Status.RENEWED])
            .filter(administration__term_end__gte=today)
            .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=F("administration__term_end")))
            .select_related("counterpart", "administration__municipality")
            .annotate(
                money=Sum("projects__total_amount"),
                people=Sum("projects__beneficiaries_target"),
            )
            .order_by("administration__term_end", "pk")
        )


class Agreement(models.Model):
    """An agreement (convenio) with a government counterpart, signed under one administration."""

    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("Vigente")
        EXPIRED = "expired", _("Vencido")
        RENEWED = "renewed", _("Renovado")
        TERMINATED = "terminated", _("Terminado anticipadamente")

    title = models.CharField(_("nombre del convenio"), max_length=250)
    counterpart = models.ForeignKey(
        Organization, verbose_name=_("contraparte"), on_delete=models.PROTECT, related_name="agreements"
    )
    office = models.CharField(_("dependencia u oficina"), max_length=200, blank=True)
    signatory_post = models.CharField(_("cargo de quien firma"), max_length=200)
    signed_on = models.DateField(_("fecha de firma"))
    valid_until = models.DateField(_("vigente hasta"), null=True, blank=True)
    administration = models.ForeignKey(
        Administration, verbose_name=_("administración firmante"), on_delete=models.PROTECT, related_name="agreements"
    )
    projects = models.ManyToManyField(Project, verbose_name=_("proyectos"), blank=True, related_name="agreements")
    # LINK POINT (money ledger): the commitments this agreement covers. When the ledger's Commitment model is merged,
    # add `commitments = models.ManyToManyField("projects.Commitment", blank=True, related_name="agreements")` here.
    document_url = models.URLField(_("documento (enlace)"), blank=True)
    document_file = models.FileField(_("documento (archivo)"), upload_to="convenios/", blank=True)
    status = models.CharField(_("estado"), max_length=20, choices=Status.choices, default=Status.IN_FORCE)
    ended_on = models.DateField(_("terminado el"), null=True, blank=True)
    # The handover checklist.
    handover_meeting_held = models.BooleanField(_("reunión con el equipo entrante realizada"), default=False)
    ratified = models.BooleanField(_("convenio ratificado o renovado por la nueva administración"), default=False)
    history = HistoricalRecords(get_user=history_user, m2m_fields=[projects])
    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-signed_on", "pk"]
        verbose_name = _("convenio")
        verbose_name_plural = _("convenios")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("signed_on")),
                name="agreement_dates_order",
                **constraint_message(_("La vigencia no puede terminar antes de la firma.")),
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("signed_on")),
                name="agreement_end_after_signing",
                **constraint_message(_("Un convenio no puede terminar antes de firmarse.")),
            ),
            models.CheckConstraint(
                condition=~Q(status="terminated") | Q(ended_on__isnull=False),
                name="agreement_terminated_has_date",
                **constraint_message(_("Indique la fecha en que terminó el convenio.")),
            ),
        ]

    def __str__(self):
        return self.title

    def days_left(self, today=None):
        """Days until the signing administration's term ends."""
        return (self.administration.term_end - (today or timezone.localdate())).days


def continuity_figures(today=None):
    """For each past transition (an administration whose term ended), the agreements in force before it, how many
    continued after it, how many ended early, their projects and the money involved."""
    today = today or timezone.localdate()
    rows = []
    ended = Administration.objects.filter(term_end__lt=today).select_related("municipality").order_by("-term_end")
    for administration in ended:
        change = administration.term_end
        before = Agreement.objects.filter(signed_on__lte=change).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=change),
            Q(ended_on__isnull=True) | Q(ended_on__gte=change),
            administration=administration,
        )
        ended_early = before.filter(status=Agreement.Status.TERMINATED, ended_on__lte=change + timedelta(days=365))
        projects = Project.objects.published().filter(agreements__in=before).distinct()
        rows.append(
            {
                "administration": administration,
                "in_force": before.count(),
                "continued": before.count() - ended_early.count(),
                "ended_early": ended_early.count(),
                "projects": projects.count(),
                "money": projects.aggregate(s=Sum("total_amount"))["s"] or Decimal("0"),
            }
        )
    return rows
