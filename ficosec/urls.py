from django.contrib import admin
from django.urls import include, path

from projects.views import staff

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/login/", staff.admin_sign_in, name="admin_sign_in"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("projects.api")),
    path("", include("projects.urls")),
]

handler404 = "ficosec.guard.not_found"
