"""The staff workspace's directory: organizations (and merging duplicates), people and their roles, and the
partners' API keys. Editors keep organizations; coordinators merge them and manage people and keys."""

from datetime import datetime, time

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from ..forms import ApiKeyForm, MergeForm, OrganizationForm, UserForm
from ..models import ApiKey, Organization

# --- Organizations ----------------------------------------------------------------------------------------------


@login_required
@permission_required("projects.change_organization", raise_exception=True)
def organization_index(request):
    organizations = Organization.objects.annotate(projects=Count("participations__project", distinct=True)).order_by(
        "name"
    )
    if query := request.GET.get("q", "").strip()[:100]:
        organizations = organizations.filter(Q(name__unaccent__icontains=query) | Q(acronym__unaccent__icontains=query))
    page = Paginator(organizations, 50).get_page(request.GET.get("page"))
    return render(request, "projects/staff/organization_index.html", {"page": page, "query": query})


@login_required
@permission_required("projects.add_organization", raise_exception=True)
def organization_create(request):
    return organization_form(request, Organization())


@login_required
@permission_required("projects.change_organization", raise_exception=True)
def organization_edit(request, slug):
    return organization_form(request, get_object_or_404(Organization, slug=slug))


def organization_form(request, organization):
    form = OrganizationForm(
        request.POST or None, instance=organization, can_grant_access=request.user.has_perm("auth.change_user")
    )
    if request.method == "POST" and form.is_valid():
        organization = form.save()
        messages.success(request, _("Organización «%(name)s» guardada.") % {"name": organization.name})
        return redirect("organization_edit", slug=organization.slug)
    merge = (
        MergeForm(organization) if organization.pk and request.user.has_perm("projects.merge_organization") else None
    )
    return render(
        request,
        "projects/staff/organization_form.html",
        {"form": form, "organization": organization, "merge": merge},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@permission_required("projects.merge_organization", raise_exception=True)
@require_POST
def organization_merge(request, slug):
    """Fold a duplicate record into this organization, keeping every participation."""
    organization = get_object_or_404(Organization, slug=slug)
    form = MergeForm(organization, request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["duplicate"]))
        return redirect("organization_edit", slug=slug)
    duplicate = form.cleaned_data["duplicate"]
    try:
        duplicate.merge_into(organization)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("«%(duplicate)s» se fusionó con «%(name)s».") % {"duplicate": duplicate.name, "name": organization.name},
        )
    return redirect("organization_edit", slug=slug)


# --- People -------------------------------------------------------------------------------------------------------


def manageable_users(user):
    """Coordinators manage every account but superusers' (which only superusers touch)."""
    users = User.objects.all()
    return users if user.is_superuser else users.filter(is_superuser=False)


@login_required
@permission_required("auth.change_user", raise_exception=True)
def user_index(request):
    users = manageable_users(request.user).prefetch_related("groups", "organizations").order_by("username")
    page = Paginator(users, 50).get_page(request.GET.get("page"))
    return render(request, "projects/staff/user_index.html", {"page": page})


@login_required
@permission_required("auth.add_user", raise_exception=True)
def user_create(request):
    return user_form(request, User())


@login_required
@permission_required("auth.change_user", raise_exception=True)
def user_edit(request, pk):
    return user_form(request, get_object_or_404(manageable_users(request.user), pk=pk))


def user_form(request, account):
    creating = account.pk is None
    form = UserForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        account = form.save()
        if creating:
            invite(request, account)
            messages.success(
                request,
                _("Cuenta creada. Se envió a %(email)s un enlace para elegir contraseña.") % {"email": account.email},
            )
        else:
            messages.success(request, _("Cuenta de %(name)s guardada.") % {"name": account.get_username()})
        return redirect("user_index")
    return render(
        request,
        "projects/staff/user_form.html",
        {"form": form, "account": account},
        status=400 if request.method == "POST" else 200,
    )


def invite(request, account):
    """E-mail the new person a link to choose their password (the reset e-mail): nobody else ever knows it."""
    context = {
        "email": account.email,
        "domain": request.get_host(),
        "site_name": "FICOSEC",
        "user": account,
        "uid": urlsafe_base64_encode(force_bytes(account.pk)),
        "token": default_token_generator.make_token(account),
        "protocol": "https" if request.is_secure() else "http",
    }
    PasswordResetForm().send_mail(
        "registration/invitation_subject.txt", "registration/invitation_email.txt", context, None, account.email
    )


# --- API keys -----------------------------------------------------------------------------------------------------


@login_required
@permission_required("projects.manage_apikey", raise_exception=True)
@never_cache
def apikey_index(request):
    """The keys, and issuing one: its secret is shown on this answer only, and stored hashed."""
    form = ApiKeyForm(request.POST or None)
    raw_key = None
    if request.method == "POST" and form.is_valid():
        expires = form.cleaned_data["expires_at"]
        key, raw_key = ApiKey.issue(
            form.cleaned_data["name"],
            created_by=request.user,
            organization=form.cleaned_data["organization"],
            user=form.cleaned_data["user"],
            expires_at=timezone.make_aware(datetime.combine(expires, time.min)) if expires else None,
        )
        messages.success(
            request, _("Llave «%(name)s» emitida. Cópiela ahora: no se volverá a mostrar.") % {"name": key.name}
        )
        form = ApiKeyForm()
    keys = ApiKey.objects.select_related("organization", "user", "created_by").order_by("-created_at")
    page = Paginator(keys, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/staff/apikey_index.html",
        {"form": form, "page": page, "raw_key": raw_key},
        status=400 if request.method == "POST" and not raw_key else 200,
    )


@login_required
@permission_required("projects.manage_apikey", raise_exception=True)
@require_POST
def apikey_revoke(request, pk):
    key = get_object_or_404(ApiKey, pk=pk)
    key.revoke()
    messages.success(request, _("Llave «%(name)s» revocada.") % {"name": key.name})
    return redirect("apikey_index")
