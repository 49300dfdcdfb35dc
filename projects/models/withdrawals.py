"""Tombstones: what left the public catalogue, so that a partner's mirror built from sync learns it on its next call
(GET /api/v1/projects/sync/ lists them under `withdrawn`). Written by the operations that withdraw
(Project.transition out of "publicado", Organization.merge_into) and kept WITHDRAWAL_RETENTION_DAYS, the documented
sync window: a mirror older than that syncs again from scratch."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Withdrawal(models.Model):
    class Kind(models.TextChoices):
        PROJECT = "project", _("Proyecto")
        ORGANIZATION = "organization", _("Organización")

    class Reason(models.TextChoices):
        ARCHIVED = "archived", _("Archivado")
        UNPUBLISHED = "unpublished", _("Despublicado")
        MERGED = "merged", _("Fusionado con otro registro")

    kind = models.CharField(_("tipo"), max_length=20, choices=Kind.choices)
    code = models.CharField(_("código o slug"), max_length=100)
    reason = models.CharField(_("motivo"), max_length=20, choices=Reason.choices)
    merged_into = models.CharField(_("fusionado con"), max_length=100, blank=True)
    withdrawn_at = models.DateTimeField(_("retirado el"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("retiro del catálogo")
        verbose_name_plural = _("retiros del catálogo")
        ordering = ["withdrawn_at", "pk"]

    def __str__(self):
        return f"{self.kind} {self.code}: {self.reason}"

    @classmethod
    def record(cls, kind, code, reason, merged_into=""):
        """Write the tombstone (inside the caller's transaction) and forget those older than the sync window."""
        cls.objects.filter(
            withdrawn_at__lt=timezone.now() - timedelta(days=settings.WITHDRAWAL_RETENTION_DAYS)
        ).delete()
        return cls.objects.create(kind=kind, code=code, reason=reason, merged_into=merged_into)
