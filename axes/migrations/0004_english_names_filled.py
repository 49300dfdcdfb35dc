"""The English names and descriptions of the four axes and the four lines of action, read at /en/."""

from django.db import migrations

AXES = {
    1: (
        "Institutional strengthening in security and justice",
        "Institutional strengthening",
        "Police forces, prosecutors, courts and the prison system with stronger capacities, better processes and "
        "more public trust.",
    ),
    2: (
        "Evaluating, measuring and monitoring government action in security and justice",
        "Evaluate, measure and monitor",
        "Data, citizen observatories and indicators to demand and recognise results in security and justice.",
    ),
    3: (
        "Citizen co-responsibility in preventing crime",
        "Citizen co-responsibility",
        "Social prevention of violence with children, young people, families and communities.",
    ),
    4: (
        "Promoting competitiveness",
        "Competitiveness",
        "Safe surroundings in which to invest, start a business and work.",
    ),
}

LINES = {
    1: ("Influencing public policy for citizen security", "Influencing public policy"),
    2: ("Rule of law and a culture of lawfulness", "Rule of law"),
    3: ("Interventions to prevent violence", "Violence prevention"),
    4: ("Strengthening and building institutional capacities", "Institutional capacities"),
}


def seed(apps, schema_editor):
    Axis = apps.get_model("axes", "Axis")
    Line = apps.get_model("axes", "Line")
    for number, (name, short_name, description) in AXES.items():
        Axis.objects.filter(number=number).update(name_en=name, short_name_en=short_name, description_en=description)
    for number, (name, short_name) in LINES.items():
        Line.objects.filter(number=number).update(name_en=name, short_name_en=short_name)


class Migration(migrations.Migration):
    dependencies = [("axes", "0003_english_names")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
