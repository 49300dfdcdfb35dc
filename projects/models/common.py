"""Formats, validators and small helpers shared by the domain models."""

from datetime import date

import nh3
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

SEARCH_CONFIG = "spanish_unaccent"  # created by migration 0001: Spanish stemming that ignores accents, ñ and ü

# Formats, each written once and used by both a validator (forms, API) and a database constraint.
RFC_PATTERN = r"^[A-ZÑ&]{3,4}[0-9]{6}[A-Z0-9]{3}$"  # 12 chars for companies and associations, 13 for persons
CLUNI_PATTERN = r"^[A-Z0-9]{8,20}$"
INEGI_PATTERN = r"^[0-9]{5}$"
PROJECT_CODE_PATTERN = r"^[A-Z]{2,6}-[0-9]{4}-[0-9]{3,7}$"

rfc_validator = RegexValidator(
    RFC_PATTERN,
    _("RFC inválido: 12 caracteres para personas morales o 13 para físicas (p. ej. CAP900101AB1)."),
    "invalid_rfc",
)
cluni_validator = RegexValidator(
    CLUNI_PATTERN, _("CLUNI inválida: de 8 a 20 letras mayúsculas o dígitos."), "invalid_cluni"
)
inegi_validator = RegexValidator(INEGI_PATTERN, _("La clave INEGI tiene 5 dígitos (p. ej. 08037)."), "invalid_inegi")
code_validator = RegexValidator(PROJECT_CODE_PATTERN, _("Clave inválida: use el formato FIC-2024-017."), "invalid_code")


class CopiedIntoProjects(models.Model):
    """A model some of whose fields projects copy into their derived columns (Project.refresh_derived: the search
    text, the linked ids, FICOSEC's share): a save that changes one of `copied_fields` refreshes the projects that
    `projects_lookup` finds (a filter on the project's id arrays, given this row's id), in the same transaction."""

    copied_fields = ()
    projects_lookup = ""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        from django.db import transaction

        from .projects import Project

        with transaction.atomic():
            before = type(self).objects.filter(pk=self.pk).values(*self.copied_fields).first() if self.pk else None
            super().save(*args, **kwargs)
            if before and any(before[name] != getattr(self, name) for name in self.copied_fields):
                Project.objects.filter(**{self.projects_lookup: [self.pk]}).refresh_derived()


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

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "projects.models.RichTextField", args, kwargs


def months_before(day, months):
    """The day `months` months before `day` (clamped to the 28th, like Indicator.next_due)."""
    month = day.month - 1 - months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


def constraint_message(text):
    return {"violation_error_message": text}


# SAT's generic RFCs: the public at large (XAXX010101000) and foreign residents (XEXX010101000). They carry no real
# date, so stdnum refuses them; an invoice (and an organization record) may legitimately carry them.
GENERIC_RFCS = {"XAXX010101000", "XEXX010101000"}


def validate_rfc(value):
    """The one RFC rule, used by organizations, CFDI issuers and receivers, forms and the API: structure, embedded
    date and check digit (python-stdnum), plus SAT's two generic RFCs."""
    from django.core.exceptions import ValidationError
    from stdnum.exceptions import ValidationError as StdnumError
    from stdnum.mx import rfc

    value = (value or "").strip().upper()
    if value in GENERIC_RFCS:
        return
    try:
        rfc.validate(value, validate_check_digits=True)
    except StdnumError:
        raise ValidationError(
            _("RFC inválido: «%(value)s» no tiene la estructura, la fecha o el dígito verificador de un RFC."),
            code="invalid_rfc",
            params={"value": value},
        ) from None
