"""Issue 13: sync reports withdrawals, so that a partner's mirror stays equal to what the partner may see."""

from datetime import timedelta

from django.utils import timezone

from projects.models import Organization, Project, Withdrawal

from .conftest import make_project


def auth(raw):
    return {"HTTP_AUTHORIZATION": f"Api-Key {raw}"}


def sync_into(client, mirror, key, since=None):
    """Apply every page of a sync to `mirror` ({code: row}) as a partner's client would; returns the tombstones."""
    url = "/api/v1/projects/sync/?page_size=2" + (f"&updated_since={since.isoformat()}" if since else "")
    url = url.replace("+", "%2B")
    tombstones = []
    while url:
        body = client.get(url, **auth(key)).json()
        for row in body["results"]:
            mirror[row["code"]] = row
        for tombstone in body["withdrawn"]:
            tombstones.append(tombstone)
            if tombstone["kind"] == "project":
                mirror.pop(tombstone["code"], None)
        url = body["next"]
    return tombstones


def catalogue(client, key):
    codes, url = set(), "/api/v1/projects/?page_size=100"
    while url:
        body = client.get(url, **auth(key)).json()
        codes |= {row["code"] for row in body["results"]}
        url = body["next"]
    return codes


def test_a_partners_mirror_equals_the_catalogue_after_projects_are_archived_and_unpublished(
    client, partner_key, coordinator, published_project, draft_project, org_b, ficosec_org
):
    other = make_project("FIC-2024-010", "Proyecto publicado de Beta", org_b, Project.Publication.PUBLISHED)
    third = make_project("FIC-2024-011", "Otro proyecto publicado de Beta", org_b, Project.Publication.PUBLISHED)
    mirror = {}
    sync_into(client, mirror, partner_key)
    assert (
        set(mirror)
        == catalogue(client, partner_key)
        == {published_project.code, draft_project.code, "FIC-2024-010", "FIC-2024-011"}
    )
    since = timezone.now() - timedelta(seconds=1)

    other.transition(Project.Publication.ARCHIVED, coordinator, "Concluido")
    third.transition(Project.Publication.DRAFT, coordinator, "Corrección")
    published_project.transition(Project.Publication.DRAFT, coordinator, "Corrección")  # its own: still visible

    tombstones = sync_into(client, mirror, partner_key, since=since)
    assert {(t["code"], t["reason"]) for t in tombstones} == {
        ("FIC-2024-010", "archived"),
        ("FIC-2024-011", "unpublished"),
    }
    assert set(mirror) == catalogue(client, partner_key)
    assert "FIC-2024-010" not in mirror and published_project.code in mirror
    assert mirror[published_project.code]["publication_state"] == "draft"


def test_an_anonymous_mirror_learns_that_a_project_was_archived(client, coordinator, published_project):
    since = timezone.now() - timedelta(seconds=1)
    published_project.transition(Project.Publication.ARCHIVED, coordinator, "Concluido")
    body = client.get("/api/v1/projects/sync/", {"updated_since": since.isoformat()}).json()
    assert body["results"] == []
    assert [(t["kind"], t["code"], t["reason"]) for t in body["withdrawn"]] == [
        ("project", published_project.code, "archived")
    ]
    later = client.get("/api/v1/projects/sync/", {"updated_since": timezone.now().isoformat()}).json()
    assert later["withdrawn"] == []


def test_a_merged_organization_is_reported_with_the_one_that_absorbed_it(client, org_a, published_project):
    duplicate = Organization.objects.create(name="Centro Alfa (duplicado)", kind="osc")
    since = timezone.now() - timedelta(seconds=1)
    duplicate.merge_into(org_a)
    body = client.get("/api/v1/projects/sync/", {"updated_since": since.isoformat()}).json()
    assert body["withdrawn"][0]["kind"] == "organization"
    assert body["withdrawn"][0]["code"] == "centro-alfa-duplicado"
    assert body["withdrawn"][0]["merged_into"] == org_a.slug


def test_tombstones_are_kept_for_the_sync_window_and_then_forgotten(db, settings):
    settings.WITHDRAWAL_RETENTION_DAYS = 30
    old = Withdrawal.objects.create(kind="project", code="FIC-2020-001", reason="archived")
    Withdrawal.objects.filter(pk=old.pk).update(withdrawn_at=timezone.now() - timedelta(days=31))
    kept = Withdrawal.objects.create(kind="project", code="FIC-2020-002", reason="archived")
    Withdrawal.objects.filter(pk=kept.pk).update(withdrawn_at=timezone.now() - timedelta(days=29))
    Withdrawal.record("project", "FIC-2020-003", "archived")
    assert set(Withdrawal.objects.values_list("code", flat=True)) == {"FIC-2020-002", "FIC-2020-003"}
