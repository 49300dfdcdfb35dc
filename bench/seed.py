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
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Sum
from django.db.models.functions import Coalesce
from django.utils.text import slugify
from stdnum.mx import rfc as stdnum_rfc

from axes.models import Axis, Line
from projects.models import (
    AnnualReport,
    ApiKey,
    CatalogueChange,
    Charge,
    Commitment,
    Disbursement,
    ExpenseProof,
    Indicator,
    LatestMeasurement,
    Measurement,
    MoneyFact,
    MoneyFigure,
    MoneyProjectCount,
    Municipality,
    Organization,
    Participation,
    Population,
    Project,
    WorkflowStep,
)
from projects.models.projects import DERIVED_COLUMNS, LINKED_ID_COLUMNS

from . import vocabulary as V

SEED = 20261126
GENERATOR_VERSION = 2  # bump when the generator changes, so an existing benchmark database is re-seeded (2: ledger)
TODAY = date(2025, 11, 1)  # the data set's "today": statuses, publications and measurements stop here
FIRST_DAY = date(2012, 3, 1)  # FICOSEC's first projects
BATCH = 10_000  # projects per COPY batch and transaction
UTC = timezone.utc
END = datetime.combine(TODAY, datetime.min.time(), UTC)  # the data set's "now"

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
        vacuum()  # before the checks: without statistics their lookups by proof ran as scans of the primary key
        check_derived()
        check_ledger()
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
        *LEDGER_MODELS,
        CatalogueChange,  # the change log the trigger fills while seeding (one row per project written)
        MoneyFact,  # the money facts the ledger's triggers keep (migration 0014)
        MoneyFigure,  # their sums at the public figures' grain, kept by deltas (0017)
        MoneyProjectCount,  # the projects with a commitment per year, axis and award type (0017)
        LatestMeasurement,  # each indicator's latest measurement, kept by the measurements' triggers (0015)
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
    models = [*LEDGER_MODELS, Measurement, Indicator, Participation, WorkflowStep, ApiKey, Project, Organization]
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
        *LEDGER_MODELS,
        CatalogueChange,  # the trigger logged every project written: read on every catalogue request
        MoneyFact,  # what the money figures' sums are kept from
        MoneyFigure,  # what the money figures read (0017)
        MoneyProjectCount,
        LatestMeasurement,  # what the evidence page's roll-up reads
    ]
    # The money sums' deltas were added by thousands of batches of ledger rows and folded again and again, which
    # leaves a few thousand live rows spread over thousands of pages; a deployment fills them once (migration 0019)
    # and its steady folding reuses the space. Rewritten (they are small), they read as a deployment's do.
    compact = {MoneyFigure, MoneyProjectCount}
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(f"VACUUM ({'FULL, ' if model in compact else ''}ANALYZE) {model._meta.db_table}")


def check_derived(sample=300):
    """Recompute the derived columns of a sample with the application's own refresh_derived() (rolled back) and
    compare: the seeder must write exactly what the application would."""
    columns = DERIVED_COLUMNS
    ids = list(Project.objects.order_by("?").values_list("pk", flat=True)[:sample])

    def read():
        return {
            row["pk"]: (
                row["total_amount"],
                row["ficosec_amount"],
                row["search_places"],  # (the same text in the same order: a first edit would log a change)
                row["search_organizations"],
                *(row[column] for column in LINKED_ID_COLUMNS),
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


def check_ledger(sample=200):
    """The ledger keeps the portal's rules: every proof's `charged` is the sum of its charges (what record()
    maintains), no commitment is disbursed beyond its amount (Commitment.disburse), no tranche is proven beyond
    what it paid; a sample of every ledger row (and of organizations, whose RFCs proofs carry) passes full_clean();
    a sample of proofs is a CFDI file that cfdi.parse() reads back into the same row; each proof's review reason is
    exactly what ExpenseProof.near_duplicates() finds among the invoices uploaded before it."""
    from projects import cfdi

    wrong = (
        ExpenseProof.objects.annotate(sum=Coalesce(Sum("charges__amount"), Decimal(0)))
        .exclude(charged=F("sum"))
        .count()
    )
    over = Commitment.objects.annotate(paid=Sum("disbursements__amount")).filter(paid__gt=F("amount")).count()
    unproven = Disbursement.objects.annotate(proven=Sum("charges__amount")).filter(proven__gt=F("amount")).count()
    if wrong or over or unproven:
        raise RuntimeError(
            f"seed: {wrong} proofs whose charged differs from their charges, {over} commitments disbursed beyond "
            f"their amount, {unproven} tranches proven beyond what they paid"
        )
    for model in (Organization, *LEDGER_MODELS):
        for row in model.objects.order_by("?")[:sample]:
            row.full_clean()
    fields = ["uuid", "version", "issuer_rfc", "issuer_name", "receiver_rfc", "issued_on", "total", "serie", "folio"]
    for proof in ExpenseProof.objects.order_by("?")[:sample]:
        row = {field: getattr(proof, field) for field in fields}
        invoice = vars(cfdi.parse(cfdi.build(**(row | {"uuid": str(proof.uuid).upper()}))))
        if {field: invoice[field] for field in fields} != row | {"uuid": str(proof.uuid).upper()}:
            raise RuntimeError(f"seed: proof {proof.pk} is not what cfdi.parse() reads from its CFDI: {invoice}")
    flagged = ExpenseProof.objects.exclude(review_reason="")
    for proof in [*flagged, *ExpenseProof.objects.order_by("?")[:sample]]:
        reasons = "; ".join(str(reason) for other, reason in proof.near_duplicates() if other.pk < proof.pk)
        if reasons != proof.review_reason:
            raise RuntimeError(f"seed: proof {proof.pk} is flagged «{proof.review_reason}», not «{reasons}»")


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

    def take(self):
        """(COPY statement, rows) of the batch so far; the buffer starts a new batch."""
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        rows, self.buffer = self.buffer, io.StringIO()
        rows.seek(0)
        return f"COPY {self.table} ({columns}) FROM STDIN", rows

    def send(self, cursor):
        cursor.copy_expert(*self.take())


def send_batch(batch):
    """COPY every table's rows of one batch in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        for statement, rows in batch:
            cursor.copy_expert(statement, rows)


def zipf(n, s=1.0):
    """Cumulative Zipf weights for n ranked items (the k-th about 1/k^s as likely as the first)."""
    total, cumulative = 0.0, []
    for k in range(1, n + 1):
        total += 1 / k**s
        cumulative.append(total)
    return cumulative


def ids(values):
    """An id array as refresh_derived() writes it: sorted, without repeats."""
    return [str(value) for value in sorted(set(values))]


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

    __slots__ = ("id", "name", "acronym", "kind", "is_ficosec", "municipality_code", "rfc")

    def __init__(self, id, name, acronym, kind, is_ficosec, municipality_code, rfc):
        self.id, self.name, self.acronym, self.kind = id, name, acronym, kind
        self.is_ficosec, self.municipality_code, self.rfc = is_ficosec, municipality_code, rfc

    @property
    def search_text(self):  # refresh_derived(): Concat(name, " ", acronym)
        return f"{self.name} {self.acronym}"


class Catalogue:
    """The generator. Everything random comes from one random.Random(seed), consumed in a fixed order."""

    def __init__(self, scale, seed, log):
        self.scale, self.seed, self.log, self.rng = scale, seed, log, random.Random(seed)
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
                "line_ids",
                "municipality_ids",
                "region_ids",
                "organization_ids",
                "implementer_ids",
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
        self.ledger = Ledger(self.scale, self.seed)
        buffers = [
            self.projects,
            self.project_lines,
            self.project_places,
            self.participations,
            self.indicators,
            self.measurements,
            *self.ledger.buffers,  # after the projects, organizations and each other that they point to
        ]
        started, sending = time.perf_counter(), None
        # PostgreSQL takes in one batch (in a thread of its own, on its own connection) while the next is generated;
        # a batch is sent only once the one before is committed, since its rows may point to that one's.
        with ThreadPoolExecutor(max_workers=1) as sender:
            for first in range(1, self.scale + 1, BATCH):
                for pk in range(first, min(first + BATCH, self.scale + 1)):
                    self.write_project(pk)
                batch = [buffer.take() for buffer in buffers]
                if sending:
                    sending.result()
                sending = sender.submit(send_batch, batch)
                done = min(first + BATCH - 1, self.scale)
                self.log(f"seed: {done:,}/{self.scale:,} projects ({done / (time.perf_counter() - started):,.0f}/s)")
            sending.result()
            sender.submit(lambda: connection.close()).result()  # the sending thread's own connection
        self.reset_sequences(
            [
                Organization,
                Project,
                Participation,
                Indicator,
                Measurement,
                Project.lines.through,
                Project.municipalities.through,
                *LEDGER_MODELS,
            ]
        )
        self.ledger.annual_reports()
        # Statistics first, as autovacuum would have them by then: at 1,000,000 projects, without them, each upload's
        # money trigger planned its reads as if a proof had 44,000 charges and took 3.5 s (44 ms after ANALYZE), so
        # the 2,000 uploads would have taken hours.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        self.ledger.near_duplicates(self.log)

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
            organizations.append(Partner(pk, name, acronym, kind, pk == 1, place.inegi_code, rfc))
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
        lines = sorted(set(rng.choices(self.lines, [25, 20, 40, 15], k=rng.choices([1, 2, 3], [65, 30, 5])[0])))
        for line in lines:
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
        code = f"FIC-{year}-{self.codes_per_year[year]:04d}"
        self.projects.add(
            pk,
            code,
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
            money(sum(c for _o, c, *_ in participations)),
            money(sum(c for o, c, *_ in participations if o.is_ficosec)),
            # refresh_derived(): Concat(municipality name, " ", region name or "") and Concat(name, " ", acronym).
            " ".join(f"{m.name} {m.region.name if m.region else ''}" for m in places),
            " ".join(o.search_text for o, *_ in participations),
            published_at,
            created,
            updated_at,
            rng.choices([1, 2, 3, 4, 6, 9], [30, 25, 20, 12, 8, 5])[0],
            # refresh_derived(): the linked ids, sorted and without repeats.
            ids(lines),
            ids(m.pk for m in places),
            ids(m.region_id for m in places if m.region_id),
            ids(o.id for o, *_rest in participations),
            ids(o.id for o, _cents, role, _kind in participations if role == "implementer"),
        )
        self.ledger.write_project(
            pk,
            code,
            state == Project.Publication.PUBLISHED,
            status,
            created,
            actual_start or planned_start,
            actual_end or planned_end,
            participations,
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
        """(organization, cents, role, kind) per participation, written in the model's role order."""
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
            result.append((organization, cents, role, kind))
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


# --- The ledger: commitments, disbursements, CFDI proofs and their charges, annual reports ---------------------------

LEDGER_MODELS = [Commitment, Disbursement, ExpenseProof, Charge, AnnualReport]
LEDGER_ROLES = ("implementer", "funder", "counterpart")  # who commits money (an evaluator is paid; it does not pay)
PUBLIC_RFC = "XAXX010101000"  # SAT's generic RFC, the receiver of an invoice to somebody without an RFC
CFDI_4_FROM = date(2023, 1, 1)  # CFDI 4.0 is compulsory from 2023; earlier invoices are version 3.3
# What the `xml` column holds for the generated proofs: the benchmark keeps no CFDI file per proof (a million of
# them would be gigabytes that no measured page reads); the row holds what ExpenseProof.record() reads from one, and
# check_ledger() proves for a sample that cfdi.build() of the row is a file cfdi.parse() reads back into that row.
# The near-duplicates are uploaded through record() itself and keep their real file.
SYNTHETIC_XML = "<!-- bench/seed.py: synthetic proof; no CFDI file is kept, the row holds its fields -->"


class Ledger:
    """The money of each project, written beside the catalogue, as the workspace would have recorded it:

    - a commitment per participation that contributes (implementer, funder or counterpart with an amount), cash or
      in kind as the participation says, for its amount, dated between the project's creation and its start;
    - disbursements: the tranches of each cash commitment, paid to the project's implementer, planned over the
      project's span, paid (actual date) once due in a running or finished project; together never above the
      commitment (Commitment.disburse's rule), now and then a tranche short of it;
    - proofs: CFDI from fictitious suppliers (valid RFCs, check digit included; some are people), about ten per
      project that has been paid, each charged to a paid tranche, never above the invoice total nor above what the
      tranche paid; a few are split with an earlier tranche of the same implementer (another project, often), some
      are only partly charged. ExpenseProof.charged is the sum of each proof's charges, as record() keeps it. No two
      generated proofs share issuer, date and total or issuer and number, so the review queue holds exactly the
      near-duplicates that near_duplicates() uploads afterwards through the portal's own record();
    - the annual totals FICOSEC "published": the portal's own figures for each complete year, a little off.

    It draws from its own random.Random, so the catalogue's rows are the same with or without it."""

    def __init__(self, scale, seed):
        self.scale, self.rng = scale, random.Random(f"{seed}:ledger")
        self.commitments = CopyBuffer(
            Commitment,
            [
                "id",
                "project_id",
                "organization_id",
                "amount",
                "date",
                "kind",
                "in_kind_description",
                "valuation_method",
                "agreement_reference",
                "created_at",
                "approved_at",
            ],
        )
        self.disbursements = CopyBuffer(
            Disbursement,
            [
                "id",
                "commitment_id",
                "recipient_id",
                "tranche",
                "amount",
                "planned_date",
                "actual_date",
                "created_at",
                "approved_at",
            ],
        )
        self.proofs = CopyBuffer(
            ExpenseProof,
            [
                "id",
                "uuid",
                "version",
                "issuer_rfc",
                "issuer_name",
                "receiver_rfc",
                "issued_on",
                "total",
                "currency",
                "serie",
                "folio",
                "xml",
                "filename",
                "charged",
                "review_reason",
                "created_at",
            ],
        )
        self.charges = CopyBuffer(Charge, ["id", "proof_id", "disbursement_id", "amount", "created_at"])
        self.buffers = [self.commitments, self.disbursements, self.proofs, self.charges]
        self.next_commitment = self.next_disbursement = self.next_proof = self.next_charge = 1
        self.suppliers = self.make_suppliers(max(100, scale // 100))
        self.supplier_weights = zipf(len(self.suppliers), 0.8)
        self.taken = set()  # hash of (issuer, date, total) of every proof: no near-duplicate by chance
        self.open = {}  # implementer id -> [disbursement id, cents paid but not yet proven] of its last paid tranche
        self.years = {}  # year -> [published projects with a commitment dated that year, cents committed]

    def make_suppliers(self, count):
        """(RFC, name) of fictitious suppliers: companies (12 characters) and one in five a person (13)."""
        rng, taken, suppliers = self.rng, set(), []
        while len(suppliers) < count:
            person = rng.random() < 0.2
            letters = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ", k=4 if person else 3))
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
            rfc = valid_rfc(f"{letters}{born:%y%m%d}", rng.choices(KEY_DRAW, k=3))
            if rfc in taken or (person and letters in stdnum_rfc._name_blacklist):
                continue
            taken.add(rfc)
            n = len(suppliers) + 1
            name = (
                V.SUPPLIER_PERSON.format(n=n)
                if person
                else rng.choice(V.SUPPLIER_PATTERNS).format(w=rng.choice(V.ORG_WORDS))
            )
            suppliers.append((rfc, name.upper()))
        return suppliers

    def moment(self, day, spread_days=1):
        return datetime.combine(day, datetime.min.time(), UTC) + timedelta(
            days=self.rng.randrange(max(1, spread_days)), seconds=self.rng.randrange(86400)
        )

    def approval(self, recorded):
        """Coordinators approve within a couple of weeks; the newest entries still wait."""
        approved = recorded + timedelta(days=self.rng.randrange(1, 15), seconds=self.rng.randrange(86400))
        return approved if approved.date() < TODAY else None

    def write_project(self, pk, code, published, status, created, start, end, participations):
        if status == "formulation":
            return  # nothing is committed before the technical committee approves a project
        rng = self.rng
        self.implementer = participations[0][0]  # the first participation is the implementer's: paid, invoiced
        years = set()
        for organization, cents, role, kind in participations:
            if cents <= 0 or role not in LEDGER_ROLES:
                continue
            committed_on = created.date() + timedelta(days=rng.randrange(max(1, (start - created.date()).days)))
            committed_on = min(committed_on, TODAY)
            recorded = self.moment(committed_on)
            in_kind = kind == Commitment.Kind.IN_KIND
            self.commitments.add(
                self.next_commitment,
                pk,
                organization.id,
                money(cents),
                committed_on,
                kind,
                rng.choice(V.IN_KIND_DESCRIPTIONS) if in_kind else "",
                rng.choice(V.VALUATION_METHODS) if in_kind else "",
                f"CONV-{code}-{self.next_commitment}",
                recorded,
                self.approval(recorded),
            )
            if not in_kind:
                self.tranches(self.next_commitment, organization, cents, committed_on, recorded, status, start, end)
            self.next_commitment += 1
            if published:
                years.add(committed_on.year)
                self.years.setdefault(committed_on.year, [0, 0])[1] += cents
        for year in years:
            self.years[year][0] += 1

    def tranches(self, commitment, funder, cents, committed_on, recorded, status, start, end):
        rng = self.rng
        count = rng.choices([1, 2, 3, 4, 6], [10, 25, 35, 20, 10])[0] if funder.is_ficosec else rng.randint(1, 3)
        weights = [rng.uniform(0.6, 1.4) for _ in range(count)]
        amounts = [int(cents * weight / sum(weights)) for weight in weights[:-1]]
        amounts.append(cents - sum(amounts))
        if count > 1 and rng.random() < 0.1:
            amounts.pop()  # the last tranche is not agreed yet: less disbursed than committed
        span = max((end - start).days, 30)
        if status in ("in_progress", "completed"):
            due_until = TODAY
        elif status in ("suspended", "cancelled"):
            due_until = start + timedelta(days=int(span * rng.uniform(0.2, 0.7)))
        else:
            due_until = None  # approved, not started: nothing paid yet
        for n, amount in enumerate(amounts, start=1):
            planned = start + timedelta(days=span * (n - 1) // count)
            paid = max(committed_on, planned + timedelta(days=rng.randrange(-3, 30)))
            if due_until is None or planned > due_until or paid > TODAY:
                paid = None
            self.disbursements.add(
                self.next_disbursement,
                commitment,
                self.implementer.id,
                n,
                money(amount),
                planned,
                paid,
                recorded,
                self.approval(recorded),
            )
            if paid:
                self.prove(self.next_disbursement, amount, paid)
            self.next_disbursement += 1

    def prove(self, disbursement, cents, paid):
        """About three invoices per paid tranche, proving most of it (less of a recent one)."""
        rng = self.rng
        if (TODAY - paid).days < 120:
            share = rng.uniform(0, 0.7)
        else:
            share = rng.choices([0.0, rng.uniform(0.4, 0.85), rng.uniform(0.85, 1.0)], [5, 25, 70])[0]
        proven, count = int(cents * share), rng.choices([1, 2, 3, 4, 5], [15, 25, 25, 20, 15])[0]
        if proven >= 100 * count:
            weights = [rng.uniform(0.3, 1.7) for _ in range(count)]
            parts = [int(proven * weight / sum(weights)) for weight in weights[:-1]]
            for part in [*parts, proven - sum(parts)]:
                self.proof(disbursement, part, paid)
        else:
            proven = 0
        self.open[self.implementer.id] = [disbursement, cents - proven]

    def proof(self, disbursement, cents, paid):
        rng, pk = self.rng, self.next_proof
        self.next_proof += 1
        charges = [(disbursement, cents)]
        earlier = self.open.get(self.implementer.id)  # never this tranche: open is set once its proofs are written
        if earlier and earlier[1] >= 10_000 and rng.random() < 0.03:
            part = min(earlier[1], max(100, int(cents * rng.uniform(0.1, 0.6))))
            charges.append((earlier[0], part))
            earlier[1] -= part
        charged = sum(amount for _d, amount in charges)
        total = charged + (int(charged * rng.uniform(0.05, 0.4)) if rng.random() < 0.12 else 0)
        issuer = rng.choices(range(len(self.suppliers)), cum_weights=self.supplier_weights)[0]
        issued_on = min(paid + timedelta(days=rng.randrange(150)), TODAY)
        while (key := hash((issuer, issued_on.toordinal(), total))) in self.taken:
            total += 1  # a cent more: another invoice of that supplier, that day, for that total already exists
        self.taken.add(key)
        folio_fiscal = uuid.UUID(int=rng.getrandbits(128), version=4)
        uploaded = min(self.moment(issued_on + timedelta(days=1), 30), END)
        rfc, name = self.suppliers[issuer]
        self.proofs.add(
            pk,
            folio_fiscal,
            "4.0" if issued_on >= CFDI_4_FROM else "3.3",
            rfc,
            name,
            self.implementer.rfc or PUBLIC_RFC,
            issued_on,
            money(total),
            "MXN",
            rng.choice(["A", "F", ""]),
            str(pk),  # invoice numbers never repeat for one issuer
            SYNTHETIC_XML,
            f"{str(folio_fiscal).upper()}.xml",
            money(charged),
            "",
            uploaded,
        )
        for target, amount in charges:
            self.charges.add(self.next_charge, pk, target, money(amount), uploaded)
            self.next_charge += 1

    def annual_reports(self):
        """What FICOSEC published for each complete year: the portal's count and committed money, a little off
        (the reconciliation shows the difference)."""
        rng, reports = self.rng, []
        for year in sorted(self.years):
            if year < TODAY.year:
                projects, cents = self.years[year]
                reports.append(
                    AnnualReport(
                        year=year,
                        projects=round(projects * rng.uniform(0.97, 1.02)),
                        amount=money(int(cents * rng.uniform(0.96, 1.03)) // 100 * 100),
                        source=f"Informe anual {year} de FICOSEC (cifras sintéticas del benchmark)",
                    )
                )
        for report in reports:
            report.full_clean()
        AnnualReport.objects.bulk_create(reports)

    def near_duplicates(self, log):
        """A few invoices that look like an earlier one under another folio fiscal (same issuer, total and date; or
        same issuer, serie and folio), uploaded as a CFDI file through ExpenseProof.record(), which accepts them and
        queues them for review with its own reason. Charged to the earlier invoice's tranche, within what it paid."""
        from projects import cfdi

        rng, wanted, written = self.rng, max(4, self.scale // 500), 0
        step = max(1, (self.next_proof - 1) // (wanted * 2))
        for pk in range(step, self.next_proof, step):
            if written == wanted:
                break
            original = ExpenseProof.objects.get(pk=pk)
            tranche = original.charges.select_related("disbursement").first().disbursement
            room = tranche.amount - tranche.charges.aggregate(s=Sum("amount"))["s"]
            if room < 100:
                continue
            same_number = written % 2 == 1
            total = original.total + Decimal("1234.56") if same_number else original.total
            issued_on = original.issued_on + timedelta(days=3) if same_number else original.issued_on
            data = cfdi.build(
                str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper(),
                original.issuer_rfc,
                original.receiver_rfc,
                issued_on,
                total,
                serie=original.serie if same_number else "B",  # "B" is no generated invoice's serie
                folio=original.folio,
                version=original.version,
                issuer_name=original.issuer_name,
            )
            twin = ExpenseProof.record(data, tranche, amount=min(room, total), filename=f"gemelo-{pk}.xml")
            uploaded = original.created_at + timedelta(days=rng.randrange(1, 20), seconds=rng.randrange(86400))
            ExpenseProof.objects.filter(pk=twin.pk).update(created_at=uploaded)
            twin.charges.update(created_at=uploaded)
            written += 1
        log(f"seed: {written} near-duplicate invoices uploaded through ExpenseProof.record() (review queue)")
