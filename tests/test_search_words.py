"""Issue 18: the counting index keeps the projects of the most frequent search words (projects.facets.Index.words),
so that a search for them is counted and narrowed in memory. Proven against the database's own search: the same
list, order, count and facet counts for plain words, alone or narrowed, within the bound or broader; the other
searches (phrases, OR, exclusions, rarer words) left to the database; and the kept words current after every
write, a rollback forgotten."""

import csv
import io
import re

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from projects import facets, filters
from projects.figures import catalogue_version
from projects.filters import ProjectFilter
from projects.models import CatalogueChange, Organization, Project

from .conftest import make_project
from .test_facets import CODE_HEADER, listed_codes, reference_queryset, search_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept_words(chess_catalogue, monkeypatch):
    """The chess catalogue with PostgreSQL's statistics of its search vectors, every word in two projects kept."""
    monkeypatch.setattr(facets, "WORDS_AT_LEAST", 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project")
    facets.reset()
    cache.clear()
    yield chess_catalogue
    facets.reset()


def matches_of(query):
    return set(Project.objects.published().search(query).values_list("pk", flat=True))


def known(query):
    filterset = ProjectFilter(QueryDict(f"q={query}"), queryset=Project.objects.published())
    assert filterset.is_valid()
    return facets.indexed_matches(filterset, facets.current())


PAGES = [
    "q=ajedrez",
    "q=torneo+ajedrez",
    "q=ajedrez&municipality=08019",
    "q=ajedrez+escuela&municipality=08037",
    "q=j%C3%B3venes&municipality=08037&status=in_progress",
    "q=ajedrez&orden=relevancia&page=1",
    "q=lectura&status=completed",
]


def known_stems(query):
    filterset = ProjectFilter(QueryDict(f"q={query}"), queryset=Project.objects.published())
    assert filterset.is_valid()
    return facets._plain(facets.parsed_search(filterset)[0], "'")


def assert_kept_relevance_is_the_databases(word):
    """The relevance the index keeps for every match of a one-word search equals what PostgreSQL ranks."""
    filterset = ProjectFilter(QueryDict(f"q={word}"), queryset=Project.objects.published())
    assert filterset.is_valid()
    index = facets.current()
    parsed = facets.parsed_search(filterset)
    ids, ranks = index.relevance_of(*parsed, index.matches(*parsed))
    expected_ids, expected_ranks = facets.ranked(filterset)
    order = np.argsort(expected_ids)
    assert ids.tolist() == expected_ids[order].tolist() and len(ids) > 1
    assert ranks.astype(np.float32).tolist() == expected_ranks[order].astype(np.float32).tolist()


@pytest.mark.django_db(transaction=True)
def test_the_kept_words_follow_every_commit_and_forget_a_rollback(reference_data, org_a, ficosec_org, monkeypatch):
    """A change of a project's text, by any path, is logged (migration 0013) and the index re-reads its words."""
    monkeypatch.setattr(facets, "WORDS_AT_LEAST", 2)
    # The emptying of the table by the test before (its flush) is logged too; another process's open transaction
    # may hold the snapshot horizon below it, and it would read as "emptied since" to every rebuild below.
    CatalogueChange.objects.filter(project_id=None).delete()
    for n in range(4):
        make_project(
            f"FIC-2024-36{n}", f"Ajedrez en el barrio {n}", org_a, "published", ficosec=ficosec_org, summary="Escuela."
        )
    quiet = make_project("FIC-2024-369", "Círculos de lectura", org_a, "published", ficosec=ficosec_org)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE projects_project")
    facets.reset()
    assert "ajedrez" in facets.current().words and quiet.pk not in facets.current().words["ajedrez"]
    logged, version = CatalogueChange.objects.count(), catalogue_version()
    Project.objects.filter(pk=quiet.pk).update(description="<p>Torneos de ajedrez en escuelitas.</p>")
    assert CatalogueChange.objects.count() == logged + 1 and CatalogueChange.objects.latest("pk").text_only
    assert catalogue_version() == version  # cached pages check a change of text themselves (projects.figures)
    assert quiet.pk in facets.current().words["ajedrez"] and set(known("ajedrez")) == matches_of("ajedrez")
    # "escuelitas" is kept under "escuel" (a search for "escuela" matches every word starting with its stem)
    assert quiet.pk in facets.current().words["escuel"] and set(known("escuela")) == matches_of("escuela")
    assert_kept_relevance_is_the_databases("ajedrez")  # the changed project's recorded apart
    assert_kept_relevance_is_the_databases("escuela")
    with pytest.raises(RuntimeError), transaction.atomic():
        Project.objects.filter(pk=quiet.pk).update(description="<p>Lectura.</p>")
        assert quiet.pk not in facets.current().words["ajedrez"]  # its own change, in a private copy
        assert quiet.pk in facets._shared.words["ajedrez"]
        raise RuntimeError("rolled back")
    assert quiet.pk in facets.current().words["ajedrez"]
    Project.objects.filter(pk=quiet.pk).update(publication_state="draft")
    assert quiet.pk not in facets.current().words["ajedrez"]
    Project.objects.filter(pk=quiet.pk).update(publication_state="published", title="Ajedrez y lectura")
    assert quiet.pk in facets.current().words["ajedrez"] and set(known("ajedrez")) == matches_of("ajedrez")
    assert_kept_relevance_is_the_databases("ajedrez")  # its title weighs more now
    # A rebuild (more changes than patching takes) carries the kept words over, brought up to date, rather than
    # reading every match of every word again; an emptied table reads them afresh.
    monkeypatch.setattr(facets, "REBUILD_AFTER", 0)
    read_afresh = facets._word_sets
    monkeypatch.setattr(facets, "_word_sets", lambda stems: pytest.fail("read afresh"))
    Project.objects.filter(pk=quiet.pk).update(title="Círculos de lectura", description="")
    index = facets.current()
    assert quiet.pk not in index.words["ajedrez"] and set(known("ajedrez")) == matches_of("ajedrez")
    assert set(index.words["escuel"]) == matches_of("escuela") and len(index.words["escuel"]) == 4
    assert_kept_relevance_is_the_databases("ajedrez")
    # Past WORDS_PATCHED_AT_MOST recorded projects the kept relevance is let go: ranked by the database again.
    monkeypatch.setattr(facets, "REBUILD_AFTER", 2_000)
    monkeypatch.setattr(facets, "WORDS_PATCHED_AT_MOST", 0)
    Project.objects.filter(pk=quiet.pk).update(title="Círculos de lectura y ajedrez")
    index = facets.current()
    assert index.relevance == {} and set(known("ajedrez")) == matches_of("ajedrez")
    monkeypatch.setattr(facets, "WORDS_PATCHED_AT_MOST", 50_000)
    monkeypatch.setattr(facets, "_word_sets", read_afresh)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE projects_project CASCADE")
    assert not any(facets.current().words.values())  # (no stem either, once the statistics say so)
    facets.reset()


class TestOnAChessCatalogue:
    """The kept search words over one catalogue that mentions chess more or less, written once for the class
    (conftest.chess_catalogue)."""

    def test_the_frequent_words_are_kept_from_postgresql_statistics_and_drafts_left_out(self, kept_words):
        index = facets.current()
        assert {"ajedrez", "torne", "lectur", "escuel"} <= set(index.words)
        assert set(index.words["ajedrez"]) == matches_of("ajedrez")  # the draft that says it most is not there
        draft = Project.objects.get(code="FIC-2025-531")
        assert draft.pk in set(Project.objects.search("ajedrez").values_list("pk", flat=True))
        assert draft.pk not in index.words["ajedrez"]

    def test_no_word_is_kept_before_the_statistics_or_below_the_threshold(self, chess_catalogue, monkeypatch):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE projects_project")
        facets.reset()
        assert facets.current().words == {}  # WORDS_AT_LEAST: 2,500 projects
        monkeypatch.setattr(facets, "WORDS_AT_LEAST", 2)
        monkeypatch.setattr(facets, "WORDS_KEPT_AT_MOST", 3)
        facets.reset()
        assert len(facets.current().words) == 3
        facets.reset()

    @pytest.mark.parametrize(
        ("query", "kept"),
        [
            ("ajedrez", True),
            ("Torneo ajedrez", True),
            ("ajedrez de jóvenes", True),  # "de" is a stop word in both halves
            ("AJEDREZ", True),
            ('"torneo de ajedrez"', False),  # a phrase
            ("ajedrez -torneo", False),  # an exclusion
            ("ajedrez or lectura", False),  # either word
            ("ajedr", False),  # a stem the index does not keep (a prefix of one it keeps)
            ("de la", False),  # stop words only
        ],
    )
    def test_only_plain_kept_words_are_answered_by_the_index_and_exactly(self, kept_words, query, kept):
        found = known(query)
        assert (found is not None) == kept
        if kept:
            assert set(found) == matches_of(query) and found

    @pytest.mark.parametrize("bound", [10_000, 4])
    @pytest.mark.parametrize("query", PAGES)
    def test_pages_of_kept_words_list_count_and_facet_as_the_database_does(
        self, client, kept_words, monkeypatch, query, bound
    ):
        """Every page a visitor follows lists what the database's search lists, in its order (relevance within the
        bound, newest first beyond it), with the same count; within the bound every facet is counted, each count the
        database's; and no query reads all the word's matches (the relevance is read for the list's own projects)."""
        monkeypatch.setattr(filters, "BROAD_SEARCH", bound)
        params = QueryDict(query)
        reference = ProjectFilter(params, queryset=Project.objects.published())
        assert reference.is_valid()
        expected = list(reference.qs.values_list("code", flat=True))
        assert known(params["q"].replace("+", " ")) is not None
        with CaptureQueriesContext(connection) as queries:
            codes, response = listed_codes(client, query)
        broad = len(expected) > bound
        if broad:
            newest = list(reference.qs.order_by("-published_at", "-pk").values_list("code", flat=True)[: bound + 1])
            assert response.context["broad"] and codes == newest
            assert response.context["page"].paginator.count == bound + 1
        else:
            assert codes == expected and response.context["page"].paginator.count == len(expected)
            assert not response.context["broad"]
            searched = search_queries(queries)
            if len(known_stems(params["q"])) == 1:  # one word: ranked by the relevance kept with it, no search query
                assert searched == []
            else:
                assert searched and all(re.search(r'\."id" = ANY\(', sql) for sql in searched), searched
            shown = response.context["facets"]
            checked = 0
            for dimension in ("municipality", "status"):
                for value, _label, count, _selected in shown[dimension]:
                    one = params.copy()
                    one.setlist(dimension, [value])
                    one.pop("page", None)
                    one.pop("orden", None)
                    words = one.pop("q")[0]
                    assert count == reference_queryset(one).search(words).count(), (dimension, value)
                    checked += 1
            assert checked >= 2

    @pytest.mark.parametrize("query", ["q=ajedrez", "q=ajedrez&municipality=08019"])
    def test_the_download_of_a_kept_word_lists_every_match(self, client, kept_words, monkeypatch, query):
        monkeypatch.setattr(filters, "BROAD_SEARCH", 3)
        params = QueryDict(query)
        expected = ProjectFilter(params, queryset=Project.objects.published()).qs.order_by("-published_at", "-pk")
        expected = list(expected.values_list("code", flat=True))
        assert len(expected) > 4
        download = client.get(f"/proyectos/descarga.csv?{query}")
        rows = list(csv.DictReader(io.StringIO(b"".join(download.streaming_content).decode("utf-8-sig"))))
        assert [row[CODE_HEADER] for row in rows] == expected

    @pytest.mark.parametrize("query", ["ajedrez", "torneo ajedrez"])
    def test_a_kept_word_search_page_asks_the_same_queries_however_many_projects_match(self, client, kept_words, query):
        """The query count of a kept-word search page is pinned and does not grow with its matches: 24 more matching
        projects (recorded by the change log, patched into the kept words) ask nothing more."""
        org_a = Organization.objects.get(acronym="ALFA")  # the chess catalogue's implementer

        def drawn():
            cache.clear()  # the page drawn, not served from the cache
            with CaptureQueriesContext(connection) as captured:
                response = client.get(f"/proyectos/?q={query}")
            assert response.status_code == 200 and known(query) is not None  # the kept words' path
            return response.context["page"].paginator.count, len(captured)

        client.get(f"/proyectos/?q={query}")  # the counting index built, with its kept words
        count, few = drawn()
        for n in range(24):
            make_project(f"FIC-2026-{n:03d}", f"Torneo de ajedrez {n}", org_a, "published")
        facets.current()  # the new projects patched in (their words re-read), as the first visitor after them does
        more, many = drawn()
        assert more == count + 24 == len(matches_of(query))
        # The catalogue's freshness stamps (2: the change log with the framework's history; the newest project change);
        # the demo banner's flag; the counting index brought up to date (its changes); the words parsed; the page's rows
        # and their municipalities (2); the axes, lines, regions, municipalities and organizations named in the facets
        # (5); the municipalities of the filter form's choice; with several words, the page's own relevance.
        assert few == many <= (14 if " " in query else 13), many
