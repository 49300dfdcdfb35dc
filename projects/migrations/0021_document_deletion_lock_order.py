# A project's deletion locks its stored documents in (project, variant) order before deleting them: the order in
# which a reader stores them (projects.serializers.STORE, in project order). Deleted in the order of a scan, the
# deletion of several projects could take a later project's document, then wait for a reader holding an earlier
# one while that reader waited for the later one: a deadlock (tests/test_documents.py shows it).

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION projects_project_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        PERFORM projects_documents_stale(ARRAY(SELECT id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM 1 FROM projects_projectdocument WHERE project_id IN (SELECT id FROM old_rows)
            ORDER BY project_id, variant FOR UPDATE;
        DELETE FROM projects_projectdocument WHERE project_id IN (SELECT id FROM old_rows);
        DELETE FROM projects_projectversion WHERE project_id IN (SELECT id FROM old_rows);
    ELSE
        PERFORM 1 FROM projects_projectdocument ORDER BY project_id, variant FOR UPDATE;
        DELETE FROM projects_projectdocument;
        DELETE FROM projects_projectversion;
    END IF;
    RETURN NULL;
END $$;
"""
# 0020's function, put back when this migration is reversed.
UNDO = """
CREATE OR REPLACE FUNCTION projects_project_document() RETURNS trigger LANGUAGE plpgsql AS $$
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
"""


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0020_project_documents"),
    ]

    operations = [migrations.RunSQL(FUNCTION, UNDO)]
