"""The publication workflow of a project: its states, the allowed moves and the permission each needs, and what a
project still lacks to be published. Project (models/projects.py) takes these methods from the Workflow mixin."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _


class Publication(models.TextChoices):
    DRAFT = "draft", _("Borrador")
    REVIEW = "review", _("En revisión")
    PUBLISHED = "published", _("Publicado")
    ARCHIVED = "archived", _("Archivado")


class Workflow:
    def publication_gaps(self):
        """What the project still lacks to be published (empty when it is ready), in Spanish. Reads the related rows
        through .all(), so that a list prefetching them asks nothing more per project."""
        gaps = []
        if not self.summary.strip():
            gaps.append(_("Falta el resumen."))
        if not self.axis_id:
            gaps.append(_("Falta el eje estratégico."))
        if not self.pk or not self.lines.all():
            gaps.append(_("Falta al menos una línea de acción."))
        if not self.pk or not self.municipalities.all():
            gaps.append(_("Falta al menos un municipio."))
        if not self.pk or not any(p.role == p.Role.IMPLEMENTER for p in self.participations.all()):
            gaps.append(_("Falta la organización implementadora."))
        if not (self.start_date and self.end_date):
            gaps.append(_("Faltan las fechas de inicio y fin."))
        if not self.pk or not self.indicators.all():
            gaps.append(_("Falta al menos un indicador."))
        if self.names_its_site():
            gaps.append(_("Sitio sensible: el texto público no puede nombrar el sitio."))
        if not self.pk or not hasattr(self, "award_decision"):  # projects.models.governance.AwardDecision
            gaps.append(_("Falta la decisión de asignación (cómo, quién y cuándo se aprobó)."))
        return gaps

    def names_its_site(self):
        """True when a sensitive-site project's public text (title, summary, description) names its site."""
        site = slugify(self.site_name)
        if not (self.sensitive_site and site):
            return False
        text = slugify(" ".join([self.title, self.summary, strip_tags(self.description or "")]))
        return site in text

    # Allowed moves, and the permission each needs.
    TRANSITIONS = {
        (Publication.DRAFT, Publication.REVIEW): "projects.change_project",
        (Publication.REVIEW, Publication.DRAFT): "projects.change_project",
        (Publication.REVIEW, Publication.PUBLISHED): "projects.publish_project",
        (Publication.PUBLISHED, Publication.DRAFT): "projects.publish_project",
        (Publication.PUBLISHED, Publication.ARCHIVED): "projects.publish_project",
        (Publication.DRAFT, Publication.ARCHIVED): "projects.publish_project",
        (Publication.REVIEW, Publication.ARCHIVED): "projects.publish_project",
        (Publication.ARCHIVED, Publication.DRAFT): "projects.publish_project",
    }

    def allowed_transitions(self, user):
        return [
            to for (frm, to), perm in self.TRANSITIONS.items() if frm == self.publication_state and user.has_perm(perm)
        ]

    def transition(self, to_state, user, comment="", api_key=None):
        """Move the project along the publication workflow, recording who, when and why.
        Raises PermissionDenied or ValidationError (in Spanish) and writes nothing when the move is not allowed."""
        perm = self.TRANSITIONS.get((self.publication_state, to_state))
        if perm is None:
            raise ValidationError(
                _("No se puede pasar de «%(from)s» a «%(to)s».")
                % {"from": self.get_publication_state_display(), "to": self.Publication(to_state).label},
                code="invalid_transition",
            )
        if not user.has_perm(perm):
            raise PermissionDenied(_("No tiene permiso para este cambio de estado."))
        if to_state == self.Publication.PUBLISHED:
            gaps = self.publication_gaps()
            if gaps:
                raise ValidationError(gaps, code="not_ready")
        with transaction.atomic():
            from_state = self.publication_state
            self.publication_state = to_state
            if to_state == self.Publication.PUBLISHED and not self.published_at:
                self.published_at = timezone.now()
            if user.is_authenticated and user.pk:
                self.updated_by = user
            self._change_reason = comment or f"{from_state} → {to_state}"
            self.save()
            self.workflow_steps.create(
                from_state=from_state,
                to_state=to_state,
                comment=comment,
                actor=user if user.pk else None,
                api_key=api_key,
            )
            if from_state == self.Publication.PUBLISHED:  # it leaves the public catalogue: sync must say so
                from .withdrawals import Withdrawal

                reason = (
                    Withdrawal.Reason.ARCHIVED
                    if to_state == self.Publication.ARCHIVED
                    else Withdrawal.Reason.UNPUBLISHED
                )
                Withdrawal.record(Withdrawal.Kind.PROJECT, self.code, reason)
