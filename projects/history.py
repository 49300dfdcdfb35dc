"""Reading the recorded history of a project: one timeline of the changes to it and to its participations,
indicators and measurements, each with who, when and every field from -> to.

The records themselves are written by django-simple-history; this module only turns them into readable changes,
for the history page and for the conflict message of the project form."""

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import models
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Indicator, Measurement, Participation, Project

# Columns a person never edits: left out of the changes shown.
NOT_SHOWN = {
    "id",
    "slug",
    "total_amount",
    "ficosec_amount",
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "version",
    "published_at",
    "project",
    "reported_by",
    "reported_by_key",
}
KINDS = {"+": gettext_lazy("creó"), "~": gettext_lazy("cambió"), "-": gettext_lazy("eliminó")}


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    record: models.Model
    previous: models.Model | None
    subject: str
    changes: list = field(default_factory=list)

    @property
    def kind(self):
        return KINDS[self.record.history_type]

    @property
    def reason(self):
        """Why the change was made, as a person reads it. A workflow move without a comment is stored as its state
        codes ("review → published", the same in every language) and shown with the states' labels."""
        text = self.record.history_change_reason or ""
        before, arrow, after = text.partition(" → ")
        states = Project.Publication.values
        if arrow and before in states and after in states:
            return f"{Project.Publication(before).label} → {Project.Publication(after).label}"
        return text

    @property
    def restorable(self):
        return isinstance(self.record, Project.history.model) and self.record.history_type != "-"


M2M = ("lines", "municipalities")


def show(model, name, value):
    """A stored value as a person reads it: choice labels, names of related rows, Mexican dates."""
    if value in (None, "", []):
        return "—"
    model_field = model._meta.get_field(name)
    if name in M2M:
        ids = [item[model_field.m2m_reverse_field_name()] for item in value]
        return ", ".join(str(row) for row in model_field.related_model.objects.filter(pk__in=ids))
    if isinstance(model_field, models.ForeignKey):
        row = model_field.related_model.objects.filter(pk=value).first()
        return str(row) if row else _("(eliminado)")
    if model_field.choices or getattr(model_field, "base_field", None) and model_field.base_field.choices:
        labels = dict((model_field.choices and model_field.flatchoices) or model_field.base_field.flatchoices)
        if isinstance(value, list):
            return ", ".join(str(labels.get(item, item)) for item in value)
        return str(labels.get(value, value))
    if isinstance(value, bool):
        return _("sí") if value else _("no")
    if isinstance(value, (date, datetime)):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def changes_between(previous, record):
    """Each field changed from `previous` to `record` (two historical records of one row; `previous` None when the
    row was created, then every filled field is shown)."""
    model = record.instance_type
    tracked = [f for f in record.tracked_fields if f.name not in NOT_SHOWN and not isinstance(f, models.GeneratedField)]
    label = lambda name: str(model._meta.get_field(name).verbose_name)  # noqa: E731
    if previous is None:
        return [
            Change(label(f.name), "—", show(model, f.name, getattr(record, f.attname)))
            for f in tracked
            if getattr(record, f.attname) not in (None, "", [])
        ]
    changes = [
        Change(
            label(f.name),
            show(model, f.name, getattr(previous, f.attname)),
            show(model, f.name, getattr(record, f.attname)),
        )
        for f in tracked
        if getattr(previous, f.attname) != getattr(record, f.attname)
    ]
    if model is Project:  # lines and places live in their own history tables
        delta = record.diff_against(previous, included_fields=M2M)
        changes += [
            Change(label(c.field), show(model, c.field, c.old), show(model, c.field, c.new)) for c in delta.changes
        ]
    return changes


def project_timeline(project):
    """Every recorded change of the project and of the rows that hang from it, newest first, without diffs yet
    (call fill() on the page being shown, so that the diff queries stay bounded by the page size)."""
    indicator_ids = Indicator.history.filter(project_id=project.pk).values("id")
    sources = [
        (Project.history.filter(id=project.pk), lambda r: _("Proyecto")),
        (
            Participation.history.filter(project_id=project.pk),
            lambda r: _("Participación: %(org)s") % {"org": show(Participation, "organization", r.organization_id)},
        ),
        (Indicator.history.filter(project_id=project.pk), lambda r: _("Indicador: %(name)s") % {"name": r.name}),
        (
            Measurement.history.filter(indicator_id__in=indicator_ids),
            lambda r: _("Medición del %(date)s") % {"date": show(Measurement, "date", r.date)},
        ),
    ]
    entries = []
    for records, subject in sources:
        previous = {}
        for record in records.select_related("history_user").order_by("history_date", "history_id"):
            entries.append(Entry(record, previous.get(record.id), subject))
            previous[record.id] = record
    entries.sort(key=lambda entry: entry.record.history_date, reverse=True)
    return entries


def fill(entries):
    for entry in entries:
        if callable(entry.subject):
            entry.subject = entry.subject(entry.record)
        if entry.record.history_type != "-":
            entry.changes = changes_between(entry.previous, entry.record)
    return entries


def changes_since(project, version):
    """What was saved to the project after the copy at `version` was read: the changes, the record of that copy
    and the latest record (who made the last change)."""
    records = project.history.select_related("history_user").order_by("-history_date", "-history_id")
    latest = records.first()
    seen = records.filter(version=version).first()
    if latest is None or seen is None:
        return [], seen, latest
    return changes_between(seen, latest), seen, latest
