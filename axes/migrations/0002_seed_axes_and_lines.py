from django.db import migrations

AXES = [
    (
        1,
        "Fortalecimiento institucional en seguridad y justicia",
        "fortalecimiento-institucional",
        "Fortalecimiento institucional",
        "#1f4e79",
        "Policías, fiscalías, tribunales y sistema penitenciario con más capacidades, procesos y confianza ciudadana.",
    ),
    (
        2,
        "Evaluar, medir y monitorear la acción de gobierno en seguridad y justicia",
        "evaluar-medir-monitorear",
        "Evaluar, medir y monitorear",
        "#7a3b8f",
        "Datos, observatorios ciudadanos e indicadores para exigir y reconocer resultados en seguridad y justicia.",
    ),
    (
        3,
        "Corresponsabilidad ciudadana frente al delito",
        "corresponsabilidad-ciudadana",
        "Corresponsabilidad ciudadana",
        "#1b7a4a",
        "Prevención social de la violencia con niñas, niños, jóvenes, familias y comunidades.",
    ),
    (
        4,
        "Fomento a la competitividad",
        "fomento-competitividad",
        "Competitividad",
        "#b35c00",
        "Entornos seguros para invertir, emprender y trabajar.",
    ),
]

LINES = [
    (
        1,
        "Incidencia en políticas públicas para la seguridad ciudadana",
        "incidencia-politicas-publicas",
        "Incidencia en políticas públicas",
    ),
    (2, "Estado de derecho y cultura de la legalidad", "estado-de-derecho", "Estado de derecho"),
    (3, "Intervención para la prevención de la violencia", "prevencion-violencia", "Prevención de la violencia"),
    (
        4,
        "Fortalecimiento y construcción de capacidades institucionales",
        "capacidades-institucionales",
        "Capacidades institucionales",
    ),
]


def seed(apps, schema_editor):
    Axis = apps.get_model("axes", "Axis")
    Line = apps.get_model("axes", "Line")
    for number, name, slug, short_name, colour, description in AXES:
        Axis.objects.update_or_create(
            number=number,
            defaults={
                "name": name,
                "slug": slug,
                "short_name": short_name,
                "colour": colour,
                "description": description,
            },
        )
    for number, name, slug, short_name in LINES:
        Line.objects.update_or_create(number=number, defaults={"name": name, "slug": slug, "short_name": short_name})


class Migration(migrations.Migration):
    dependencies = [("axes", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
