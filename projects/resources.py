"""Bulk exchange of projects with their participations as CSV or XLSX (django-import-export).

One row per project, identified by its code; lines by number, places by INEGI code, populations by key and
participations as `organization-slug:role:amount:kind` joined by `;`. Imports run the model's own validation
(full_clean, in Spanish) and are all-or-nothing; an export in this format imports back with no change."""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from axes.models import Axis, Line

from .models import Municipality, Organization, Participation, Project

DATE = widgets.DateWidget(format="%Y-%m-%d")
PARTICIPATION_HELP = "organizacion-slug:rol:monto:tipo; …"
UNIQUE_ROLE = next(c for c in Participation._meta.constraints if c.name == "participation_unique_role")


class ProjectResource(resources.ModelResource):
    axis = fields.Field(attribute="axis", column_name="axis", widget=widgets.ForeignKeyWidget(Axis, field="number"))
    lines = fields.Field(
        attribute="lines", column_name="lines", widget=widgets.ManyToManyWidget(Line, field="number", separator=",")
    )
    municipalities = fields.Field(
        attribute="municipalities",
        column_name="municipalities",
        widget=widgets.ManyToManyWidget(Municipality, field="inegi_code", separator=","),
    )
    populations = fields.Field(
        attribute="populations", column_name="populations", widget=widgets.SimpleArrayWidget(separator=",")
    )
    participations = fields.Field(column_name="participations")
    planned_start = fields.Field(attribute="planned_start", column_name="planned_start", widget=DATE)
    planned_end = fields.Field(attribute="planned_end", column_name="planned_end", widget=DATE)
    actual_start = fields.Field(attribute="actual_start", column_name="actual_start", widget=DATE)
    actual_end = fields.Field(attribute="actual_end", column_name="actual_end", widget=DATE)

    class Meta:
        model = Project
        import_id_fields = ["code"]
        fields = [*Project.EDITABLE_FIELDS, "participations"]
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = True
        skip_html_diff = True

    def __init__(self, user=None):
        super().__init__()
        self.user = user

    def get_queryset(self):
        return Project.objects.select_related("axis").prefetch_related(
            "lines", "municipalities", "participations__organization"
        )

    def dehydrate_participations(self, project):
        return "; ".join(
            f"{p.organization.slug}:{p.role}:{'' if p.amount is None else p.amount}:{p.contribution_kind}"
            for p in sorted(project.participations.all(), key=lambda p: (p.role, p.organization.slug))
        )

    def parse_participations(self, text):
        """[Participation] (unsaved, without their project) from the participations cell, or ValidationError in
        Spanish. Only the cell's syntax is read here: roles, kinds, amounts and one role per organization are the
        model's own rules (its validators and constraints), whose messages are collected for each item."""
        items, errors = [], []
        for item in filter(None, (part.strip() for part in (text or "").split(";"))):
            bits = [bit.strip() for bit in item.split(":")]
            if len(bits) != 4:
                errors.append(_("«%(item)s» no tiene la forma %(form)s.") % {"item": item, "form": PARTICIPATION_HELP})
                continue
            slug, role, amount, kind = bits
            try:
                amount = Decimal(amount) if amount else None  # blank: not published, which is not zero
            except InvalidOperation:
                errors.append(_("«%(amount)s» no es un monto válido.") % {"amount": amount})
                continue
            items.append((item, slug, Participation(role=role, amount=amount, contribution_kind=kind)))
        known = {o.slug: o for o in Organization.objects.filter(slug__in={slug for _item, slug, _p in items})}
        parsed, seen = [], set()
        for item, slug, participation in items:
            if slug not in known:
                errors.append(_("No existe la organización «%(slug)s».") % {"slug": slug})
                continue
            participation.organization = known[slug]
            try:
                participation.full_clean(exclude=["project"])
            except ValidationError as error:
                errors += [f"«{item}»: {message}" for message in error.messages]
                continue
            if (slug, participation.role) in seen:  # rows not yet stored: the unique constraint speaks for them
                errors.append(f"«{item}»: {UNIQUE_ROLE.violation_error_message}")
            seen.add((slug, participation.role))
            parsed.append(participation)
        if errors:
            raise ValidationError({"participations": errors})
        return parsed

    def import_instance(self, instance, row, **kwargs):
        """Set each column on the project, collecting every unreadable value as a Spanish field error (the
        library's own messages are English), then parse the participations; the model's full_clean follows."""
        errors, instance._links = {}, {}
        for field in self.get_import_fields():
            if not field.attribute or field.column_name not in row:
                continue
            try:
                if isinstance(field.widget, widgets.ManyToManyWidget):
                    self.check_related(field, row)  # set by Project.save_edit, with the project
                    instance._links[field.attribute] = field.clean(row)
                else:
                    self.import_field(field, instance, row, **kwargs)
            except (ValueError, TypeError, ArithmeticError, ObjectDoesNotExist):
                errors[field.attribute] = ValidationError(self.unreadable(field, row[field.column_name]))
        try:
            instance._participations = self.parse_participations(row.get("participations"))
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def check_related(field, row):
        wanted = {
            value.strip() for value in str(row[field.column_name] or "").split(field.widget.separator) if value.strip()
        }
        found = {
            str(value)
            for value in field.widget.model.objects.filter(**{f"{field.widget.field}__in": wanted}).values_list(
                field.widget.field, flat=True
            )
        }
        if wanted - found:
            raise ValueError(", ".join(sorted(wanted - found)))

    @staticmethod
    def unreadable(field, value):
        if isinstance(field.widget, (widgets.ForeignKeyWidget, widgets.ManyToManyWidget)):
            return _("No existe: «%(value)s».") % {"value": value}
        return _("Valor no válido: «%(value)s» (fechas AAAA-MM-DD, números con punto decimal).") % {"value": value}

    def skip_row(self, instance, original, row, import_validation_errors=None):
        """Unchanged when every column of the row reads the same as the stored project's export."""
        if import_validation_errors or original is None or not original.pk:
            return False
        return all(
            str(self.export_field(field, original) or "").strip() == str(row.get(field.column_name) or "").strip()
            for field in self.get_import_fields()
            if field.column_name in row
        )

    def before_save_instance(self, instance, row, **kwargs):
        instance._change_reason = _("Importación")

    def do_instance_save(self, instance, is_create):
        """The one path of every project edit (Project.save_edit), as the staff page and the API take it: the
        version read by the import is checked, then lines, places and participations, then the derived columns."""
        instance.save_edit(self.user, instance.version, instance._links, self.write_participations)

    def save_m2m(self, instance, row, **kwargs):
        pass  # done by do_instance_save, in Project.save_edit

    @staticmethod
    def write_participations(project):
        """Make the project's participations exactly those of the row."""
        wanted = {(p.organization_id, p.role): p for p in project._participations}
        for participation in project.participations.all():
            if (participation.organization_id, participation.role) not in wanted:
                participation.delete()
        for (organization_id, role), participation in wanted.items():
            Participation.objects.update_or_create(
                project=project,
                organization_id=organization_id,
                role=role,
                defaults={"amount": participation.amount, "contribution_kind": participation.contribution_kind},
            )


def run_import(dataset, user, dry_run):
    """Import every row, or none: any invalid row rolls the whole file back."""
    return ProjectResource(user=user).import_data(
        dataset, dry_run=dry_run, use_transactions=True, rollback_on_validation_errors=True
    )
