"""The catalogue's counting index, beside ProjectFilter: facet counts, the list's count, its totals and its map.

For every value of every catalogue filter (an axis, a line, a municipality, a year...), the set of PUBLISHED projects
that have it, as a roaring bitmap of project ids (pyroaring, the compressed bitmaps search engines count with); the
projects' money and their number of places in numpy arrays indexed by id. A filtered list is then the intersection of
a few sets, a facet count the size of an intersection and a total a sum over the members: no scan of the project
rows, so a page costs the same cold or cached, whatever the filters (the search words, a date and the other filters
the index does not know are read from the database as the set of ids they select, then intersected like the rest).

Freshness. The index is built from the database once per process and kept current from the table
projects_cataloguechange, which a trigger fills (migration 0009) on every insert, delete or truncate of a project and
every update of a column the index reads, whatever the path of the write (forms, API, admin, imports, raw SQL), with
the writing transaction's id. Before each use the index asks, in one query, for the projects changed by transactions
not finished when it last asked (their ids at or above that snapshot's xmin) and re-reads just those, so a change is
counted by every worker from its commit on. The index is immutable: a change makes a patched copy, swapped in whole.
Inside an atomic block the shared index is left alone and a private copy takes the changes this transaction sees,
its own uncommitted ones included, so that a rollback leaves nothing behind.
"""

import functools
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import reduce

import numpy as np
from django.db import connection, transaction
from django.db.models import BooleanField, FloatField
from django.db.models.expressions import RawSQL
from django.db.models.functions import ExtractYear
from pyroaring import BitMap

from axes.models import Axis, Line, pick

from .filters import facet_years
from .geo import region_count
from .models import SEARCH_CONFIG, Municipality, Organization, Population, Project, Region, search_prefixes

# Dimensions counted by the index: those from the project's own columns, then the linked rows (id arrays).
COLUMNS = {
    "axis": "axis_id",
    "status": "status",
    "prevention_level": "prevention_level",
    "award_type": "award_type",
    "evidence_level": "evidence_level",
}
LINKED = {
    "line": "line_ids",
    "region": "region_ids",
    "municipality": "municipality_ids",
    "organization": "organization_ids",
}
# Counted per value like the linked dimensions, but not a filter of the catalogue: the organizations that implement
# each project (a municipality's page names its busiest implementers, Index.linked_counts).
PAIRED = {**LINKED, "implementer": "implementer_ids"}
YEARS = range(2000, 2101)  # the years ProjectFilter.year accepts
OPEN = 9999  # a start or end year not known: never started / never finished
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
UNPUBLISHED_AT = np.iinfo(np.int64).max  # no publication date: first in a descending order, as PostgreSQL sorts NULL
REBUILD_AFTER = 2_000  # changed projects beyond which a fresh build is cheaper than patching
REBUILD_EVERY = 60 * 60  # seconds: a process idle longer builds afresh (the log keeps a day)
KEEP_LOG, KEEP_LOG_SECONDS = "1 day", 24 * 60 * 60
ORGANIZATION_FACETS = 40  # the organizations with most projects
WORDS_TESTED_AT_MOST = 20_000  # projects a narrowed search tests its words on at once (its list and facets)
WORDS_PROBED_AT_MOST = 80_000  # projects a narrowed search probes, newest first, for its newest bound + 1 matches
ESTIMATE_SLACK = 2  # the planner's estimate of a search's matches was up to twice the count (bench/ data)
# Testing one project for the words, with its relevance, costs about as much as reading 4 matches from the GIN index
# (at 100,000 projects: 16,387 tested in 155 ms, 43,758 matches read in 98 ms): a probe is chosen when cheaper.
PROBE_COST = 4
# Words whose projects the index keeps (a search for them is then counted in memory): the stems that PostgreSQL's
# statistics of the search vectors (most_common_elems, from ANALYZE) find in at least WORDS_AT_LEAST projects, the
# WORDS_KEPT_AT_MOST most frequent. A rarer word's matches are read from the GIN index, with their relevance, at
# about 6 µs each (100,000 projects: «ajedrez», in 6,359, took 39 ms): 2,500 keeps that within 20 ms. At 100,000
# projects 377 stems are kept (6.5 million matches with 200; 7.9 million now), built in 58 s instead of 46 s.
WORDS_AT_LEAST = 2_500
WORDS_KEPT_AT_MOST = 400
WORDS_PATCHED_AT_MOST = 50_000  # changed projects beyond which a rebuild reads the kept words afresh
# Matches whose relevance to their word alone the index keeps (8 bytes each: at 100,000 projects the 377 kept words
# have 7.9 million matches), so that a search of one kept word is ranked without the database.
RANKS_KEPT_AT_MOST = 20_000_000
# The change that means "the whole catalogue was replaced" (as the trigger logs a TRUNCATE), for writes the trigger
# cannot see: a restore loads its rows before it creates the triggers (manage.py restore).
REPLACED = (
    "INSERT INTO projects_cataloguechange (project_id, xid, at) "
    "VALUES (NULL, pg_current_xact_id()::text::bigint, clock_timestamp())"
)


def _rows(ids=None):
    """(id, axis, status, prevention, award, evidence, populations, start year, end year, lines, regions,
    municipalities, organizations, implementers, total, ficosec, reached, published at) of the published projects
    (of `ids`)."""
    projects = Project.objects.published()
    if ids is not None:
        projects = projects.filter(pk__in=ids)
    return projects.order_by().values_list(
        "pk",
        *COLUMNS.values(),
        "populations",
        ExtractYear(Project.dates()["start"]),
        ExtractYear(Project.dates()["end"]),
        *PAIRED.values(),
        "total_amount",
        "ficosec_amount",
        "beneficiaries_reached",
        "published_at",
    )


def stem_estimates():
    """[(stem, the projects PostgreSQL's statistics estimate hold it)] for the stems of the search vectors'
    most_common_elems (from ANALYZE), most frequent first: empty before the table's first ANALYZE."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT elements.stem, elements.share * pg_class.reltuples FROM pg_stats, pg_class, "
            "unnest(most_common_elems::text::text[], most_common_elem_freqs) AS elements(stem, share) "
            "WHERE pg_stats.schemaname = current_schema() AND pg_stats.tablename = 'projects_project' "
            "AND pg_stats.attname = 'search_vector' AND pg_class.oid = 'projects_project'::regclass "
            "AND elements.stem IS NOT NULL ORDER BY elements.share DESC, elements.stem"
        )
        return cursor.fetchall()


def _frequent_stems():
    """The stems the index keeps the projects of (WORDS_AT_LEAST, WORDS_KEPT_AT_MOST), most frequent first."""
    return [stem for stem, projects in stem_estimates() if projects >= WORDS_AT_LEAST][:WORDS_KEPT_AT_MOST]


def _prefix(stem):
    """The tsquery of the words starting with `stem` (read as it is: no configuration stems it again)."""
    return "'" + stem.replace("\\", "\\\\").replace("'", "''") + "':*"


def _word_sets(stems):
    """(sets, relevance) of the kept stems: {stem: the published projects whose search vector holds a word starting
    with it}, read from the GIN index, and, within RANKS_KEPT_AT_MOST, {stem: (their ids, the relevance of each to a
    search of that word alone)} as sorted arrays."""
    sets, relevance, kept = {}, {}, 0
    if not stems:
        return sets, relevance
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)")
        before = cursor.fetchone()[0]
        for stem in stems:
            words = RawSQL("search_vector @@ %s::tsquery", [_prefix(stem)], output_field=BooleanField())
            projects = Project.objects.published().filter(words).order_by()
            if kept >= RANKS_KEPT_AT_MOST:
                sets[stem] = BitMap(projects.values_list("pk", flat=True))
                continue
            rank = RawSQL("ts_rank(search_vector, %s::tsquery)", [_alone(stem)], output_field=FloatField())
            rows = list(projects.values_list("pk", rank))
            ids = np.fromiter((pk for pk, _rank in rows), dtype=np.int64, count=len(rows))
            ranks = np.fromiter((r for _pk, r in rows), dtype=np.float32, count=len(rows))
            order = np.argsort(ids)
            ids, ranks = ids[order], ranks[order]
            sets[stem] = BitMap(ids.tolist())
            relevance[stem] = (ids.astype(np.int32) if len(ids) and ids[-1] < 2**31 else ids, ranks)
            kept += len(rows)
        cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [before])
    return sets, relevance


def _alone(stem):
    """The tsquery of a search of one word whose stem is `stem`, as projects.models.search_query builds it (the
    websearch half OR the prefix half): what its relevance is computed against."""
    return "'" + stem.replace("\\", "\\\\").replace("'", "''") + "' | " + _prefix(stem)


def _fresh(stems, ids):
    """{id: {stem: relevance to a search of that word alone}} of the published projects of `ids`, for each kept stem
    one of its words starts with (PostgreSQL tests the prefix, as the search does); {} for the others."""
    fresh = {pk: {} for pk in ids}
    if not stems or not ids:
        return fresh
    projects = Project.objects.published().filter(among_ids(ids)).values("id", "search_vector")
    sql, params = projects.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, s.stem, ts_rank(p.search_vector, s.alone::tsquery) "
            f"FROM ({sql}) AS p CROSS JOIN unnest(%s::text[], %s::text[], %s::text[]) AS s(stem, prefix, alone) "
            "WHERE p.search_vector @@ s.prefix::tsquery",
            [*params, list(stems), [_prefix(stem) for stem in stems], [_alone(stem) for stem in stems]],
        )
        for pk, stem, rank in cursor.fetchall():
            fresh[pk][stem] = rank
    return fresh


def _patched_words(index, touched):
    """(sets, relevance, fresh) of the kept words of `index` with the projects `touched` (a BitMap) as the database
    shows them now: their sets patched, their relevance recorded apart (fresh) beside the arrays read with the
    words; past WORDS_PATCHED_AT_MOST recorded projects the arrays are let go (searches rank in PostgreSQL again)."""
    if not index.words or not touched:
        return index.words, index.relevance, index.fresh
    fresh = _fresh(list(index.words), list(touched))
    sets = {}
    for stem, bitmap in index.words.items():
        now = BitMap(pk for pk, ranks in fresh.items() if stem in ranks)
        sets[stem] = (bitmap - touched) | now if bitmap.intersect(touched) or now else bitmap
    fresh = {**index.fresh, **fresh}
    if len(fresh) > WORDS_PATCHED_AT_MOST:
        return sets, {}, {}
    return sets, index.relevance, fresh


def _carried_words(previous, ids):
    """For a rebuild: the previous index's kept words brought up to date with the changed projects `ids` (every
    change since it was current is among them), or None when they must be read afresh: no previous index or
    none kept yet, the table emptied, idle longer than the log is kept, or more projects changed than are
    re-read at once."""
    if (
        previous is None
        or not previous.words
        or None in ids
        or time.monotonic() - previous.checked > KEEP_LOG_SECONDS
        or len(ids) > WORDS_PATCHED_AT_MOST
    ):
        return None
    return _patched_words(previous, BitMap(ids))


def _cents(amount):
    return -1 if amount is None else int(amount * 100)


def _pairs(rows):
    """{paired dimension: (project ids, value ids)} of these rows (see _rows), as arrays."""
    found = {}
    for position, dimension in enumerate(PAIRED, start=4 + len(COLUMNS)):
        projects = [row[0] for row in rows for _value in row[position] or ()]
        values = [value for row in rows for value in row[position] or ()]
        found[dimension] = (np.asarray(projects, dtype=np.int64), np.asarray(values, dtype=np.int64))
    return found


def _ids(bitmap):
    """The members of a bitmap as a numpy array of ids (to index the per-project arrays)."""
    return np.frombuffer(bitmap.to_array(), dtype=np.uint32).astype(np.int64) if bitmap else np.zeros(0, np.int64)


def _microseconds(moment):
    return (moment - EPOCH) // timedelta(microseconds=1)


def _pesos(cents):
    return Decimal(int(cents)).scaleb(-2)


class Index:
    """An immutable snapshot of the published catalogue's counting sets (see the module's note)."""

    ARRAYS = ("total", "ficosec", "reached", "places", "regions", "start", "published")

    def __init__(self, horizon):
        self.horizon = horizon  # xmin of the snapshot the index was last brought up to date with
        self.checked = time.monotonic()
        self.members = BitMap()
        self.sets = {dimension: {} for dimension in [*COLUMNS, "population", *LINKED]}
        self.years = {}
        # Per project id: money in cents (-1: unknown), people reached (-1), its number of places and of regions,
        # its start year (OPEN if none), when it was published (microseconds; UNPUBLISHED_AT if not known).
        self.arrays = {name: np.full(0, -1, dtype=np.int64) for name in self.ARRAYS}
        # Per linked dimension (and the implementers), its (project id, value id) pairs as two arrays: counted in one
        # pass (bincount).
        self.pairs = {dimension: (np.zeros(0, np.int64), np.zeros(0, np.int64)) for dimension in PAIRED}
        self.words = {}  # {stem: projects with a word starting with it} of the frequent stems (WORDS_AT_LEAST)
        self.relevance = {}  # {stem: (ids, relevance to the word alone)}, as read with the words (_word_sets)
        self.fresh = {}  # {id: {stem: relevance}} of the projects changed since (_patched_words)

    # --- building and patching ---------------------------------------------------------------------------------
    @classmethod
    def build(cls, horizon, words=None):
        """The index read afresh from the database; its kept words `words` when the caller has them current
        (_carried_words), else read too (the slow part: every match of every kept word)."""
        index = cls(horizon)
        rows = list(_rows())
        size = max((row[0] for row in rows), default=0) + 1
        index.arrays = {name: np.full(size, -1, dtype=np.int64) for name in cls.ARRAYS}
        ends = np.full(size, -1, dtype=np.int64)
        members = {dimension: {} for dimension in index.sets}
        for row in rows:
            index._write_arrays(row, ends)
            for dimension, value in index._keys(row):
                members[dimension].setdefault(value, []).append(row[0])
        index.members = BitMap(row[0] for row in rows)
        index.sets = {dimension: {v: BitMap(ids) for v, ids in values.items()} for dimension, values in members.items()}
        index.pairs = _pairs(rows)
        starts = index.arrays["start"]
        for year in YEARS:
            index.years[year] = BitMap(np.flatnonzero((starts >= 0) & (starts <= year) & (ends >= year)).tolist())
        if words is None:
            index.words, index.relevance = _word_sets(_frequent_stems())
        else:
            index.words, index.relevance, index.fresh = words
        return index

    @staticmethod
    def _keys(row):
        pk, *columns = row[: 1 + len(COLUMNS)]
        populations = row[1 + len(COLUMNS)]
        linked = row[4 + len(COLUMNS) : 4 + len(COLUMNS) + len(LINKED)]
        keys = [(dimension, value) for dimension, value in zip(COLUMNS, columns, strict=True) if value is not None]
        keys += [("population", value) for value in populations or ()]
        keys += [(dimension, value) for dimension, ids in zip(LINKED, linked, strict=True) for value in ids or ()]
        return keys

    def _write_arrays(self, row, ends):
        pk = row[0]
        start, end = row[2 + len(COLUMNS)], row[3 + len(COLUMNS)]
        _lines, regions, places, _organizations = row[4 + len(COLUMNS) : 4 + len(COLUMNS) + len(LINKED)]
        total, ficosec, reached, published_at = row[-4:]
        self.arrays["total"][pk] = _cents(total)
        self.arrays["ficosec"][pk] = _cents(ficosec)
        self.arrays["reached"][pk] = -1 if reached is None else reached
        self.arrays["places"][pk] = len(places or ())
        self.arrays["regions"][pk] = len(regions or ())
        self.arrays["start"][pk] = -1 if start is None else start
        self.arrays["published"][pk] = UNPUBLISHED_AT if published_at is None else _microseconds(published_at)
        ends[pk] = OPEN if end is None else end

    def patched(self, ids, horizon):
        """A copy with the projects `ids` as the database shows them now (gone if deleted or not published)."""
        copy = Index(horizon)
        rows = {row[0]: row for row in _rows(ids)}
        size = max([len(self.arrays["total"]), *(pk + 1 for pk in rows)])
        copy.arrays = {name: np.resize(self.arrays[name], size) for name in self.ARRAYS}
        for name in self.ARRAYS:
            copy.arrays[name][len(self.arrays[name]) :] = -1
        touched = BitMap(ids)
        copy.members = (self.members - touched) | BitMap(rows)
        keys = {}
        for row in rows.values():
            for dimension, value in self._keys(row):
                keys.setdefault(dimension, {}).setdefault(value, []).append(row[0])
        for dimension, values in self.sets.items():
            added = keys.get(dimension, {})
            copy.sets[dimension] = {
                value: (bitmap - touched) | BitMap(added.get(value, ()))
                if bitmap.intersect(touched) or value in added
                else bitmap
                for value, bitmap in values.items()
            }
            for value, ids_added in added.items():
                copy.sets[dimension].setdefault(value, BitMap(ids_added))
        gone = np.asarray(list(touched), dtype=np.int64)
        fresh = _pairs(rows.values())
        for dimension, (projects, values) in self.pairs.items():
            keep = ~np.isin(projects, gone)
            copy.pairs[dimension] = (
                np.concatenate([projects[keep], fresh[dimension][0]]),
                np.concatenate([values[keep], fresh[dimension][1]]),
            )
        ends = np.full(size, -1, dtype=np.int64)
        for pk in touched:
            if pk < size:
                for name in self.ARRAYS:
                    copy.arrays[name][pk] = -1
        for row in rows.values():
            copy._write_arrays(row, ends)
        for year, bitmap in self.years.items():
            now = BitMap(pk for pk, row in rows.items() if 0 <= copy.arrays["start"][pk] <= year <= ends[pk])
            copy.years[year] = (bitmap - touched) | now if bitmap.intersect(touched) or now else bitmap
        copy.words, copy.relevance, copy.fresh = _patched_words(self, touched)
        return copy

    # --- reading ----------------------------------------------------------------------------------------------
    def union(self, dimension, values):
        """The projects with any of `values` of a dimension."""
        if dimension == "year":
            return self.years.get(int(values), BitMap())
        found = self.sets[dimension]
        return BitMap.union(BitMap(), *(found[value] for value in values if value in found))

    def matches(self, words, prefixes):
        """The published projects a search matches, when the index can tell: its words `words` (the websearch half
        of projects.models.search_query, as PostgreSQL parsed it) are plain stems, all required, the same as those
        of its prefix half `prefixes`, and the index keeps each of them. The search then matches the projects with,
        for each stem, a word starting with it (the websearch half matches no project the prefix half misses).
        None otherwise (a phrase, OR, an exclusion, a rarer word)."""
        stems = _plain(words, "'")
        if not stems or stems != _plain(prefixes, "':*") or any(stem not in self.words for stem in stems):
            return None
        return BitMap.intersection(*(self.words[stem] for stem in stems))

    def relevance_of(self, words, prefixes, chosen):
        """(ids, relevances) of the projects `chosen` (all matches of the search) for a search of one kept word
        (`words`, `prefixes`: its two halves as PostgreSQL parsed them, see matches), as ranked() reads them from
        the database; None when the index has not kept them."""
        stem = words[1:-1]
        if not (words == f"'{stem}'" and "'" not in stem and prefixes == f"'{stem}':*" and stem in self.relevance):
            return None
        ids = _ids(chosen)
        kept, relevance = self.relevance[stem]
        at = np.minimum(np.searchsorted(kept, ids), max(len(kept) - 1, 0))
        found = kept[at] == ids if len(kept) else np.zeros(len(ids), dtype=bool)
        ranks = np.where(found, relevance[at] if len(kept) else 0, np.nan).astype(np.float32)
        changed = [pk for pk in self.fresh if pk in chosen]  # changed since the arrays were read: recorded apart
        for position, pk in zip(np.searchsorted(ids, changed).tolist(), changed, strict=True):
            ranks[position] = self.fresh[pk].get(stem, np.nan)
        if np.isnan(ranks).any():
            return None
        return ids, ranks.astype(np.float64)

    def totals(self, chosen):
        """ProjectQuerySet.totals() of the projects `chosen`: projects, known money (None when none is known) in
        total and from FICOSEC, projects without an amount; and the people reached (None when none is known)."""
        ids = _ids(chosen)
        total, ficosec, reached = (self.arrays[name][ids] for name in ("total", "ficosec", "reached"))
        known, known_ficosec = total >= 0, ficosec >= 0
        return {
            "projects": len(ids),
            "money": _pesos(total[known].sum()) if known.any() else None,
            "ficosec": _pesos(ficosec[known_ficosec].sum()) if known_ficosec.any() else None,
            "without_amount": int((~known).sum()),
            "reached": int(reached[reached >= 0].sum()) if (reached >= 0).any() else None,
        }

    def by_start_year(self, chosen):
        """{year: {"year", "projects", "money"}} of the projects `chosen` by the year they start (known money summed,
        unknown as zero); projects without a start date are left out."""
        ids = _ids(chosen)
        starts = self.arrays["start"][ids]
        dated = starts >= 0
        years, counts = np.unique(starts[dated], return_counts=True)
        amounts = self.arrays["total"][ids][dated]
        rows = {}
        for year, count in zip(years.tolist(), counts.tolist(), strict=True):
            here = amounts[starts[dated] == year]
            rows[year] = {"year": year, "money": _pesos(here[here >= 0].sum()), "projects": count}
        return rows

    def newest_first(self, chosen):
        """The ids of the projects `chosen` in the catalogue's default order: the most recently published first,
        ties by the higher id (ORDER BY published_at DESC, id DESC; PostgreSQL puts an unknown date first). A large
        choice is read off the snapshot's whole order (newest_order) instead of sorted: 10 → 3.6 ms for 90,000."""
        if len(chosen) * 8 < len(self.arrays["published"]):
            ids = _ids(chosen)
            return ids[np.lexsort((-ids, -self.arrays["published"][ids]))].tolist()
        order = self.newest_order
        return order[self._mask(chosen)[order]].tolist()

    @functools.cached_property
    def newest_order(self):
        """Every id of the snapshot's arrays in the catalogue's default order (sorted once per snapshot)."""
        ids = np.arange(len(self.arrays["published"]), dtype=np.int64)
        return ids[np.lexsort((-ids, -self.arrays["published"]))]

    def linked_counts(self, dimension, chosen):
        """{value id: number of the projects `chosen` linked to it} of a linked dimension or the implementers (none
        for 0)."""
        projects, values = self.pairs[dimension]
        counts = np.bincount(values[self._mask(chosen)[projects]])
        found = np.flatnonzero(counts)
        return dict(zip(found.tolist(), counts[found].tolist(), strict=True))

    def _mask(self, chosen):
        mask = np.zeros(len(self.arrays["total"]), dtype=bool)
        mask[_ids(chosen)] = True
        return mask

    def municipality_figures(self, chosen, regions):
        """projects.geo's map figures of the projects `chosen`: {municipality id: {"projects", "money"}} of the local
        projects, each one's known money split evenly among its places, and the statewide ones' (reaching all of
        the `regions`) {"projects", "money"}."""
        ids = _ids(chosen)
        wide = ids[self.arrays["regions"][ids] >= regions] if regions else ids[:0]
        local = self._mask(chosen)
        local[wide] = False
        projects, values = self.pairs["municipality"]
        here = local[projects]
        projects, values = projects[here], values[here]
        counts = np.bincount(values)
        amounts = self.arrays["total"][projects]
        known = amounts >= 0
        shares = amounts[known] / self.arrays["places"][projects][known]
        money = np.bincount(values[known], weights=shares, minlength=len(counts))
        figures = {
            pk: {"projects": int(counts[pk]), "money": _pesos(round(float(money[pk])))}
            for pk in np.flatnonzero(counts).tolist()
        }
        amounts = self.arrays["total"][wide]
        apart = {"projects": len(wide), "money": _pesos(amounts[amounts >= 0].sum())}
        return figures, apart


def _plain(tsquery, end):
    """The set of stems of a tsquery's text that is only quoted stems ending in `end`, joined by &; None otherwise."""
    stems = set()
    for term in tsquery.split(" & "):
        if not (term.startswith("'") and term.endswith(end)) or len(term) <= len(end):
            return None
        stem = term[1 : -len(end)]
        if "'" in stem.replace("''", "") or "\\" in stem:
            return None
        stems.add(stem.replace("''", "'"))
    return stems


_shared = None  # the index of the committed catalogue, shared by the requests of this process
_private = None  # (key, index) of the last transaction that had written: its own view
_lock = threading.Lock()


def _changes(since):
    """In one query: the current snapshot's xmin, the projects changed by transactions at or above `since` (None in
    the list: the table was emptied), the newest such change, and this transaction's id if it has written."""
    # One aggregate over the xid index: alone, max(id) would be planned as a backward scan of the whole log.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, changed.ids, changed.newest, "
            "pg_current_xact_id_if_assigned()::text::bigint FROM ("
            "SELECT array_agg(DISTINCT project_id) AS ids, max(id) AS newest FROM projects_cataloguechange "
            "WHERE xid >= %s) AS changed",
            [since],
        )
        horizon, ids, newest, own = cursor.fetchone()
        return horizon, ids or [], newest, own


def current():
    """The index as this request's transaction sees the catalogue: the shared one brought up to date, or, for a
    transaction that has written, a private copy with its changes."""
    global _shared, _private
    base = previous = _shared
    if base is not None and time.monotonic() - base.checked > REBUILD_EVERY:
        base = None
    horizon, ids, newest, own = _changes(base.horizon if base else 0)
    shared = own is None  # a transaction that has written nothing sees what every other one sees
    key = (own, newest, id(base))
    if not shared and _private and _private[0] == key:
        return _private[1]
    if base is None or None in ids or len(ids) > REBUILD_AFTER:
        if shared:
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM projects_cataloguechange WHERE at < now() - interval '{KEEP_LOG}'")
        index = Index.build(horizon, _carried_words(previous, ids))
    elif ids:
        index = base.patched(ids, horizon)
    else:
        index = base
    if not shared:
        _private = (key, index)
        return index
    index.checked = time.monotonic()
    with _lock:
        if _shared is None or _shared.horizon <= index.horizon:
            _shared = index
    return index


def reset():
    """Forget the shared index (the next use builds it): for tests that empty the database behind its back."""
    global _shared, _private
    _shared = _private = None


# --- The catalogue's filters on the index --------------------------------------------------------------------


def chosen_sets(filterset, index):
    """{filter name: the published projects it selects} for each chosen filter of a valid ProjectFilter: from the
    index for the dimensions it counts, from the database (the ids the filter selects) for the others."""
    chosen = {}
    for name, value in filterset.form.cleaned_data.items():
        if name == "ordering" or not value or (name == "q" and not value.strip()):
            continue
        if name in COLUMNS and name != "axis":
            chosen[name] = index.union(name, [value] if isinstance(value, str) else value)
        elif name == "axis":
            chosen[name] = index.union(name, [row.pk for row in value])
        elif name in LINKED:
            chosen[name] = index.union(name, [row.pk for row in value])
        elif name == "population":
            chosen[name] = index.union(name, value)
        elif name == "year":
            chosen[name] = index.union("year", value)
        elif name == "q":  # by Catalogue, with the relevance of each match
            continue
        else:  # update date, state: the ids the filter selects among the published projects
            chosen[name] = searched(filterset, name=name)
    return chosen


def searched(filterset, name="q"):
    """The published projects one filter (the search words, a date) selects."""
    projects = filterset.filters[name].filter(Project.objects.published(), filterset.form.cleaned_data[name])
    if name != "q":
        return BitMap(projects.order_by().values_list("pk", flat=True))
    # The words' matches are read from the GIN index, whose answer needs no search vector. For a common word
    # PostgreSQL would plan a sequential scan, which reads every vector (1.3 KB each) to test it: its cost model
    # counts the test, not the reading, and that scan takes 3 to 4 times as long (bench/: the search SQL part).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_seqscan'), set_config('enable_seqscan', 'off', true)")
        before = cursor.fetchone()[0]
        matches = BitMap(projects.order_by().values_list("pk", flat=True))  # (an error rolls the setting back)
        cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [before])  # as it was, for an enclosing one
        return matches


def ranked(filterset, limit=None, among=None):
    """(ids, relevances) of the published projects the search words match (those of the ids `among`, when given),
    as arrays, read in one pass (the ids and their rank together); None if they are `limit` or more."""
    projects = Project.objects.published() if among is None else Project.objects.published().filter(among_ids(among))
    projects = filterset.filters["q"].filter(projects, filterset.form.cleaned_data["q"]).order_by()
    rows = list(projects.values_list("pk", "rank")[:limit] if limit else projects.values_list("pk", "rank"))
    if limit and len(rows) >= limit:
        return None
    ids = np.fromiter((pk for pk, _rank in rows), dtype=np.int64, count=len(rows))
    return ids, np.fromiter((rank for _pk, rank in rows), dtype=np.float64, count=len(rows))


def among_ids(ids):
    """The condition "a project of `ids`", the ids sent as one array literal: thousands of them cost PostgreSQL's
    planner and Django a tenth of what as many IN (...) parameters do (at 100,000 projects, 9,029 ids: 102 ms
    against 251 ms for the whole relevance query)."""
    literal = "{" + ",".join(str(int(pk)) for pk in ids) + "}"
    return RawSQL(f'"{Project._meta.db_table}"."id" = ANY(%s::bigint[])', [literal], output_field=BooleanField())


def parsed_search(filterset):
    """The two halves of the search of a valid ProjectFilter (projects.models.search_query) as PostgreSQL parses
    them: (websearch, prefixes) texts of tsquery; None for words with no prefix half."""
    query = filterset.form.cleaned_data["q"].strip()
    prefixes = search_prefixes(query)
    if not prefixes:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT websearch_to_tsquery(%s::regconfig, %s)::text, to_tsquery(%s::regconfig, %s)::text",
            [SEARCH_CONFIG, query, SEARCH_CONFIG, prefixes],
        )
        return cursor.fetchone()


def indexed_matches(filterset, index):
    """The published projects the search words of a valid ProjectFilter match, when the index keeps them
    (Index.matches); None otherwise."""
    parsed = parsed_search(filterset) if index.words else None
    return index.matches(*parsed) if parsed else None


def estimated_matches(filterset):
    """PostgreSQL's estimate of the published projects the search words match (the planner's statistics of the
    search vectors; no row is read): it tells which words are surely broader than the bound, so that they are not
    read up to it only to learn so."""
    projects = filterset.filters["q"].filter(Project.objects.published(), filterset.form.cleaned_data["q"])
    sql, params = projects.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        return cursor.fetchone()[0][0]["Plan"]["Plan Rows"]


def selection(index, chosen, without=None):
    """The published projects every chosen filter but `without` selects."""
    return reduce(BitMap.__and__, (s for name, s in chosen.items() if name != without), index.members)


class Catalogue:
    """What the catalogue page counts for a valid ProjectFilter over the published projects."""

    def __init__(self, filterset, whole=False):
        """Counts the filtered list; for a search, tells the filter set how many projects match (so that no COUNT
        is asked of the database), and counts nothing (`selected` None) when the search is broader than the bound,
        unless the caller lists the `whole` list (a download: a broad search is then read as a set too, and listed
        newest first by the index)."""
        self.filterset = filterset
        self.index = current()
        self.chosen = chosen_sets(filterset, self.index)
        self.ranks = None  # the search's matches and their relevance, when no more than the bound
        self.uncounted = set()  # chosen filters whose facet is not counted (see _narrowed)
        self.newest = None  # the newest bound + 1 of a narrowed search broader than the bound (see _narrowed)
        self.parsed = parsed_search(filterset) if filterset.searching and self.index.words else None
        known = self.index.matches(*self.parsed) if self.parsed else None
        if known is not None:
            if not self._known(filterset, known, whole):
                self.selected = None
                return
        elif filterset.searching and self.chosen:
            if not self._narrowed(filterset, whole):
                self.selected = None
                return
        elif filterset.searching:
            # The words alone: their matches with their relevance in one pass, read up to the bound + 1.
            self.ranks = ranked(filterset, limit=filterset.bound + 1)
            if self.ranks is not None:
                self.chosen["q"] = BitMap(self.ranks[0])
            else:  # broader than the bound: not counted further, nor ranked (newest first)
                filterset.known_matches(filterset.bound + 1)
                if not whole:
                    self.selected = None
                    return
                self.chosen["q"] = searched(filterset)
        self.selected = selection(self.index, self.chosen)
        if self.ranks is not None:  # a search no broader than the bound: counted here, no COUNT asked of the database
            filterset.known_matches(len(self.selected))

    def _known(self, filterset, matches, whole):
        """Words whose matches the index keeps (Index.matches): every facet is counted in memory, and the relevance
        of the list's projects is needed only when it is within the bound (it orders them): kept with the word for
        a search of one word (Index.relevance_of), else read from the database. Whether the list is counted, as
        _narrowed answers."""
        self.chosen["q"] = matches
        listed = selection(self.index, self.chosen)
        if len(listed) <= filterset.bound:
            self.ranks = self.index.relevance_of(*self.parsed, listed)
            if self.ranks is None:
                self.ranks = ranked(filterset, among=_ids(listed).tolist())
            return True
        filterset.known_matches(filterset.bound + 1)
        if not whole and len(self.chosen) > 1:  # narrowed by other filters: listed newest first by the index
            self.newest = self.index.newest_first(listed)[: filterset.bound + 1]
        return whole

    def _narrowed(self, filterset, whole):
        """Words narrowed by other filters: whether the list is counted (False: broader than the bound, listed
        newest first). The words are tested on the projects the other filters select, never on all their matches
        (480,000 rows at 1M projects), their relevance read with them:

        - when the other filters select no more than WORDS_TESTED_AT_MOST projects, on all of them, and on the
          list of a chosen filter's facet (the list without that filter) too when no longer than the bound; when
          one such list is longer, words that may be within the bound (by the planner's estimate) are read alone
          up to the bound + 1 first: within it, they count every facet; broader, that facet is shown uncounted.
          A download (no facets) tests the list only;
        - otherwise the same first read for words that may be within the bound, then, when that costs less than
          reading all their matches (_probe_cost), the filters' projects are probed newest first, in chunks, until
          more than the bound match (a broad list, listed newest first) or all have been probed (the list, its
          facets uncounted); else (or beyond WORDS_PROBED_AT_MOST projects, or for a download) the words' matches
          are read once as a set."""
        bound = filterset.bound
        others = selection(self.index, self.chosen)
        wider = {} if whole else {name: selection(self.index, self.chosen, name) for name in self.chosen}
        broad = len(others) > WORDS_TESTED_AT_MOST or any(len(projects) > bound for projects in wider.values())
        estimate = estimated_matches(filterset) if broad else 0
        if broad and estimate <= ESTIMATE_SLACK * bound:
            self.ranks = ranked(filterset, limit=bound + 1)
            if self.ranks is not None:  # the words alone are within the bound: everything counted
                self.chosen["q"] = BitMap(self.ranks[0])
                return True
        if len(others) <= WORDS_TESTED_AT_MOST:
            tested = BitMap(others)
            for name in sorted(wider, key=lambda name: len(wider[name])):
                if len(wider[name]) <= bound and len(tested | wider[name]) <= WORDS_TESTED_AT_MOST:
                    tested |= wider[name]
                else:
                    self.uncounted.add(name)
            self.ranks = ranked(filterset, among=_ids(tested).tolist())
            self.chosen["q"] = BitMap(self.ranks[0])  # the words' matches among the projects tested
            return self._within_bound(filterset, whole)
        if (
            not whole
            and self._probe_cost(others, estimate, bound) < estimate
            and self._probed(filterset, self.index.newest_first(others))
        ):
            self.uncounted.update(self.chosen)
            return self._within_bound(filterset, whole)
        if self.newest is not None:
            return False
        self.chosen["q"] = searched(filterset)
        narrowed = selection(self.index, self.chosen)
        filterset.known_matches(min(len(narrowed), bound + 1))
        if not filterset.broad:
            self.ranks = ranked(filterset, among=_ids(narrowed).tolist())
            return True
        if not whole:  # listed newest first by the index (no sort in SQL)
            self.newest = self.index.newest_first(narrowed)[: bound + 1]
        return whole

    def _probe_cost(self, others, estimate, bound):
        """What probing the projects `others` would cost, in reads of a match from the GIN index (the cost of
        reading the words' matches as a set is their number, `estimate`): the projects it would test, until more
        than the bound match at the estimated density of the words, times PROBE_COST."""
        density = estimate / max(len(self.index.members), 1)
        tested = min(len(others), WORDS_PROBED_AT_MOST, (bound + 1) / density if density else len(others))
        return tested * PROBE_COST

    def _probed(self, filterset, order):
        """Tests the words on the projects `order` (newest first) chunk by chunk: True when all were tested (the
        words' matches among them and their relevance are then known); when more than the bound match first,
        keeps the newest bound + 1 of them (`newest`) and answers False; False too past WORDS_PROBED_AT_MOST."""
        found, relevance, start, size = [], [], 0, WORDS_TESTED_AT_MOST
        last = min(len(order), WORDS_PROBED_AT_MOST)
        while start < last:
            end = min(start + size, last)
            ids, ranks = ranked(filterset, among=order[start:end])
            found.append(ids)
            relevance.append(ranks)
            start, size = end, size * 2
            if sum(len(ids) for ids in found) > filterset.bound:  # every one newer than any not yet tested
                self.newest = self.index.newest_first(BitMap(np.concatenate(found)))[: filterset.bound + 1]
                filterset.known_matches(filterset.bound + 1)
                return False
        if start < len(order):
            return False
        self.ranks = np.concatenate(found), np.concatenate(relevance)
        self.chosen["q"] = BitMap(self.ranks[0])
        return True

    def _within_bound(self, filterset, whole):
        """After the words were tested on the list: whether it is counted. A list broader than the bound is listed
        newest first (its newest bound + 1 kept in `newest`), unless the caller lists the whole of it."""
        listed = selection(self.index, self.chosen)
        if len(listed) <= filterset.bound or whole:
            return True
        self.newest = self.index.newest_first(listed)[: filterset.bound + 1]
        filterset.known_matches(filterset.bound + 1)
        return False

    def listed(self, queryset):
        """The list in the filter set's order as rows of `queryset` read by id (ByIds), when the index can order it:
        by relevance for a search whose matches it ranked, newest first otherwise; None for the other orders (the
        database sorts those)."""
        order = self.filterset.order
        if self.selected is None and self.newest is not None and order == "-published_at":
            return ByIds(queryset, self.newest)  # a narrowed search broader than the bound: its newest matches
        if self.selected is None or order not in ("relevance", "-published_at"):
            return None
        ids = self.by_relevance() if order == "relevance" else self.index.newest_first(self.selected)
        return None if ids is None else ByIds(queryset, ids)

    def by_relevance(self):
        """The ids of the list, most relevant first (ties: the newest id first, as ProjectFilter orders them), when
        the search's relevances are known; None otherwise."""
        if self.ranks is None:
            return None
        ids, ranks = self.ranks
        kept = np.isin(ids, _ids(self.selected))
        ids, ranks = ids[kept], ranks[kept]
        return ids[np.lexsort((-ids, -ranks))].tolist()

    @property
    def count(self):
        return len(self.selected)

    def totals(self):
        return self.index.totals(self.selected)

    def municipality_figures(self):
        return self.index.municipality_figures(self.selected, region_count())

    def facets(self):
        """{dimension: [(value, label, count, selected)]}: each value of each filter with the number of projects the
        list would have with it chosen (every OTHER chosen filter applied; values inside one filter are
        alternatives). An uncounted filter (a broad search's, see _narrowed) lists its chosen values, count None."""
        data = self.filterset.data
        bases = {}

        def base(dimension):
            key = dimension if dimension in self.chosen else None
            if key not in bases:
                bases[key] = selection(self.index, self.chosen, key)
            return bases[key]

        def counted(dimension, value):
            return base(dimension).intersection_cardinality(self.index.sets[dimension].get(value, BitMap()))

        results = {"axis": [(a.slug, str(a), counted("axis", a.pk)) for a in Axis.objects.all()]}
        for dimension, choices in (
            ("status", Project.Status.choices),
            ("prevention_level", Project.PreventionLevel.choices),
            ("population", Population.choices),
            ("award_type", Project.Award.choices),
            ("evidence_level", Project.Evidence.choices),
        ):
            results[dimension] = [(value, label, counted(dimension, value)) for value, label in choices]
        results["year"] = [
            (str(year), str(year), base("year").intersection_cardinality(self.index.years.get(year, BitMap())))
            for year in facet_years()
        ]
        for dimension in LINKED:
            counts = self.index.linked_counts(dimension, base(dimension))
            results[dimension] = _linked_rows(dimension, counts)
            missing = set(data.getlist(dimension)) - {value for value, _label, _n in results[dimension]}
            if missing:  # a chosen value outside the list stays listed, so that it can be unticked
                field = self.filterset.filters[dimension]
                for row in field.queryset.filter(**{f"{field.extra['to_field_name']}__in": missing}):
                    value = getattr(row, field.extra["to_field_name"])
                    results[dimension].append((value, str(getattr(row, "name", row)), counts.get(row.pk, 0)))
        for dimension in self.uncounted & results.keys():  # its chosen values only, to be unticked, with no count
            results[dimension] = [(value, label, None) for value, label, _n in results[dimension]]
        return {
            dimension: [
                (value, label, count, value in data.getlist(dimension))
                for value, label, count in values
                if count or value in data.getlist(dimension)
            ]
            for dimension, values in results.items()
        }


class ByIds:
    """The rows of a queryset whose ids are `ids`, in that order, as a Paginator pages them (a slice is one query)
    and as projects.exports reads them (`ids`, then the rows per chunk)."""

    def __init__(self, queryset, ids):
        self.queryset, self.ids = queryset, ids

    def select_related(self, *fields):
        return ByIds(self.queryset.select_related(*fields), self.ids)

    def prefetch_related(self, *lookups):
        return ByIds(self.queryset.prefetch_related(*lookups), self.ids)

    def count(self):
        return len(self.ids)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        ids = self.ids[index] if isinstance(index, slice) else [self.ids[index]]
        rows = self.queryset.in_bulk(ids)
        found = [rows[pk] for pk in ids if pk in rows]
        return found if isinstance(index, slice) else found[0]


def _linked_rows(dimension, counts):
    """[(value, label, count)] of a linked dimension from {id: count}, in the order the page lists them."""
    if dimension == "line":
        rows = Line.objects.filter(pk__in=counts).order_by("number")
        return [(row.slug, pick(row.name, row.name_en), counts[row.pk]) for row in rows]
    if dimension == "region":
        return [(row.slug, row.name, counts[row.pk]) for row in Region.objects.filter(pk__in=counts).order_by("order")]
    if dimension == "municipality":
        rows = Municipality.objects.filter(pk__in=counts).order_by("name")
        return [(row.inegi_code, row.name, counts[row.pk]) for row in rows]
    return [(row.slug, row.name, row.here) for row in busiest(counts, ORGANIZATION_FACETS)]


def busiest(counts, limit):
    """The `limit` organizations with the most projects in `counts` ({organization id: projects}, as linked_counts
    gives them), most first (ties by name), each with its number of projects as `here`: their slugs and names are
    read, only for the candidates."""
    ranked = sorted(counts.values(), reverse=True)
    floor = ranked[limit - 1] if len(ranked) >= limit else 0
    rows = list(Organization.objects.filter(pk__in=[pk for pk, n in counts.items() if n >= floor]).only("slug", "name"))
    for row in rows:
        row.here = counts[row.pk]
    return sorted(rows, key=lambda row: (-row.here, row.name))[:limit]


def map_figures(index=None):
    """The map figures of every published project (projects.geo.choropleth's input), from `index` if the caller
    has it already."""
    index = index or current()
    return index.municipality_figures(index.members, region_count())


def facet_counts(filterset):
    """The facets of a valid ProjectFilter over the published projects (Catalogue.facets)."""
    return Catalogue(filterset).facets()
