"""Money you can follow: what each funder committed to a project, what was paid out (disbursements, in tranches), and
what was proven with invoices (CFDI), with duplicate invoices refused and near-duplicates queued for review.

The rules live here: a disbursement never exceeds what remains committed (Commitment.disburse, a locked check), an
invoice is never charged above its total (ExpenseProof.record, a locked check plus the `charged <= total` database
constraint), and the published annual totals sit beside the portal's figures (AnnualReport)."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import F, Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ficosec.history import history_user

from .common import constraint_message, validate_rfc
from .organizations import Organization
from .projects import Participation, Project, is_staff_user, own_project_ids

CENT = Decimal("0.01")


def money_field(label, **extra):
    return models.DecimalField(label, max_digits=16, decimal_places=2, validators=[MinValueValidator(CENT)], **extra)


class Approval(models.Model):
    """Staff enter the ledger; a coordinator approves each commitment and disbursement."""

    approved_at = models.DateTimeField(_("aprobado el"), null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("aprobado por"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        abstract = True

    def approve(self, user):
        if not user.has_perm("projects.approve_money"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied(_("Solo la coordinación aprueba el registro financiero."))
        self.approved_at, self.approved_by = timezone.now(), user
        self.save(update_fields=["approved_at", "approved_by"])


class LedgerQuerySet(models.QuerySet):
    project_path = "project"

    def visible_to(self, user):
        """Commitments and disbursements are public for published projects; staff see all, partners their own."""
        return self.filter(**{f"{self.project_path}__in": Project.objects.visible_to(user).values("pk")})


class Commitment(Approval):
    Kind = Participation.ContributionKind  # one vocabulary for cash and in kind

    project = models.ForeignKey(
        Project, verbose_name=_("proyecto"), on_delete=models.CASCADE, related_name="commitments"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("quién compromete"), on_delete=models.PROTECT, related_name="commitments"
    )
    amount = money_field(_("monto comprometido (MXN)"))
    date = models.DateField(_("fecha del compromiso"))
    kind = models.CharField(_("tipo"), max_length=10, choices=Kind.choices, default=Kind.CASH)
    in_kind_description = models.CharField(_("qué se aporta en especie"), max_length=250, blank=True)
    valuation_method = models.CharField(_("cómo se valuó"), max_length=250, blank=True)
    # Link point for the governance issue's agreements: the agreement's reference until that model exists.
    agreement_reference = models.CharField(_("convenio"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("registrado"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user)
    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["date", "pk"]
        verbose_name = _("compromiso")
        verbose_name_plural = _("compromisos")
        permissions = [("approve_money", _("Puede aprobar compromisos, ministraciones y revisar comprobantes"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="commitment_amount_positive",
                **constraint_message(_("El monto comprometido debe ser mayor que cero.")),
            ),
            models.CheckConstraint(
                condition=Q(kind="cash") | (~Q(in_kind_description="") & ~Q(valuation_method="")),
                name="commitment_in_kind_described",
                **constraint_message(_("Una aportación en especie dice qué se aporta y cómo se valuó.")),
            ),
        ]

    def __str__(self):
        return f"{self.organization} → {self.project.code}: {self.amount}"

    def disburse(self, amount, recipient, planned_date, actual_date=None, tranche=None):
        """Record tranche n of this commitment. The commitment row is locked while what was already disbursed is
        summed, so two concurrent disbursements can never together exceed it. Raises ValidationError (in Spanish) and
        writes nothing otherwise."""
        amount = Decimal(amount)
        with transaction.atomic():
            Commitment.objects.select_for_update().filter(pk=self.pk).first()
            done = self.disbursements.aggregate(paid=Sum("amount"), last=Max("tranche"))
            remaining = self.amount - (done["paid"] or 0)
            if amount > remaining:
                raise ValidationError(
                    _("La ministración (%(amount)s) excede lo que queda por ministrar del compromiso (%(remaining)s).")
                    % {"amount": f"${amount:,.2f}", "remaining": f"${remaining:,.2f}"},
                    code="over_disbursement",
                )
            disbursement = Disbursement(
                commitment=self,
                recipient=recipient,
                tranche=tranche or (done["last"] or 0) + 1,
                amount=amount,
                planned_date=planned_date,
                actual_date=actual_date,
            )
            disbursement.full_clean()
            disbursement.save()
            return disbursement


class DisbursementQuerySet(LedgerQuerySet):
    project_path = "commitment__project"


class Disbursement(Approval):
    """A ministración: tranche n of a commitment, paid to an implementing organization."""

    commitment = models.ForeignKey(
        Commitment, verbose_name=_("compromiso"), on_delete=models.PROTECT, related_name="disbursements"
    )
    recipient = models.ForeignKey(
        Organization, verbose_name=_("organización que recibe"), on_delete=models.PROTECT, related_name="disbursements"
    )
    tranche = models.PositiveSmallIntegerField(_("número de ministración"), validators=[MinValueValidator(1)])
    amount = money_field(_("monto (MXN)"))
    planned_date = models.DateField(_("fecha planeada"))
    actual_date = models.DateField(_("fecha de pago"), null=True, blank=True, help_text=_("Vacía mientras no se paga."))
    created_at = models.DateTimeField(_("registrada"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user)
    objects = DisbursementQuerySet.as_manager()

    class Meta:
        ordering = ["commitment", "tranche"]
        verbose_name = _("ministración")
        verbose_name_plural = _("ministraciones")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="disbursement_amount_positive",
                **constraint_message(_("El monto de la ministración debe ser mayor que cero.")),
            ),
            models.CheckConstraint(
                condition=Q(tranche__gte=1), name="disbursement_tranche_positive", **constraint_message(_("n ≥ 1"))
            ),
            models.UniqueConstraint(
                fields=["commitment", "tranche"],
                name="disbursement_unique_tranche",
                **constraint_message(_("Ese número de ministración ya existe en el compromiso.")),
            ),
        ]

    def __str__(self):
        return _("%(project)s · ministración %(n)s de %(funder)s") % {
            "project": self.commitment.project.code,
            "n": self.tranche,
            "funder": self.commitment.organization.acronym or self.commitment.organization.name,
        }


class ProofQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Invoices are never public (an issuer may be a person): staff see all, a partner the ones charged to its
        own projects."""
        if is_staff_user(user):
            return self
        if not user.has_perm("projects.view_expenseproof"):
            return self.none()
        return self.filter(charges__disbursement__commitment__project__in=own_project_ids(user)).distinct()

    def in_review(self):
        return self.exclude(review_reason="").filter(reviewed_at__isnull=True)


class AlreadyCharged(ValidationError):
    """The same folio fiscal is already charged here, up to its total (or to this very disbursement)."""

    def __init__(self, proof):
        super().__init__(_("Este CFDI ya está registrado."), code="duplicate")
        self.proof = proof


class ExpenseProof(models.Model):
    """A CFDI proving an expense, unique by its folio fiscal. Its `charged` column is the sum of its charges, kept by
    record() in the same transaction; the database refuses it above the invoice total."""

    uuid = models.UUIDField(_("folio fiscal (UUID)"), unique=True)
    version = models.CharField(_("versión"), max_length=3)
    issuer_rfc = models.CharField(_("RFC del emisor"), max_length=13, validators=[validate_rfc])
    issuer_name = models.CharField(_("emisor"), max_length=250, blank=True)
    receiver_rfc = models.CharField(_("RFC del receptor"), max_length=13, validators=[validate_rfc])
    issued_on = models.DateField(_("fecha de emisión"))
    total = money_field(_("total"))
    currency = models.CharField(_("moneda"), max_length=3, default="MXN")
    serie = models.CharField(_("serie"), max_length=25, blank=True)
    folio = models.CharField(_("folio"), max_length=40, blank=True)
    # The XML itself, in the database: an upload that fails leaves no orphan file, and backups carry it.
    xml = models.TextField(_("XML"), editable=False)
    filename = models.CharField(_("archivo"), max_length=200, blank=True)
    charged = models.DecimalField(_("monto cargado"), max_digits=16, decimal_places=2, default=0, editable=False)
    review_reason = models.TextField(_("motivo de revisión"), blank=True, editable=False)
    reviewed_at = models.DateTimeField(_("revisado el"), null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_with = models.ForeignKey(
        "ApiKey", null=True, blank=True, editable=False, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("cargado"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user, excluded_fields=["xml"])
    objects = ProofQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("comprobante (CFDI)")
        verbose_name_plural = _("comprobantes (CFDI)")
        indexes = [
            models.Index(fields=["issuer_rfc", "issued_on", "total"], name="proof_near_duplicate"),
            models.Index(fields=["issuer_rfc", "serie", "folio"], name="proof_same_number"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total__gt=0),
                name="proof_total_positive",
                **constraint_message(_("El total del CFDI debe ser mayor que cero.")),
            ),
            models.CheckConstraint(
                condition=Q(charged__gte=0) & Q(charged__lte=F("total")),
                name="proof_charged_within_total",
                **constraint_message(_("Lo cargado de un CFDI no puede exceder su total.")),
            ),
        ]

    def __str__(self):
        return str(self.uuid).upper()

    @property
    def remaining(self):
        return self.total - self.charged

    def near_duplicates(self):
        """(other proof, reason) for each invoice that looks like this one under another folio fiscal."""
        same = ExpenseProof.objects.exclude(uuid=self.uuid).filter(issuer_rfc=self.issuer_rfc)
        found = [
            (other, _("mismo emisor, total y fecha que el CFDI %(uuid)s") % {"uuid": other})
            for other in same.filter(total=self.total, issued_on=self.issued_on)[:5]
        ]
        if self.folio:
            found += [
                (
                    other,
                    _("misma serie y folio (%(number)s) del mismo emisor que el CFDI %(uuid)s")
                    % {"number": f"{self.serie}{self.folio}", "uuid": other},
                )
                for other in same.filter(serie=self.serie, folio=self.folio)[:5]
            ]
        return found

    @classmethod
    def record(cls, data, disbursement, amount=None, user=None, api_key=None, filename=""):
        """Read a CFDI file and charge `amount` of it (by default, what is left of its total) to `disbursement`, in
        one transaction. A folio fiscal already charged up to its total, or already charged to this disbursement,
        raises AlreadyCharged; a file that is not a stamped CFDI raises ValidationError; nothing is written then.
        A near-duplicate (another folio fiscal with the same issuer, total and date, or the same invoice number) is
        accepted and queued for review with the reason."""
        from .. import cfdi

        invoice = cfdi.parse(data)
        if invoice.currency != "MXN":
            raise ValidationError(_("Solo se aceptan CFDI en pesos mexicanos (MXN)."), code="currency")
        with transaction.atomic():
            proof = cls.objects.select_for_update().filter(uuid=invoice.uuid).first()
            if proof is None:
                proof = cls(
                    xml=data.decode("utf-8", errors="replace"),
                    filename=filename[:200],
                    uploaded_by=user if user is not None and user.pk else None,
                    uploaded_with=api_key,
                    **vars(invoice),
                )
                proof.review_reason = "; ".join(str(reason) for _other, reason in proof.near_duplicates())
                try:
                    with transaction.atomic():
                        proof.save()
                except IntegrityError:  # the same folio fiscal, uploaded at this very moment by somebody else
                    proof = cls.objects.select_for_update().get(uuid=invoice.uuid)
            amount = proof.remaining if amount in (None, "") else Decimal(amount)
            already_here = proof.charges.filter(disbursement=disbursement).exists()
            if already_here or (proof.charged and (amount > proof.remaining or proof.remaining <= 0)):
                raise AlreadyCharged(proof)
            if amount <= 0 or amount > proof.remaining:
                raise ValidationError(
                    _("El monto a cargar debe ser mayor que cero y no exceder el total del CFDI (%(total)s).")
                    % {"total": f"${proof.total:,.2f}"},
                    code="charge_amount",
                )
            Charge.objects.create(proof=proof, disbursement=disbursement, amount=amount)
            cls.objects.filter(pk=proof.pk).update(charged=F("charged") + amount)  # checked against total by the DB
            proof.charged += amount
            return proof

    def review(self, user):
        if not user.has_perm("projects.approve_money"):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied(_("Solo la coordinación resuelve la cola de revisión."))
        self.reviewed_at, self.reviewed_by = timezone.now(), user
        self.save(update_fields=["reviewed_at", "reviewed_by"])


class Charge(models.Model):
    """An amount of an invoice charged to a disbursement: one invoice may be split across projects."""

    proof = models.ForeignKey(ExpenseProof, verbose_name=_("CFDI"), on_delete=models.PROTECT, related_name="charges")
    disbursement = models.ForeignKey(
        Disbursement, verbose_name=_("ministración"), on_delete=models.PROTECT, related_name="charges"
    )
    amount = money_field(_("monto cargado (MXN)"))
    created_at = models.DateTimeField(_("cargado"), auto_now_add=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("cargo de comprobante")
        verbose_name_plural = _("cargos de comprobantes")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="charge_amount_positive",
                **constraint_message(_("El monto cargado debe ser mayor que cero.")),
            ),
            models.UniqueConstraint(
                fields=["proof", "disbursement"],
                name="charge_unique_per_disbursement",
                **constraint_message(_("Este CFDI ya está cargado a esta ministración.")),
            ),
        ]


class AnnualReport(models.Model):
    """The totals FICOSEC published for a year, entered by a coordinator, shown beside the portal's own figures."""

    year = models.PositiveSmallIntegerField(_("año"), unique=True, validators=[MinValueValidator(2000)])
    projects = models.PositiveIntegerField(_("proyectos"))
    amount = models.DecimalField(_("monto publicado (MXN)"), max_digits=16, decimal_places=2)
    source = models.CharField(_("fuente"), max_length=250, help_text=_("El informe anual y su página o dirección."))
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["year"]
        verbose_name = _("informe anual publicado")
        verbose_name_plural = _("informes anuales publicados")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="annual_report_amount_not_negative",
                **constraint_message(_("El monto no puede ser negativo.")),
            )
        ]

    def __str__(self):
        return str(self.year)


class MoneyFact(models.Model):
    """What the public money figures (projects.accountability) add up: a project's committed, paid and proven money
    per year, funder (the commitment's organization) and kind, each in the year it counts in (a commitment in the
    year of its date, a disbursement in the year it was paid, a proof in the year of its invoice). Written only by
    PostgreSQL (migration 0014: triggers on commitments, disbursements, charges and an invoice's date re-add the
    projects a statement touched), so it follows the ledger whatever the write path; never written by Django. The
    project's publication, axis and award type are read beside it, so a change of them needs nothing here."""

    class Measure(models.TextChoices):
        COMMITTED = "committed", _("comprometido")
        PAID = "paid", _("ministrado")
        PROVEN = "proven", _("comprobado")

    # (no index of its own: the unique constraint's index below leads with the project)
    project = models.ForeignKey(Project, on_delete=models.DO_NOTHING, related_name="+", db_index=False)
    measure = models.CharField(max_length=10, choices=Measure.choices)
    year = models.IntegerField()
    organization = models.ForeignKey(Organization, on_delete=models.DO_NOTHING, related_name="+")
    kind = models.CharField(max_length=10, choices=Commitment.Kind.choices)
    amount = models.DecimalField(max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("cifra de dinero")
        verbose_name_plural = _("cifras de dinero")
        constraints = [  # one row per sum: a sum added twice fails rather than counts twice
            models.UniqueConstraint(
                fields=["project", "measure", "year", "organization", "kind"], name="money_fact_once"
            )
        ]


class MoneyFigure(models.Model):
    """The money facts of the published projects summed at the grain of the public figures (measure, year, kind, the
    funder's kind and whether it is FICOSEC, the project's axis and award type): what projects.accountability reads,
    a few thousand rows whatever the number of projects. Written only by PostgreSQL (migrations 0017, 0019), by
    deltas, each a row of its own: a ledger write subtracts the old facts of the projects it touched and adds the new
    ones (projects_money_refresh), a change of a project's publication, axis or award type or its deletion moves its
    facts, and so does a change of an organization's kind. A cell is the sum of its rows (cells()); every 1,024 rows
    or so, projects_money_compact() folds them into one per cell."""

    CELL = ("measure", "year", "kind", "funder_is_ficosec", "funder_kind", "axis", "award_type")

    measure = models.CharField(max_length=10, choices=MoneyFact.Measure.choices)
    year = models.IntegerField()
    kind = models.CharField(max_length=10, choices=Commitment.Kind.choices)
    funder_is_ficosec = models.BooleanField()
    funder_kind = models.CharField(max_length=20, choices=Organization.Kind.choices)
    axis = models.ForeignKey("axes.Axis", on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False)
    award_type = models.CharField(max_length=20, choices=Project.Award.choices, blank=True)
    amount = models.DecimalField(max_digits=18, decimal_places=2)
    facts = models.IntegerField()  # the money facts summed here (subtracted: negative)

    class Meta:
        verbose_name = _("suma de dinero")
        verbose_name_plural = _("sumas de dinero")

    @classmethod
    def cells(cls, **filters):
        """(cell..., amount, facts) of each cell holding facts now: its rows added up."""
        rows = cls.objects.filter(**filters).values(*cls.CELL)
        return rows.annotate(total=Sum("amount"), n=Sum("facts")).filter(n__gt=0).values_list(*cls.CELL, "total", "n")


class MoneyProjectCount(models.Model):
    """The published projects with a commitment, per year of commitment (year 0: in any year), axis and award type:
    the figures' share of projects, kept by the same deltas as MoneyFigure, each a row of its own (cells())."""

    ANY_YEAR = 0
    CELL = ("year", "axis", "award_type")

    year = models.IntegerField()
    axis = models.ForeignKey("axes.Axis", on_delete=models.DO_NOTHING, null=True, related_name="+", db_constraint=False)
    award_type = models.CharField(max_length=20, choices=Project.Award.choices, blank=True)
    projects = models.IntegerField()

    class Meta:
        verbose_name = _("proyectos con dinero")
        verbose_name_plural = _("proyectos con dinero")

    @classmethod
    def cells(cls, **filters):
        """(year, axis, award type, projects) of each cell counting projects now: its rows added up."""
        rows = cls.objects.filter(**filters).values(*cls.CELL)
        return rows.annotate(n=Sum("projects")).filter(n__gt=0).values_list(*cls.CELL, "n")
