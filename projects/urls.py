from django.contrib.auth import views as auth_views
from django.contrib.sitemaps.views import sitemap
from django.urls import path, re_path
from django.views.decorators.http import require_safe

from .sitemaps import SITEMAPS
from .views import directory, public, staff, transfer

# --- Public catalogue ----------------------------------------------------------------------------------------
public_urlpatterns = [
    path("", public.home, name="home"),
    path("proyectos/", public.project_list, name="project_list"),
    re_path(r"^proyectos/descarga\.(?P<fmt>csv|json)$", public.project_download, name="project_download"),
    path("proyectos/<slug:slug>/", public.project_detail, name="project_detail"),
    path("ejes/", public.axis_list, name="axis_list"),
    path("ejes/<slug:slug>/", public.axis_detail, name="axis_detail"),
    path("organizaciones/", public.organization_list, name="organization_list"),
    path("organizaciones/<slug:slug>/", public.organization_detail, name="organization_detail"),
    path("sitemap.xml", require_safe(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", require_safe(public.robots), name="robots"),
]

# --- Staff workspace (/gestion/) -----------------------------------------------------------------------------
staff_urlpatterns = [
    path("gestion/", staff.dashboard, name="dashboard"),
    path("gestion/proyectos/", staff.project_index, name="project_index"),
    path("gestion/proyectos/nuevo/", staff.project_create, name="project_create"),
    path("gestion/proyectos/importar/", transfer.project_import, name="project_import"),
    re_path(r"^gestion/proyectos/exportar\.(?P<fmt>csv|xlsx)$", transfer.project_export, name="project_export"),
    path("gestion/proyectos/<str:code>/", staff.project_edit, name="project_edit"),
    path("gestion/proyectos/<str:code>/estado/", staff.project_transition, name="project_transition"),
    path("gestion/proyectos/<str:code>/historial/", staff.project_history, name="project_history"),
    path(
        "gestion/proyectos/<str:code>/historial/<int:history_id>/restaurar/",
        staff.project_restore,
        name="project_restore",
    ),
    path("gestion/organizaciones/", directory.organization_index, name="organization_index"),
    path("gestion/organizaciones/nueva/", directory.organization_create, name="organization_create"),
    path("gestion/organizaciones/<slug:slug>/", directory.organization_edit, name="organization_edit"),
    path("gestion/organizaciones/<slug:slug>/fusionar/", directory.organization_merge, name="organization_merge"),
    path("gestion/personas/", directory.user_index, name="user_index"),
    path("gestion/personas/nueva/", directory.user_create, name="user_create"),
    path("gestion/personas/<int:pk>/", directory.user_edit, name="user_edit"),
    path("gestion/llaves/", directory.apikey_index, name="apikey_index"),
    path("gestion/llaves/<int:pk>/revocar/", directory.apikey_revoke, name="apikey_revoke"),
    path("gestion/entrar/", staff.sign_in, name="login"),
    path("gestion/salir/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "gestion/contrasena/",
        auth_views.PasswordChangeView.as_view(success_url="/gestion/contrasena/cambiada/"),
        name="password_change",
    ),
    path("gestion/contrasena/cambiada/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("gestion/contrasena/restablecer/", staff.password_reset, name="password_reset"),
    path(
        "gestion/contrasena/restablecer/enviado/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "gestion/contrasena/restablecer/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url="/gestion/contrasena/restablecida/"),
        name="password_reset_confirm",
    ),
    path(
        "gestion/contrasena/restablecida/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

urlpatterns = public_urlpatterns + staff_urlpatterns
