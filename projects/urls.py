from django.contrib.auth import views as auth_views
from django.contrib.sitemaps.views import sitemap
from django.urls import path, re_path

from .sitemaps import SITEMAPS
from .views import public, staff

# --- Public catalogue ----------------------------------------------------------------------------------------
public_urlpatterns = [
    path("", public.home, name="home"),
    path("proyectos/", public.project_list, name="project_list"),
    re_path(r"^proyectos/descarga\.(?P<fmt>csv|json)$", public.project_download, name="project_download"),
    path("proyectos/<slug:slug>/", public.project_detail, name="project_detail"),
    path("organizaciones/", public.organization_list, name="organization_list"),
    path("organizaciones/<slug:slug>/", public.organization_detail, name="organization_detail"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", public.robots, name="robots"),
]

# --- Staff workspace (/gestion/) -----------------------------------------------------------------------------
staff_urlpatterns = [
    path("gestion/", staff.dashboard, name="dashboard"),
    path("gestion/entrar/", staff.sign_in, name="login"),
    path("gestion/salir/", auth_views.LogoutView.as_view(), name="logout"),
    path("gestion/contrasena/", auth_views.PasswordChangeView.as_view(success_url="/gestion/contrasena/cambiada/"), name="password_change"),
    path("gestion/contrasena/cambiada/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("gestion/contrasena/restablecer/", staff.password_reset, name="password_reset"),
    path("gestion/contrasena/restablecer/enviado/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("gestion/contrasena/restablecer/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(success_url="/gestion/contrasena/restablecida/"), name="password_reset_confirm"),
    path("gestion/contrasena/restablecida/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

urlpatterns = public_urlpatterns + staff_urlpatterns
