"""Editing a project: the one list of fields a person edits, and the one path that saves an edit with what hangs
from it (version check, links, children, derived columns), taken by the staff form, the API and the importer; and
restoring an earlier version. Project (models/projects.py) takes these methods from the Editing mixin."""

from django.db import transaction
from django.utils.translation import gettext


class StaleVersion(Exception):
    """Somebody else saved the project since this copy was read."""

    def __init__(self, current_version):
        super().__init__(current_version)
        self.current_version = current_version


class Editing:
    # Every field a person edits: the staff form, the API, the importer and restores all use this one list; never the
    # workflow state or the derived columns. LINKS are its many-to-many relations; a restore brings back the rest
    # (and the links from the historical record's own tables).
    EDITABLE_FIELDS = [
        "code",
        "title",
        "summary",
        "description",
        "axis",
        "lines",
        "status",
        "prevention_level",
        "populations",
        "municipalities",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
        "beneficiaries_target",
        "beneficiaries_reached",
        "evidence_level",
        "evaluation_design",
        "award_type",
        "call_name",
        "conflict_of_interest",
        "internal_notes",
        "sensitive_site",
        "site_name",
    ]
    LINKS = ["lines", "municipalities"]
    RESTORABLE = sorted(set(EDITABLE_FIELDS) - set(LINKS), key=EDITABLE_FIELDS.index)

    def save_edit(self, user, expected_version=None, links=None, children=None):
        """Save an edit of the project with what hangs from it, in one transaction: the one path of the staff page,
        the API and the importer. An update goes through the version check (StaleVersion when somebody saved since
        `expected_version` was read; nothing is written then); `links` sets many-to-many relations ({name: objects});
        `children(project)` writes related rows (partners, indicators, measurements); the derived columns follow."""
        actor = user if user is not None and user.is_authenticated and user.pk else None
        with transaction.atomic():
            if self.pk:
                self.save_if_current(expected_version or 0, actor)
            else:
                self.created_by = self.created_by or actor
                self.updated_by = actor
                self.save()
            for name, objects in (links or {}).items():
                getattr(self, name).set(objects)
            if children is not None:
                children(self)
            self.refresh_derived()
        return self

    def save_if_current(self, expected_version, user=None):
        """Optimistic concurrency: save only if nobody saved since `expected_version` was read.
        Raises StaleVersion (with the version now stored) otherwise; nothing is written then."""
        with transaction.atomic():
            stored = type(self).objects.select_for_update().filter(pk=self.pk)
            current = stored.values_list("version", flat=True).first()
            if current != int(expected_version):
                raise StaleVersion(current)
            self.version = current
            if user is not None and user.is_authenticated and user.pk:
                self.updated_by = user
            self.save()

    def restore(self, record, user):
        """Bring back the edited fields, lines and places of an earlier historical `record`. The restore is itself a
        new version in the history, with the reason given; the publication state is left as it is."""
        with transaction.atomic():
            for field in self.RESTORABLE:
                attname = self._meta.get_field(field).attname
                setattr(self, attname, getattr(record, attname))
            self.full_clean(exclude=["slug"])
            self.updated_by = user
            self._change_reason = gettext("Restaurada la versión %(version)s") % {"version": record.version}
            self.save()
            self.lines.set([row.line_id for row in record.lines.all()])
            self.municipalities.set([row.municipality_id for row in record.municipalities.all()])
            self.refresh_derived()
