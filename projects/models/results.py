"""The results framework around indicators: reporting periods with their targets and narrative, breakdowns of a
measurement (sex, age group, population group) and the evaluations behind a project's evidence level."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .common import constraint_message, months_before
from .indicators import Indicator, Measurement
from .projects import Project

# --- Progress: one rule ------------------------------------------------------------------------------------------

ON_TRACK, AT_RISK, OFF_TRACK, NO_REPORT = "on_track", "at_risk", "off_track", "no_report"
STATUS_LABELS = {
    ON_TRACK: _("En camino"),
    AT_RISK: _("En riesgo"),
    OFF_TRACK: _("Rezagado"),
    NO_REPORT: _("Sin informe reciente"),
}
# How far behind the expected progress an indicator may be (as a share of the way from baseline to target).
AT_RISK_MARGIN = Decimal("0.10")
OFF_TRACK_MARGIN = Decimal("0.25")


def expected_progress(indicator, today, periods=()):
    """Share of the way from baseline to target expected by `today`: the target of the latest period already ended
    when periods carry targets, otherwise the share of the project's time elapsed (straight line)."""
    ended = [p for p in periods if p.end <= today and p.target is not None]
    if ended:
        return indicator.progress(max(ended, key=lambda p: p.end).target) or Decimal("0")
    project = indicator.project
    start, end = project.start_date, project.end_date
    if not (start and end) or end <= start:
        return Decimal("1") if end and today >= end else Decimal("0")
    elapsed = (min(max(today, start), end) - start).days
    return Decimal(elapsed) / Decimal((end - start).days)


def progress_status(indicator, latest, today=None, periods=(), overdue=False):
    """On track / at risk / off track / no recent report for an indicator whose latest measurement is `latest`
    (a Measurement or None): direction-aware through Indicator.progress, time-aware through expected_progress.
    An indicator whose report is overdue (Indicator.overdue) has no recent report, whatever its last value."""
    today = today or timezone.localdate()
    if latest is None or overdue:
        return NO_REPORT
    reached = indicator.progress(Decimal(str(latest.value)))
    if reached is None:
        return NO_REPORT
    reached = Decimal(str(reached))
    gap = expected_progress(indicator, today, periods) - reached
    if gap <= AT_RISK_MARGIN:
        return ON_TRACK
    if gap <= OFF_TRACK_MARGIN:
        return AT_RISK
    return OFF_TRACK


def progress_status_counts(projects, today=None):
    """{(axis id, status): number of indicators} over the indicators of `projects` (a queryset), by
    progress_status's rule written in SQL: the evidence page's roll-up counts hundreds of thousands of indicators in
    one pass of the database instead of loading each with its project, periods and latest measurement.
    tests/test_results.py holds both to the same answers. Latest measurements are those PostgreSQL keeps
    (LatestMeasurement); last ended periods are read set-wise (DISTINCT ON), never per indicator."""
    today = today or timezone.localdate()
    pks, pk_params = projects.order_by().values("pk").query.sql_with_params()
    start, end = ("COALESCE(p.{}, p.{})".format(*fields) for fields in (Project.START, Project.END))
    frequencies = Indicator.Frequency.values
    due = " ".join("WHEN %s THEN %s::date" for _months in frequencies)  # Indicator.late: one bound per frequency
    due_params = [value for months in frequencies for value in (months, months_before(today, months))]
    sql = f"""
        WITH ended AS (
            SELECT DISTINCT ON (indicator_id) indicator_id, target
            FROM projects_period WHERE "end" <= %s AND target IS NOT NULL ORDER BY indicator_id, "end" DESC
        ), facts AS (
            SELECT p.axis_id AS axis, i.target, COALESCE(i.baseline, 0) AS base,
                   NULLIF(i.target - COALESCE(i.baseline, 0), 0) AS span, latest.value, ended.target AS period_target,
                   {start} AS start, {end} AS "end",
                   p.status = %s AND COALESCE(latest.date, {start}) < CASE i.frequency {due} END AS overdue
            FROM projects_indicator i
            JOIN projects_project p ON p.id = i.project_id
            LEFT JOIN projects_latestmeasurement latest ON latest.indicator_id = i.id
            LEFT JOIN ended ON ended.indicator_id = i.id
            WHERE i.project_id IN ({pks})
        ), progress AS (  -- Indicator.progress of the latest value, and expected_progress
            -- (GREATEST and LEAST skip a NULL: no target or no span is tested first)
            SELECT axis, overdue,
                   CASE WHEN span IS NOT NULL AND value IS NOT NULL
                        THEN GREATEST(0, LEAST(1, (value - base) / span)) END AS reached,
                   CASE WHEN period_target IS NOT NULL
                            THEN CASE WHEN span IS NOT NULL
                                      THEN GREATEST(0, LEAST(1, (period_target - base) / span)) ELSE 0 END
                        WHEN start IS NULL OR "end" IS NULL OR "end" <= start
                            THEN CASE WHEN "end" <= %s THEN 1 ELSE 0 END
                        ELSE (LEAST(GREATEST(%s, start), "end") - start)::numeric / ("end" - start)
                   END AS expected
            FROM facts
        )
        SELECT axis, CASE WHEN overdue OR reached IS NULL THEN %s
                          WHEN expected - reached <= %s THEN %s
                          WHEN expected - reached <= %s THEN %s
                          ELSE %s END AS status, COUNT(*)
        FROM progress GROUP BY 1, 2"""
    params = [
        today,
        Project.Status.IN_PROGRESS,
        *due_params,
        *pk_params,
        today,
        today,
        NO_REPORT,
        AT_RISK_MARGIN,
        ON_TRACK,
        OFF_TRACK_MARGIN,
        AT_RISK,
        OFF_TRACK,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(axis, status): n for axis, status, n in cursor.fetchall()}


# --- Periods ----------------------------------------------------------------------------------------------------


class Period(models.Model):
    """A reporting period of an indicator (a quarter, a year): its target and the narrative of what happened."""

    indicator = models.ForeignKey(
        Indicator, verbose_name=_("indicador"), on_delete=models.CASCADE, related_name="periods"
    )
    start = models.DateField(_("inicio"))
    end = models.DateField(_("fin"))
    target = models.DecimalField(_("meta del periodo"), max_digits=16, decimal_places=4, null=True, blank=True)
    narrative = models.TextField(_("qué pasó"), blank=True)
    difficulties = models.TextField(_("dificultades"), blank=True)
    narrative_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relato escrito por"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("actualizado"), auto_now=True)

    class Meta:
        ordering = ["indicator", "start"]
        verbose_name = _("periodo")
        verbose_name_plural = _("periodos")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=F("start")),
                name="period_dates_order",
                **constraint_message(_("El fin del periodo no puede ser anterior a su inicio.")),
            ),
            models.UniqueConstraint(
                fields=["indicator", "start"],
                name="period_one_per_start",
                **constraint_message(_("Ya hay un periodo de este indicador que empieza en esa fecha.")),
            ),
        ]

    def __str__(self):
        return f"{self.indicator.name}: {self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"

    def clean(self):
        if self.indicator_id and self.target is not None:
            errors = self.indicator.value_errors(self.target)
            if errors:
                raise ValidationError({"target": errors})
        if self.indicator_id and self.start and self.end:
            overlapping = Period.objects.filter(indicator=self.indicator_id, start__lte=self.end, end__gte=self.start)
            if overlapping.exclude(pk=self.pk).exists():
                raise ValidationError(_("Los periodos de un indicador no pueden traslaparse."))

    def contains(self, day):
        return self.start <= day <= self.end


# --- Breakdowns -------------------------------------------------------------------------------------------------


class BreakdownPart(models.Model):
    """One cell of a measurement's breakdown: e.g. sex = mujeres, 23. The parts of each dimension add up to the
    measurement's value (Measurement.set_breakdown checks it)."""

    class Dimension(models.TextChoices):
        SEX = "sex", _("Sexo")
        AGE = "age", _("Grupo de edad")
        POPULATION = "population", _("Grupo de población")

    CATEGORIES = {
        Dimension.SEX: {"women": _("Mujeres"), "men": _("Hombres"), "other": _("Otra / no especificado")},
        Dimension.AGE: {
            "0-11": _("0 a 11 años"),
            "12-17": _("12 a 17 años"),
            "18-29": _("18 a 29 años"),
            "30-59": _("30 a 59 años"),
            "60+": _("60 años o más"),
            "unknown": _("Edad no especificada"),
        },
        Dimension.POPULATION: None,  # the project's populations (Population choices), checked in set_breakdown
    }

    measurement = models.ForeignKey(
        Measurement, verbose_name=_("medición"), on_delete=models.CASCADE, related_name="breakdown"
    )
    dimension = models.CharField(_("dimensión"), max_length=12, choices=Dimension.choices)
    category = models.CharField(_("categoría"), max_length=20)
    value = models.DecimalField(_("valor"), max_digits=16, decimal_places=4)

    class Meta:
        ordering = ["measurement", "dimension", "pk"]
        verbose_name = _("parte de un desglose")
        verbose_name_plural = _("desgloses")
        constraints = [
            models.UniqueConstraint(
                fields=["measurement", "dimension", "category"],
                name="breakdown_one_per_category",
                **constraint_message(_("Esa categoría ya está en el desglose.")),
            ),
        ]

    def __str__(self):
        return f"{self.get_dimension_display()}: {self.category_label} = {self.value}"

    @property
    def category_label(self):
        from .projects import Population

        choices = self.CATEGORIES.get(self.dimension) or dict(Population.choices)
        return choices.get(self.category, self.category)


def breakdown_errors(measurement, parts):
    """What is wrong with `parts` ([(dimension, category, value)]) as the breakdown of `measurement`: unknown
    dimensions or categories, repeated cells, values the indicator's unit rejects, and dimensions whose parts do
    not add up to the measurement's value. The one rule, used by the workspace and the API (in Spanish)."""
    from .projects import Population

    errors, seen, sums = [], set(), {}
    for dimension, category, value in parts:
        if dimension not in BreakdownPart.Dimension.values:
            errors.append(_("Dimensión desconocida: %(d)s.") % {"d": dimension})
            continue
        allowed = BreakdownPart.CATEGORIES[dimension] or dict(Population.choices)
        if category not in allowed:
            errors.append(_("Categoría desconocida en %(d)s: %(c)s.") % {"d": dimension, "c": category})
            continue
        if (dimension, category) in seen:
            errors.append(_("Categoría repetida en %(d)s: %(c)s.") % {"d": dimension, "c": category})
        seen.add((dimension, category))
        errors += measurement.indicator.value_errors(value)
        sums[dimension] = sums.get(dimension, Decimal("0")) + value
    for dimension, total in sums.items():
        if total != measurement.value:
            errors.append(
                _("Las partes de «%(d)s» suman %(sum)s y la medición vale %(total)s: deben coincidir.")
                % {
                    "d": BreakdownPart.Dimension(dimension).label,
                    "sum": f"{total.normalize():f}",
                    "total": f"{Decimal(measurement.value).normalize():f}",
                }
            )
    return errors


def set_breakdown(measurement, parts):
    """Replace the breakdown of `measurement` with `parts` after checking them (ValidationError, nothing written,
    when they are wrong); one transaction."""
    parts = [(d, c, Decimal(str(v))) for d, c, v in parts]
    errors = breakdown_errors(measurement, parts)
    if errors:
        raise ValidationError(errors, code="breakdown")
    with transaction.atomic():
        measurement.breakdown.all().delete()
        BreakdownPart.objects.bulk_create(
            BreakdownPart(measurement=measurement, dimension=d, category=c, value=v) for d, c, v in parts
        )


# --- Evaluations ------------------------------------------------------------------------------------------------


class Evaluation(models.Model):
    """An evaluation of one or more projects: the study behind an evidence level."""

    class Design(models.IntegerChoices):  # the Maryland scientific methods scale
        CORRELATION = 1, _("1. Correlación en un solo momento")
        BEFORE_AFTER = 2, _("2. Antes y después, sin grupo de comparación")
        COMPARISON = 3, _("3. Antes y después con grupo de comparación")
        MATCHED = 4, _("4. Varios grupos de comparación con controles")
        RANDOMISED = 5, _("5. Asignación aleatoria (experimento)")

    title = models.CharField(_("título"), max_length=250)
    evaluator = models.CharField(_("evaluadora"), max_length=250)
    design = models.PositiveSmallIntegerField(_("diseño (escala Maryland)"), choices=Design.choices)
    year = models.PositiveSmallIntegerField(_("año"))
    document_url = models.URLField(_("documento"), max_length=500, blank=True)
    findings = models.TextField(_("resumen de hallazgos"))
    projects = models.ManyToManyField(Project, verbose_name=_("proyectos evaluados"), related_name="evaluations")
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)

    class Meta:
        ordering = ["-year", "title"]
        verbose_name = _("evaluación")
        verbose_name_plural = _("evaluaciones")
        constraints = [
            models.CheckConstraint(
                condition=Q(design__gte=1, design__lte=5),
                name="evaluation_design_range",
                **constraint_message(_("La escala Maryland va de 1 a 5.")),
            ),
            models.CheckConstraint(
                condition=Q(year__gte=1990, year__lte=2100),
                name="evaluation_year_range",
                **constraint_message(_("Año de la evaluación fuera de rango.")),
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.year})"


def period_of(periods, day):
    """The period among `periods` that contains `day` (None when none does)."""
    return next((p for p in periods if p.contains(day)), None)


__all__ = [
    "AT_RISK",
    "NO_REPORT",
    "OFF_TRACK",
    "ON_TRACK",
    "STATUS_LABELS",
    "BreakdownPart",
    "Evaluation",
    "Period",
    "breakdown_errors",
    "expected_progress",
    "period_of",
    "progress_status",
    "progress_status_counts",
    "set_breakdown",
]
