from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, NullIf
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ficosec.history import history_user

HEX_COLOUR = r"^#[0-9A-Fa-f]{6}$"


def in_english():
    """Whether the page being built is English (/en/...): the URL decides, through LocaleMiddleware."""
    return (get_language() or "").startswith("en")


def pick(spanish, english):
    """The text for the active language: the English column at /en/ when it is written, Spanish otherwise."""
    return english if english and in_english() else spanish


def localized(column):
    """A query expression for a translated column (e.g. "axis__name"): its English twin at /en/ when written."""
    if in_english():
        return Coalesce(NullIf(F(f"{column}_en"), Value("")), F(column))
    return F(column)


class Translated:
    """Names and descriptions in the active language. The Spanish columns (name, short_name, description) are the
    record; the *_en columns are their English translation, read through these properties on public pages."""

    @property
    def local_name(self):
        return pick(self.name, self.name_en)

    @property
    def local_short_name(self):
        return pick(self.short_name, self.short_name_en)

    @property
    def local_description(self):
        return pick(self.description, self.description_en)


class Axis(Translated, models.Model):
    """One of FICOSEC's four strategic axes (ejes estratégicos)."""

    number = models.PositiveSmallIntegerField(
        _("número"), unique=True, validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    name = models.CharField(_("nombre"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    short_name = models.CharField(_("nombre corto"), max_length=60)
    description = models.TextField(_("descripción"), blank=True)
    name_en = models.CharField(_("nombre en inglés"), max_length=200, blank=True)
    short_name_en = models.CharField(_("nombre corto en inglés"), max_length=60, blank=True)
    description_en = models.TextField(_("descripción en inglés"), blank=True)
    colour = models.CharField(
        _("color"),
        max_length=7,
        default="#1f4e79",
        validators=[RegexValidator(HEX_COLOUR)],
        help_text=_("Color hexadecimal para la interfaz, p. ej. #1f4e79."),
    )
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["number"]
        verbose_name = _("eje estratégico")
        verbose_name_plural = _("ejes estratégicos")
        constraints = [
            models.CheckConstraint(condition=Q(number__gte=1), name="axis_number_positive"),
            models.CheckConstraint(condition=Q(colour__regex=HEX_COLOUR), name="axis_colour_hex"),
        ]

    def __str__(self):
        return f"{self.number}. {self.local_name}"

    def get_absolute_url(self):
        return reverse("axis_detail", args=[self.slug])


class Line(Translated, models.Model):
    """A line of action (línea de acción): a second taxonomy, independent of the axis."""

    number = models.PositiveSmallIntegerField(_("número"), unique=True)
    name = models.CharField(_("nombre"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    short_name = models.CharField(_("nombre corto"), max_length=60)
    description = models.TextField(_("descripción"), blank=True)
    name_en = models.CharField(_("nombre en inglés"), max_length=200, blank=True)
    short_name_en = models.CharField(_("nombre corto en inglés"), max_length=60, blank=True)
    description_en = models.TextField(_("descripción en inglés"), blank=True)
    history = HistoricalRecords(get_user=history_user)

    class Meta:
        ordering = ["number"]
        verbose_name = _("línea de acción")
        verbose_name_plural = _("líneas de acción")
        constraints = [models.CheckConstraint(condition=Q(number__gte=1), name="line_number_positive")]

    def __str__(self):
        return self.local_name
