"""The fixed cast itself behaves as every other test assumes."""

import pytest

from projects.models import Project


@pytest.mark.django_db
def test_published_fixture_is_complete_and_public(published_project):
    assert published_project.is_public
    assert published_project.publication_gaps() == []
    assert published_project.total_amount == 1250000
    assert published_project.ficosec_amount == 1000000


@pytest.mark.django_db
def test_visitor_sees_only_the_published_project(published_project, draft_project, review_project, archived_project):
    from django.contrib.auth.models import AnonymousUser

    assert list(Project.objects.visible_to(AnonymousUser())) == [published_project]


@pytest.mark.django_db
def test_partner_sees_own_drafts_but_not_other_organizations(partner, published_project, draft_project, other_draft):
    visible = set(Project.objects.visible_to(partner))
    assert visible == {published_project, draft_project}
