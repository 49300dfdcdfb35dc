# The money facts (MoneyFact) and the PostgreSQL code that keeps them: written by hand around the generated model.

import django.db.models.deletion
from django.db import migrations, models

# projects_moneyfact holds, per project, the sums projects.accountability adds up (see MoneyFact). One function
# writes them, and is the home of the rule of which year each measure counts in: projects_money_refresh(ids) reads
# the ledger of the given projects again and replaces their rows (changing the rule takes a new migration with
# CREATE OR REPLACE FUNCTION and a refill: SELECT projects_money_refresh(ARRAY(SELECT id FROM projects_project))).
#
# Two writers of one project's ledger must not add it twice: the function first takes a transaction lock per project
# (in id order), so the second waits for the first to commit and then, each statement of the function reading afresh
# under READ COMMITTED, reads both; a unique constraint makes any double count fail loudly. A statement touching
# more than 64 projects (a COPY, a bulk update, the fill below) takes one lock for every project instead, so it never
# holds a million; every smaller writer takes that lock in shared mode first.
#
# Statement triggers on every table the sums read hand it the projects a statement touched, from its transition
# tables (old rows and new), so a COPY of a million charges refreshes each project once. The rows through which a
# disbursement or charge is traced to its project are read FOR SHARE: a concurrent move of the commitment to another
# project is waited for, and the moved-to project refreshed. A TRUNCATE of a ledger table refills every project.
REFRESH = """
CREATE FUNCTION projects_money_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    ids := ARRAY(SELECT DISTINCT unnest(ids) ORDER BY 1);  -- a project once, in id order
    IF cardinality(ids) = 0 THEN
        RETURN;
    ELSIF cardinality(ids) > 64 THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', 0));
    ELSE
        PERFORM pg_advisory_xact_lock_shared(hashtextextended('projects_money', 0));
        PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', id)) FROM unnest(ids) AS id;
    END IF;
    DELETE FROM projects_moneyfact WHERE project_id = ANY(ids);
    INSERT INTO projects_moneyfact (project_id, measure, year, organization_id, kind, amount)
    SELECT c.project_id, 'committed', EXTRACT(YEAR FROM c.date), c.organization_id, c.kind, SUM(c.amount)
        FROM projects_commitment c
        WHERE c.project_id = ANY(ids)
        GROUP BY 1, 3, 4, 5
    UNION ALL
    SELECT c.project_id, 'paid', EXTRACT(YEAR FROM d.actual_date), c.organization_id, c.kind, SUM(d.amount)
        FROM projects_disbursement d JOIN projects_commitment c ON c.id = d.commitment_id
        WHERE c.project_id = ANY(ids) AND d.actual_date IS NOT NULL
        GROUP BY 1, 3, 4, 5
    UNION ALL
    SELECT c.project_id, 'proven', EXTRACT(YEAR FROM p.issued_on), c.organization_id, c.kind, SUM(ch.amount)
        FROM projects_charge ch
        JOIN projects_expenseproof p ON p.id = ch.proof_id
        JOIN projects_disbursement d ON d.id = ch.disbursement_id
        JOIN projects_commitment c ON c.id = d.commitment_id
        WHERE c.project_id = ANY(ids)
        GROUP BY 1, 3, 4, 5;
END $$;
"""

# The projects of the rows of each table, from its transition tables {rows} (one, or both as a UNION).
PROJECTS_OF = {
    "projects_commitment": "SELECT r.project_id FROM ({rows}) r",
    "projects_disbursement": (
        "SELECT c.project_id FROM ({rows}) r JOIN projects_commitment c ON c.id = r.commitment_id FOR SHARE OF c"
    ),
    "projects_charge": (
        "SELECT c.project_id FROM ({rows}) r JOIN projects_disbursement d ON d.id = r.disbursement_id"
        " JOIN projects_commitment c ON c.id = d.commitment_id FOR SHARE OF d, c"
    ),
}
EVERY_PROJECT = "SELECT id FROM projects_project"


def triggers(table):
    def projects(*transitions):
        return PROJECTS_OF[table].format(rows=" UNION ALL ".join(f"SELECT * FROM {name}" for name in transitions))

    return f"""
CREATE FUNCTION {table}_money() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM projects_money_refresh(ARRAY({projects("new_rows")}));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM projects_money_refresh(ARRAY({projects("old_rows")}));
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM projects_money_refresh(ARRAY({projects("new_rows", "old_rows")}));
    ELSE
        PERFORM projects_money_refresh(ARRAY({EVERY_PROJECT}));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER {table}_money_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_money();
CREATE TRIGGER {table}_money_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_money();
CREATE TRIGGER {table}_money_delete AFTER DELETE ON {table}
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_money();
CREATE TRIGGER {table}_money_truncate AFTER TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_money();
"""


def undo(table):
    events = ("insert", "update", "delete", "truncate")
    return "".join(f"DROP TRIGGER {table}_money_{event} ON {table};\n" for event in events) + (
        f"DROP FUNCTION {table}_money();\n"
    )


# An invoice's date decides the year its charges are proven in: a change of it re-adds the projects it is charged to
# (its other updates, such as the charged amount, leave the sums as they are).
PROOF_DATE = """
CREATE FUNCTION projects_expenseproof_money() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM projects_money_refresh(ARRAY(
        SELECT c.project_id FROM new_rows n
        JOIN old_rows o ON o.id = n.id AND o.issued_on IS DISTINCT FROM n.issued_on
        JOIN projects_charge ch ON ch.proof_id = n.id
        JOIN projects_disbursement d ON d.id = ch.disbursement_id
        JOIN projects_commitment c ON c.id = d.commitment_id
    ));
    RETURN NULL;
END $$;
CREATE TRIGGER projects_expenseproof_money_update AFTER UPDATE ON projects_expenseproof
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION projects_expenseproof_money();
"""
PROOF_DATE_UNDO = """
DROP TRIGGER projects_expenseproof_money_update ON projects_expenseproof;
DROP FUNCTION projects_expenseproof_money();
"""

FILL = f"SELECT projects_money_refresh(ARRAY({EVERY_PROJECT}));"


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0013_catalogue_change_search_vector"),
    ]

    operations = [
        migrations.CreateModel(
            name="MoneyFact",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "measure",
                    models.CharField(
                        choices=[("committed", "comprometido"), ("paid", "ministrado"), ("proven", "comprobado")],
                        max_length=10,
                    ),
                ),
                ("year", models.IntegerField()),
                ("kind", models.CharField(choices=[("cash", "Monetaria"), ("in_kind", "En especie")], max_length=10)),
                ("amount", models.DecimalField(decimal_places=2, max_digits=18)),
                (
                    "organization",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="projects.organization"
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="projects.project",
                    ),
                ),
            ],
            options={
                "verbose_name": "cifra de dinero",
                "verbose_name_plural": "cifras de dinero",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("project", "measure", "year", "organization", "kind"), name="money_fact_once"
                    )
                ],
            },
        ),
        migrations.RunSQL(REFRESH, "DROP FUNCTION projects_money_refresh(bigint[]);"),
        *(migrations.RunSQL(triggers(table), undo(table)) for table in PROJECTS_OF),
        migrations.RunSQL(PROOF_DATE, PROOF_DATE_UNDO),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
    ]
