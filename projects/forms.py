"""Forms of the staff workspace."""

import re
from collections import defaultdict

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from ficosec import throttle

from . import roles
from .models import (
    ApiKey,
    BreakdownPart,
    Indicator,
    Measurement,
    Municipality,
    Organization,
    Participation,
    Period,
    Population,
    Project,
    set_breakdown,
)


class SignInPolicy:
    """The one sign-in policy of every sign-in form (the workspace's and the admin's): an account+address is locked
    after LOGIN_ATTEMPTS failures, and an address alone after LOGIN_ADDRESS_ATTEMPTS failures over any accounts
    (credential stuffing), both for LOGIN_LOCK_SECONDS. `wait` is the lock's remaining seconds (Retry-After)."""

    error_messages = {
        "invalid_login": _(
            "Usuario o contraseña incorrectos. Tras %(limit)s intentos fallidos la cuenta se bloquea unos minutos."
        ),
        "locked": _("Demasiados intentos fallidos. Espere %(minutes)s minuto(s) e intente de nuevo."),
    }

    locked = False
    wait = 0

    def clean(self):
        address = throttle.client_ip(self.request)
        ident = f"{(self.data.get('username') or '').strip().lower()}|{address}"
        self.wait = max(
            throttle.locked_for("login", ident, settings.LOGIN_ATTEMPTS),
            throttle.locked_for("login-address", address, settings.LOGIN_ADDRESS_ATTEMPTS),
        )
        if self.wait:
            self.locked = True
            raise ValidationError(self.error_messages["locked"], code="locked", params={"minutes": -(-self.wait // 60)})
        try:
            cleaned = super().clean()
        except ValidationError:
            window = settings.LOGIN_LOCK_SECONDS
            throttle.fail("login", ident, settings.LOGIN_ATTEMPTS, window)
            throttle.fail("login-address", address, settings.LOGIN_ADDRESS_ATTEMPTS, window)
            raise
        throttle.clear("login", ident)
        return cleaned

    def get_invalid_login_error(self):
        return ValidationError(
            self.error_messages["invalid_login"], code="invalid_login", params={"limit": settings.LOGIN_ATTEMPTS}
        )


class SignInForm(SignInPolicy, AuthenticationForm):
    """Django's sign-in form under the portal's sign-in policy."""

    error_messages = {**AuthenticationForm.error_messages, **SignInPolicy.error_messages}


class AdminSignInForm(SignInPolicy, AdminAuthenticationForm):
    """The admin's sign-in form (staff accounts only) under the same policy."""

    error_messages = {**AdminAuthenticationForm.error_messages, **SignInPolicy.error_messages}


# --- Projects and what hangs from them ------------------------------------------------------------------------


class ProjectForm(forms.ModelForm):
    """Every editable field of a project. The model's validators and constraints (full_clean) are the rules."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    populations = forms.MultipleChoiceField(
        label=_("Población objetivo"), choices=Population.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Project
        fields = Project.EDITABLE_FIELDS
        widgets = {
            "lines": forms.CheckboxSelectMultiple,
            "municipalities": forms.SelectMultiple(attrs={"size": 8}),
            "summary": forms.Textarea(attrs={"rows": 3}),
            "description": forms.Textarea(attrs={"rows": 8}),
            "conflict_of_interest": forms.Textarea(attrs={"rows": 2}),
            "internal_notes": forms.Textarea(attrs={"rows": 3}),
            **{
                name: forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
                for name in ("planned_start", "planned_end", "actual_start", "actual_end")
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipalities"].queryset = Municipality.objects.select_related("region")
        self.fields["version"].initial = self.instance.version
        if not self.instance.pk and not self.initial.get("code"):
            self.initial["code"] = Project.next_code()

    def save_with(self, user, partners, indicators, measurements=None):
        """Save the project page as one edit (Project.save_edit: version check, lines and places, derived columns):
        its partners and indicators, and its measurements through Measurement.record. Call after every part is
        valid; raises StaleVersion when somebody else saved since the page was read."""

        def children(project):
            partners.instance = indicators.instance = project
            partners.save()
            indicators.save()
            if measurements is not None:
                for measurement in measurements.save(commit=False):
                    measurement.record(user)
                for measurement in measurements.deleted_objects:
                    measurement.delete()

        links = {name: self.cleaned_data[name] for name in Project.LINKS}
        return self.save(commit=False).save_edit(user, self.cleaned_data["version"], links, children)


def one_line(text):
    """Text as the partner picker compares it: runs of spaces as one, none at the ends."""
    return " ".join(str(text or "").split())


class OrganizationChoiceField(forms.ModelChoiceField):
    """An organization typed or picked from a searchable list (<datalist>, no JavaScript needed) by what a person
    sees: its name, "name (acronym)" as the list offers it, or its acronym. The slug still works. The list shows an
    organization with its slug in brackets, "name (acronym) [slug]", when its plain text would find another one
    (shown_list()): every text the list offers, and every row of a saved project, finds its own organization."""

    default_error_messages = {
        "invalid_choice": _(
            "No encontramos «%(value)s»: escriba su nombre o sus siglas y elíjala de la lista, o agréguela abajo."
        ),
        "ambiguous": _(
            "Hay varias organizaciones que responden a «%(value)s»: elija en la lista la que lleva sus siglas o su "
            "clave entre corchetes."
        ),
    }
    NAME_AND_ACRONYM = re.compile(r"^(?P<name>.+) \((?P<acronym>[^()]+)\)$")
    WITH_SLUG = re.compile(r"^(?P<text>.+) \[(?P<slug>[-\w]+)\]$")

    def __init__(self):
        super().__init__(
            queryset=Organization.objects.all(),
            label=_("organización"),
            help_text=_("Escriba el nombre o las siglas y elija de la lista."),
            widget=forms.TextInput(attrs={"list": "organizaciones", "autocomplete": "off"}),
        )

    @classmethod
    def resolve(cls, text, find):
        """The organizations a one-line `text` names: "text [slug]" when the slug's organization shows that text,
        else by the first of its slug, "name (acronym)", its name and its acronym that finds any. `find(lookup)`
        gives the organizations matching a queryset lookup ({"slug": ...}, {"name__iexact": ...}), two at most."""
        slugged = cls.WITH_SLUG.match(text)
        if slugged:
            found = [row for row in find({"slug": slugged["slug"]}) if one_line(row).upper() == slugged["text"].upper()]
            if found:
                return found
        both = cls.NAME_AND_ACRONYM.match(text)
        lookups = [{"slug": text}]
        if both:
            lookups.append({"name__iexact": both["name"], "acronym__iexact": both["acronym"]})
        for lookup in lookups + [{"name__iexact": text}, {"acronym__iexact": text}]:
            found = find(lookup)
            if found:
                return found
        return []

    @classmethod
    def shown(cls, organization, find):
        """What the list and a saved row show for `organization`: its text, or with its slug when that text would
        find anything else (by `find`, as resolve())."""
        text = one_line(organization)
        return (
            text
            if [row.pk for row in cls.resolve(text, find)] == [organization.pk]
            else f"{text} [{organization.slug}]"
        )

    @classmethod
    def shown_list(cls, organizations):
        """The list's texts for `organizations` (all of them, for the texts to be told apart), found in memory as
        the database finds them (exact slug, names and acronyms compared in capitals)."""
        rows = list(organizations)
        index = defaultdict(list)
        for row in rows:
            for key in (("slug", row.slug), ("name", row.name.upper()), ("acronym", row.acronym.upper())):
                index[key].append(row)
            index[("name", "acronym", row.name.upper(), row.acronym.upper())].append(row)

        def find(lookup):
            if "slug" in lookup:
                return index[("slug", lookup["slug"])][:2]
            if "acronym__iexact" in lookup and "name__iexact" in lookup:
                key = ("name", "acronym", lookup["name__iexact"].upper(), lookup["acronym__iexact"].upper())
                return index[key][:2]
            field = "name" if "name__iexact" in lookup else "acronym"
            return index[(field, lookup[f"{field}__iexact"].upper())][:2]

        return [cls.shown(row, find) for row in rows]

    @classmethod
    def datalist(cls):
        """The list as HTML (<datalist id="organizaciones">, shown_list() of every organization): 5,000 organizations
        take 250 ms to tell apart and write out, so it is kept in the cache under the number and newest id of the
        organizations and of their history rows (a count, as history rows may commit out of order; a name edited by
        a bulk update without history is not seen, as in the catalogue's names: projects.figures)."""
        history = Organization.history.model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT (SELECT count(*) FROM {history}), (SELECT max(history_id) FROM {history}), count(*), max(id)"
                f" FROM {Organization._meta.db_table}"
            )
            key = "organization-datalist:" + ":".join(str(value) for value in cursor.fetchone())
        html = cache.get(key)
        if html is None:
            texts = cls.shown_list(Organization.objects.only("slug", "name", "acronym"))
            options = format_html_join("", '<option value="{}">', ((text,) for text in texts))
            html = format_html('<datalist id="organizaciones">{}</datalist>', options)
            cache.set(key, html, 60 * 60 * 24)
        return html

    @staticmethod
    def stored(lookup):
        """The organizations matching a lookup in the database (two at most): `find` for resolve() and shown()."""
        return list(Organization.objects.filter(**lookup)[:2])

    def prepare_value(self, value):
        if isinstance(value, int):  # a bound instance's organization_id: show the organization as the list does
            value = Organization.objects.filter(pk=value).first()
        return self.shown(value, self.stored) if isinstance(value, Organization) else value

    def has_changed(self, initial, data):
        """Changed when the text names another organization (a row left as shown is not saved again)."""
        try:
            chosen = self.to_python(data)
        except ValidationError:
            return True
        return (chosen.pk if chosen else None) != (initial.pk if isinstance(initial, Organization) else initial)

    def to_python(self, value):
        text = one_line(value)
        if not text:
            return None
        found = self.resolve(text, self.stored)
        if len(found) == 1:
            return found[0]
        if found:
            raise ValidationError(self.error_messages["ambiguous"], code="ambiguous", params={"value": text})
        raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice", params={"value": text})


class ParticipationForm(forms.ModelForm):
    organization = OrganizationChoiceField()

    class Meta:
        model = Participation
        fields = ["organization", "role", "amount", "contribution_kind", "note"]


ParticipationFormSet = forms.inlineformset_factory(
    Project, Participation, form=ParticipationForm, extra=2, can_delete=True
)


class OptionalChoiceField(forms.ChoiceField):
    """A choice that keeps the stored value when the form does not send it (older clients, imports)."""

    def has_changed(self, initial, data):
        return bool(data) and super().has_changed(initial, data)


class IndicatorForm(forms.ModelForm):
    unit_kind = OptionalChoiceField(
        label=_("Tipo de unidad"), choices=Indicator.UnitKind.choices, required=False, initial=Indicator.UnitKind.OTHER
    )

    def clean_unit_kind(self):
        return self.cleaned_data.get("unit_kind") or self.instance.unit_kind or Indicator.UnitKind.OTHER


IndicatorFormSet = forms.inlineformset_factory(
    Project,
    Indicator,
    form=IndicatorForm,
    fields=["name", "unit", "unit_kind", "baseline", "target", "direction", "frequency"],
    extra=1,
    can_delete=True,
)


class MeasurementForm(forms.ModelForm):
    class Meta:
        model = Measurement
        fields = ["indicator", "date", "value", "note", "source", "document_url"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}


def measurement_formset(project, data=None):
    """The measurements of a project's indicators, editable on the project page."""
    MeasurementFormSet = forms.modelformset_factory(Measurement, form=MeasurementForm, extra=1, can_delete=True)
    formset = MeasurementFormSet(
        data,
        prefix="measurements",
        queryset=Measurement.objects.filter(indicator__project=project)
        .select_related("indicator")
        .order_by("indicator", "date"),
    )
    for form in formset.forms:
        form.fields["indicator"].queryset = project.indicators.all()
    return formset


class TransitionForm(forms.Form):
    to_state = forms.ChoiceField(choices=Project.Publication.choices)
    comment = forms.CharField(
        label=_("comentario"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- Organizations --------------------------------------------------------------------------------------------


class OrganizationForm(forms.ModelForm):
    website = forms.URLField(label=_("sitio web"), required=False, assume_scheme="https")

    class Meta:
        model = Organization
        fields = [
            "name",
            "acronym",
            "kind",
            "rfc",
            "cluni",
            "is_donataria",
            "website",
            "email",
            "municipality",
            "description",
            "is_active",
            "members",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "members": forms.SelectMultiple(attrs={"size": 6})}

    def __init__(self, *args, can_grant_access=False, **kwargs):
        """Membership grants access to an organization's drafts: only who manages people (auth.change_user, the
        coordinators) may change it; for everyone else the field is not part of the form, so a posted value is
        ignored."""
        super().__init__(*args, **kwargs)
        if not can_grant_access:
            del self.fields["members"]


class NewOrganizationForm(forms.ModelForm):
    """The few fields needed to add an organization from the project page without leaving it."""

    prefix = "new_org"

    class Meta:
        model = Organization
        fields = ["name", "acronym", "kind"]


class MergeForm(forms.Form):
    duplicate = forms.ModelChoiceField(
        label=_("registro duplicado"),
        queryset=Organization.objects.all(),
        to_field_name="slug",
        help_text=_("Sus participaciones, miembros y llaves pasan a esta organización y el duplicado se elimina."),
    )

    def __init__(self, organization, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["duplicate"].queryset = Organization.objects.exclude(pk=organization.pk)


# --- People and API keys --------------------------------------------------------------------------------------


class UserForm(forms.ModelForm):
    """A staff or partner account: its role is one of the portal's groups."""

    role = forms.ModelChoiceField(
        label=_("rol"),
        queryset=Group.objects.filter(name__in=roles.ROLE_PERMISSIONS),
        required=False,
        empty_label=_("Sin rol"),
    )
    organizations = forms.ModelMultipleChoiceField(
        label=_("organizaciones"),
        queryset=Organization.objects.all(),
        required=False,
        help_text=_("Para socios: las organizaciones cuyos proyectos puede ver."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "email", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        if self.instance.pk:
            self.fields["role"].initial = self.instance.groups.filter(name__in=roles.ROLE_PERMISSIONS).first()
            self.fields["organizations"].initial = self.instance.organizations.all()

    def save(self, commit=True):
        user = super().save(commit=False)
        if not user.pk:
            user.set_unusable_password()
        with transaction.atomic():
            user.save()
            user.groups.remove(*Group.objects.filter(name__in=roles.ROLE_PERMISSIONS))
            if self.cleaned_data["role"]:
                user.groups.add(self.cleaned_data["role"])
            user.organizations.set(self.cleaned_data["organizations"])
        return user


class ApiKeyForm(forms.ModelForm):
    organization = forms.ModelChoiceField(
        label=_("organización"), queryset=Organization.objects.filter(is_active=True), required=False
    )
    user = forms.ModelChoiceField(
        label=_("persona del personal"),
        queryset=User.objects.filter(is_active=True, groups__name__in=[roles.EDITOR, roles.COORDINATOR]).distinct(),
        required=False,
    )
    expires_at = forms.DateField(
        label=_("vence"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    class Meta:
        model = ApiKey
        fields = ["name", "organization", "user", "expires_at"]

    def clean_expires_at(self):
        day = self.cleaned_data["expires_at"]
        if day and day <= timezone.localdate():
            raise ValidationError(_("La fecha de vencimiento debe ser futura."))
        return day

    def _post_clean(self):
        """The key itself is made by ApiKey.issue(), which generates the prefix and hash; here the model's own
        constraint (one owner: an organization or a staff person) speaks, in its words."""
        owners = {name: self.cleaned_data.get(name) for name in ("organization", "user")}
        try:
            ApiKey(**owners).validate_constraints()
        except ValidationError as error:
            self.add_error(None, error)


# --- Bulk import ------------------------------------------------------------------------------------------------


class ImportForm(forms.Form):
    MAX_BYTES = 5 * 1024 * 1024
    file = forms.FileField(
        label=_("archivo CSV o XLSX"), help_text=_("Use el formato de la exportación del espacio de gestión.")
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        extension = upload.name.rsplit(".", 1)[-1].lower()
        if extension not in ("csv", "xlsx"):
            raise ValidationError(_("Formato no admitido: suba un archivo .csv o .xlsx."))
        if upload.size > self.MAX_BYTES:
            raise ValidationError(_("El archivo supera los 5 MB."))
        return upload


# --- Results: reporting periods and breakdowns (workspace twin of the API's /periods/ and …/breakdown/) ---------


class PeriodForm(forms.ModelForm):
    class Meta:
        model = Period
        fields = ["indicator", "start", "end", "target", "narrative", "difficulties"]
        widgets = {
            "start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "narrative": forms.Textarea(attrs={"rows": 3}),
            "difficulties": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, project, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].queryset = project.indicators.all()


class BreakdownForm(forms.Form):
    """One number field per category of each dimension (blank: not reported); saved by set_breakdown, whose check
    (the parts of each dimension add up to the measurement's value) is the API's too."""

    def __init__(self, measurement, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.measurement = measurement
        current = {(p.dimension, p.category): p.value for p in measurement.breakdown.all()}
        populations = {p: dict(Population.choices)[p] for p in measurement.indicator.project.populations}
        for dimension, label in BreakdownPart.Dimension.choices:
            categories = BreakdownPart.CATEGORIES[dimension] or populations
            for category, category_label in categories.items():
                self.fields[f"{dimension}__{category}"] = forms.DecimalField(
                    label=f"{label}: {category_label}",
                    required=False,
                    min_value=0,
                    max_digits=16,
                    decimal_places=4,
                    initial=current.get((dimension, category)),
                )

    def parts(self):
        return [(*name.split("__", 1), value) for name, value in self.cleaned_data.items() if value not in (None, "")]

    def save(self):
        try:
            set_breakdown(self.measurement, self.parts())
        except ValidationError as error:
            for message in error.messages:
                self.add_error(None, message)
            return False
        return True
