"""Demo data of the results framework (fictitious, labelled as demo): an indicator counting people with reporting
periods, narratives and breakdowns on a few real-life projects, evaluations, and one sensitive-site project.
Idempotent: it only adds its own rows and sets fields the main demo loader never writes."""

from datetime import date
from decimal import Decimal

from .models import Evaluation, Indicator, Measurement, Period, Project, set_breakdown

DEMO = "(dato de demostración)"
PEOPLE = "Personas que concluyen el programa (demostración)"
# project code -> (target of people, [(period start, period end, period target, reached, women, narrative, difficulty)])
REPORTS = {
    "FIC-2024-019": (
        120,
        [
            (date(2024, 8, 1), date(2024, 12, 31), 40, 44, 25, "Se formaron 6 comités de mediación escolar.", ""),
            (date(2025, 1, 1), date(2025, 7, 31), 120, 97, 52, "Segundo ciclo en Cuauhtémoc.", "Paro docente."),
        ],
    ),
    "FIC-2024-008": (
        35,
        [
            (date(2024, 4, 1), date(2024, 9, 30), 15, 17, 17, "Primer grupo de acompañamiento.", ""),
            (
                date(2024, 10, 1),
                date(2025, 3, 31),
                35,
                33,
                33,
                "Segundo grupo y cierre.",
                "Dos bajas por cambio de domicilio.",
            ),
        ],
    ),
    "FIC-2024-027": (
        10,
        [(date(2024, 6, 1), date(2025, 6, 30), 10, 8, 0, "Ocho adolescentes concluyen su plan de vida.", "")],
    ),
}
SENSITIVE = ("FIC-2024-008", "Casa de acogida «Refugio Demostración»")
EVALUATIONS = [
    {
        "title": "Evaluación de resultados de la mediación escolar juvenil " + DEMO,
        "evaluator": "Universidad de demostración, Facultad de Ciencias Sociales",
        "design": Evaluation.Design.COMPARISON,
        "year": 2025,
        "document_url": "https://example.org/evaluaciones/mediacion-escolar.pdf",
        "findings": "El abandono escolar bajó 12 puntos en las escuelas participantes frente a 4 en escuelas "
        "parecidas sin el programa. " + DEMO,
        "projects": ["FIC-2024-019"],
    },
    {
        "title": "Antes y después del acompañamiento a mujeres " + DEMO,
        "evaluator": "Consultora de demostración, S.C.",
        "design": Evaluation.Design.BEFORE_AFTER,
        "year": 2025,
        "document_url": "",
        "findings": "Las participantes reportan menos episodios de violencia al cierre; sin grupo de comparación no "
        "se puede atribuir todo el cambio al proyecto. " + DEMO,
        "projects": ["FIC-2024-008"],
    },
    {
        "title": "Evaluación de procesos de proyectos juveniles " + DEMO,
        "evaluator": "Observatorio de demostración",
        "design": Evaluation.Design.CORRELATION,
        "year": 2020,
        "document_url": "",
        "findings": "Los proyectos con mentoría tienen más permanencia de participantes. " + DEMO,
        "projects": ["FIC-2019-001", "FIC-2024-019"],
    },
]


def load(loader):
    """Called by projects.demo.Loader.run; counts its changes in loader.changes."""
    projects = {p.code: p for p in Project.objects.filter(code__in=set(REPORTS) | {SENSITIVE[0]})}
    for code, (target, periods) in REPORTS.items():
        if code in projects:
            load_reports(loader, projects[code], target, periods)
    code, site = SENSITIVE
    if code in projects and not projects[code].sensitive_site:
        Project.objects.filter(pk=projects[code].pk).update(sensitive_site=True, site_name=site)
        loader.changes += 1
    for spec in EVALUATIONS:
        load_evaluation(loader, spec)


def load_reports(loader, project, target, periods):
    indicator = loader.upsert(
        Indicator,
        {"project": project, "name": PEOPLE},
        {"unit": "personas", "unit_kind": Indicator.UnitKind.PEOPLE, "baseline": Decimal(0), "target": target},
    )
    for start, end, period_target, reached, women, narrative, difficulty in periods:
        loader.upsert(
            Period,
            {"indicator": indicator, "start": start},
            {"end": end, "target": Decimal(period_target), "narrative": narrative, "difficulties": difficulty},
        )
        measurement = loader.upsert(
            Measurement,
            {"indicator": indicator, "date": end},
            {"value": Decimal(reached), "source": "Listas de asistencia " + DEMO},
        )
        parts = [("sex", "women", Decimal(women)), ("sex", "men", Decimal(reached - women))]
        current = sorted((p.dimension, p.category, p.value) for p in measurement.breakdown.all())
        if current != sorted(parts):
            set_breakdown(measurement, parts)
            loader.changes += 1


def load_evaluation(loader, spec):
    values = {k: v for k, v in spec.items() if k not in ("title", "projects")}
    evaluation = loader.upsert(Evaluation, {"title": spec["title"]}, values)
    loader.set_m2m(evaluation.projects, list(Project.objects.filter(code__in=spec["projects"])))
