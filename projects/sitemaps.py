from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from axes.models import Axis

from .models import Organization, Project


class ProjectSitemap(Sitemap):
    changefreq = "weekly"
    limit = 5000

    def items(self):
        return Project.objects.published().only("slug", "updated_at").order_by("pk")

    def lastmod(self, project):
        return project.updated_at


class AxisSitemap(Sitemap):
    def items(self):
        return Axis.objects.all()


class OrganizationSitemap(Sitemap):
    def items(self):
        return (
            Organization.objects.filter(participations__project__publication_state=Project.Publication.PUBLISHED)
            .distinct()
            .order_by("pk")
        )


class PageSitemap(Sitemap):
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
