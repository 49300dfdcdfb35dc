from django.contrib.auth.models import AnonymousUser
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from axes.models import Axis

from .models import Organization, Project


class Bilingual(Sitemap):
    """Every page in Spanish and in English, each listing the other as its alternate (x-default: Spanish)."""

    i18n = True
    alternates = True
    x_default = True


class ProjectSitemap(Bilingual):
    changefreq = "weekly"
    limit = 5000

    def items(self):
        return Project.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, project):
        return project.updated_at


class AxisSitemap(Bilingual):
    def items(self):
        return Axis.objects.all()


class OrganizationSitemap(Bilingual):
    def items(self):
        return Organization.objects.visible_to(AnonymousUser()).order_by("pk")


class PageSitemap(Bilingual):
    def items(self):
        return ["home", "project_list", "axis_list", "organization_list", "open_data"]

    def location(self, name):
        return reverse(name)


SITEMAPS = {
    "paginas": PageSitemap,
    "ejes": AxisSitemap,
    "proyectos": ProjectSitemap,
    "organizaciones": OrganizationSitemap,
}
