# The money figures (0017) kept by appended deltas instead of upserts, and one order of locks for every money writer:
# written by hand.
#
# Why: 0017 upserted each delta into the one row of its cell, so two ledger writes on different projects filed under
# the same axis and award type updated the same rows, in four statements each (figures -, counts -, figures +,
# counts +): they waited for each other until commit, and could deadlock. Now every delta is a row of its own
# (INSERT only, no row shared between writers); readers add up the rows of a cell (projects.accountability), and
# projects_money_compact() folds them into one row per cell every 1,024 rows or so, taken by one writer at a time
# (a try lock: a writer that finds it taken goes on).
#
# The order of locks: a money writer locks the rows of the projects it moves (FOR NO KEY UPDATE, id order) before
# the money locks of 0014 (shared, then per project), as an UPDATE of a project already holds its row when its
# trigger takes the money lock. Without it, a ledger write (money lock, then refresh_derived's update of the project)
# and an edit of the project's publication (its row, then the money lock) could each wait for the other. A writer of
# more than 64 projects (a bulk import, a refill) takes the exclusive money lock alone, as before.
#
# Also: a project deleted before its ledger (raw SQL with deferred constraints) takes its published facts out of the
# sums (AFTER DELETE), and the sums are filled again here under the exclusive money lock, taken first (before this
# migration's ALTER TABLEs, which a writer holding the shared lock would wait for): any delta a writer added between
# 0017 and 0018 is gone.

import importlib

from django.db import migrations

M0017 = importlib.import_module("projects.migrations.0017_money_figures")

LOCK_ALL = "SELECT pg_advisory_xact_lock(hashtextextended('projects_money', 0));"

CELL = "measure, year, kind, funder_is_ficosec, funder_kind, axis_id, award_type"


def locked_by_helper(sql, ids, empty):
    """0014's and 0017's locks (shared, per project; exclusive past 64) replaced by projects_money_lock(ids)."""
    before = f"""    IF cardinality({ids}) = 0 THEN
        RETURN{empty};
    ELSIF cardinality({ids}) > 64 THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', 0));
    ELSE
        PERFORM pg_advisory_xact_lock_shared(hashtextextended('projects_money', 0));
        PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', id)) FROM unnest({ids}) AS id;
    END IF;
"""
    after = f"""    IF cardinality({ids}) = 0 THEN
        RETURN{empty};
    END IF;
    PERFORM projects_money_lock({ids});
"""
    assert sql.count(before) == 1
    return sql.replace(before, after)


# 0017's functions (0014's rule of the year each measure counts in, kept once), with the new locks.
REFRESH = locked_by_helper(M0017.REFRESH, "ids", "")
PROJECT = locked_by_helper(M0017.PROJECT.split("CREATE TRIGGER")[0], "moved", " NULL").replace(
    "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION"
)

FUNCTIONS = f"""
-- The locks a money writer takes before it reads or moves the facts of the projects ids (distinct, in id order).
CREATE FUNCTION projects_money_lock(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(ids) > 64 THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', 0));
    ELSE
        PERFORM FROM projects_project WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
        PERFORM pg_advisory_xact_lock_shared(hashtextextended('projects_money', 0));
        PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', id)) FROM unnest(ids) AS id;
    END IF;
END $$;

-- Fold the deltas into one row per cell (a cell whose facts all left goes). One writer at a time: its DELETE
-- takes exactly the rows it sums; rows other writers add meanwhile stay as they are.
CREATE FUNCTION projects_money_compact() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtextextended('projects_money_compact', 0)) THEN
        RETURN;
    END IF;
    WITH gone AS (DELETE FROM projects_moneyfigure RETURNING *)
    INSERT INTO projects_moneyfigure ({CELL}, amount, facts)
    SELECT {CELL}, SUM(amount), SUM(facts) FROM gone
        GROUP BY {CELL} HAVING SUM(facts) <> 0 OR SUM(amount) <> 0;
    WITH gone AS (DELETE FROM projects_moneyprojectcount RETURNING *)
    INSERT INTO projects_moneyprojectcount (year, axis_id, award_type, projects)
    SELECT year, axis_id, award_type, SUM(projects) FROM gone GROUP BY 1, 2, 3 HAVING SUM(projects) <> 0;
END $$;

CREATE OR REPLACE FUNCTION projects_money_figures(ids bigint[], axes bigint[], awards text[], sign integer)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    added bigint;
BEGIN
    INSERT INTO projects_moneyfigure ({CELL}, amount, facts)
    SELECT f.measure, f.year, f.kind, o.is_ficosec, o.kind, p.axis, p.award, sign * SUM(f.amount), sign * COUNT(*)
        FROM unnest(ids, axes, awards) AS p (id, axis, award)
        JOIN projects_moneyfact f ON f.project_id = p.id
        JOIN projects_organization o ON o.id = f.organization_id
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
    GET DIAGNOSTICS added = ROW_COUNT;
    INSERT INTO projects_moneyprojectcount (year, axis_id, award_type, projects)
    SELECT y.year, p.axis, p.award, sign * COUNT(*)
        FROM unnest(ids, axes, awards) AS p (id, axis, award)
        CROSS JOIN LATERAL (
            SELECT DISTINCT f.year FROM projects_moneyfact f WHERE f.project_id = p.id AND f.measure = 'committed'
            UNION ALL
            SELECT 0 WHERE EXISTS (
                SELECT FROM projects_moneyfact f WHERE f.project_id = p.id AND f.measure = 'committed')
        ) AS y
        GROUP BY 1, 2, 3;
    -- the ids of these rows end at currval: they crossed a multiple of 1,024 (about: concurrent inserts interleave)
    IF added > 0 THEN
        IF currval(pg_get_serial_sequence('projects_moneyfigure', 'id')) % 1024 < added THEN
            PERFORM projects_money_compact();
        END IF;
    END IF;
END $$;

{REFRESH}
{PROJECT}
-- A published project deleted while it still has facts (its ledger goes later in the transaction, or never: a
-- deferred constraint then fails the commit): its facts leave the sums now, as nothing will file them later.
CREATE FUNCTION projects_project_money_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    gone bigint[];
    axes bigint[];
    awards text[];
BEGIN
    SELECT array_agg(o.id ORDER BY o.id), array_agg(o.axis_id ORDER BY o.id), array_agg(o.award_type ORDER BY o.id)
        INTO gone, axes, awards
        FROM old_rows o
        WHERE o.publication_state = 'published' AND EXISTS (SELECT FROM projects_moneyfact f WHERE f.project_id = o.id);
    IF gone IS NOT NULL THEN
        PERFORM projects_money_lock(gone);
        PERFORM projects_money_figures(gone, axes, awards, -1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER projects_project_money_delete AFTER DELETE ON projects_project
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION projects_project_money_deleted();

-- An organization whose kind or FICOSEC flag changed: the facts it funds move between the funder rows. The rows of
-- the projects it funds first (even past 64: a rare write), then the exclusive money lock: a writer filing a first
-- fact of this funder on another project, not committed yet, is waited for and its fact moved too.
CREATE OR REPLACE FUNCTION projects_organization_money() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
    funded bigint[];
BEGIN
    changed := ARRAY(SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
                     WHERE (o.is_ficosec, o.kind) IS DISTINCT FROM (n.is_ficosec, n.kind));
    IF cardinality(changed) = 0 THEN
        RETURN NULL;
    END IF;
    funded := ARRAY(SELECT DISTINCT project_id FROM projects_moneyfact WHERE organization_id = ANY(changed) ORDER BY 1);
    PERFORM FROM projects_project WHERE id = ANY(funded) ORDER BY id FOR NO KEY UPDATE;
    PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', 0));
    INSERT INTO projects_moneyfigure ({CELL}, amount, facts)
    SELECT f.measure, f.year, f.kind, side.is_ficosec, side.kind, p.axis_id, p.award_type,
           SUM(side.sign * f.amount), SUM(side.sign)
        FROM new_rows n JOIN old_rows o ON o.id = n.id AND (o.is_ficosec, o.kind) IS DISTINCT FROM (n.is_ficosec, n.kind)
        CROSS JOIN LATERAL (VALUES (-1, o.is_ficosec, o.kind), (1, n.is_ficosec, n.kind)) AS side (sign, is_ficosec, kind)
        JOIN projects_moneyfact f ON f.organization_id = n.id
        JOIN projects_project p ON p.id = f.project_id AND p.publication_state = 'published'
        GROUP BY 1, 2, 3, 4, 5, 6, 7;
    RETURN NULL;
END $$;

-- A TRUNCATE of the facts empties the sums, once every writer of them has committed (their rows would stay).
CREATE OR REPLACE FUNCTION projects_moneyfact_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', 0));
    DELETE FROM projects_moneyfigure;  -- (not TRUNCATE: a TRUNCATE of every table names these too)
    DELETE FROM projects_moneyprojectcount;
    RETURN NULL;
END $$;
"""


def function_of(sql):
    """0017's CREATE FUNCTION of a function and trigger, as a replacement of the function alone."""
    return sql.split("CREATE TRIGGER")[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")


FUNCTIONS_UNDO = f"""
DROP TRIGGER projects_project_money_delete ON projects_project;
DROP FUNCTION projects_project_money_deleted();
{function_of(M0017.PROJECT)}
{function_of(M0017.ORGANIZATION)}
{function_of(M0017.TRUNCATE)}
{M0017.REFRESH}
{M0017.FIGURES.split("-- The published projects")[0].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")}
DROP FUNCTION projects_money_compact();
DROP FUNCTION projects_money_lock(bigint[]);
"""

REFILL = """
DELETE FROM projects_moneyfigure;
DELETE FROM projects_moneyprojectcount;
SELECT projects_money_figures_of(ARRAY(SELECT id FROM projects_project), 1);
"""

# Undone: back to one row per cell, before 0017's functions and unique constraints return.
COMPACT = """
SELECT pg_advisory_xact_lock(hashtextextended('projects_money', 0));
SELECT projects_money_compact();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0018_money_figures_fill"),
    ]

    operations = [
        migrations.RunSQL(LOCK_ALL, migrations.RunSQL.noop),
        migrations.RemoveConstraint(model_name="moneyfigure", name="money_figure_once"),
        migrations.RemoveConstraint(model_name="moneyprojectcount", name="money_project_count_once"),
        migrations.RunSQL(FUNCTIONS, FUNCTIONS_UNDO),
        migrations.RunSQL(REFILL, COMPACT),
    ]
