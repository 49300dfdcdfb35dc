"""The benchmark's seeder writes what the portal itself would (bench/seed.py checks its derived columns and its
ledger against the application's own code): a small catalogue, so that a change of the models that the seeder does
not follow fails here rather than at the next `make bench`."""

import pytest

from bench import seed
from projects.models import Participation, Project


# Committing: the seeder loads each batch over a second connection while it generates the next, which must see what
# the first one wrote (and its TRUNCATE must not wait on a test transaction).
@pytest.mark.django_db(transaction=True)
def test_the_seeder_writes_a_catalogue_and_ledger_the_portal_accepts(reference_data):
    seed.empty()
    seed.Catalogue(120, seed.SEED, log=lambda message: None).write()
    seed.check_derived(sample=40)  # raises when a derived column differs from refresh_derived()
    seed.check_ledger()  # raises when a ledger row breaks the models' rules
    rows = seed.counts()
    assert rows["projects_project"] == 120 and rows["published_projects"] > 60
    project = Project.objects.published().exclude(organization_ids=[]).first()
    assert sorted(project.organization_ids) == sorted(
        set(Participation.objects.filter(project=project).values_list("organization_id", flat=True))
    )
