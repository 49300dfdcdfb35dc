"""The publication workflow record and the API keys partners and staff use."""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ficosec.history import history_user

from .common import constraint_message
from .organizations import Organization
from .projects import Project

# --- Workflow record ------------------------------------------------------------------------------------------


class WorkflowStep(models.Model):
    """One move along the publication workflow: who, when, from which state to which, and why."""

    project = models.ForeignKey(
        Project, verbose_name=_("proyecto"), on_delete=models.CASCADE, related_name="workflow_steps"
    )
    from_state = models.CharField(_("de"), max_length=20, choices=Project.Publication.choices)
    to_state = models.CharField(_("a"), max_length=20, choices=Project.Publication.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("quién"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "ApiKey", verbose_name=_("llave de API"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(_("comentario"), blank=True)
    created_at = models.DateTimeField(_("cuándo"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("paso del flujo de publicación")
        verbose_name_plural = _("pasos del flujo de publicación")

    def __str__(self):
        return f"{self.project.code}: {self.get_from_state_display()} → {self.get_to_state_display()}"


# --- API keys -------------------------------------------------------------------------------------------------


class KeyUser(AnonymousUser):
    """The identity a partner organization's API key acts as: it answers the same permission questions as a
    user (has_perm, visible_to, reportable_by), and may only report measurements on its organization's projects."""

    is_authenticated = True
    PERMISSIONS = {"projects.add_measurement", "projects.change_measurement", "projects.view_measurement"}
    PERMISSIONS |= {"projects.add_expenseproof", "projects.view_expenseproof"}  # they upload their own CFDI

    def __init__(self, api_key):
        self.api_key = api_key
        self.organization_ids = [api_key.organization_id]

    def __str__(self):
        return f"llave {self.api_key.prefix}"

    def has_perm(self, perm, obj=None):
        return perm in self.PERMISSIONS


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))

    def authenticate(self, raw_key):
        """The active key matching `raw_key`, or None. Keys are stored as SHA-256 hashes only."""
        try:
            _prefix_tag, prefix, _secret = raw_key.split("_", 2)
        except (AttributeError, ValueError):
            return None
        key = self.active().select_related("organization", "user").filter(prefix=prefix).first()
        if key is None or not hmac.compare_digest(key.key_hash, ApiKey.hash(raw_key)):
            return None
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return key


class ApiKey(models.Model):
    """A partner organization's key (reports measurements on its projects) or a staff key (acts as its user)."""

    name = models.CharField(_("nombre"), max_length=100)
    prefix = models.CharField(_("prefijo"), max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organización"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("usuario del personal"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("emitida por"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("emitida"), auto_now_add=True)
    expires_at = models.DateTimeField(_("vence"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revocada"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("último uso"), null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()
    history = HistoricalRecords(get_user=history_user, excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("llave de API")
        verbose_name_plural = _("llaves de API")
        constraints = [
            models.CheckConstraint(
                condition=Q(organization__isnull=False, user__isnull=True)
                | Q(organization__isnull=True, user__isnull=False),
                name="apikey_one_owner",
                **constraint_message(
                    _("Una llave pertenece a una organización o a una persona del personal, no a ambas.")
                ),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw_key):
        return hashlib.sha256(raw_key.encode()).hexdigest()

    @classmethod
    def issue(cls, name, created_by, organization=None, user=None, expires_at=None):
        """Create a key and return (key, raw_key). The raw key is shown once and never stored."""
        prefix = secrets.token_hex(4)
        raw_key = f"fic_{prefix}_{secrets.token_urlsafe(32)}"
        key = cls.objects.create(
            name=name,
            prefix=prefix,
            key_hash=cls.hash(raw_key),
            organization=organization,
            user=user,
            created_by=created_by,
            expires_at=expires_at,
        )
        return key, raw_key

    def revoke(self):
        if not self.revoked_at:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])

    @property
    def is_active(self):
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def acting_user(self):
        """Who the key speaks as, for every permission question."""
        return self.user if self.user_id else KeyUser(self)
