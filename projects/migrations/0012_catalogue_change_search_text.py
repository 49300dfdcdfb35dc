# The change log (migrations 0009, 0011) also records a change of the search text a project copies from its
# organizations and places (search_organizations, search_places: not in its history): a cached search page compares
# what a changed project's text said when it was drawn with what it says now (projects.figures), and a rename of an
# organization or a place reaches its projects' text through Project.refresh_derived; such a change now draws every
# catalogue page again.

from importlib import import_module

from django.db import migrations

previous = import_module("projects.migrations.0011_catalogue_order")
BEFORE = [*previous.LOGGED, "published_at"]


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0011_catalogue_order"),
    ]

    operations = [
        migrations.RunSQL(
            previous.update_trigger([*BEFORE, "search_organizations", "search_places"]),
            previous.update_trigger(BEFORE),
        ),
    ]
