"""Held load with edits (issue 18): the catalogue under a fixed rate while a staff editor saves a project.

The load is bench/load.py (open loop) at --rate for --held seconds on a mix of catalogue URLs: the filter
combinations of bench/cold.py, drawn from the data's real values, ranked by how often that drawing picks them (the
bare catalogue first), then requested with Zipf frequencies over the ranks (fixed seed). Meanwhile, every
EDIT_EVERY_S seconds, a staff editor changes the title of one published project through the real staff form, as a
browser does: signs in (GET the sign-in page, POST with its CSRF token), GETs /gestion/proyectos/<code>/, reads
every field of the project form as the browser would send it (the version field of the optimistic-concurrency
check, the partners', indicators' and measurements' inline formsets with their management forms), changes the title
and POSTs it with the "Guardar" button. A save is a 302 back to the form. After each save, the project's public page
and a catalogue search for the edit's word are read again and again (anonymously) until both show the new title: the
time from the save's answer to that moment is the edit's visibility latency. An edit redraws the cached pages
that show the project (those that list it, and the searches it matches or matched: figures.catalogue_generation);
the others stay cached: that is what this measures.

Before the load, every distinct URL of the mix is requested once (WARM_THREADS at a time, not timed into the load):
the cache holds what a working day of visits has left in it, so the load measures the cache under edits, not the
cold pages (the cold part, bench/cold.py, times those, each URL computed from the database). The warm-up's own
figures (URLs, seconds, latency p50 and max) are reported beside the load.

The editor is a staff user of the Editor role, `bench-editor`, created (or given a new random password) in the
benchmark database by this process through the ORM. The project's title is put back through the same form after
the last edit. Targets: load p95 <= 50 ms with zero errors, every edit saved and visible within 1 s.
"""

import http.client
import json
import random
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlencode

from . import cold

SEED = 18
DISTINCT_URLS = 1000  # catalogue URLs in the mix (ranked; the Zipf tail reaches far into them)
ZIPF_S = 1.0
EDIT_EVERY_S = 2.0
VISIBLE_WITHIN_S = 1.0
GIVE_UP_S = 10.0  # an edit not visible by then is reported as never visible
POLL_S = 0.02
P95_MS = 50
WARM_THREADS = 4  # concurrent requests of the warm-up (the server's workers x 2)
USERNAME = "bench-editor"
EDIT_SUFFIX = re.compile(r" · bench[0-9a-f]{6}e[0-9]{3}$")  # what an edit adds to the title


# --- The URL mix ----------------------------------------------------------------------------------------------


def ranked_catalogue_paths(real, distinct=DISTINCT_URLS, seed=SEED, draws_per_url=20):
    """Distinct catalogue paths, most likely first: cold.py's filter combinations drawn many times, ranked by how
    often they came up (ties in the order they first came up), after the bare catalogue."""
    rng = random.Random(seed)
    drawn = Counter("/proyectos/" + cold.catalogue_query(rng, real) for _ in range(distinct * draws_per_url))
    ranked = [path for path, _n in sorted(drawn.items(), key=lambda item: -item[1])]  # stable: ties keep first-seen
    return ["/proyectos/", *[path for path in ranked if path != "/proyectos/"]][:distinct]


def warm(port, paths, threads=WARM_THREADS):
    """Request every distinct path of `paths` once, `threads` at a time: {"urls", "seconds", "p50_ms", "max_ms",
    "errors"} (an error: a status other than 200, or no answer)."""

    def fetch(path):
        sent = time.perf_counter()
        try:
            status, _headers, _text = Browser(port).request("GET", path)
        except (OSError, http.client.HTTPException):
            status = None
        return status, (time.perf_counter() - sent) * 1000

    distinct = list(dict.fromkeys(paths))
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(fetch, distinct))
    took = [elapsed for _status, elapsed in answers]
    return {
        "urls": len(distinct),
        "seconds": round(time.perf_counter() - started, 1),
        "p50_ms": round(statistics.median(took), 1) if took else None,
        "max_ms": round(max(took), 1) if took else None,
        "errors": sum(status != 200 for status, _elapsed in answers),
    }


def zipf_mix(paths, count, seed=SEED, s=ZIPF_S):
    """`count` requests over ranked `paths`, the path of rank r with weight 1 / r**s; deterministic for a seed."""
    weights = [1 / rank**s for rank in range(1, len(paths) + 1)]
    return random.Random(seed).choices(paths, weights, k=count)


# --- A browser, as far as the staff form needs one ------------------------------------------------------------


class Browser:
    """Plain HTTP to the portal on loopback with the cookies a browser keeps (sent whatever their Secure flag says:
    the production settings mark them Secure, and a browser behind the TLS proxy would send them)."""

    def __init__(self, port):
        self.port, self.origin, self.cookies = port, f"http://127.0.0.1:{port}", {}

    def request(self, method, path, fields=None):
        """(status, headers, text) of one request; `fields` are posted as a form, in order."""
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept-Language": "es-MX", "User-Agent": "ficosec-bench-editor"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": self.origin,
                "Referer": self.origin + path,
            }
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie, _, attributes = value.partition(";")
                key, _, content = cookie.strip().partition("=")
                if "max-age=0" in attributes.lower().replace(" ", ""):
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = content
        return response.status, dict((k.lower(), v) for k, v in response.getheaders()), text


class FormReader(HTMLParser):
    """The forms of a page and what a browser would submit for each: [{"attrs": {...}, "fields": [(name, value)]}].
    Checked checkboxes and radios, selected options (the first one of a single select when none is), textareas;
    buttons are left out (the caller adds the one it presses)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.form = [], None
        self.textarea = self.select = self.option = None

    def handle_starttag(self, tag, attrs):
        attrs = {name: value if value is not None else "" for name, value in attrs}
        if tag == "form":
            self.form = {"attrs": attrs, "fields": []}
            self.forms.append(self.form)
        elif self.form is None or "disabled" in attrs:
            return
        elif tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.form["fields"].append(
                (attrs["name"], attrs.get("value", "on" if kind in ("checkbox", "radio") else ""))
            )
        elif tag == "textarea" and attrs.get("name"):
            self.textarea = [attrs["name"], ""]
        elif tag == "select" and attrs.get("name"):
            self.select = {"name": attrs["name"], "multiple": "multiple" in attrs, "chosen": [], "first": None}
        elif tag == "option" and self.select is not None:
            self.option = {"value": attrs.get("value"), "selected": "selected" in attrs, "text": ""}

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data
        if self.option is not None:
            self.option["text"] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self.textarea is not None:
            name, text = self.textarea
            self.form["fields"].append((name, text[1:] if text.startswith("\n") else text))  # as browsers read it
            self.textarea = None
        elif tag == "option" and self.option is not None:
            self.close_option()
        elif tag == "select" and self.select is not None:
            self.close_option()
            chosen = self.select["chosen"] or ([] if self.select["multiple"] else [self.select["first"]])
            self.form["fields"] += [(self.select["name"], value) for value in chosen if value is not None]
            self.select = None
        elif tag == "form":
            self.form = None

    def close_option(self):
        if self.option is None:
            return
        value = self.option["value"] if self.option["value"] is not None else self.option["text"].strip()
        if self.select["first"] is None:
            self.select["first"] = value
        if self.option["selected"]:
            self.select["chosen"].append(value)
        self.option = None


def form_fields(html, selector=None):
    """The fields of the page's form whose attributes include `selector` ({"class": "project-form"}), or of its
    only form."""
    reader = FormReader()
    reader.feed(html)
    for form in reader.forms:
        if selector is None or all(
            value in form["attrs"].get(name, "").split() for name, value in (selector or {}).items()
        ):
            return form["fields"]
    raise ValueError(f"no form matching {selector} on the page")


def replaced(fields, changes):
    """The fields with the values of `changes` ({name: value}) instead of theirs."""
    return [(name, changes.get(name, value)) for name, value in fields]


class Editor:
    """A staff editor with a browser: signs in, then saves a project's title through the project form."""

    def __init__(self, port, username, password):
        self.browser = Browser(port)
        status, _headers, html = self.browser.request("GET", "/gestion/entrar/")
        fields = replaced(form_fields(html), {"username": username, "password": password})
        status, headers, _html = self.browser.request("POST", "/gestion/entrar/", fields)
        if status != 302:
            raise RuntimeError(f"sign-in answered {status}")

    def save_title(self, code, title):
        """Save `title` through /gestion/proyectos/<code>/; None when saved, else why not."""
        path = f"/gestion/proyectos/{quote(code)}/"
        status, _headers, html = self.browser.request("GET", path)
        if status != 200:
            return f"GET {path} answered {status}"
        fields = replaced(form_fields(html, {"class": "project-form"}), {"title": title}) + [("save", "1")]
        status, headers, html = self.browser.request("POST", path, fields)
        if status == 302:
            return None
        errors = FormErrors.of(html)
        return f"POST answered {status}: {'; '.join(errors)[:300] or 'no error summary'}"


class FormErrors(HTMLParser):
    """The items of the page's error summary (what the editor would read)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inside, self.items, self.depth = False, [], 0

    @classmethod
    def of(cls, html):
        reader = cls()
        reader.feed(html)
        return [" ".join(item.split()) for item in reader.items if item.strip()]

    def handle_starttag(self, tag, attrs):
        if tag == "div" and "error-summary" in (dict(attrs).get("class") or ""):
            self.inside = True
        elif self.inside and tag == "li":
            self.items.append("")

    def handle_endtag(self, tag):
        if tag == "div":
            self.inside = False

    def handle_data(self, data):
        if self.inside and self.items:
            self.items[-1] += data


# --- The run ----------------------------------------------------------------------------------------------------


def bench_editor():
    """(username, password) of the benchmark's staff editor, created in the benchmark database if missing."""
    from django.contrib.auth.models import Group, User

    from projects import roles

    password = secrets.token_urlsafe(16)
    user = User.objects.filter(username=USERNAME).first() or User(username=USERNAME, email="bench@bench.invalid")
    user.is_active = True
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=roles.EDITOR))
    return USERNAME, password


def edited_project():
    """The published project whose title is edited: the first by code with partners, indicators and measurements,
    so that every inline formset of the form is posted."""
    from projects.models import Indicator, Participation, Project

    project = (
        Project.objects.published()
        .filter(pk__in=Indicator.objects.filter(measurements__isnull=False).values("project"))
        .filter(pk__in=Participation.objects.values("project"))
        .order_by("code")
        .values("code", "slug", "title")
        .first()
    )
    project["title"] = EDIT_SUFFIX.sub("", project["title"])  # an earlier run that could not put it back
    return project


def visible(browser, paths, token, started):
    """Seconds from `started` until every one of `paths` answers 200 with `token` in it (None: not within
    GIVE_UP_S)."""
    pending = list(paths)
    while pending:
        pending = [path for path in pending if not shows(browser, path, token)]
        if not pending:
            break
        if time.perf_counter() - started > GIVE_UP_S:
            return None
        time.sleep(POLL_S)
    return time.perf_counter() - started


def shows(browser, path, token):
    status, _headers, text = browser.request("GET", path)
    return status == 200 and token in text


def edit_loop(editor, port, project, start_at, stop_at, outcome):
    """Edits every EDIT_EVERY_S from `start_at` until `stop_at` (perf_counter times), recording into `outcome`."""
    public = Browser(port)  # an anonymous visitor: what the public sees
    base = project["title"]
    run = secrets.token_hex(3)
    due = start_at
    while due < stop_at:
        time.sleep(max(0.0, due - time.perf_counter()))
        number = len(outcome["edits"]) + 1
        token = f"bench{run}e{number:03d}"  # one search word, unique to this edit
        title = f"{base[: 250 - len(token) - 3]} · {token}"
        sent = time.perf_counter()
        try:
            failure = editor.save_title(project["code"], title)
        except (OSError, http.client.HTTPException) as error:  # a timeout under load is a failed edit, not a crash
            failure = f"{type(error).__name__}: {error}"
        saved = time.perf_counter()
        row = {"token": token, "save_ms": round((saved - sent) * 1000, 1), "failure": failure}
        if failure is None:
            paths = [f"/proyectos/{quote(project['slug'])}/", "/proyectos/?" + urlencode({"q": token})]
            try:
                seconds = visible(public, paths, f"· {token}", saved)  # the title, not the search box echoing it
            except (OSError, http.client.HTTPException):
                seconds = None
            row["visible_ms"] = round(seconds * 1000, 1) if seconds is not None else None
        outcome["edits"].append(row)
        due = max(due + EDIT_EVERY_S, time.perf_counter())


def put_back(editor, project, attempts=3):
    """Save the project's original title through the form once the load is over (True when saved)."""
    from .__main__ import settle

    for _ in range(attempts):
        settle()  # the requests the load left queued are served first
        try:
            if editor.save_title(project["code"], project["title"]) is None:
                return True
        except (OSError, http.client.HTTPException):
            pass
    return False


def run(base_url, port, args, paths_file):
    """The held load on the catalogue mix (a bench/load.py process) with the edits (a thread of this process)."""
    real = cold.values()
    ranked = ranked_catalogue_paths(real)
    warmup = min(5.0, args.held)
    mix = zipf_mix(ranked, int((warmup + args.held) * args.rate))
    Path(paths_file).write_text("\n".join(mix) + "\n")
    project = edited_project()
    editor = Editor(port, *bench_editor())  # signed in before the load starts
    warmed = warm(port, mix)
    outcome = {"edits": [], "warmed": warmed}
    started = time.perf_counter()
    load = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.load",
            base_url + "/proyectos/",
            "--rate",
            str(args.rate),
            "--duration",
            str(args.held),
            "--warmup",
            str(warmup),
            "--paths",
            str(paths_file),
        ],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    thread = threading.Thread(
        target=edit_loop,
        args=(editor, port, project, started + warmup + 0.5, started + warmup + args.held - 0.5, outcome),
        daemon=True,
    )
    thread.start()
    stdout, _ = load.communicate()
    thread.join(timeout=GIVE_UP_S + 60)
    outcome["restored"] = put_back(editor, project)
    if load.returncode:
        raise RuntimeError(f"bench.load exited with {load.returncode}")
    due = len(range(0, int((args.held - 1.0) * 1000), int(EDIT_EVERY_S * 1000)))  # the edit loop's schedule
    return summary(json.loads(stdout), outcome, project, ranked, mix, due)


def summary(load, outcome, project, ranked, mix, due):
    edits = outcome["edits"]
    failed = [edit for edit in edits if edit["failure"]]
    seen = [edit["visible_ms"] for edit in edits if not edit["failure"] and edit.get("visible_ms") is not None]
    unseen = [edit for edit in edits if not edit["failure"] and edit.get("visible_ms") is None]
    counts = Counter(mix)
    return {
        "load": load,
        "urls_ranked": len(ranked),
        "urls_requested": len(counts),
        "top_url_share": round(counts.most_common(1)[0][1] / len(mix), 3) if mix else None,
        "project": project["code"],
        "edits": len(edits),
        "edits_due": due,
        "edits_failed": len(failed),
        "failures": [edit["failure"] for edit in failed][:5],
        "not_visible": len(unseen),
        "visibility_ms": {
            "p50": round(statistics.median(seen), 1) if seen else None,
            "max": round(max(seen), 1) if seen else None,
        },
        "save_ms": {
            "p50": round(statistics.median(e["save_ms"] for e in edits), 1) if edits else None,
            "max": round(max(e["save_ms"] for e in edits), 1) if edits else None,
        },
        "restored": outcome.get("restored", False),
        "warmed": outcome.get("warmed"),
        "detail": edits,
    }


def judge(result, full):
    """(target, figure, met) of the held load with edits; met only for a full run (>= 250 req/s, >= 60 s)."""
    load, lat = result["load"], result["load"]["latency_ms"]
    seen = result["visibility_ms"]
    all_visible = (
        result["edits"] > 0
        and not result["edits_failed"]
        and not result["not_visible"]
        and (seen["max"] or 0) <= VISIBLE_WITHIN_S * 1000
    )
    return [
        (
            f"catalogue mix held at 250 req/s for 60 s with an edit every {EDIT_EVERY_S:g} s: zero errors, "
            f"p95 <= {P95_MS} ms",
            f"{load['rate']:g} req/s for {load['duration_s']:g} s over {result['urls_requested']:,} URLs: "
            f"{load['errors']} errors, p95 {lat['p95']} ms",
            full and load["errors"] == 0 and (lat["p95"] if lat["p95"] is not None else 1e9) <= P95_MS,
        ),
        (
            f"every edit saved and visible within {VISIBLE_WITHIN_S:g} s (project page and catalogue search)",
            f"{result['edits']} edits, {result['edits_failed']} failed, {result['not_visible']} not visible within "
            f"{GIVE_UP_S:g} s; visibility p50 {ms(seen['p50'])} ms, max {ms(seen['max'])} ms",
            full and all_visible,
        ),
    ]


def ms(value):
    return f"{value:,.1f}" if value is not None else "–"


def warmed_text(warmed):
    if not warmed:
        return ""
    return (
        f" Before it, the cache was warmed: each of the mix's {warmed['urls']:,} URLs requested once, "
        f"{WARM_THREADS} at a time, in {warmed['seconds']:g} s (p50 {ms(warmed['p50_ms'])} ms, max "
        f"{ms(warmed['max_ms'])} ms, {warmed['errors']} errors)."
    )


def markdown(result):
    load, lat = result["load"], result["load"]["latency_ms"]
    lines = [
        "## Held load with edits (issue 18)",
        "",
        f"{load['rate']:g} req/s for {load['duration_s']:g} s after {load['warmup_s']:g} s of warm-up, open loop, on "
        f"a Zipf mix (s = {ZIPF_S:g}, seed {SEED}) of {result['urls_ranked']:,} ranked catalogue URLs drawn from the "
        f"data's real values ({result['urls_requested']:,} of them requested; the most requested, the bare "
        f"catalogue, took {result['top_url_share']:.0%}), while a staff editor saved the title of "
        f"{result['project']} through the staff form every {EDIT_EVERY_S:g} s ({result['edits']} of the "
        f"{result['edits_due']} edits due were made: an edit starts once the previous one is saved and seen). "
        f"{load['completed']:,} of "
        f"{load['due']:,} requests completed, {load['errors']} errors {load['error_kinds'] or ''}; achieved "
        f"{load['achieved_rate']} req/s.{warmed_text(result.get('warmed'))}",
        "",
        "| p50 ms | p90 ms | p95 ms | p99 ms | max ms | edits | failed | not visible | visibility p50 ms | "
        "visibility max ms | save p50 ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {ms(lat['p50'])} | {ms(lat['p90'])} | {ms(lat['p95'])} | {ms(lat['p99'])} | {ms(lat['max'])} | "
        f"{result['edits']} | {result['edits_failed']} | {result['not_visible']} | "
        f"{ms(result['visibility_ms']['p50'])} | {ms(result['visibility_ms']['max'])} | "
        f"{ms(result['save_ms']['p50'])} |",
        "",
        "Visibility: from the save's answer (the 302) until the project page and the catalogue search for the "
        "edit's word both show the new title, read again every "
        f"{POLL_S * 1000:g} ms by an anonymous visitor. The title was "
        f"{'put back' if result['restored'] else '**not** put back'} after the run.",
    ]
    if result["failures"]:
        lines += ["", "Failed edits:", "", *[f"- {failure}" for failure in result["failures"]]]
    return "\n".join(lines)
