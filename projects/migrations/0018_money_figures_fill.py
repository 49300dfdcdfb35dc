# Fill the money figures kept by deltas (0017) from the money facts, under the exclusive money lock.

from django.db import migrations

FILL = """
SELECT pg_advisory_xact_lock(hashtextextended('projects_money', 0));
SELECT projects_money_figures_of(ARRAY(SELECT id FROM projects_project), 1);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0017_money_figures"),
    ]

    operations = [
        migrations.RunSQL(FILL, "TRUNCATE projects_moneyfigure, projects_moneyprojectcount;"),
    ]
