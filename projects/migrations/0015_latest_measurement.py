# Each indicator's latest measurement (LatestMeasurement) and the PostgreSQL code that keeps it: written by hand
# around the generated model, as 0014 keeps the money facts.

import django.db.models.deletion
from django.db import migrations, models

# projects_latest_refresh(ids) reads the latest measurement of the given indicators again (one per date: the unique
# constraint measurement_one_per_date leaves no tie) and replaces their rows; an indicator with no measurement has
# none. Two writers of one indicator are serialised by a transaction lock per indicator (in id order): the second
# waits for the first to commit, then, each statement of the function reading afresh under READ COMMITTED, sees
# both. A statement touching more than 64 indicators (a COPY, a bulk update, the fill below) takes one lock for all
# of them instead, which every smaller writer takes in shared mode first. The statement triggers hand it the
# indicators of a statement's old and new rows (a measurement moved to another indicator refreshes both); a TRUNCATE
# refills every indicator.
REFRESH = """
CREATE FUNCTION projects_latest_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ids := ARRAY(SELECT DISTINCT unnest(ids) ORDER BY 1);  -- an indicator once, in id order
    IF cardinality(ids) = 0 THEN
        RETURN;
    ELSIF cardinality(ids) > 64 THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('projects_latest', 0));
    ELSE
        PERFORM pg_advisory_xact_lock_shared(hashtextextended('projects_latest', 0));
        PERFORM pg_advisory_xact_lock(hashtextextended('projects_latest', id)) FROM unnest(ids) AS id;
    END IF;
    DELETE FROM projects_latestmeasurement WHERE indicator_id = ANY(ids);
    INSERT INTO projects_latestmeasurement (indicator_id, date, value)
    SELECT DISTINCT ON (m.indicator_id) m.indicator_id, m.date, m.value
        FROM projects_measurement m
        WHERE m.indicator_id = ANY(ids)
        ORDER BY m.indicator_id, m.date DESC;
END $$;
"""

TRIGGERS = """
CREATE FUNCTION projects_measurement_latest() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM projects_latest_refresh(ARRAY(SELECT indicator_id FROM new_rows));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM projects_latest_refresh(ARRAY(SELECT indicator_id FROM old_rows));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM projects_latest_refresh(ARRAY(
            SELECT indicator_id FROM new_rows UNION ALL SELECT indicator_id FROM old_rows
        ));
    ELSE
        PERFORM projects_latest_refresh(ARRAY(SELECT id FROM projects_indicator));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER projects_measurement_latest_insert AFTER INSERT ON projects_measurement
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION projects_measurement_latest();
CREATE TRIGGER projects_measurement_latest_update AFTER UPDATE ON projects_measurement
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION projects_measurement_latest();
CREATE TRIGGER projects_measurement_latest_delete AFTER DELETE ON projects_measurement
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION projects_measurement_latest();
CREATE TRIGGER projects_measurement_latest_truncate AFTER TRUNCATE ON projects_measurement
    FOR EACH STATEMENT EXECUTE FUNCTION projects_measurement_latest();
"""
TRIGGERS_UNDO = """
DROP TRIGGER projects_measurement_latest_insert ON projects_measurement;
DROP TRIGGER projects_measurement_latest_update ON projects_measurement;
DROP TRIGGER projects_measurement_latest_delete ON projects_measurement;
DROP TRIGGER projects_measurement_latest_truncate ON projects_measurement;
DROP FUNCTION projects_measurement_latest();
"""

FILL = "SELECT projects_latest_refresh(ARRAY(SELECT id FROM projects_indicator));"


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0014_money_fact"),
    ]

    operations = [
        migrations.CreateModel(
            name="LatestMeasurement",
            fields=[
                (
                    "indicator",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="projects.indicator",
                    ),
                ),
                ("date", models.DateField()),
                ("value", models.DecimalField(decimal_places=4, max_digits=16)),
            ],
            options={
                "verbose_name": "última medición",
                "verbose_name_plural": "últimas mediciones",
            },
        ),
        migrations.RunSQL(REFRESH, "DROP FUNCTION projects_latest_refresh(bigint[]);"),
        migrations.RunSQL(TRIGGERS, TRIGGERS_UNDO),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
