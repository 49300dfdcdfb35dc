"""The staff workspace under /gestion/: signing in, the dashboard of what needs attention, and the project
pages: the form with its partners, indicators and measurements, the publication workflow and the history.

Who may do what is asked of Django permissions only (the roles in projects/roles.py); which projects a person
reaches is Project.objects.visible_to(), the same rule as the public pages and the API."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from ficosec import throttle

from .. import history
from ..filters import ProjectFilter
from ..forms import (
    IndicatorFormSet,
    NewOrganizationForm,
    OrganizationChoiceField,
    ParticipationFormSet,
    ProjectForm,
    SignInForm,
    TransitionForm,
    measurement_formset,
)
from ..models import Indicator, Project, StaleVersion, is_staff_user
from . import governance


@sensitive_post_parameters()
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def sign_in(request):
    form = SignInForm(request, data=request.POST if request.method == "POST" else None)
    home = resolve_url(settings.LOGIN_REDIRECT_URL)
    target = request.POST.get("next") or request.GET.get("next") or home
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = home
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user())
        return redirect(target)
    response = render(
        request, "registration/login.html", {"form": form, "next": target}, status=429 if form.locked else 200
    )
    if form.locked:
        response["Retry-After"] = str(form.wait)
    return response


@sensitive_post_parameters()
@csrf_protect
@never_cache
def admin_sign_in(request):
    """The admin's sign-in page (/admin/login/) under the workspace's sign-in policy (AdminSignInForm): locked
    attempts answer 429 with Retry-After."""
    from django.contrib import admin

    response = admin.site.login(request)
    form = getattr(response, "context_data", {}).get("form") if hasattr(response, "context_data") else None
    if getattr(form, "locked", False):
        response.status_code = 429
        response["Retry-After"] = str(form.wait)
    return response


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def password_reset(request):
    """Django's password reset, limited per address so that it cannot be used to flood inboxes."""
    if request.method == "POST":
        ident = throttle.client_ip(request)
        if wait := throttle.locked_for("reset", ident, settings.PASSWORD_RESET_ATTEMPTS):
            response = render(
                request,
                "registration/password_reset_form.html",
                {
                    "form": None,
                    "throttled": _("Demasiadas solicitudes de restablecimiento. Intente de nuevo en una hora."),
                },
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
        throttle.fail("reset", ident, settings.PASSWORD_RESET_ATTEMPTS, 3600)
    return auth_views.PasswordResetView.as_view(
        success_url=reverse("password_reset_done"),
        email_template_name="registration/password_reset_email.txt",
        subject_template_name="registration/password_reset_subject.txt",
    )(request)


@login_required
def dashboard(request):
    """What needs attention: my drafts, projects awaiting review, recent changes, projects not ready to publish
    and indicators whose measurements are overdue (partners: the same, for their organizations' projects)."""
    visible = Project.objects.visible_to(request.user).select_related("axis", "award_decision").order_by("-updated_at")
    if not is_staff_user(request.user):  # partners: their organizations' projects, not the whole public catalogue
        visible = visible.of_partner(request.user)
    unpublished = visible.filter(publication_state__in=[Project.Publication.DRAFT, Project.Publication.REVIEW])
    not_ready = [
        (project, gaps)
        for project in unpublished.prefetch_related("lines", "municipalities", "participations", "indicators")[:20]
        if (gaps := project.publication_gaps())
    ]
    overdue = list(Indicator.overdue(visible)[:20])
    for indicator in overdue:
        indicator.due = indicator.next_due(indicator.since)
    return render(
        request,
        "projects/staff/dashboard.html",
        {
            "mine": visible.filter(publication_state=Project.Publication.DRAFT, created_by=request.user)[:20],
            "review": visible.filter(publication_state=Project.Publication.REVIEW)[:20],
            "recent": visible[:20],
            "not_ready": not_ready,
            "overdue": overdue,
            "radar": governance.radar_rows() if is_staff_user(request.user) else None,
        },
    )


@login_required
@permission_required("projects.view_project", raise_exception=True)
def project_index(request):
    """Every project the person may see, in any state, with the catalogue's filters and search."""
    filterset = ProjectFilter(
        request.GET, queryset=Project.objects.visible_to(request.user), default_ordering="-updated_at"
    )
    projects = filterset.qs if filterset.is_valid() else Project.objects.none()
    page = Paginator(projects.select_related("axis"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/staff/project_index.html",
        {
            "page": page,
            "filterset": filterset,
            "states": Project.Publication.choices,
            "state": request.GET.get("estado"),
        },
    )


@login_required
@permission_required("projects.add_project", raise_exception=True)
@require_http_methods(["GET", "POST"])
def project_create(request):
    return project_form(request, Project(created_by=request.user))


@login_required
@permission_required("projects.change_project", raise_exception=True)
@require_http_methods(["GET", "POST"])
def project_edit(request, code):
    project = get_object_or_404(Project.objects.visible_to(request.user), code=code)
    return project_form(request, project)


def project_form(request, project):
    """The whole project on one page: its fields, partners, indicators and measurements, saved in one transaction.
    An update is refused when somebody else saved since the page was read; the person keeps what they typed and
    sees what the other person changed."""
    posted = request.method == "POST"
    data = request.POST if posted else None
    form = ProjectForm(data, instance=project)
    partners = ParticipationFormSet(data, instance=project, prefix="participations")
    indicators = IndicatorFormSet(data, instance=project, prefix="indicators")
    measurements = measurement_formset(project, data) if project.pk else None
    new_organization = NewOrganizationForm(data if posted and "add_organization" in data else None)
    conflict, status = None, 400 if posted else 200
    if posted and "add_organization" in data:
        if not request.user.has_perm("projects.add_organization"):
            raise PermissionDenied
        if new_organization.is_valid():
            status = 200
            organization = new_organization.save()
            messages.success(
                request,
                _("Organización «%(name)s» agregada: escríbala o elíjala en la lista de la fila del socio.")
                % {"name": OrganizationChoiceField.shown(organization, OrganizationChoiceField.stored)},
            )
            new_organization = NewOrganizationForm()
    elif posted and all([part.is_valid() for part in (form, partners, indicators, measurements) if part is not None]):
        try:
            project = form.save_with(request.user, partners, indicators, measurements)
        except StaleVersion as stale:
            changes, seen, latest = history.changes_since(project, form.cleaned_data["version"])
            conflict, status = (
                {
                    "changes": changes,
                    "who": latest.history_user if latest else None,
                    "when": latest.history_date if latest else None,
                },
                409,
            )
            current = Project.objects.get(pk=project.pk)
            form = ProjectForm(carry_over(data, form, seen, current, stale.current_version), instance=current)
            form.is_valid()
        else:
            messages.success(request, _("Proyecto %(code)s guardado.") % {"code": project.code})
            return redirect("project_edit", code=project.code)
    return render(
        request,
        "projects/staff/project_form.html",
        {
            "form": form,
            "partners": partners,
            "indicators": indicators,
            "measurements": measurements,
            "project": project,
            "new_organization": new_organization,
            "conflict": conflict,
            "organizations": OrganizationChoiceField.datalist(),
            "errors": error_summary(form, partners, indicators, measurements)
            if posted and "add_organization" not in data
            else [],
            "gaps": project.publication_gaps() if project.pk else None,
            "transitions": [
                (state, Project.Publication(state).label) for state in project.allowed_transitions(request.user)
            ]
            if project.pk
            else [],
        },
        status=status,
    )


def error_summary(form, partners, indicators, measurements):
    """(anchor, text) for every error on the project page, the inline rows' included, in the page's order: the
    summary at the top links each one to its field."""
    errors = [("", message) for message in form.non_field_errors()]
    errors += [(form[name].auto_id, f"{form[name].label}: {' '.join(messages)}") for name, messages in _fields(form)]
    rows = [(partners, _("Socio")), (indicators, _("Indicador")), (measurements, _("Medición"))]
    for formset, noun in rows:
        if formset is None:
            continue
        errors += [("", message) for message in formset.non_form_errors()]
        for number, row in enumerate(formset.forms, start=1):
            errors += [("", f"{noun} {number}: {message}") for message in row.non_field_errors()]
            errors += [
                (row[name].auto_id, f"{noun} {number} · {row[name].label}: {' '.join(messages)}")
                for name, messages in _fields(row)
            ]
    return errors


def _fields(form):
    return [(name, messages) for name, messages in form.errors.items() if name != "__all__" and name in form.fields]


def carry_over(data, form, seen, current, version):
    """The refused form's data, rebased on the version now stored: every field this person left as it was when
    they read the page takes the other person's value; the fields they changed keep what they typed. Saving
    again is then a choice made after reading the conflict, and loses neither person's work."""
    data = data.copy()
    data["version"] = str(version)
    if seen is None:
        return data
    stored = ProjectForm(instance=current)
    for name in form.fields:
        if name == "version" or not untouched(form, seen, name):
            continue
        value = stored[name].value()
        if isinstance(value, (list, tuple)):
            data.setlist(name, [str(item) for item in value])
        else:
            data[name] = "" if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
    return data


def untouched(form, seen, name):
    """Whether the submitted value of `name` equals the one in the historical record `seen` (the copy read)."""
    mine = form.cleaned_data.get(name)
    if name in ("lines", "municipalities"):
        column = "line_id" if name == "lines" else "municipality_id"
        return {item.pk for item in mine} == {getattr(row, column) for row in getattr(seen, name).all()}
    theirs = getattr(seen, form.instance._meta.get_field(name).attname)
    return (mine.pk if hasattr(mine, "pk") else mine) == theirs


@login_required
@permission_required("projects.change_project", raise_exception=True)
@require_POST
def project_transition(request, code):
    """Move a project along the workflow (borrador -> en revisión -> publicado -> archivado) with a comment."""
    project = get_object_or_404(Project.objects.visible_to(request.user), code=code)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Estado de publicación desconocido."))
        return redirect("project_edit", code=code)
    try:
        project.transition(form.cleaned_data["to_state"], request.user, form.cleaned_data["comment"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("El proyecto pasó a «%(state)s».") % {"state": project.get_publication_state_display()}
        )
    return redirect("project_edit", code=code)


@login_required
@permission_required("projects.view_project", raise_exception=True)
def project_history(request, code):
    """Every recorded change of the project and its partners, indicators and measurements, newest first."""
    project = get_object_or_404(Project.objects.visible_to(request.user), code=code)
    page = Paginator(history.project_timeline(project), 25).get_page(request.GET.get("page"))
    history.fill(page.object_list)
    return render(
        request,
        "projects/staff/project_history.html",
        {
            "project": project,
            "page": page,
            "steps": project.workflow_steps.select_related("actor", "api_key"),
            "can_restore": request.user.has_perm("projects.restore_project"),
        },
    )


@login_required
@permission_required("projects.restore_project", raise_exception=True)
@require_POST
def project_restore(request, code, history_id):
    project = get_object_or_404(Project.objects.visible_to(request.user), code=code)
    record = get_object_or_404(project.history.all(), history_id=history_id)
    try:
        project.restore(record, request.user)
    except ValidationError as error:
        messages.error(request, _("No se pudo restaurar: %(reason)s") % {"reason": " ".join(error.messages)})
    else:
        messages.success(request, _("Se restauró la versión %(version)s.") % {"version": record.version})
    return redirect("project_history", code=project.code)
