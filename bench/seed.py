"""The benchmark's data set: a deterministic synthetic catalogue, written with PostgreSQL COPY.

Same seed, same scale, same rows, byte for byte. Rows are generated in Python (one pass, a fixed random seed) and
streamed to PostgreSQL with COPY in batches of projects, one transaction per batch, so memory stays flat and the
database's own constraints (checks, unique keys, foreign keys) vet every row. The derived columns that
`ProjectQuerySet.refresh_derived()` maintains (money totals, organization and place search text) are computed with
the same formula while generating; `check_derived()` then asks that very method for a sample and compares. The
search vector is a generated column and fills itself.

Proportions, for a scale of N projects: N/20 organizations (one of them FICOSEC, funding 85 % of projects); per
project about 2.8 participations, 1.3 municipalities, 1.3 lines of action, 2.4 indicators and 9.4 measurements (one
per indicator period elapsed): 1.8 million rows in all for N = 100,000. 90 % of projects are published, 5 % drafts,
3 % in review, 2 % archived.
"""

import io
import json
import math
import random
import time
from datetime import date, datetime, timedelta, timezone

from django.db import connection, transaction
from django.utils.text import slugify
from stdnum.mx import rfc as stdnum_rfc

from axes.models import Axis, Line
from projects.models import (
    ApiKey,
    Indicator,
    Measurement,
    Municipality,
    Organization,
    Participation,
    Population,
    Project,
    WorkflowStep,
)

from . import vocabulary as V

SEED = 20261126
GENERATOR_VERSION = 1  # bump when the generator changes, so an existing benchmark database is re-seeded
TODAY = date(2025, 11, 1)  # the data set's "today": statuses, publications and measurements stop here
FIRST_DAY = date(2012, 3, 1)  # FICOSEC's first projects
BATCH = 10_000  # projects per COPY batch and transaction
UTC = timezone.utc

# Where projects take place: Juárez and the city of Chihuahua hold most of the state's population and projects.
PLACE_WEIGHTS = {"08037": 38, "08019": 28, "08017": 6, "08021": 4, "08032": 3, "08050": 2}
OTHER_PLACES_WEIGHT = 19  # shared by the other 61 municipalities

PUBLICATION = [
    (Project.Publication.PUBLISHED, 0.90),
    (Project.Publication.DRAFT, 0.05),
    (Project.Publication.REVIEW, 0.03),
    (Project.Publication.ARCHIVED, 0.02),
]
ORGANIZATION_KINDS = [
    ("osc", 55),
    ("foundation", 7),
    ("company", 12),
    ("academia", 5),
    ("gov_municipal", 8),
    ("gov_state", 7),
    ("gov_federal", 2),
    ("autonomous", 1),
    ("international", 3),
]


# --- Marker: which data set the database holds ------------------------------------------------------------------


def wanted_marker(scale):
    return {"scale": scale, "seed": SEED, "generator": GENERATOR_VERSION}


def read_marker():
    """The marker stored as the database's comment by the last complete seed, or None."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
        )
        comment = cursor.fetchone()[0]
    try:
        return json.loads(comment or "")
    except ValueError:
        return None


def write_marker(marker):
    with connection.cursor() as cursor:
        name = connection.ops.quote_name(connection.settings_dict["NAME"])
        cursor.execute(f"COMMENT ON DATABASE {name} IS %s", [json.dumps(marker, sort_keys=True)])


def ensure(scale, force=False, log=print):
    """Seed unless the database already holds this data set (or `force`). Returns the table row counts."""
    marker = wanted_marker(scale)
    if not force and read_marker() == marker and Project.objects.count() == scale:
        log(f"seed: the database already holds scale {scale:,} (seed {SEED}); skipping (--reseed forces)")
    else:
        started = time.perf_counter()
        write_marker(None)  # an interrupted seed leaves no marker behind, so the next run starts over
        empty()
        Catalogue(scale, SEED, log).write()
        check_derived()
        vacuum()
        write_marker(marker)
        log(f"seed: {scale:,} projects written in {time.perf_counter() - started:.0f} s")
    return counts()


def counts():
    models = [
        Organization,
        Project,
        Participation,
        Indicator,
        Measurement,
        Project.lines.through,
        Project.municipalities.through,
    ]
    with connection.cursor() as cursor:
        result = {}
        for model in models:
            cursor.execute(f"SELECT count(*) FROM {model._meta.db_table}")
            result[model._meta.db_table] = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {Project._meta.db_table} WHERE publication_state = 'published'")
        result["published_projects"] = cursor.fetchone()[0]
    return result


# --- Writing ----------------------------------------------------------------------------------------------------


def empty():
    """Remove every catalogue row (reference data, axes, lines and places, stays) and history."""
    models = [Measurement, Indicator, Participation, WorkflowStep, ApiKey, Project, Organization]
    tables = [m._meta.db_table for m in models] + [
        Project.lines.through._meta.db_table,
        Project.municipalities.through._meta.db_table,
    ]
    tables += [m.history.model._meta.db_table for m in models if hasattr(m, "history")]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def vacuum():
    """Fresh statistics and visibility map, as autovacuum would leave a production database."""
    tables = [
        Organization,
        Project,
        Participation,
        Indicator,
        Measurement,
        Project.lines.through,
        Project.municipalities.through,
    ]
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")


def check_derived(sample=300):
    """Recompute the derived columns of a sample with the application's own refresh_derived() (rolled back) and
    compare: the seeder must write exactly what the application would."""
    columns = ["total_amount", "ficosec_amount", "search_places", "search_organizations"]
    ids = list(Project.objects.order_by("?").values_list("pk", flat=True)[:sample])

    def read():
        return {
            row["pk"]: (
                row["total_amount"],
                row["ficosec_amount"],
                sorted(row["search_places"].split()),
                sorted(row["search_organizations"].split()),
            )
            for row in Project.objects.filter(pk__in=ids).values("pk", *columns)
        }

    written = read()
    with transaction.atomic():
        Project.objects.filter(pk__in=ids).refresh_derived()
        recomputed = read()
        transaction.set_rollback(True)
    wrong = [pk for pk in ids if written[pk] != recomputed[pk]]
    if wrong:
        raise RuntimeError(f"seed: derived columns differ from refresh_derived() for projects {wrong[:10]}")


class CopyBuffer:
    """Rows of one table in PostgreSQL's COPY text format, sent when the batch ends. `constants` are columns every
    row has the same value in (the model's default for a field the generator does not vary)."""

    ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})

    def __init__(self, model, columns, constants=None):
        self.table = model._meta.db_table
        self.columns = columns + list(constants or {})
        self.end = "".join(f"\t{self.cell(value)}" for value in (constants or {}).values()) + "\n"
        self.buffer = io.StringIO()

    def add(self, *values):
        self.buffer.write("\t".join(self.cell(v) for v in values))
        self.buffer.write(self.end)

    def cell(self, value):
        if type(value) is str:  # the common case first: the generator writes millions of cells
            return value.translate(self.ESCAPES)
        if type(value) is int:
            return str(value)
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        if isinstance(value, list):
            return "{" + ",".join(value) + "}"
        if isinstance(value, (date, datetime)):
            return value.isoformat()
        return str(value).translate(self.ESCAPES)

    def send(self, cursor):
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        self.buffer.seek(0)
        cursor.copy_expert(f"COPY {self.table} ({columns}) FROM STDIN", self.buffer)
        self.buffer = io.StringIO()


def zipf(n, s=1.0):
    """Cumulative Zipf weights for n ranked items (the k-th about 1/k^s as likely as the first)."""
    total, cumulative = 0.0, []
    for k in range(1, n + 1):
        total += 1 / k**s
        cumulative.append(total)
    return cumulative


def money(cents):
    return f"{cents // 100}.{cents % 100:02d}"


KEY_DRAW = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"  # what the key's characters are drawn from (a fixed order)


def valid_rfc(stem, drawn):
    """`stem` (letters and date) plus a homoclave as stdnum.mx.rfc (the portal's validate_rfc) accepts it: the first
    two drawn characters mapped into [1-9A-V] and [1-9A-Z], then the check digit of everything before it in place of
    the third (still drawn, so that the random sequence, and every other row of the catalogue, stays the same)."""
    first, second = "123456789ABCDEFGHIJKLMNOPQRSTUV", "123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    stem += first[KEY_DRAW.index(drawn[0]) % len(first)] + second[KEY_DRAW.index(drawn[1]) % len(second)]
    return stem + stdnum_rfc.calc_check_digit(stem)


def add_months(day, months):
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, min(day.day, 28))


class Partner:
    """What the generator remembers of an organization it wrote."""

    __slots__ = ("id", "name", "acronym", "kind", "is_ficosec", "municipality_code")

    def __init__(self, id, name, acronym, kind, is_ficosec, municipality_code):
        self.id, self.name, self.acronym, self.kind = id, name, acronym, kind
        self.is_ficosec, self.municipality_code = is_ficosec, municipality_code

    @property
    def search_text(self):  # refresh_derived(): Concat(name, " ", acronym)
        return f"{self.name} {self.acronym}"


class Catalogue:
    """The generator. Everything random comes from one random.Random(seed), consumed in a fixed order."""

    def __init__(self, scale, seed, log):
        self.scale, self.log, self.rng = scale, log, random.Random(seed)
        self.axes = list(Axis.objects.order_by("number").values_list("pk", flat=True))
        self.lines = list(Line.objects.order_by("number").values_list("pk", flat=True))
        places = list(Municipality.objects.select_related("region").order_by("inegi_code"))
        self.places = places
        weights = [
            PLACE_WEIGHTS.get(m.inegi_code, OTHER_PLACES_WEIGHT / (len(places) - len(PLACE_WEIGHTS))) for m in places
        ]
        self.place_weights = list(_accumulate(weights))
        self.place_by_code = {m.inegi_code: m for m in places}
        self.slugs, self.codes_per_year = {}, {}
        self.zipf_cache = {}

    # Drawing helpers: Zipf-ranked picks from the vocabulary lists.
    def pick(self, items, k=None):
        cumulative = self.zipf_cache.get(len(items))
        if cumulative is None:
            cumulative = self.zipf_cache[len(items)] = zipf(len(items))
        if k is None:
            return self.rng.choices(items, cum_weights=cumulative)[0]
        return self.rng.choices(items, cum_weights=cumulative, k=k)

    def write(self):
        organizations = self.write_organizations()
        self.pools = self.partner_pools(organizations)
        self.projects = CopyBuffer(
            Project,
            [
                "id",
                "code",
                "title",
                "slug",
                "summary",
                "description",
                "axis_id",
                "status",
                "publication_state",
                "prevention_level",
                "populations",
                "planned_start",
                "planned_end",
                "actual_start",
                "actual_end",
                "beneficiaries_target",
                "beneficiaries_reached",
                "evidence_level",
                "evaluation_design",
                "award_type",
                "call_name",
                "conflict_of_interest",
                "internal_notes",
                "total_amount",
                "ficosec_amount",
                "search_places",
                "search_organizations",
                "published_at",
                "created_at",
                "updated_at",
                "version",
            ],
            constants={"sensitive_site": False, "site_name": ""},
        )
        self.project_lines = CopyBuffer(Project.lines.through, ["project_id", "line_id"])
        self.project_places = CopyBuffer(Project.municipalities.through, ["project_id", "municipality_id"])
        self.participations = CopyBuffer(
            Participation, ["id", "project_id", "organization_id", "role", "amount", "contribution_kind", "note"]
        )
        self.indicators = CopyBuffer(
            Indicator,
            ["id", "project_id", "name", "unit", "baseline", "target", "direction", "frequency", "order"],
            constants={"unit_kind": Indicator.UnitKind.OTHER.value},
        )
        self.measurements = CopyBuffer(
            Measurement,
            ["indicator_id", "date", "value", "note", "source", "created_at", "updated_at"],
            constants={"document_url": ""},
        )
        self.next_participation = self.next_indicator = 1
        buffers = [
            self.projects,
            self.project_lines,
            self.project_places,
            self.participations,
            self.indicators,
            self.measurements,
        ]
        started = time.perf_counter()
        for first in range(1, self.scale + 1, BATCH):
            for pk in range(first, min(first + BATCH, self.scale + 1)):
                self.write_project(pk)
            with transaction.atomic(), connection.cursor() as cursor:
                for buffer in buffers:
                    buffer.send(cursor)
            done = min(first + BATCH - 1, self.scale)
            self.log(f"seed: {done:,}/{self.scale:,} projects ({done / (time.perf_counter() - started):,.0f}/s)")
        self.reset_sequences(
            [
                Organization,
                Project,
                Participation,
                Indicator,
                Measurement,
                Project.lines.through,
                Project.municipalities.through,
            ]
        )

    def reset_sequences(self, models):
        with connection.cursor() as cursor:
            for model in models:
                table = model._meta.db_table
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")

    # --- Organizations -----------------------------------------------------------------------------------------

    def write_organizations(self):
        rng = self.rng
        count = max(60, self.scale // 20)
        buffer = CopyBuffer(
            Organization,
            [
                "id",
                "name",
                "acronym",
                "slug",
                "kind",
                "is_ficosec",
                "rfc",
                "cluni",
                "is_donataria",
                "website",
                "email",
                "municipality_id",
                "description",
                "is_active",
                "created_at",
                "updated_at",
            ],
        )
        kinds, weights = zip(*ORGANIZATION_KINDS, strict=False)
        rfcs, slugs, organizations = set(), {}, []
        for pk in range(1, count + 1):
            if pk == 1:
                name, acronym, kind, place = (
                    "Fideicomiso para la Competitividad y Seguridad Ciudadana",
                    "FICOSEC",
                    "foundation",
                    self.place_by_code["08019"],
                )
            else:
                kind = rng.choices(kinds, weights)[0]
                place = self.place()
                name = rng.choice(V.ORG_NAME_PATTERNS[kind]).format(w=self.pick(V.ORG_WORDS), place=place.name)
                acronym = (
                    "".join(w[0] for w in name.split() if w[0].isupper() and "." not in w)[:6]
                    if rng.random() < 0.4
                    else ""
                )
            slug = self.unique(slugs, slugify(acronym or name)[:100])
            rfc = (
                self.rfc(name, rfcs)
                if kind in ("osc", "foundation", "company", "academia") and rng.random() < 0.85
                else ""
            )
            cluni = (
                f"{rng.choice('ABCDEFGH')}{rng.randrange(10**9):09d}{rng.choice('ABCDEFGH')}"
                if kind == "osc" and rng.random() < 0.6
                else ""
            )
            created = self.moment(FIRST_DAY - timedelta(days=365), TODAY)
            buffer.add(
                pk,
                name,
                acronym,
                slug,
                kind,
                pk == 1,
                rfc,
                cluni,
                bool(cluni) and rng.random() < 0.7,
                f"https://{slug}.org.mx" if rng.random() < 0.5 else "",
                f"contacto@{slug}.org.mx" if rng.random() < 0.6 else "",
                place.pk,
                self.sentence() if rng.random() < 0.5 else "",
                rng.random() < 0.95,
                created,
                created,
            )
            organizations.append(Partner(pk, name, acronym, kind, pk == 1, place.inegi_code))
        with transaction.atomic(), connection.cursor() as cursor:
            buffer.send(cursor)
        self.log(f"seed: {count:,} organizations")
        return organizations

    def rfc(self, name, taken):
        """A valid, unique RFC: three letters of the name, a founding date (YYMMDD), a key with its check digit."""
        letters = "".join(c for c in slugify(name).upper() if "A" <= c <= "Z")[:3].ljust(3, "X")
        while True:
            year, month, day = self.rng.randrange(70, 125) % 100, self.rng.randrange(1, 13), self.rng.randrange(1, 29)
            rfc = valid_rfc(f"{letters}{year:02d}{month:02d}{day:02d}", self.rng.choices(KEY_DRAW, k=3))
            if rfc not in taken:
                taken.add(rfc)
                return rfc

    def partner_pools(self, organizations):
        """Who can play each role, most active first (a few organizations implement many projects)."""
        rng = self.rng

        def pool(kinds):
            chosen = [o for o in organizations[1:] if o.kind in kinds]
            rng.shuffle(chosen)
            return chosen

        counterparts = pool({"gov_municipal", "gov_state", "gov_federal", "autonomous"})
        local = {}
        for organization in counterparts:
            if organization.kind == "gov_municipal":
                local.setdefault(organization.municipality_code, organization)
        return {
            "ficosec": organizations[0],
            "implementer": pool({"osc", "academia", "foundation", "gov_municipal"}),
            "funder": pool({"company", "foundation", "international", "gov_state", "gov_federal"}),
            "counterpart": counterparts,
            "local_counterpart": local,  # the municipality's own government, where there is one
            "evaluator": pool({"academia", "international", "osc"}),
        }

    # --- Projects ----------------------------------------------------------------------------------------------

    def write_project(self, pk):
        rng = self.rng
        state = rng.choices([s for s, _w in PUBLICATION], [w for _s, w in PUBLICATION])[0]
        # Projects were created steadily over the years, in id order.
        created = self.moment(
            FIRST_DAY + timedelta(days=int((pk - 1) / self.scale * ((TODAY - FIRST_DAY).days - 200))),
            None,
            spread_days=20,
        )
        planned_start = created.date() + timedelta(days=rng.randrange(15, 120))
        planned_end = add_months(planned_start, rng.choice([6, 9, 12, 12, 12, 18, 24, 24, 36]))
        status = self.status(planned_start, planned_end, state)
        actual_start = (
            planned_start + timedelta(days=rng.randrange(0, 30))
            if status in ("in_progress", "completed", "suspended")
            else None
        )
        actual_end = None
        if status == "completed":
            actual_end = max(actual_start, planned_end + timedelta(days=rng.randrange(-30, 45)))
            actual_end = min(actual_end, TODAY)
        published_at = None
        if state in (Project.Publication.PUBLISHED, Project.Publication.ARCHIVED):
            published_at = created + timedelta(
                days=rng.randrange(20, 120), seconds=rng.randrange(86400), microseconds=rng.randrange(10**6)
            )
        last_change = published_at or created
        updated_at = last_change + timedelta(
            seconds=rng.randrange(max(1, int((self.today_moment() - last_change).total_seconds()))),
            microseconds=rng.randrange(10**6),
        )
        axis = (
            rng.choices(self.axes, [20, 10, 55, 15])[0]
            if state != Project.Publication.DRAFT or rng.random() < 0.8
            else None
        )

        places = self.project_places_for(pk)
        participations = self.project_participations(pk, places)
        self.project_indicators(pk, status, actual_start or planned_start, actual_end or planned_end)
        for line in sorted(set(rng.choices(self.lines, [25, 20, 40, 15], k=rng.choices([1, 2, 3], [65, 30, 5])[0]))):
            self.project_lines.add(pk, line)

        title, summary, description, level = self.texts(places)
        year = created.year
        self.codes_per_year[year] = self.codes_per_year.get(year, 0) + 1
        award = rng.choices(["open_call", "direct", ""], [60, 30, 10])[0]
        evidence = rng.choices(["unrated", "promising", "effective", "no_effect", "negative"], [60, 20, 10, 8, 2])[0]
        target = int(min(50_000, max(10, rng.lognormvariate(math.log(300), 1.0))))
        reached = {
            "completed": int(target * rng.uniform(0.5, 1.2)),
            "in_progress": int(target * rng.uniform(0, 0.7)),
        }.get(status)
        self.projects.add(
            pk,
            f"FIC-{year}-{self.codes_per_year[year]:04d}",
            title,
            self.unique(self.slugs, slugify(title)[:180]),
            summary,
            description,
            axis,
            status,
            state,
            level,
            sorted(set(rng.choices([p.value for p in Population], k=rng.choices([1, 2, 3], [50, 35, 15])[0]))),
            planned_start,
            planned_end,
            actual_start,
            actual_end,
            target,
            reached,
            evidence,
            rng.randrange(1, 6) if evidence != "unrated" and rng.random() < 0.7 else None,
            award,
            rng.choice(V.CALL_NAMES).format(year=year) if award == "open_call" else "",
            "Una integrante del comité técnico forma parte del consejo de la organización implementadora; se abstuvo "
            "en la votación."
            if rng.random() < 0.03
            else "",
            f"Seguimiento: {self.sentence()}" if rng.random() < 0.3 else "",
            money(sum(c for _o, c in participations)),
            money(sum(c for o, c in participations if o.is_ficosec)),
            # refresh_derived(): Concat(municipality name, " ", region name or "") and Concat(name, " ", acronym).
            " ".join(f"{m.name} {m.region.name if m.region else ''}" for m in places),
            " ".join(o.search_text for o, _c in participations),
            published_at,
            created,
            updated_at,
            rng.choices([1, 2, 3, 4, 6, 9], [30, 25, 20, 12, 8, 5])[0],
        )

    def status(self, start, end, state):
        rng = self.rng
        if state == Project.Publication.DRAFT or start > TODAY:
            return rng.choice(["formulation", "approved"])
        if end < TODAY:
            return rng.choices(["completed", "cancelled", "suspended"], [88, 6, 6])[0]
        return rng.choices(["in_progress", "suspended"], [95, 5])[0]

    def project_places_for(self, pk):
        count = self.rng.choices([1, 2, 3, 4], [70, 20, 7, 3])[0]
        places = []
        for place in (self.place() for _ in range(count)):
            if place not in places:
                places.append(place)
        for place in places:
            self.project_places.add(pk, place.pk)
        return places

    def project_participations(self, pk, places):
        """(organization, cents) per participation, written in the model's role order."""
        rng, pools = self.rng, self.pools
        chosen = [
            (
                self.pick(pools["implementer"]),
                "implementer",
                self.amount(50_000, 0.9) if rng.random() < 0.4 else 0,
                "in_kind",
            )
        ]
        if rng.random() < 0.85:
            chosen.append((pools["ficosec"], "funder", self.amount(800_000, 0.8), "cash"))
        funders = {o.id for o, *_ in chosen}
        for _ in range(rng.choices([0, 1, 2], [55, 35, 10])[0]):
            funder = self.pick(pools["funder"])
            if funder.id not in funders:
                funders.add(funder.id)
                chosen.append((funder, "funder", self.amount(250_000, 0.9), "cash"))
        if rng.random() < 0.3:
            local = pools["local_counterpart"].get(places[0].inegi_code)
            chosen.append(
                (
                    local or self.pick(pools["counterpart"]),
                    "counterpart",
                    self.amount(100_000, 1.0) if rng.random() < 0.3 else 0,
                    "in_kind",
                )
            )
        if rng.random() < 0.1:
            evaluator = self.pick(pools["evaluator"])
            if evaluator.id != chosen[0][0].id:
                chosen.append((evaluator, "evaluator", self.amount(120_000, 0.5), "cash"))
        result = []
        for organization, role, cents, kind in chosen:
            self.participations.add(self.next_participation, pk, organization.id, role, money(cents), kind, "")
            self.next_participation += 1
            result.append((organization, cents))
        return result

    def amount(self, median, sigma):
        """MXN in cents, log-normal around `median`, rounded to hundreds of pesos."""
        return int(self.rng.lognormvariate(math.log(median), sigma) / 100) * 100 * 100

    def project_indicators(self, pk, status, start, end):
        rng = self.rng
        for order in range(rng.choices([1, 2, 3, 4], [20, 35, 30, 15])[0]):
            frequency = rng.choices([1, 3, 6, 12], [10, 60, 20, 10])[0]
            unit = self.pick(V.UNITS)
            increase = rng.random() < 0.8
            if increase:
                baseline = rng.choice([0, 0, rng.randrange(5, 500)])
                target = baseline + rng.randrange(20, 1000)
            else:
                baseline = rng.randrange(20, 500)
                target = baseline - rng.randrange(1, baseline)
            name = self.pick(V.INDICATOR_TEMPLATES).format(
                pop=self.pick(V.POPULATION_PHRASES).capitalize(), act=self.pick(V.ACTIVITIES), noun=self.pick(V.NOUNS)
            )
            self.indicators.add(
                self.next_indicator,
                pk,
                name[0].upper() + name[1:],
                unit,
                f"{baseline}.0000",
                f"{target}.0000",
                "increase" if increase else "decrease",
                frequency,
                order,
            )
            if status in ("in_progress", "completed", "suspended"):
                self.indicator_measurements(self.next_indicator, start, min(end, TODAY), frequency, baseline, target)
            self.next_indicator += 1

    def indicator_measurements(self, indicator, start, end, frequency, baseline, target):
        rng = self.rng
        periods = []
        day = add_months(start, frequency)
        while day <= end and len(periods) < 12:
            periods.append(day)
            day = add_months(day, frequency)
        for n, day in enumerate(periods, start=1):
            value = baseline + (target - baseline) * n / len(periods) * rng.uniform(0.6, 1.1)
            recorded = datetime.combine(
                day + timedelta(days=rng.randrange(1, 15)), datetime.min.time(), UTC
            ) + timedelta(seconds=rng.randrange(86400))
            note = rng.choice(
                ["", "", "", "Listas de asistencia", "Informe trimestral de la organización", "Registro administrativo"]
            )
            self.measurements.add(indicator, day, f"{max(0.0, value):.4f}", note, "", recorded, recorded)

    # --- Words ---------------------------------------------------------------------------------------------------

    def texts(self, places):
        """Title, summary (always about prevention), HTML description and prevention level of one project."""
        rng = self.rng
        place = places[0].name
        where = f"la colonia {self.pick(V.COLONIAS)}, {place}" if rng.random() < 0.3 else place
        topic, population = self.pick(V.TOPICS), self.pick(V.POPULATION_PHRASES)
        title = rng.choice(
            [
                f"{self.pick(V.PROGRAMME_HEADS)} de {topic} para {population} en {where}",
                f"{self.pick(V.PROGRAMME_HEADS)} de {topic} en {where}",
                f"{self.pick(V.PROGRAMME_HEADS)} {self.pick(V.ADJECTIVES)} de {topic}",
                f"{self.pick(V.ACTIVITIES).capitalize()} con {population} de {place}",
            ]
        )
        level = rng.choices(["primary", "secondary", "tertiary", ""], [45, 35, 12, 8])[0]
        level_word = {"primary": "primaria", "secondary": "secundaria", "tertiary": "terciaria", "": "comunitaria"}[
            level
        ]
        summary = (
            f"Proyecto de {V.COMMON_WORD} {level_word} que busca {self.pick(V.VERBS)} {topic} entre {population} "
            f"de {where}. {self.sentence()}"
        )
        paragraphs = [
            "<p>" + " ".join(self.sentence() for _ in range(rng.randrange(2, 5))) + "</p>"
            for _ in range(rng.randrange(2, 5))
        ]
        if rng.random() < 0.5:
            items = sorted(set(self.pick(V.ACTIVITIES, k=rng.randrange(2, 6))))
            paragraphs.append("<ul>" + "".join(f"<li>{item.capitalize()}</li>" for item in items) + "</ul>")
        return title[:250], summary, "".join(paragraphs), level

    def sentence(self):
        nouns, activities, populations, verbs = (
            self.pick(V.NOUNS, k=2),
            self.pick(V.ACTIVITIES, k=2),
            self.pick(V.POPULATION_PHRASES, k=2),
            self.pick(V.VERBS, k=2),
        )
        return self.pick(V.SENTENCE_TEMPLATES).format(
            verb=verbs[0],
            verb2=verbs[1],
            noun=nouns[0],
            noun2=nouns[1],
            adj=self.pick(V.ADJECTIVES),
            pop=populations[0],
            pop2=populations[1],
            act=activities[0],
            act2=activities[1],
            place=self.place().name,
            colonia=self.pick(V.COLONIAS),
            org_kind=self.pick(V.ORG_KIND_PHRASES),
            topic=self.pick(V.TOPICS),
        )

    # --- Small helpers -------------------------------------------------------------------------------------------

    def place(self):
        return self.rng.choices(self.places, cum_weights=self.place_weights)[0]

    def unique(self, taken, base):
        """`base`, or `base-2`, `base-3`... as the application's unique_slug() does. `taken` maps each slug given
        to the last suffix tried from it, so that a thousand projects with one title cost no quadratic search."""
        candidate, n = base, taken.get(base, 1)
        while candidate in taken:
            n += 1
            candidate = f"{base}-{n}"
        taken[base] = n
        taken.setdefault(candidate, 1)
        return candidate

    def moment(self, start, end, spread_days=None):
        """A random instant (UTC, with microseconds) from `start` over `spread_days` or until `end`."""
        days = spread_days if spread_days is not None else (end - start).days
        return datetime.combine(start, datetime.min.time(), UTC) + timedelta(
            days=self.rng.randrange(max(1, days)),
            seconds=self.rng.randrange(86400),
            microseconds=self.rng.randrange(10**6),
        )

    def today_moment(self):
        return datetime.combine(TODAY, datetime.min.time(), UTC)


def _accumulate(weights):
    total = 0.0
    for weight in weights:
        total += weight
        yield total
