"""A crawler over the demo data: what a visitor and each kind of staff member get by following what the pages offer.

Breadth-first from `/` (anonymous) and from `/gestion/` (editor, coordinator, partner), it follows every link and
submits every GET form with its default values, same origin only, a bounded number of pages of each kind. Every
response must be 2xx or 3xx; no link may contain `??` or a parameter without a name; every rel=next page must show
other projects than the page before it, with the same filters. Downloads are checked by status only."""

import time
from collections import Counter, deque
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.contrib.auth.models import User
from django.urls import Resolver404, resolve

from .pages import Page

pytestmark = pytest.mark.django_db

MAX_DEPTH = 4
PER_KIND = 6  # distinct URLs of one kind (url name) fetched: the 7th project page teaches nothing new
BUDGET = {None: 110, "editor": 50, "coordinador": 55, "socio": 35}
SKIP_PREFIXES = ("/admin/", "/static/", "/i18n/")  # Django's own admin; files; the POST-only language switch
DOWNLOAD_SUFFIXES = (".csv", ".json", ".xlsx", ".xml")


def kind(path):
    try:
        return resolve(path).url_name or path
    except Resolver404:
        return path


def link_problems(href):
    problems = []
    if "??" in href:
        problems.append("contains ??")
    query = urlsplit(href).query
    if query and any(not name for name, _value in parse_qsl(query, keep_blank_values=True)):
        problems.append("has a parameter without a name")
    if query.startswith("&") or "&&" in query:
        problems.append("has an empty parameter")
    return problems


def project_links(page):
    return {link["href"] for link in page.links if ".project-card__title" in link["within"]}


def filters_of(url):
    return sorted((k, v) for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True) if k != "page" and v)


class Crawl:
    def __init__(self, client, start, budget):
        self.client, self.budget = client, budget
        self.queue, self.seen = deque([(start, 0)]), {start}
        self.kinds = Counter()
        self.pages = self.links = self.next_checks = 0
        self.problems = []

    def fetch(self, url):
        self.pages += 1
        response = self.client.get(url)
        if response.status_code >= 400:
            self.problems.append(f"{url}: HTTP {response.status_code}")
        if response.streaming:  # a download: its status is what the crawler checks, not its body (left unread;
            return response, None  # closing it would fire request_finished, which closes the test's connection)
        if not response.get("Content-Type", "").startswith("text/html") or response.status_code >= 300:
            return response, None
        return response, Page(response.content.decode("utf-8"), url)

    def run(self):
        while self.queue and self.pages < self.budget:
            url, depth = self.queue.popleft()
            response, page = self.fetch(url)
            if 300 <= response.status_code < 400:
                self.offer(response["Location"], url, depth)
            if page is None:
                continue
            targets = [link["href"] for link in page.links]
            targets += [page.submit(form) for form in page.forms if form["method"] == "get"]
            for href in targets:
                self.offer(href, url, depth + 1)
            if page.link(rel="next"):
                self.check_next(page)
        return self

    def offer(self, href, source, depth):
        self.links += 1
        for problem in link_problems(href):
            self.problems.append(f"{source}: link {href!r} {problem}")
        if href.startswith(("mailto:", "tel:", "javascript:", "#")):
            return
        parts = urlsplit(urljoin(source, href))
        if parts.netloc not in ("", "testserver") or parts.path.startswith(SKIP_PREFIXES):
            return
        url = parts.path + (f"?{parts.query}" if parts.query else "")
        if url in self.seen or depth > MAX_DEPTH:
            return
        self.seen.add(url)
        page_kind = "download" if parts.path.endswith(DOWNLOAD_SUFFIXES) else kind(parts.path)
        if self.kinds[page_kind] >= PER_KIND:
            return
        self.kinds[page_kind] += 1
        self.queue.append((url, depth))

    def check_next(self, page):
        following = page.absolute(page.link(rel="next"))
        parts = urlsplit(following)
        url = parts.path + f"?{parts.query}"
        self.seen.add(url)
        response, after = self.fetch(url)
        self.next_checks += 1
        if after is None:
            return
        if filters_of(following) != filters_of(page.url):
            self.problems.append(f"{page.url}: 'Siguiente' {following} loses the filters")
        before, shown = project_links(page), project_links(after)
        if before and (not shown or shown & before):
            self.problems.append(f"{page.url}: 'Siguiente' shows {len(shown & before)} of the same projects again")
        if not before and not {link["href"] for link in after.links} - {link["href"] for link in page.links}:
            self.problems.append(f"{page.url}: 'Siguiente' shows nothing that the page before did not")

    def report(self, who):
        kinds = ", ".join(f"{name} {n}" for name, n in sorted(self.kinds.items()))
        return (
            f"crawler as {who}: {self.pages} pages fetched, {self.links} links and forms read, "
            f"{self.next_checks} 'Siguiente' checked; kinds: {kinds}"
        )


@pytest.fixture
def demo(demo_data, db):
    return demo_data


@pytest.mark.parametrize(
    "who, start", [(None, "/"), ("editor", "/gestion/"), ("coordinador", "/gestion/"), ("socio", "/gestion/")]
)
def test_every_link_and_form_a_page_offers_leads_somewhere(client, demo, who, start):
    if who:
        client.force_login(User.objects.get(username=who))
    began = time.monotonic()
    crawl = Crawl(client, start, BUDGET[who]).run()
    print(f"{crawl.report(who or 'visitor')} in {time.monotonic() - began:.1f} s")
    assert crawl.pages >= min(BUDGET[who], 30)
    assert crawl.problems == [], "\n".join(crawl.problems)


def test_the_crawler_notices_a_doubled_question_mark_and_a_nameless_parameter():
    assert link_problems("/proyectos/??page=2") and link_problems("/proyectos/descarga.csv??municipality=08037")
    assert link_problems("/proyectos/?=08037") and link_problems("/proyectos/?&page=2")
    assert not link_problems("/proyectos/?q=&municipality=08037&page=2")
