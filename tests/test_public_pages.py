"""Public pages as a visitor meets them: links that page, a search without results that helps, and the pages that
search engines must leave out."""

import pytest

from .conftest import make_project
from .pages import Page

pytestmark = pytest.mark.django_db


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return Page(response.content.decode("utf-8"), url)


def test_paging_links_keep_the_filters_and_never_double_the_question_mark(client, org_a):
    for n in range(21):
        make_project(f"FIC-2024-{400 + n}", f"Proyecto {n}", org_a, "published")
    first = page(client, "/proyectos/?municipality=08037")
    following = first.link(rel="next")
    assert following == "?municipality=08037&page=2"  # was "??municipality=08037&page=2": page 1 again
    csv_link = first.link(text="CSV")
    assert csv_link == "/proyectos/descarga.csv?municipality=08037"  # was "descarga.csv??municipality=08037"


def test_a_search_without_results_suggests_what_to_do_and_offers_no_download(client, published_project):
    empty = page(client, "/proyectos/?q=zzzqqq&municipality=08037")
    assert "Ningún proyecto publicado coincide" in empty.text(".empty")
    assert empty.link(text="Quitar el último filtro (Municipio: Juárez)") == "?q=zzzqqq"
    assert "Revise la ortografía" in empty.text(".empty")
    assert empty.link(text="CSV") is None and empty.link(text="JSON") is None
    groups = empty.texts.get(".facet-group", [])
    assert all("(" in group for group in groups)  # no filter heading without a value and its count under it
    assert "Municipio" in " ".join(groups)  # the chosen municipality stays listed (0) so that it can be unticked


@pytest.mark.parametrize("url", ["/gestion/entrar/", "/gestion/contrasena/restablecer/"])
def test_sign_in_pages_ask_search_engines_to_stay_away(client, url):
    assert '<meta name="robots" content="noindex">' in client.get(url).content.decode()


def test_public_pages_may_be_indexed(client, published_project):
    for url in ["/", "/proyectos/", published_project.get_absolute_url()]:
        assert 'content="noindex"' not in client.get(url).content.decode()
