from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from projects.urls import site_urlpatterns
from projects.views import staff

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", staff.admin_sign_in, name="admin_sign_in"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("projects.api")),
    *site_urlpatterns,
]

handler404 = "ficosec.guard.not_found"

# The public pages and the workspace in Spanish at / and in English at /en/ (the URL decides the language).
urlpatterns += i18n_patterns(path("", include("projects.urls")), prefix_default_language=False)
