# The money figures kept by deltas (MoneyFigure, MoneyProjectCount) and the PostgreSQL code that keeps them: written
# by hand around the generated models.
#
# projects_money_figures(ids, axes, awards, sign) adds `sign` times the money facts of the given projects, filed
# under the given axis and award type of each, to the sums (and to the counts of projects with a commitment). Its
# callers hold the money lock of each project (0014: per project in id order, after the shared lock; or the
# exclusive lock), so a project's facts and its publication, axis and award type are never moved by two writers at
# once, and each statement reads what the other committed:
# - projects_money_refresh (0014, replaced here): subtracts the projects' facts before it replaces them, adds the new
#   ones after (for the projects published now, under their axis and award type now);
# - a project's publication, axis or award type changing: its facts leave the old row and reach the new one;
# - an organization's kind or FICOSEC flag changing: its facts move between the funder rows (the exclusive lock);
# - a TRUNCATE of the facts (a TRUNCATE ... CASCADE of the projects) empties the sums.
# The sums are filled by 0018 (the unique constraints the functions' ON CONFLICT names exist once this migration
# ends: Django creates them last).

import importlib

import django.db.models.deletion
from django.db import migrations, models

FIGURES = """
CREATE FUNCTION projects_money_figures(ids bigint[], axes bigint[], awards text[], sign integer)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO projects_moneyfigure AS t
        (measure, year, kind, funder_is_ficosec, funder_kind, axis_id, award_type, amount, facts)
    SELECT f.measure, f.year, f.kind, o.is_ficosec, o.kind, p.axis, p.award, sign * SUM(f.amount), sign * COUNT(*)
        FROM unnest(ids, axes, awards) AS p (id, axis, award)
        JOIN projects_moneyfact f ON f.project_id = p.id
        JOIN projects_organization o ON o.id = f.organization_id
        GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (measure, year, kind, funder_is_ficosec, funder_kind, axis_id, award_type)
        DO UPDATE SET amount = t.amount + EXCLUDED.amount, facts = t.facts + EXCLUDED.facts;
    INSERT INTO projects_moneyprojectcount AS t (year, axis_id, award_type, projects)
    SELECT y.year, p.axis, p.award, sign * COUNT(*)
        FROM unnest(ids, axes, awards) AS p (id, axis, award)
        CROSS JOIN LATERAL (
            SELECT DISTINCT f.year FROM projects_moneyfact f WHERE f.project_id = p.id AND f.measure = 'committed'
            UNION ALL
            SELECT 0 WHERE EXISTS (
                SELECT FROM projects_moneyfact f WHERE f.project_id = p.id AND f.measure = 'committed')
        ) AS y
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (year, axis_id, award_type) DO UPDATE SET projects = t.projects + EXCLUDED.projects;
END $$;

-- The published projects among ids, filed as they are now.
CREATE FUNCTION projects_money_figures_of(ids bigint[], sign integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    published bigint[];
    axes bigint[];
    awards text[];
BEGIN
    SELECT array_agg(id ORDER BY id), array_agg(axis_id ORDER BY id), array_agg(award_type ORDER BY id)
        INTO published, axes, awards
        FROM projects_project WHERE id = ANY(ids) AND publication_state = 'published';
    IF published IS NOT NULL THEN
        PERFORM projects_money_figures(published, axes, awards, sign);
    END IF;
END $$;
"""
FIGURES_UNDO = """
DROP FUNCTION projects_money_figures_of(bigint[], integer);
DROP FUNCTION projects_money_figures(bigint[], bigint[], text[], integer);
"""

# 0014's function, with the sums kept around its replacement of the facts.
REFRESH_0014 = importlib.import_module("projects.migrations.0014_money_fact").REFRESH
REFRESH = (
    REFRESH_0014.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    .replace(
        "    DELETE FROM projects_moneyfact WHERE project_id = ANY(ids);\n",
        "    PERFORM projects_money_figures_of(ids, -1);\n    DELETE FROM projects_moneyfact WHERE project_id = ANY(ids);\n",
    )
    .replace(
        "        GROUP BY 1, 3, 4, 5;\nEND $$;",
        "        GROUP BY 1, 3, 4, 5;\n    PERFORM projects_money_figures_of(ids, 1);\nEND $$;",
    )
)
assert REFRESH.count("projects_money_figures_of") == 2

# A project that changed publication, axis or award type (old and new rows of a statement): its facts move. The
# money lock of each such project first, as projects_money_refresh takes it.
PROJECT = """
CREATE FUNCTION projects_project_money() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved bigint[];
    published bigint[];
    axes bigint[];
    awards text[];
BEGIN
    moved := ARRAY(
        SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (o.publication_state = 'published' OR n.publication_state = 'published')
          AND (o.publication_state, o.axis_id, o.award_type) IS DISTINCT FROM (n.publication_state, n.axis_id, n.award_type)
        ORDER BY 1);
    IF cardinality(moved) = 0 THEN
        RETURN NULL;
    ELSIF cardinality(moved) > 64 THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', 0));
    ELSE
        PERFORM pg_advisory_xact_lock_shared(hashtextextended('projects_money', 0));
        PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', id)) FROM unnest(moved) AS id;
    END IF;
    SELECT array_agg(o.id), array_agg(o.axis_id), array_agg(o.award_type) INTO published, axes, awards
        FROM old_rows o WHERE o.id = ANY(moved) AND o.publication_state = 'published';
    IF published IS NOT NULL THEN
        PERFORM projects_money_figures(published, axes, awards, -1);
    END IF;
    SELECT array_agg(n.id), array_agg(n.axis_id), array_agg(n.award_type) INTO published, axes, awards
        FROM new_rows n WHERE n.id = ANY(moved) AND n.publication_state = 'published';
    IF published IS NOT NULL THEN
        PERFORM projects_money_figures(published, axes, awards, 1);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER projects_project_money_update AFTER UPDATE ON projects_project
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION projects_project_money();
"""
PROJECT_UNDO = """
DROP TRIGGER projects_project_money_update ON projects_project;
DROP FUNCTION projects_project_money();
"""

# An organization whose kind or FICOSEC flag changed: the facts it funds move between the funder rows (a rare
# write: the exclusive lock).
ORGANIZATION = """
CREATE FUNCTION projects_organization_money() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM new_rows n JOIN old_rows o ON o.id = n.id
                   WHERE (o.is_ficosec, o.kind) IS DISTINCT FROM (n.is_ficosec, n.kind)) THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('projects_money', 0));
    INSERT INTO projects_moneyfigure AS t
        (measure, year, kind, funder_is_ficosec, funder_kind, axis_id, award_type, amount, facts)
    SELECT f.measure, f.year, f.kind, side.is_ficosec, side.kind, p.axis_id, p.award_type,
           SUM(side.sign * f.amount), SUM(side.sign)
        FROM new_rows n JOIN old_rows o ON o.id = n.id AND (o.is_ficosec, o.kind) IS DISTINCT FROM (n.is_ficosec, n.kind)
        CROSS JOIN LATERAL (VALUES (-1, o.is_ficosec, o.kind), (1, n.is_ficosec, n.kind)) AS side (sign, is_ficosec, kind)
        JOIN projects_moneyfact f ON f.organization_id = n.id
        JOIN projects_project p ON p.id = f.project_id AND p.publication_state = 'published'
        GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (measure, year, kind, funder_is_ficosec, funder_kind, axis_id, award_type)
        DO UPDATE SET amount = t.amount + EXCLUDED.amount, facts = t.facts + EXCLUDED.facts;
    RETURN NULL;
END $$;
CREATE TRIGGER projects_organization_money_update AFTER UPDATE ON projects_organization
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
    EXECUTE FUNCTION projects_organization_money();
"""
ORGANIZATION_UNDO = """
DROP TRIGGER projects_organization_money_update ON projects_organization;
DROP FUNCTION projects_organization_money();
"""

TRUNCATE = """
CREATE FUNCTION projects_moneyfact_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM projects_moneyfigure;  -- (not TRUNCATE: a TRUNCATE of every table names these too)
    DELETE FROM projects_moneyprojectcount;
    RETURN NULL;
END $$;
CREATE TRIGGER projects_moneyfact_money_truncate AFTER TRUNCATE ON projects_moneyfact
    FOR EACH STATEMENT EXECUTE FUNCTION projects_moneyfact_truncated();
"""
TRUNCATE_UNDO = """
DROP TRIGGER projects_moneyfact_money_truncate ON projects_moneyfact;
DROP FUNCTION projects_moneyfact_truncated();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("axes", "0004_english_names_filled"),
        ("projects", "0016_implementer_ids"),
    ]

    operations = [
        migrations.CreateModel(
            name="MoneyFigure",
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
                ("funder_is_ficosec", models.BooleanField()),
                (
                    "funder_kind",
                    models.CharField(
                        choices=[
                            ("osc", "Organización de la sociedad civil"),
                            ("gov_municipal", "Gobierno municipal"),
                            ("gov_state", "Gobierno estatal"),
                            ("gov_federal", "Gobierno federal"),
                            ("autonomous", "Organismo autónomo"),
                            ("company", "Empresa"),
                            ("academia", "Academia"),
                            ("foundation", "Fundación"),
                            ("international", "Cooperación internacional"),
                        ],
                        max_length=20,
                    ),
                ),
                (
                    "award_type",
                    models.CharField(
                        blank=True,
                        choices=[("open_call", "Convocatoria abierta"), ("direct", "Asignación directa")],
                        max_length=20,
                    ),
                ),
                ("amount", models.DecimalField(decimal_places=2, max_digits=18)),
                ("facts", models.IntegerField()),
                (
                    "axis",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="axes.axis",
                    ),
                ),
            ],
            options={
                "verbose_name": "suma de dinero",
                "verbose_name_plural": "sumas de dinero",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("measure", "year", "kind", "funder_is_ficosec", "funder_kind", "axis", "award_type"),
                        name="money_figure_once",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="MoneyProjectCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("year", models.IntegerField()),
                (
                    "award_type",
                    models.CharField(
                        blank=True,
                        choices=[("open_call", "Convocatoria abierta"), ("direct", "Asignación directa")],
                        max_length=20,
                    ),
                ),
                ("projects", models.IntegerField()),
                (
                    "axis",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="axes.axis",
                    ),
                ),
            ],
            options={
                "verbose_name": "proyectos con dinero",
                "verbose_name_plural": "proyectos con dinero",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("year", "axis", "award_type"), name="money_project_count_once", nulls_distinct=False
                    )
                ],
            },
        ),
        migrations.RunSQL(FIGURES, FIGURES_UNDO),
        migrations.RunSQL(REFRESH, REFRESH_0014.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")),
        migrations.RunSQL(PROJECT, PROJECT_UNDO),
        migrations.RunSQL(ORGANIZATION, ORGANIZATION_UNDO),
        migrations.RunSQL(TRUNCATE, TRUNCATE_UNDO),
    ]
