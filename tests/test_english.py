"""English at its own addresses: /en/... beside the Spanish pages at /, hreflang alternates, a language switch that
keeps the page and its query string, a bilingual sitemap, translated axis and line names and choice labels."""

import csv
import io
import re

import pytest
from django.conf import settings
from django.utils import translation

from axes.models import Axis, Line
from projects import exports

pytestmark = pytest.mark.django_db

AXIS_QUERY = "?axis=corresponsabilidad-ciudadana"


def alternates(html):
    """{hreflang: href} of the page's <link rel="alternate" hreflang> elements."""
    return dict(
        (lang, href) for lang, href in re.findall(r'<link rel="alternate" hreflang="([^"]+)" href="([^"]+)">', html)
    )


def switch_link(html):
    """The href of the language switch in the header."""
    return re.search(r'<p class="lang-switch"><a href="([^"]+)"', html).group(1)


def spanish(obj):
    """The Spanish address of a page (a request to /en/ leaves English active in the test's thread)."""
    with translation.override(settings.LANGUAGE_CODE):
        return obj.get_absolute_url()


def page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def test_spanish_stays_at_the_root_and_english_lives_under_en(client, published_project):
    spanish = page(client, "/proyectos/")
    english = page(client, "/en/proyectos/")
    assert '<html lang="es-mx">' in spanish and "Saltar al contenido" in spanish
    assert '<html lang="en">' in english and "Skip to content" in english
    # links inside English pages stay English
    assert 'href="/en/ejes/"' in english and 'href="/ejes/"' in spanish
    assert f'href="/en/proyectos/{published_project.slug}/"' in english


def test_every_public_page_names_its_alternates_with_absolute_urls(client, published_project, org_a):
    paths = [
        "/",
        "/proyectos/" + AXIS_QUERY,
        spanish(published_project),
        "/ejes/",
        "/ejes/corresponsabilidad-ciudadana/",
        "/organizaciones/",
        spanish(org_a),
    ]
    for path in paths:
        for url in (path, "/en" + path):
            links = alternates(page(client, url))
            assert links == {
                "es-MX": f"http://testserver{path}",
                "en": f"http://testserver/en{path}",
                "x-default": f"http://testserver{path}",
            }, url


def test_the_language_switch_keeps_the_page_and_its_query_string(client, published_project):
    spanish = page(client, "/proyectos/" + AXIS_QUERY)
    to_english = switch_link(spanish)
    assert to_english == "http://testserver/en/proyectos/" + AXIS_QUERY
    english = page(client, to_english)
    assert published_project.title in english and "Projects" in english
    assert switch_link(english) == "http://testserver/proyectos/" + AXIS_QUERY


def test_the_url_decides_the_language_not_the_cookie_or_the_browser(client, published_project):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert '<html lang="es-mx">' in page(client, "/proyectos/")
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and '<html lang="es-mx">' in response.content.decode()
    assert '<html lang="en">' in page(client, "/en/")


@pytest.mark.parametrize(
    "path", ["/en/api/v1/", "/en/admin/", "/en/healthz", "/en/readyz", "/en/sitemap.xml", "/en/robots.txt"]
)
def test_api_admin_health_sitemap_and_robots_stay_outside_the_prefix(client, path):
    assert client.get(path).status_code == 404
    assert client.get(path.removeprefix("/en")).status_code in (200, 302)


def test_the_sitemap_lists_both_languages_as_alternates(client, published_project):
    sitemap = page(client, "/sitemap.xml")
    es, en = spanish(published_project), f"/en{spanish(published_project)}"
    assert f"<loc>http://testserver{es}</loc>" in sitemap
    assert f"<loc>http://testserver{en}</loc>" in sitemap
    assert f'hreflang="en" href="http://testserver{en}"' in sitemap
    assert f'hreflang="x-default" href="http://testserver{es}"' in sitemap
    assert "/gestion/" not in sitemap


def test_axis_and_line_names_are_english_at_en_and_spanish_at_the_root(client, published_project):
    axis, line = Axis.objects.get(number=3), Line.objects.get(number=3)
    assert axis.name_en == "Citizen co-responsibility in preventing crime"
    assert line.name_en == "Interventions to prevent violence"
    english_axes, spanish_axes = page(client, "/en/ejes/"), page(client, "/ejes/")
    assert axis.name_en in english_axes and axis.name not in english_axes
    assert axis.name in spanish_axes and axis.name_en not in spanish_axes
    english_project = page(client, "/en" + spanish(published_project))
    assert line.name_en in english_project and axis.name_en in english_project
    english_list = page(client, "/en/proyectos/")
    assert axis.short_name_en in english_list and line.name_en in english_list  # cards and facets
    assert axis.description_en in page(client, "/en/ejes/corresponsabilidad-ciudadana/")


def test_choice_labels_render_in_english_at_en(client, published_project):
    assert "En ejecución" in page(client, spanish(published_project))
    english = page(client, "/en" + spanish(published_project))
    assert "In progress" in english and "En ejecución" not in english
    assert "Young people" in page(client, "/en/proyectos/")  # a population's facet label


def test_the_english_download_speaks_english(client, published_project):
    response = client.get("/en/proyectos/descarga.csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0]["eje"] == "Citizen co-responsibility in preventing crime"
    assert rows[0]["líneas de acción"] == "Interventions to prevent violence"
    assert "(Implementer)" in rows[0]["organizaciones (rol)"]
    assert rows[0]["url"] == exports.absolute_url(f"/en{spanish(published_project)}")  # the portal's public address


def test_the_workspace_keeps_english_through_sign_in(client, editor):
    response = client.get("/en/gestion/")
    assert response.status_code == 302 and response["Location"].startswith("/en/gestion/entrar/?next=/en/gestion/")
    client.force_login(editor)
    english = page(client, "/en/gestion/")
    assert '<html lang="en">' in english and 'href="/en/gestion/proyectos/"' in english


def test_signing_in_at_the_english_page_lands_on_the_english_workspace(client, editor):
    response = client.post("/en/gestion/entrar/", {"username": "editora", "password": "clave-de-prueba-123"})
    assert response.status_code == 302 and response["Location"] == "/en/gestion/"
    client.logout()
    response = client.post("/gestion/entrar/", {"username": "editora", "password": "clave-de-prueba-123"})
    assert response["Location"] == "/gestion/"
