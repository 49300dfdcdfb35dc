"""The demo data set: the projects FICOSEC reported in the press (with their public facts) plus deterministic
generated ones, about 120 projects and 60 organizations in all. Everything here is DEMO data.

`load()` is idempotent: every row is found by a natural key (project code, organization slug, username,
participation organization+role, indicator name, measurement date) and only written when it differs.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from stdnum.mx import rfc as sat_rfc

from axes.models import Axis, Line

from . import demo_governance, demo_money, demo_results, roles
from .models import (
    Indicator,
    Measurement,
    Municipality,
    Organization,
    Participation,
    Population,
    Project,
    SiteFlag,
)

SEED = 20261124
DEMO_PASSWORD = "demo12345"
DEMO_NOTE = "(Proyecto de demostración)"
REAL_NOTE = "Datos de demostración basados en información pública."
P = Project.Publication
S = Project.Status

# --- Organizations -------------------------------------------------------------------------------------------
# (slug, name, acronym, kind, rfc, municipality code, donataria). These organizations are real (named in the
# press): they carry no RFC, CLUNI or donataria status here, since the demo must not invent a real entity's data.
ORGANIZATIONS = [
    (
        "ficosec",
        "Fideicomiso para la Competitividad y Seguridad Ciudadana",
        "FICOSEC",
        "foundation",
        "",
        "08019",
        False,
    ),
    ("casa", "Centro de Asesoría y Promoción Juvenil, A.C.", "CASA", "osc", "", "08019", False),
    ("paz-y-convivencia", "Paz y Convivencia Ciudadana, A.C.", "PyC", "osc", "", "08019", False),
    ("dhia", "Derechos Humanos Integrales en Acción, A.C.", "DHIA", "osc", "", "08037", False),
    ("sjr", "Servicio Jesuita a Refugiados", "SJR", "osc", "", "08037", False),
    ("hacia-un-paso-mejor", "Hacia un paso mejor, A.C.", "", "osc", "", "08019", False),
    ("evolucion-fundamental", "Evolución Fundamental, A.C.", "", "osc", "", "08019", False),
    ("chihuahua-feliz", "Chihuahua Feliz, A.C.", "", "osc", "", "08019", False),
    ("felipa", "Fundación FELIPA, A.C.", "FELIPA", "foundation", "", "08002", False),
    (
        "instituto-promotor-educacion",
        "Instituto Promotor para la Educación, A.C.",
        "IPE",
        "osc",
        "",
        "08037",
        False,
    ),
    ("fechac", "Fundación del Empresariado Chihuahuense, A.C.", "FECHAC", "foundation", "", "08019", False),
    ("red-cohesion", "Red de Cohesión y Participación Social, A.C.", "", "osc", "", "08019", False),
    ("sspe", "Secretaría de Seguridad Pública del Estado de Chihuahua", "SSPE", "gov_state", "", "08019", False),
    ("ichmujeres", "Instituto Chihuahuense de las Mujeres", "ICHMujeres", "gov_state", "", "08019", False),
    ("municipio-juarez", "Municipio de Juárez", "", "gov_municipal", "", "08037", False),
    ("municipio-chihuahua", "Municipio de Chihuahua", "", "gov_municipal", "", "08019", False),
    ("mesa-seguridad", "Mesa de Seguridad y Justicia de Ciudad Juárez", "", "osc", "", "08037", False),
]

# Invented organizations (with invented, check-digit-valid RFCs), except the real institutions in REAL_GENERATED.
GENERATED_ORG_NAMES = [
    ("Colectivo Tejiendo Comunidad", "osc"),
    ("Jóvenes por el Cambio", "osc"),
    ("Red de Mujeres del Desierto", "osc"),
    ("Centro Comunitario Tarahumara", "osc"),
    ("Iniciativa Escuelas en Paz", "osc"),
    ("Casa Amiga de la Familia", "osc"),
    ("Alianza por la Legalidad", "osc"),
    ("Fundación Horizonte Norte", "foundation"),
    ("Fundación Sierra Viva", "foundation"),
    ("Maquiladora del Norte, S.A. de C.V.", "company"),
    ("Grupo Industrial Conchos, S.A. de C.V.", "company"),
    ("Cervecera del Bravo, S.A. de C.V.", "company"),
    ("Constructora Cuauhtémoc, S.A. de C.V.", "company"),
    ("Universidad Autónoma de Ciudad Juárez", "academia"),
    ("Universidad Autónoma de Chihuahua", "academia"),
    ("Colegio de Chihuahua", "academia"),
    ("Fiscalía General del Estado de Chihuahua", "gov_state"),
    ("Secretaría de Educación y Deporte", "gov_state"),
    ("Municipio de Cuauhtémoc", "gov_municipal"),
    ("Municipio de Delicias", "gov_municipal"),
    ("Municipio de Hidalgo del Parral", "gov_municipal"),
    ("Municipio de Nuevo Casas Grandes", "gov_municipal"),
    ("Secretariado Ejecutivo del Sistema Nacional de Seguridad Pública", "gov_federal"),
    ("Comisión Estatal de los Derechos Humanos", "autonomous"),
    ("Instituto Estatal Electoral", "autonomous"),
    ("Agencia de Cooperación Internacional para la Paz", "international"),
    ("Programa de Naciones Unidas para el Desarrollo", "international"),
    ("Consejo Ciudadano para el Desarrollo Social", "osc"),
    ("Promotora de Deporte Comunitario", "osc"),
    ("Centro de Justicia Restaurativa", "osc"),
    ("Observatorio Ciudadano de Parral", "osc"),
    ("Voces de la Sierra", "osc"),
    ("Mediadores Escolares de Delicias", "osc"),
    ("Arte y Cultura para la Paz", "osc"),
    ("Barrios Seguros", "osc"),
    ("Centro de Atención a Víctimas del Norte", "osc"),
    ("Emprendedores Juveniles de Chihuahua", "osc"),
    ("Fundación Raíces del Norte", "foundation"),
    ("Transportes del Valle, S.A. de C.V.", "company"),
    ("Agroindustrias de Delicias, S.A. de C.V.", "company"),
    ("Instituto Tecnológico de Parral", "academia"),
    ("Comité de Vecinos Unidos", "osc"),
    ("Red de Padres y Madres de Familia", "osc"),
]

REAL_GENERATED = {
    "Universidad Autónoma de Ciudad Juárez",
    "Universidad Autónoma de Chihuahua",
    "Colegio de Chihuahua",
    "Instituto Tecnológico de Parral",
    "Programa de Naciones Unidas para el Desarrollo",
}
MEASUREMENT_SOURCE = "Dato ficticio de demostración"  # never a real organization's report

# --- The projects reported in the press (facts from shared/DOMAIN.md) -------------------------------------------
# participations: (org slug, role, amount, kind[, note])
MIGRANTS_SPLIT = {
    "dhia": "Recibió $2,209,181.70 de la aportación de FICOSEC.",
    "casa": "Recibió $1,792,168.51 de la aportación de FICOSEC.",
    "sjr": "Recibió $995,111.30 de la aportación de FICOSEC.",
}
REAL_PROJECTS = [
    dict(
        code="FIC-2019-001",
        title="Transformando personas y entornos violentos",
        axis=3,
        lines=[3],
        places=["08019"],
        summary=(
            "Intervención con adolescentes y jóvenes de 12 a 20 años en las colonias Praderas del Sur y San "
            "Guillermo de la ciudad de Chihuahua."
        ),
        start=date(2019, 8, 1),
        end=date(2020, 8, 31),
        status=S.COMPLETED,
        target=350,
        reached=352,
        level="secondary",
        populations=["adolescents", "youth"],
        participations=[("casa", "implementer", "600000", "cash"), ("ficosec", "funder", "1600000", "cash")],
        indicator=("Adolescentes y jóvenes que concluyen el programa", "personas", 0, 350, "increase"),
    ),
    dict(
        code="FIC-2022-014",
        title="Modelo «1, 2, 3, por mí y mi comunidad», año 2",
        axis=3,
        lines=[3],
        places=["08019"],
        summary="Segundo año del modelo de prevención comunitaria en cinco colonias de la ciudad de Chihuahua.",
        start=date(2022, 1, 15),
        end=date(2022, 12, 15),
        status=S.COMPLETED,
        target=400,
        reached=415,
        level="primary",
        populations=["community", "families"],
        participations=[("paz-y-convivencia", "implementer", "0", "cash"), ("ficosec", "funder", "3879927.43", "cash")],
        indicator=("Personas participantes en las cinco colonias", "personas", 0, 400, "increase"),
    ),
    dict(
        code="FIC-2023-031",
        title="Seguridad ciudadana para personas en movilidad",
        axis=3,
        lines=[3, 1],
        places=["08037"],
        summary=(
            "Atención y seguridad ciudadana para personas migrantes en albergues de Ciudad Juárez durante diez "
            "meses. FICOSEC aportó 2,209,181.70 a DHIA, 1,792,168.51 a CASA y 995,111.30 al Servicio Jesuita a "
            "Refugiados."
        ),
        start=date(2023, 3, 1),
        end=date(2023, 12, 31),
        status=S.COMPLETED,
        target=None,
        reached=None,
        level="secondary",
        populations=["migrants"],
        # FICOSEC's money, split among the three implementers: DHIA 2,209,181.70; CASA 1,792,168.51; SJR 995,111.30
        # (4,996,461.51 in all). A participation is one row per organization and role, so FICOSEC's row carries the
        # sum and each implementer's row says, in its note, the part of it that it received.
        participations=[
            ("dhia", "implementer", "0", "cash", MIGRANTS_SPLIT["dhia"]),
            ("casa", "implementer", "0", "cash", MIGRANTS_SPLIT["casa"]),
            ("sjr", "implementer", "0", "cash", MIGRANTS_SPLIT["sjr"]),
            (
                "ficosec",
                "funder",
                "4996461.51",
                "cash",
                "Repartido entre DHIA, CASA y el Servicio Jesuita a Refugiados.",
            ),
        ],
        indicator=("Personas migrantes atendidas en albergues", "personas", 0, 1500, "increase"),
    ),
    dict(
        code="FIC-2024-008",
        title="Un paso en familia",
        axis=3,
        lines=[3],
        places=["08019"],
        summary=(
            "Acompañamiento psicológico y jurídico a 35 mujeres víctimas de violencia familiar y a sus hijas e hijos."
        ),
        start=date(2024, 4, 1),
        end=date(2025, 3, 31),
        status=S.COMPLETED,
        target=35,
        reached=35,
        level="tertiary",
        populations=["women", "families"],
        participations=[("hacia-un-paso-mejor", "implementer", "0", "cash"), ("ficosec", "funder", "896556", "cash")],
        indicator=("Mujeres que concluyen su plan de seguridad", "mujeres", 0, 35, "increase"),
    ),
    dict(
        code="FIC-2023-040",
        title="Violencia Cero",
        axis=3,
        lines=[3, 1],
        places=["08019"],
        summary=(
            "Convocatoria conjunta con el Municipio de Chihuahua para prevenir la violencia con 200 personas y "
            "317 adolescentes."
        ),
        start=date(2023, 10, 1),
        end=date(2024, 7, 31),
        status=S.COMPLETED,
        target=517,
        reached=517,
        level="primary",
        populations=["adolescents", "community"],
        award=("open_call", "Convocatoria Violencia Cero 2023"),
        participations=[("municipio-chihuahua", "implementer", "0", "cash"), ("ficosec", "funder", "0", "cash")],
        indicator=("Personas y adolescentes participantes", "personas", 0, 517, "increase"),
    ),
    dict(
        code="FIC-2024-019",
        title="Yo sigo: mediación escolar juvenil",
        axis=3,
        lines=[3],
        places=["08019", "08004", "08017"],
        summary=(
            "Mediación escolar entre pares para reducir 20 % el abandono escolar en Chihuahua, Aquiles Serdán y "
            "Cuauhtémoc."
        ),
        start=date(2024, 8, 1),
        end=date(2025, 7, 31),
        status=S.IN_PROGRESS,
        target=None,
        reached=None,
        level="secondary",
        populations=["adolescents", "youth"],
        participations=[("evolucion-fundamental", "implementer", "0", "cash"), ("ficosec", "funder", "0", "cash")],
        indicator=("Tasa de abandono escolar", "%", 10, 8, "decrease"),
    ),
    dict(
        code="FIC-2024-022",
        title="Pensar y ser para la paz, año 2",
        axis=3,
        lines=[3],
        places=["08019", "08002"],
        summary="Educación para la paz con 67 niñas, niños y adolescentes de Chihuahua y Aldama.",
        start=date(2024, 2, 1),
        end=date(2024, 12, 15),
        status=S.COMPLETED,
        target=67,
        reached=67,
        level="primary",
        populations=["children", "adolescents"],
        participations=[
            ("chihuahua-feliz", "implementer", "0", "cash"),
            ("felipa", "implementer", "0", "cash"),
            ("ficosec", "funder", "580000", "cash"),
        ],
        indicator=("Niñas, niños y adolescentes que concluyen", "personas", 0, 67, "increase"),
    ),
    dict(
        code="FIC-2023-012",
        title="Prevención y convivencia en escuelas públicas",
        axis=3,
        lines=[3, 2],
        places=["08037"],
        summary=(
            "Convivencia escolar en 40 escuelas públicas de Ciudad Juárez con 4,400 estudiantes y 1,200 docentes, "
            "con FECHAC."
        ),
        start=date(2023, 8, 15),
        end=date(2024, 8, 14),
        status=S.COMPLETED,
        target=5600,
        reached=5600,
        level="primary",
        populations=["children", "adolescents"],
        participations=[
            ("instituto-promotor-educacion", "implementer", "0", "cash"),
            ("fechac", "funder", "0", "cash"),
            ("ficosec", "funder", "0", "cash"),
        ],
        indicator=("Escuelas con protocolo de convivencia", "escuelas", 0, 40, "increase"),
    ),
    dict(
        code="FIC-2024-027",
        title="Reinserción 360",
        axis=1,
        lines=[4, 3],
        places=["08019"],
        summary="Acompañamiento integral a 10 adolescentes en conflicto con la ley en el CERESAI 1, con la SSPE.",
        start=date(2024, 7, 1),
        end=date(2025, 6, 30),
        status=S.IN_PROGRESS,
        target=10,
        reached=None,
        level="tertiary",
        populations=["detained", "adolescents"],
        participations=[
            ("red-cohesion", "implementer", "0", "cash"),
            ("sspe", "counterpart", "0", "in_kind"),
            ("ficosec", "funder", "0", "cash"),
        ],
        indicator=("Adolescentes con plan de vida concluido", "adolescentes", 0, 10, "increase"),
    ),
    dict(
        code="FIC-2024-030",
        title="Fortalecimiento CAVIM Cuauhtémoc y Bocoyna",
        axis=1,
        lines=[4],
        places=["08017", "08009"],
        summary=(
            "Fortalecimiento de los centros de atención a mujeres víctimas de violencia, con atención a mujeres "
            "indígenas."
        ),
        start=date(2024, 3, 1),
        end=date(2024, 12, 31),
        status=S.COMPLETED,
        target=None,
        reached=None,
        level="tertiary",
        populations=["women"],
        participations=[("ichmujeres", "implementer", "0", "cash"), ("ficosec", "funder", "238927", "cash")],
        indicator=("Mujeres atendidas en los CAVIM", "mujeres", 0, 300, "increase"),
    ),
    dict(
        code="FIC-2025-003",
        title="Parque policial «Club Guardianes de Juárez»",
        axis=1,
        lines=[4],
        places=["08037"],
        summary=(
            "Parque deportivo y familiar para policías de Juárez y sus familias: 180 millones de la iniciativa "
            "privada, 63 millones municipales y un terreno valuado en 20 millones."
        ),
        start=date(2025, 1, 15),
        end=date(2026, 12, 15),
        status=S.IN_PROGRESS,
        target=None,
        reached=None,
        level="primary",
        populations=["police", "families"],
        # Three separate contributions: 180 M private (through FICOSEC), 63 M municipal, the 20 M land in kind.
        participations=[
            ("municipio-juarez", "implementer", "63000000", "cash", "Aportación municipal."),
            ("municipio-juarez", "funder", "20000000", "in_kind", "Terreno valuado en 20 millones."),
            ("ficosec", "funder", "180000000", "cash", "Aportación de la iniciativa privada."),
        ],
        indicator=("Avance de obra", "%", 0, 100, "increase"),
    ),
    dict(
        code="FIC-2025-007",
        title="Digitalización de procesos de seguridad pública, fase 2",
        axis=1,
        lines=[4],
        places=["08037"],
        summary=(
            "Segunda fase de la digitalización de los procesos de la Secretaría de Seguridad Pública Municipal de "
            "Juárez."
        ),
        start=date(2025, 2, 1),
        end=date(2026, 1, 31),
        status=S.IN_PROGRESS,
        target=None,
        reached=None,
        level="",
        populations=["police"],
        participations=[("municipio-juarez", "implementer", "0", "cash"), ("ficosec", "funder", "13000000", "cash")],
        indicator=("Procesos digitalizados", "procesos", 0, 12, "increase"),
    ),
    dict(
        code="FIC-2012-001",
        title="Observatorio Ciudadano: indicadores mensuales de delitos",
        axis=2,
        lines=[1],
        places=["08019", "08037", "08017", "08021", "08032", "08050"],
        summary=(
            "Medición mensual de homicidio, feminicidio, violencia familiar y otros siete delitos en todo el "
            "estado, con la Mesa de Seguridad y Justicia."
        ),
        start=date(2012, 6, 1),
        end=date(2026, 12, 31),
        status=S.IN_PROGRESS,
        target=None,
        reached=None,
        level="",
        populations=["community"],
        participations=[("ficosec", "implementer", "0", "cash"), ("mesa-seguridad", "ally", "0", "in_kind")],
        indicator=("Reportes mensuales publicados", "reportes", 0, 12, "increase"),
    ),
]

# --- Vocabulary for generated projects -------------------------------------------------------------------------
TOPICS = [
    ("Mediación escolar", 3, 3, ["adolescents", "children"], "escuelas secundarias"),
    ("Policía de proximidad", 1, 4, ["police", "community"], "corporaciones municipales"),
    ("Justicia cívica", 1, 2, ["community"], "juzgados cívicos"),
    ("Reinserción social", 1, 3, ["detained"], "centros de reinserción"),
    ("Prevención de la violencia familiar", 3, 3, ["women", "families"], "familias"),
    ("Observatorio de seguridad", 2, 1, ["community"], "municipios"),
    ("Cultura de la legalidad", 3, 2, ["youth", "adolescents"], "preparatorias"),
    ("Emprendimiento juvenil", 4, 3, ["youth"], "jóvenes emprendedores"),
    ("Espacios públicos seguros", 3, 3, ["community"], "parques y canchas"),
    ("Atención a víctimas", 1, 4, ["women", "families"], "víctimas del delito"),
    ("Evaluación del desempeño policial", 2, 4, ["police"], "policías estatales"),
    ("Deporte para la paz", 3, 3, ["children", "youth"], "ligas comunitarias"),
    ("Empleo y capacitación", 4, 3, ["youth", "women"], "personas desempleadas"),
    ("Transparencia en seguridad", 2, 1, ["community"], "cabildos"),
    ("Atención a personas migrantes", 3, 3, ["migrants"], "albergues"),
    ("Capacitación de fiscales", 1, 4, ["police"], "agentes del ministerio público"),
]
QUALIFIERS = [
    "comunitaria",
    "en colonias prioritarias",
    "con enfoque de género",
    "para la paz",
    "integral",
    "en la sierra",
    "y participación ciudadana",
    "con jóvenes",
    "en el norte del estado",
    "en zonas rurales",
    "y convivencia",
]
VERBS = ["Fortalecer", "Acompañar", "Prevenir la violencia mediante", "Impulsar", "Medir y mejorar", "Consolidar"]
INDICATORS = [
    ("Personas participantes", "personas", "increase"),
    ("Sesiones realizadas", "sesiones", "increase"),
    ("Percepción de inseguridad", "%", "decrease"),
    ("Casos canalizados", "casos", "increase"),
    ("Reincidencia", "%", "decrease"),
    ("Personas capacitadas", "personas", "increase"),
]
CALLS = [
    "Convocatoria 2021 Chihuahua",
    "Convocatoria 2022 Juárez",
    "Convocatoria 2023 zona centro-sur",
    "Convocatoria 2024 Juárez",
    "Convocatoria 2025 estatal",
]
REGION_PLACES = {
    "juarez": ["08037", "08053", "08028"],
    "chihuahua": ["08019", "08004", "08002"],
    "cuauhtemoc": ["08017", "08009", "08031"],
    "delicias": ["08021", "08045", "08062"],
    "parral": ["08032", "08036", "08060"],
    "nuevo-casas-grandes": ["08050", "08013", "08035"],
}
GENERATED_COUNT = 107


def rfc_for(rng, name):
    """An invented RFC for an invented organization, with a valid check digit (SAT's algorithm, python-stdnum)."""
    letters = "".join(ch for ch in name.upper() if "A" <= ch <= "Z")[:3].ljust(3, "X")
    born = f"{rng.randint(90, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = f"{letters}{born}{rng.choice('ABCDEFGH')}{rng.choice('JKLMNP')}"
    return body + sat_rfc.calc_check_digit(body)


class Loader:
    def __init__(self, stdout=None):
        self.rng = random.Random(SEED)
        self.changes = 0
        self.moves = []  # (project, state, planned start): published once the award decisions exist
        self.stdout = stdout

    def upsert(self, model, lookup, values):
        """Create the row, or update it only where it differs; count real changes."""
        obj = model.objects.filter(**lookup).first()
        if obj is None:
            obj = model(**lookup, **values)
            obj.save()
            self.changes += 1
            return obj
        changed = [field for field, value in values.items() if getattr(obj, field) != value]
        if changed:
            for field in changed:
                setattr(obj, field, values[field])
            obj.save()
            self.changes += 1
        return obj

    def set_m2m(self, manager, objects):
        if set(manager.all()) != set(objects):
            manager.set(objects)
            self.changes += 1

    # ----------------------------------------------------------------------------------------------------------

    def run(self):
        roles.ensure_roles(Group, Permission)
        self.axes = {a.number: a for a in Axis.objects.all()}
        self.lines = {line.number: line for line in Line.objects.all()}
        self.places = {m.inegi_code: m for m in Municipality.objects.all()}
        self.organizations = self.load_organizations()
        self.users = self.load_users()
        for number, spec in enumerate(REAL_PROJECTS):
            self.load_real_project(spec, number)
        for number in range(GENERATED_COUNT):
            self.load_generated_project(number)
        demo_results.load(self)  # periods, breakdowns, narratives, evaluations (issue 16)
        if self.changes:  # nothing written, nothing to derive: a second run leaves even updated_at alone
            Project.objects.all().refresh_derived()
        demo_governance.load(self)  # calls, committee decisions, agreements (issue 15); calls publish_pending()
        self.changes += demo_money.load()  # commitments, disbursements, CFDI proofs, annual reports (issue 14)
        if SiteFlag.turn_on(SiteFlag.DEMO):  # every page, download and API list now says DEMO
            self.changes += 1
        return self.changes

    def load_organizations(self):
        organizations = {}
        for slug, name, acronym, kind, rfc, place, donataria in ORGANIZATIONS:
            organizations[slug] = self.upsert(
                Organization,
                {"slug": slug},
                {
                    "name": name,
                    "acronym": acronym,
                    "kind": kind,
                    "rfc": rfc,
                    "municipality": self.places[place],
                    "is_donataria": donataria,
                    "is_ficosec": slug == "ficosec",
                    "description": f"Organización de demostración: {name}."
                    if slug != "ficosec"
                    else "Fideicomiso público-privado financiado por una sobretasa al impuesto sobre nóminas.",
                },
            )
        codes = list(self.places)
        for name, kind in GENERATED_ORG_NAMES:
            slug = slugify(name.split(",")[0])[:80]
            invented = name not in REAL_GENERATED
            identified = invented and kind in ("osc", "company", "foundation", "academia")
            organizations[slug] = self.upsert(
                Organization,
                {"slug": slug},
                {
                    "name": name,
                    "acronym": "",
                    "kind": kind,
                    "rfc": rfc_for(self.rng, name) if identified else "",
                    "municipality": self.places[self.rng.choice(codes)],
                    "is_donataria": invented and kind in ("osc", "foundation") and self.rng.random() < 0.6,
                    "description": f"Organización ficticia de demostración: {name}."
                    if invented
                    else f"Organización de demostración: {name}.",
                },
            )
        return organizations

    def load_users(self):
        users = {}
        specs = [
            ("editor", roles.EDITOR, None),
            ("coordinador", roles.COORDINATOR, None),
            ("socio", roles.PARTNER, "casa"),
            ("admin", None, None),
        ]
        for username, role, organization in specs:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, email=f"{username}@demo.ficosec.local", first_name=username.capitalize())
                user.set_password(DEMO_PASSWORD)
                user.is_superuser = user.is_staff = username == "admin"
                user.save()
                self.changes += 1
            if role and not user.groups.filter(name=role).exists():
                user.groups.add(Group.objects.get(name=role))
                self.changes += 1
            if organization and not self.organizations[organization].members.filter(pk=user.pk).exists():
                self.organizations[organization].members.add(user)
                self.changes += 1
            users[username] = user
        return users

    def load_project(self, code, values, lines, places, participations, indicators, state):
        existing = Project.objects.filter(code=code).first()
        project = (
            self.upsert(Project, {"code": code}, values) if existing is None else self.update_project(existing, values)
        )
        self.set_m2m(project.lines, [self.lines[n] for n in lines])
        self.set_m2m(project.municipalities, [self.places[c] for c in places])
        for slug, role, amount, kind, *note in participations:
            self.upsert(
                Participation,
                {"project": project, "organization": self.organizations[slug], "role": role},
                {
                    "amount": None if amount is None else Decimal(amount),
                    "contribution_kind": kind,
                    "note": note[0] if note else "",
                },
            )
        for order, (name, unit, baseline, target, direction, measurements) in enumerate(indicators):
            indicator = self.upsert(
                Indicator,
                {"project": project, "name": name},
                {
                    "unit": unit,
                    "baseline": Decimal(baseline),
                    "target": Decimal(target),
                    "direction": direction,
                    "order": order,
                },
            )
            for when, value in measurements:
                self.upsert(
                    Measurement,
                    {"indicator": indicator, "date": when},
                    {"value": Decimal(str(value)), "source": MEASUREMENT_SOURCE},
                )
        self.moves.append((project, state, values["planned_start"]))
        return project

    def publish_pending(self):
        """Move the new projects to their demo state, once their award decisions exist (the publication checklist
        asks for one)."""
        for project, state, planned_start in self.moves:
            project.refresh_from_db()
            self.move_along_workflow(project, state, planned_start)
        self.moves = []

    def move_along_workflow(self, project, state, planned_start):
        """Take a new (draft) project to its demo state through Project.transition, as a person would: the editor
        sends it to review, the coordinator publishes (and archives) it. A project already moved is left alone."""
        if project.publication_state != P.DRAFT or state == P.DRAFT:
            return
        steps = [P.REVIEW, P.PUBLISHED, P.ARCHIVED]
        if state != P.REVIEW:  # publication dates spread over the years, so that "newest first" means something
            project.published_at = timezone.make_aware(datetime.combine(planned_start or date(2024, 1, 1), time(12)))
        for to_state in steps[: steps.index(state) + 1]:
            actor = self.users["editor"] if to_state == P.REVIEW else self.users["coordinador"]
            project.transition(to_state, actor, comment="Paso de demostración")
        self.changes += 1

    def update_project(self, project, values):
        changed = [f for f, v in values.items() if getattr(project, f) != v]
        if changed:
            Project.objects.filter(pk=project.pk).update(**{f: values[f] for f in changed})
            self.changes += 1
            project.refresh_from_db()
        return project

    def measurements(self, start, end, baseline, target, periods):
        """Quarterly measurements moving from the baseline towards the target, up to `periods` of them."""
        series, when = [], start + timedelta(days=90)
        last = min(end or date(2026, 9, 30), date(2026, 9, 30))
        step = 0
        while when <= last and step < periods:
            step += 1
            progress = min(1, step / max(periods, 1)) * self.rng.uniform(0.7, 1.05)
            series.append((when, round(float(baseline) + (float(target) - float(baseline)) * progress, 2)))
            when += timedelta(days=91)
        return series

    def load_real_project(self, spec, number):
        rng = self.rng
        name, unit, baseline, target, direction = spec["indicator"]
        award = spec.get("award") or (("open_call", CALLS[number % len(CALLS)]) if number % 3 else ("direct", ""))
        values = dict(
            title=spec["title"],
            summary=spec["summary"],
            description=f"<p>{spec['summary']}</p><p>{REAL_NOTE}</p>",
            axis=self.axes[spec["axis"]],
            status=spec["status"],
            prevention_level=spec["level"],
            populations=spec["populations"],
            planned_start=spec["start"],
            planned_end=spec["end"],
            actual_start=spec["start"],
            actual_end=spec["end"] if spec["status"] == S.COMPLETED else None,
            beneficiaries_target=spec["target"],
            beneficiaries_reached=spec["reached"],
            evidence_level="promising" if spec["status"] == S.COMPLETED else "unrated",
            award_type=award[0],
            call_name=award[1],
        )
        series = self.measurements(spec["start"], spec["end"], baseline, target, rng.randint(3, 5))
        self.load_project(
            spec["code"],
            values,
            spec["lines"],
            spec["places"],
            # In REAL_PROJECTS "0" stands for an amount nobody has published: it is loaded as unknown (NULL).
            [
                (slug, role, None if amount == "0" else amount, kind, *note)
                for slug, role, amount, kind, *note in spec["participations"]
            ],
            [(name, unit, baseline, target, direction, series)],
            P.PUBLISHED,
        )

    def load_generated_project(self, number):
        rng = self.rng
        topic, axis, line, populations, audience = TOPICS[number % len(TOPICS)]
        qualifier = rng.choice(QUALIFIERS)
        region = list(REGION_PLACES)[number % len(REGION_PLACES)]
        places = sorted(set(rng.sample(REGION_PLACES[region], rng.randint(1, 2))))
        year = 2019 + number % 7
        start = date(year, rng.randint(1, 9), 1)
        end = start + timedelta(days=rng.choice([180, 270, 365, 540]))
        status = list(S)[number % len(S)]
        state = [P.PUBLISHED] * 7 + [P.DRAFT, P.REVIEW, P.ARCHIVED]
        state = state[number % len(state)]
        title = f"{topic} {qualifier} en {self.places[places[0]].name}"
        verb = rng.choice(VERBS)
        summary = f"{verb} {topic.lower()} con {audience} de {self.places[places[0]].name}. {DEMO_NOTE}"
        org_pool = [o for o in self.organizations.values() if not o.is_ficosec]
        implementer = org_pool[number % len(org_pool)]
        participations = [
            (implementer.slug, "implementer", str(rng.randrange(0, 400000, 5000)), rng.choice(["cash", "in_kind"]))
        ]
        participations.append(("ficosec", "funder", str(rng.randrange(250000, 4000000, 1000)), "cash"))
        for role in rng.sample(["funder", "counterpart", "evaluator", "ally"], rng.randint(0, 2)):
            partner = rng.choice(org_pool)
            if partner.slug != implementer.slug:
                participations.append(
                    (partner.slug, role, str(rng.randrange(0, 1500000, 10000)), rng.choice(["cash", "in_kind"]))
                )
        indicators = []
        for name, unit, direction in rng.sample(INDICATORS, rng.randint(1, 3)):
            baseline, target = (
                (0, rng.randint(50, 800)) if direction == "increase" else (rng.randint(20, 60), rng.randint(5, 19))
            )
            indicators.append(
                (
                    name,
                    unit,
                    baseline,
                    target,
                    direction,
                    self.measurements(start, end, baseline, target, rng.randint(2, 6)),
                )
            )
        award = ("open_call", rng.choice(CALLS)) if rng.random() < 0.6 else ("direct", "")
        target = rng.randint(40, 2500)
        values = dict(
            title=title,
            summary=summary,
            description=(
                f"<p>{summary}</p><p>El proyecto trabaja con {audience} mediante talleres, acompañamiento y "
                f"seguimiento de indicadores.</p>"
            ),
            axis=self.axes[axis],
            status=status,
            prevention_level=rng.choice(["primary", "secondary", "tertiary"]),
            populations=sorted(set(populations + rng.sample([p.value for p in Population], 1))),
            planned_start=start,
            planned_end=end,
            actual_start=start if status not in (S.FORMULATION, S.APPROVED) else None,
            actual_end=end if status == S.COMPLETED else None,
            beneficiaries_target=target,
            beneficiaries_reached=int(target * rng.uniform(0.5, 1.1)) if status == S.COMPLETED else None,
            evidence_level=rng.choice([e.value for e in Project.Evidence]),
            evaluation_design=rng.choice([None, 1, 2, 3, 4, 5]),
            award_type=award[0],
            call_name=award[1],
            internal_notes="Revisar comprobantes CFDI del segundo trimestre. (Nota interna de demostración)"
            if number % 5 == 0
            else "",
        )
        code = f"FIC-{year}-{100 + number:03d}"
        self.load_project(code, values, sorted({line, rng.randint(1, 4)}), places, participations, indicators, state)


def load(stdout=None, force=False):
    """Load the demo set; returns the number of rows written (0 when everything was already there)."""
    if not settings.DEBUG and not force:
        raise RuntimeError("demo data with known passwords must not be loaded with DEBUG off")
    with transaction.atomic():
        return Loader(stdout).run()
