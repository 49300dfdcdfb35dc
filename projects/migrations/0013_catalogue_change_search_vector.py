# The change log (migrations 0009, 0011, 0012) also records a change of a project's own text (its title, code,
# summary or description: its search vector) when nothing else it logs changed, marked `text_only`: the counting
# index keeps the projects of the most frequent words (projects.facets) and re-reads a project whose words changed,
# while the cached pages and figures, which check such an edit themselves (projects.figures), skip these entries.

from importlib import import_module

from django.db import migrations, models

previous = import_module("projects.migrations.0011_catalogue_order")
LOGGED = [*previous.LOGGED, "published_at", "search_organizations", "search_places"]
OLD, NEW = (", ".join(f"{row}.{column}" for column in LOGGED) for row in ("OLD", "NEW"))
TRIGGER = f"""
CREATE FUNCTION projects_catalogue_text_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO projects_cataloguechange (project_id, xid, at, text_only)
    VALUES (NEW.id, pg_current_xact_id()::text::bigint, clock_timestamp(), true);
    RETURN NULL;
END $$;
CREATE TRIGGER projects_catalogue_text AFTER UPDATE ON projects_project
    FOR EACH ROW WHEN (
        OLD.search_vector IS DISTINCT FROM NEW.search_vector AND ({OLD}) IS NOT DISTINCT FROM ({NEW})
    ) EXECUTE FUNCTION projects_catalogue_text_changed();
"""
UNDO = """
DROP TRIGGER projects_catalogue_text ON projects_project;
DROP FUNCTION projects_catalogue_text_changed();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0012_catalogue_change_search_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="cataloguechange",
            name="text_only",
            field=models.BooleanField(db_default=False, default=False),
        ),
        migrations.AddIndex(
            model_name="cataloguechange",
            index=models.Index(fields=["-id"], condition=models.Q(text_only=False), name="catalogue_change_newest"),
        ),
        migrations.RunSQL(TRIGGER, UNDO),
    ]
