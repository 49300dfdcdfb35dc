"""Shared fixtures: Playwright on Debian's Chromium and the fixed cast of people and projects."""

import os
import random
from contextlib import contextmanager

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop in this thread


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "chromium_sandbox": False,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "es-MX", "viewport": {"width": 1280, "height": 800}}


# --- The fixed cast -------------------------------------------------------------------------------------------
# Every test speaks about the same people and projects:
#   visitor (anonymous), editor, coordinator, partner (member of org_a, group Socio), outsider (signed in, no role),
#   superuser; organizations org_a and org_b (OSCs) and ficosec_org (the trust itself);
#   published_project (org_a implements, complete and public), draft_project (org_a), review_project (org_b),
#   archived_project (org_b), other_draft (org_b); partner_key (raw key of org_a), staff_key (raw key of the editor).

from datetime import date  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.contrib.auth.models import Group, User  # noqa: E402
from django.utils import timezone  # noqa: E402

from axes.models import Axis, Line  # noqa: E402
from projects import roles  # noqa: E402
from projects.models import ApiKey, Indicator, Municipality, Organization, Participation, Project  # noqa: E402


def make_user(username, role=None, organization=None, **extra):
    user = User.objects.create_user(
        username=username, password="clave-de-prueba-123", email=f"{username}@example.org", **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    if organization:
        organization.members.add(user)
    return user


def make_project(code, title, implementer, state=Project.Publication.DRAFT, ficosec=None, **fields):
    """A project complete enough to be published: summary, axis, line, municipality, implementer, dates, indicator."""
    defaults = dict(
        summary=f"Resumen de {title}.",
        description=f"<p>Descripción de {title}.</p>",
        axis=Axis.objects.get(number=3),
        status=Project.Status.IN_PROGRESS,
        prevention_level=Project.PreventionLevel.SECONDARY,
        populations=["youth"],
        planned_start=date(2024, 1, 15),
        planned_end=date(2024, 12, 15),
        beneficiaries_target=100,
        award_type=Project.Award.OPEN_CALL,
        call_name="Convocatoria 2024",
        internal_notes=f"NOTA-INTERNA-{code}",
    )
    defaults.update(fields)
    project = Project.objects.create(code=code, title=title, **defaults)
    project.lines.add(Line.objects.get(number=3))
    project.municipalities.add(Municipality.objects.get(inegi_code="08037"))
    Participation.objects.create(
        project=project, organization=implementer, role="implementer", amount=Decimal("250000")
    )
    if ficosec:
        Participation.objects.create(project=project, organization=ficosec, role="funder", amount=Decimal("1000000"))
    indicator = Indicator.objects.create(
        project=project, name="Jóvenes que concluyen el programa", unit="personas", baseline=0, target=100
    )
    indicator.measurements.create(date=date(2024, 3, 31), value=40)
    award_by_committee(project)
    if state != Project.Publication.DRAFT:
        published_at = timezone.now() if state == Project.Publication.PUBLISHED else None
        Project.objects.filter(pk=project.pk).update(publication_state=state, published_at=published_at)
    project.refresh_derived()
    project.refresh_from_db()
    return project


def award_by_committee(project, method="invitation", held_on=date(2023, 12, 1), amount=Decimal("1000000"), **fields):
    """The award decision every publishable project needs (one technical-committee session per date)."""
    from projects.models import AwardDecision, CommitteeSession

    session = CommitteeSession.objects.filter(body="technical_committee", held_on=held_on).first()
    session = session or CommitteeSession.objects.create(body="technical_committee", held_on=held_on)
    return AwardDecision.objects.create(project=project, session=session, method=method, amount=amount, **fields)


# The organizations most tests need: FICOSEC and two civil-society partners (fixtures below, or written once for a
# group of tests by a fixture that shares its rows, see rolled_back).
ORGANIZATIONS = {
    "ficosec": dict(
        name="Fideicomiso para la Competitividad y Seguridad Ciudadana",
        acronym="FICOSEC",
        kind="foundation",
        is_ficosec=True,
    ),
    "alfa": dict(name="Centro Comunitario Alfa, A.C.", acronym="ALFA", kind="osc", rfc="CCA100101AB7"),
    "beta": dict(name="Red Beta por la Paz, A.C.", acronym="BETA", kind="osc", rfc="RBP110202CD1"),
}


@pytest.fixture
def ficosec_org(db):
    return Organization.objects.create(**ORGANIZATIONS["ficosec"])


@pytest.fixture
def org_a(db):
    return Organization.objects.create(**ORGANIZATIONS["alfa"])


@pytest.fixture
def org_b(db):
    return Organization.objects.create(**ORGANIZATIONS["beta"])


@pytest.fixture
def editor(db):
    return make_user("editora", roles.EDITOR)


@pytest.fixture
def coordinator(db):
    return make_user("coordinador", roles.COORDINATOR)


@pytest.fixture
def partner(db, org_a):
    return make_user("socia", roles.PARTNER, organization=org_a)


@pytest.fixture
def outsider(db):
    return make_user("ajena")


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("raiz", "raiz@example.org", "clave-de-prueba-123")


@pytest.fixture
def published_project(db, org_a, ficosec_org):
    return make_project(
        "FIC-2024-001", "Jóvenes constructores de paz", org_a, Project.Publication.PUBLISHED, ficosec=ficosec_org
    )


@pytest.fixture
def draft_project(db, org_a):
    return make_project("FIC-2024-002", "Borrador secreto de mediación escolar", org_a)


@pytest.fixture
def review_project(db, org_b):
    return make_project(
        "FIC-2024-003", "Proyecto en revisión de policía de proximidad", org_b, Project.Publication.REVIEW
    )


@pytest.fixture
def archived_project(db, org_b):
    return make_project("FIC-2024-004", "Proyecto archivado de justicia cívica", org_b, Project.Publication.ARCHIVED)


@pytest.fixture
def other_draft(db, org_b):
    return make_project("FIC-2024-005", "Borrador ajeno de reinserción", org_b)


@pytest.fixture
def partner_key(db, org_a, coordinator):
    _key, raw = ApiKey.issue("Llave de Alfa", created_by=coordinator, organization=org_a)
    return raw


@pytest.fixture
def staff_key(db, editor, coordinator):
    _key, raw = ApiKey.issue("Llave de la editora", created_by=coordinator, user=editor)
    return raw


SEEDS = ["axes.migrations.0002_seed_axes_and_lines", "projects.migrations.0002_seed_geography"]
SEEDS += ["axes.migrations.0004_english_names_filled", "projects.migrations.0005_every_municipality_in_a_region"]


@pytest.fixture
def reference_data(transactional_db):
    """Tests that commit (browser tests sharing the live server, backups read by pg_dump) run on a database that is
    emptied after each of them: put the migrations' reference data (axes, lines, places, roles) back first."""
    import importlib

    from django.apps import apps
    from django.contrib.auth.models import Permission

    for module in SEEDS:
        importlib.import_module(module).seed(apps, None)
    roles.ensure_roles(Group, Permission)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Tests that commit (browser tests on the live server, backups, VACUUM) leave the database emptied behind them,
    the migrations' reference data included: run them after every other test, which relies on that data."""

    def commits(item):
        marker = item.get_closest_marker("django_db")
        return bool(marker and marker.kwargs.get("transaction")) or bool(
            {"transactional_db", "live_server"} & set(item.fixturenames)
        )

    # Stable: the order within each group is kept, but the longest tests of each group start it (pytest-xdist hands
    # out tests in this order): the fuzz runs (on a database of their own, committing nothing to the test database)
    # first of all, so that every other test runs beside them; the whole-site browser audits first of the committing
    # tests, so that the run does not end with one worker busy on them and the other idle.
    items.sort(key=lambda item: (commits(item), not any(f"/{name}::" in item.nodeid for name in LONGEST)))


# The modules of the longest tests, as `make test ARGS=--durations=20` lists them.
LONGEST = ("test_fuzz.py", "test_lighthouse.py", "test_accessibility.py")


@contextmanager
def rolled_back(django_db_blocker):
    """For a fixture of a wider scope (class, module) whose rows its tests share: a transaction around them, rolled
    back after the last one. Its tests also ask for `db`: each runs in a savepoint within, so that no test sees
    another's writes."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The demo data set (projects.demo, as `load_demo` loads it), once per test module (see rolled_back)."""
    from projects import demo

    with rolled_back(django_db_blocker):
        demo.load(force=True)
        yield


@pytest.fixture(autouse=True)
def default_language():
    """A request to /en/... leaves English active in the test's thread (LocaleMiddleware activates the URL's
    language and nothing deactivates it): every test starts and ends in the default language, Spanish."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def empty_cache_and_demo_flag_off():
    """Every test starts with an empty cache (process memory, shared by the tests of one process), so that no test
    is served a page another drew; and the test database holds no demo data: say so to the demo flag's cache, so
    that no page pays the flag's one query (tests of the flag clear it)."""
    from django.core.cache import cache

    from projects.models import SiteFlag

    cache.clear()
    cache.set(SiteFlag.cache_key(SiteFlag.DEMO), False)
    yield
    cache.set(SiteFlag.cache_key(SiteFlag.DEMO), False)


@pytest.fixture(scope="class")
def chess_catalogue(django_db_setup, django_db_blocker):
    """31 published projects that mention chess more or less (title, summary, description, several times), in two
    places, and a draft that mentions it most of all; ALFA implements them and FICOSEC exists (ORGANIZATIONS).
    Written once for the tests of a class, which share them (rolled_back); a test outside a class has its own
    (a test that commits, for a live server, writes chess_projects itself)."""
    with rolled_back(django_db_blocker):
        yield chess_projects(*(Organization.objects.create(**ORGANIZATIONS[key]) for key in ("alfa", "ficosec")))


def chess_projects(org_a, ficosec_org):
    rng = random.Random(7)
    places = list(Municipality.objects.filter(inegi_code__in=["08037", "08019"]))
    for n in range(32):
        times = rng.randint(0, 4)
        project = make_project(
            f"FIC-2025-{500 + n}",
            ("Torneo de ajedrez " if n % 3 == 0 else "Círculo de lectura ") + str(n),
            org_a,
            "published" if n < 31 else "draft",
            summary=("Ajedrez en la escuela. " * (n % 2)) + "Jóvenes en riesgo.",
            description="<p>" + "Clases de ajedrez y torneos. " * times + ("Ajedrez " * 9 if n == 31 else "") + "</p>",
        )
        project.save_edit(None, project.version, links={"municipalities": [places[n % 2]]})
    return places
