"""Indicators of a project and their dated measurements."""

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ficosec.history import history_user

from .common import constraint_message, months_before
from .projects import Project, ProjectPartQuerySet

# --- Indicators -----------------------------------------------------------------------------------------------


class IndicatorQuerySet(ProjectPartQuerySet):
    project_path = "project"


class Indicator(models.Model):
    class Direction(models.TextChoices):
        INCREASE = "increase", _("Aumentar")
        DECREASE = "decrease", _("Disminuir")

    class UnitKind(models.TextChoices):
        PEOPLE = "people", _("Personas (números enteros)")
        PERCENTAGE = "percentage", _("Porcentaje (0 a 100)")
        MONEY = "money", _("Dinero (MXN)")
        OTHER = "other", _("Otra")

    class Frequency(models.IntegerChoices):
        MONTHLY = 1, _("Mensual")
        QUARTERLY = 3, _("Trimestral")
        SEMIANNUAL = 6, _("Semestral")
        ANNUAL = 12, _("Anual")

    project = models.ForeignKey(
        Project, verbose_name=_("proyecto"), on_delete=models.CASCADE, related_name="indicators"
    )
    name = models.CharField(_("nombre"), max_length=250)
    unit = models.CharField(_("unidad"), max_length=60, help_text=_("p. ej. personas, %, sesiones"))
    unit_kind = models.CharField(_("tipo de unidad"), max_length=12, choices=UnitKind.choices, default=UnitKind.OTHER)
    baseline = models.DecimalField(_("línea base"), max_digits=16, decimal_places=4, null=True, blank=True)
    target = models.DecimalField(_("meta"), max_digits=16, decimal_places=4, null=True, blank=True)
    direction = models.CharField(_("sentido"), max_length=10, choices=Direction.choices, default=Direction.INCREASE)
    frequency = models.PositiveSmallIntegerField(
        _("periodicidad"), choices=Frequency.choices, default=Frequency.QUARTERLY
    )
    order = models.PositiveSmallIntegerField(_("orden"), default=0)
    history = HistoricalRecords(get_user=history_user)
    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("indicador")
        verbose_name_plural = _("indicadores")

    def __str__(self):
        return f"{self.name} ({self.unit})"

    def value_errors(self, value):
        """What is wrong with `value` as a figure of this indicator's unit kind (empty when nothing), in Spanish: the
        one rule, called by Measurement.clean, the breakdown check, the workspace form and the API."""
        if value is None:
            return []
        if self.unit_kind == self.UnitKind.PEOPLE and (value < 0 or value != int(value)):
            return [_("Las personas se cuentan en números enteros, sin negativos.")]
        if self.unit_kind == self.UnitKind.PERCENTAGE and not (0 <= value <= 100):
            return [_("Un porcentaje va de 0 a 100.")]
        if self.unit_kind == self.UnitKind.MONEY and value < 0:
            return [_("Un monto no puede ser negativo.")]
        return []

    def clean(self):
        errors = {name: self.value_errors(getattr(self, name)) for name in ("baseline", "target")}
        errors = {name: found for name, found in errors.items() if found}
        if errors:
            raise ValidationError(errors)

    @property
    def counts_people(self):
        return self.unit_kind == self.UnitKind.PEOPLE

    # Units that can hold fractions; an indicator whose kind is "other" counts people or things (personas,
    # adolescentes, escuelas) unless its unit says otherwise: no "233.40 personas".
    FRACTIONAL_UNITS = ("%", "tasa", "promedio", "índice", "indice", "por ", "horas", "días", "pesos", "mxn", "km")

    @property
    def counts_whole(self):
        if self.unit_kind != self.UnitKind.OTHER:
            return self.unit_kind == self.UnitKind.PEOPLE
        unit = self.unit.lower()
        return not any(word in unit for word in self.FRACTIONAL_UNITS)

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
        return (
            cls.objects.filter(project__in=projects.filter(status=Project.Status.IN_PROGRESS).values("pk"))
            .annotate(last_date=models.Subquery(latest), since=cls.since())
            .filter(cls.late(today))
            .select_related("project")
            .order_by("since", "pk")
        )

    @staticmethod
    def since(last_date="last_date"):
        """When the indicator's reporting clock started: its latest measurement (annotated as `last_date`), or the
        project's start when there is none."""
        return Coalesce(last_date, Project.dates("project__")["start"])

    @classmethod
    def late(cls, today):
        """Whether an indicator annotated with `since` is past due: due = since + frequency months (one bound per
        frequency, in SQL). Only running projects' indicators can be overdue (the caller filters them)."""
        late = Q()
        for months in cls.Frequency.values:
            late |= Q(frequency=months, since__lt=months_before(today, months))
        return late

    def next_due(self, last_date):
        """When the next measurement is due after `last_date` (a date)."""
        month = last_date.month - 1 + self.frequency
        year, month = last_date.year + month // 12, month % 12 + 1
        return date(year, month, min(last_date.day, 28))


class MeasurementQuerySet(ProjectPartQuerySet):
    project_path = "indicator__project"


class Measurement(models.Model):
    """A dated value of an indicator (an avance)."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicador"), on_delete=models.CASCADE, related_name="measurements"
    )
    date = models.DateField(_("fecha"))
    value = models.DecimalField(_("valor"), max_digits=16, decimal_places=4)
    note = models.CharField(_("nota"), max_length=500, blank=True)
    source = models.CharField(_("fuente"), max_length=250, blank=True)
    document_url = models.URLField(_("documento de respaldo"), max_length=500, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reportado por"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reported_by_key = models.ForeignKey(
        "ApiKey",
        verbose_name=_("reportado con la llave"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registrado"), auto_now_add=True)
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)
    history = HistoricalRecords(get_user=history_user)
    objects = MeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["indicator", "date"]
        verbose_name = _("medición")
        verbose_name_plural = _("mediciones")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "date"],
                name="measurement_one_per_date",
                **constraint_message(_("Ya hay una medición de este indicador en esa fecha.")),
            ),
        ]
        indexes = [
            # The latest value of an indicator in one read of the index, with no visit to the table: what the
            # trigger keeping LatestMeasurement (migration 0015) and Indicator.overdue read.
            models.Index(fields=["indicator", "-date"], include=["value"], name="measurement_latest"),
        ]

    def __str__(self):
        return f"{self.indicator.name}: {self.value} ({self.date:%d/%m/%Y})"

    def clean(self):
        if self.indicator_id and self.value is not None:
            errors = self.indicator.value_errors(self.value)
            if errors:
                raise ValidationError({"value": errors})

    def record(self, user, api_key=None):
        """Save this measurement, new or corrected, as reported by `user` (and the partner's `api_key`, if any).

        The one operation behind the staff page, the API and the tests. The caller must be able to report on the
        indicator the measurement belongs to as stored AND on the one it will belong to (a measurement never moves
        to, or from, a project the caller may not report on): PermissionDenied otherwise, and nothing is written.
        A date that already has a measurement of the indicator is refused (ValidationError, in Spanish): a new
        measurement never overwrites another one; a correction is an edit of that measurement."""
        indicators = {self.indicator_id}
        if self.pk:
            indicators.add(Measurement.objects.filter(pk=self.pk).values_list("indicator_id", flat=True).first())
        if Indicator.objects.reportable_by(user).filter(pk__in=indicators).count() != len(indicators):
            raise PermissionDenied(_("Solo puede reportar avances de los proyectos de su organización."))
        self.full_clean()
        self.reported_by = user if getattr(user, "pk", None) else None
        self.reported_by_key = api_key
        self.save()
        return self


class LatestMeasurement(models.Model):
    """Each indicator's latest measurement (its value and date): what the evidence page's roll-up
    (progress_status_counts) reads for every indicator, instead of picking the latest of every measurement on each
    request. Written only by PostgreSQL (migration 0015: statement triggers on measurements re-read the latest of the
    indicators a statement touched), so it follows every write path; never written by Django."""

    indicator = models.OneToOneField(Indicator, on_delete=models.DO_NOTHING, primary_key=True, related_name="+")
    date = models.DateField()
    value = models.DecimalField(max_digits=16, decimal_places=4)

    class Meta:
        verbose_name = _("última medición")
        verbose_name_plural = _("últimas mediciones")
