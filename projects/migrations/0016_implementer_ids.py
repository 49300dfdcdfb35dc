# The organizations that implement each project (Project.implementer_ids, kept by refresh_derived like the other id
# arrays): the counting index (projects.facets) counts them per municipality, so a municipality's page names its
# busiest implementers without joining its projects' participations (Juárez: 42,000 projects at 100k). Written by
# hand around the generated operations: the column filled, logged by the change log (0009, 0012, 0013) and carried by
# the project_facts index, which the index's reads use alone.

from importlib import import_module

import django.contrib.postgres.fields
from django.conf import settings
from django.db import migrations, models

order = import_module("projects.migrations.0011_catalogue_order")
text = import_module("projects.migrations.0013_catalogue_change_search_vector")
LOGGED = [*text.LOGGED, "implementer_ids"]

FILL = """
UPDATE projects_project p SET implementer_ids = doers.ids
FROM (
    SELECT project_id, array_agg(DISTINCT organization_id ORDER BY organization_id) AS ids
    FROM projects_participation WHERE role = 'implementer' GROUP BY project_id
) doers
WHERE doers.project_id = p.id;
"""


def text_trigger(columns):
    """Migration 0013's trigger of a text-only change, judged against `columns`."""
    old, new = (", ".join(f"{row}.{column}" for column in columns) for row in ("OLD", "NEW"))
    return f"""
DROP TRIGGER projects_catalogue_text ON projects_project;
CREATE TRIGGER projects_catalogue_text AFTER UPDATE ON projects_project
    FOR EACH ROW WHEN (
        OLD.search_vector IS DISTINCT FROM NEW.search_vector AND ({old}) IS NOT DISTINCT FROM ({new})
    ) EXECUTE FUNCTION projects_catalogue_text_changed();
"""


# Every process's counting index is read afresh (projects.facets.REPLACED: the whole catalogue changed).
REPLACED = (
    "INSERT INTO projects_cataloguechange (project_id, xid, at) "
    "VALUES (NULL, pg_current_xact_id()::text::bigint, clock_timestamp());"
)


class Migration(migrations.Migration):
    dependencies = [
        ("axes", "0004_english_names_filled"),
        ("projects", "0015_latest_measurement"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="project",
            name="project_facts",
        ),
        migrations.AddField(
            model_name="project",
            name="implementer_ids",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.BigIntegerField(), default=list, editable=False, size=None
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(
                fields=["publication_state"],
                include=(
                    "id",
                    "axis_id",
                    "status",
                    "prevention_level",
                    "populations",
                    "award_type",
                    "evidence_level",
                    "planned_start",
                    "planned_end",
                    "actual_start",
                    "actual_end",
                    "total_amount",
                    "ficosec_amount",
                    "beneficiaries_reached",
                    "line_ids",
                    "municipality_ids",
                    "region_ids",
                    "organization_ids",
                    "implementer_ids",
                    "published_at",
                ),
                name="project_facts",
            ),
        ),
        migrations.RunSQL(order.update_trigger(LOGGED), order.update_trigger(text.LOGGED)),
        migrations.RunSQL(text_trigger(LOGGED), text_trigger(text.LOGGED)),
        migrations.RunSQL(REPLACED, migrations.RunSQL.noop),
    ]
