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
]

urlpatterns = public_urlpatterns + staff_urlpatterns
