"""Counters for rate limits (sign-in lockout, password-reset limit, API budgets) kept in the database, so that every
worker and every application server counts the same attempts when no shared cache (Redis) is configured."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Counter(models.Model):
    """One fixed window of one limit: `count` hits since the window opened; the window closes at `expires_at`.
    Incremented atomically by ficosec.throttle.hit (one INSERT ... ON CONFLICT statement)."""

    key = models.CharField(_("clave"), max_length=100, primary_key=True)
    count = models.PositiveIntegerField(_("cuenta"), default=0)
    expires_at = models.DateTimeField(_("vence"), db_index=True)

    class Meta:
        verbose_name = _("contador de límite")
        verbose_name_plural = _("contadores de límites")

    def __str__(self):
        return f"{self.key}: {self.count}"
