"""The staff workspace under /gestion/: signing in, and the dashboard of what needs attention."""

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from ficosec import throttle

from ..forms import SignInForm
from ..models import Project


@sensitive_post_parameters()
@csrf_protect
@never_cache
def sign_in(request):
    form = SignInForm(request, data=request.POST if request.method == "POST" else None)
    target = request.POST.get("next") or request.GET.get("next") or settings.LOGIN_REDIRECT_URL
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        target = settings.LOGIN_REDIRECT_URL
    if request.method == "POST" and form.is_valid():
        login(request, form.get_user())
        return redirect(target)
    return render(request, "registration/login.html", {"form": form, "next": target}, status=429 if form.locked else 200)


@csrf_protect
def password_reset(request):
    """Django's password reset, limited per address so that it cannot be used to flood inboxes."""
    if request.method == "POST":
        ident = throttle.client_ip(request)
        if throttle.locked_for("reset", ident):
            return render(request, "registration/password_reset_form.html", {
                "form": None, "throttled": _("Demasiadas solicitudes de restablecimiento. Intente de nuevo en una hora."),
            }, status=429)
        throttle.fail("reset", ident, settings.PASSWORD_RESET_ATTEMPTS, 3600)
    return auth_views.PasswordResetView.as_view(
        success_url="/gestion/contrasena/restablecer/enviado/",
        email_template_name="registration/password_reset_email.txt",
        subject_template_name="registration/password_reset_subject.txt",
    )(request)


@login_required
def dashboard(request):
    """What needs attention: my drafts, projects awaiting review, recent changes (partners: their projects)."""
    visible = Project.objects.visible_to(request.user).select_related("axis").order_by("-updated_at")
    return render(request, "projects/staff/dashboard.html", {
        "mine": visible.filter(publication_state=Project.Publication.DRAFT, created_by=request.user)[:20],
        "review": visible.filter(publication_state=Project.Publication.REVIEW)[:20],
        "recent": visible[:20],
    })
