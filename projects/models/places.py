"""Geography: FICOSEC's regions and the 67 municipalities of Chihuahua."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .common import INEGI_PATTERN, CopiedIntoProjects, constraint_message, inegi_validator

# --- Geography ------------------------------------------------------------------------------------------------


class Region(CopiedIntoProjects):
    """FICOSEC's operating regions (Juárez, Chihuahua, Cuauhtémoc, Delicias, Parral, Nuevo Casas Grandes)."""

    copied_fields = ("name",)  # in the search text of its projects
    projects_lookup = "region_ids__contains"

    name = models.CharField(_("nombre"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    order = models.PositiveSmallIntegerField(_("orden"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("región")
        verbose_name_plural = _("regiones")

    def __str__(self):
        return self.name


class Municipality(CopiedIntoProjects):
    """One of the 67 municipalities of Chihuahua, identified by its 5-digit INEGI code."""

    copied_fields = ("name", "region_id")  # in the search text and the region ids of its projects
    projects_lookup = "municipality_ids__contains"

    inegi_code = models.CharField(_("clave INEGI"), max_length=5, unique=True, validators=[inegi_validator])
    name = models.CharField(_("nombre"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("región"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="municipalities",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("municipio")
        verbose_name_plural = _("municipios")
        constraints = [
            models.CheckConstraint(
                condition=Q(inegi_code__regex=INEGI_PATTERN),
                name="municipality_inegi_format",
                **constraint_message(_("La clave INEGI tiene 5 dígitos (p. ej. 08037).")),
            ),
        ]

    def __str__(self):
        return self.name
