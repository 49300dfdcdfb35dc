# The API's stored project documents (ProjectDocument) and the version that says when one is out of date
# (ProjectVersion): the generated models, and the PostgreSQL code that moves the version, written by hand.

import django.db.models.deletion
from django.db import migrations, models

# projects_documents_stale(ids) gives each of these projects a new version (the next number of one sequence). It
# first locks the projects' rows in id order (FOR NO KEY UPDATE, the lock an UPDATE of a project takes), so that a
# version row is only ever written by the transaction holding its project's row: writers of one project take their
# turns there, never on the version, and each gets a number later than the previous one's. A stored document built
# from a snapshot that saw version V is served only while the version is V; any write after that snapshot commits
# a new number with its data.
STALE = """
CREATE SEQUENCE projects_document_version;
CREATE FUNCTION projects_documents_stale(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ids := ARRAY(SELECT DISTINCT unnest(ids) ORDER BY 1);
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    PERFORM 1 FROM projects_project WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    INSERT INTO projects_projectversion (project_id, version)
    SELECT id, nextval('projects_document_version') FROM projects_project WHERE id = ANY(ids) ORDER BY id
        ON CONFLICT (project_id) DO UPDATE SET version = EXCLUDED.version;
END $$;
"""
STALE_UNDO = """
DROP FUNCTION projects_documents_stale(bigint[]);
DROP SEQUENCE projects_document_version;
"""

# What each table's rows change in the documents of which projects ({rows}: a statement's transition table). The
# tables a project links to move the version of their projects when a column its document reads changes.
ROWS = {
    "projects_participation": "SELECT project_id FROM {rows}",
    "projects_indicator": "SELECT project_id FROM {rows}",
    "projects_measurement": "SELECT i.project_id FROM {rows} r JOIN projects_indicator i ON i.id = r.indicator_id",
    "projects_project_lines": "SELECT project_id FROM {rows}",
    "projects_project_municipalities": "SELECT project_id FROM {rows}",
}
NAMES = {
    "projects_organization": (
        "slug, name, kind, is_ficosec",
        "SELECT pa.project_id FROM changed JOIN projects_participation pa ON pa.organization_id = changed.id",
    ),
    "axes_axis": ("slug", "SELECT p.id FROM changed JOIN projects_project p ON p.axis_id = changed.id"),
    "axes_line": (
        "slug, number",
        "SELECT pl.project_id FROM changed JOIN projects_project_lines pl ON pl.line_id = changed.id",
    ),
    "projects_municipality": (
        "inegi_code, region_id",
        "SELECT pm.project_id FROM changed JOIN projects_project_municipalities pm ON pm.municipality_id = changed.id",
    ),
    "projects_region": (
        "slug",
        "SELECT pm.project_id FROM changed JOIN projects_municipality m ON m.region_id = changed.id"
        " JOIN projects_project_municipalities pm ON pm.municipality_id = m.id",
    ),
}
ALL = "SELECT id FROM projects_project"


def trigger(table, event, function, rows=""):
    return (
        f"CREATE TRIGGER {table}_document_{event} AFTER {event.upper()} ON {table} {rows} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_document();"
    )


def linked(table, select):
    """A table whose rows name their project: every insert, update (old and new project), delete and truncate."""
    return f"""
CREATE FUNCTION {table}_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM projects_documents_stale(ARRAY({select.format(rows="new_rows")}));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM projects_documents_stale(ARRAY({select.format(rows="old_rows")}));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM projects_documents_stale(ARRAY(
            {select.format(rows="new_rows")} UNION ALL {select.format(rows="old_rows")}
        ));
    ELSE
        PERFORM projects_documents_stale(ARRAY({ALL}));
    END IF;
    RETURN NULL;
END $$;
{trigger(table, "insert", table, "REFERENCING NEW TABLE AS new_rows")}
{trigger(table, "update", table, "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows")}
{trigger(table, "delete", table, "REFERENCING OLD TABLE AS old_rows")}
{trigger(table, "truncate", table)}
"""


def named(table, columns, select):
    """A table of names a document shows: an update that changes one of `columns`."""
    return f"""
CREATE FUNCTION {table}_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM projects_documents_stale(ARRAY(
        WITH changed AS (
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
             WHERE (n.{columns.replace(", ", ", n.")}) IS DISTINCT FROM (o.{columns.replace(", ", ", o.")})
        )
        {select}
    ));
    RETURN NULL;
END $$;
{trigger(table, "update", table, "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows")}
"""


# A project's own update moves its version; its deletion takes its documents and version with it.
PROJECT = f"""
CREATE FUNCTION projects_project_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM projects_documents_stale(ARRAY(SELECT id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM projects_projectdocument WHERE project_id IN (SELECT id FROM old_rows);
        DELETE FROM projects_projectversion WHERE project_id IN (SELECT id FROM old_rows);
    ELSE
        DELETE FROM projects_projectdocument;
        DELETE FROM projects_projectversion;
    END IF;
    RETURN NULL;
END $$;
{trigger("projects_project", "update", "projects_project", "REFERENCING NEW TABLE AS new_rows")}
{trigger("projects_project", "delete", "projects_project", "REFERENCING OLD TABLE AS old_rows")}
{trigger("projects_project", "truncate", "projects_project")}
"""

TABLES = ["projects_project", *ROWS, *NAMES]
TRIGGERS = PROJECT + "".join(linked(t, s) for t, s in ROWS.items()) + "".join(named(t, *c) for t, c in NAMES.items())
TRIGGERS_UNDO = "".join(f"DROP FUNCTION {table}_document() CASCADE;\n" for table in TABLES)


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0019_money_figures_appended"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProjectVersion",
            fields=[
                (
                    "project",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="projects.project",
                    ),
                ),
                ("version", models.BigIntegerField()),
            ],
            options={
                "verbose_name": "versión del documento de un proyecto",
                "verbose_name_plural": "versiones de los documentos de los proyectos",
            },
        ),
        migrations.CreateModel(
            name="ProjectDocument",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("variant", models.CharField(max_length=32)),
                ("build", models.CharField(max_length=16)),
                ("version", models.BigIntegerField()),
                ("body", models.TextField()),
                (
                    "project",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="projects.project",
                    ),
                ),
            ],
            options={
                "verbose_name": "documento de un proyecto",
                "verbose_name_plural": "documentos de los proyectos",
                "constraints": [
                    models.UniqueConstraint(fields=("project", "variant"), name="project_document_variant")
                ],
            },
        ),
        migrations.RunSQL(STALE, STALE_UNDO),
        migrations.RunSQL(TRIGGERS, TRIGGERS_UNDO),
    ]
