"""The project form's partner picker takes an organization by what an editor sees (its name, "name (acronym)", its
acronym; the slug still works), explains itself in Spanish, and the error summary lists every error of the page."""

import html
import re

import pytest
from django.urls import reverse

from projects.forms import OrganizationChoiceField
from projects.models import Organization, Participation, Project

from .test_staff import form_data

pytestmark = pytest.mark.django_db


def partner_row(organization_text, role="implementer", amount="150000", index=0):
    return {
        f"participations-{index}-organization": organization_text,
        f"participations-{index}-role": role,
        f"participations-{index}-amount": amount,
        f"participations-{index}-contribution_kind": "cash",
    }


def create(client, **changes):
    return client.post(reverse("project_create"), form_data(**changes))


@pytest.mark.parametrize(
    "typed",
    [
        "Centro Comunitario Alfa, A.C.",  # the visible name
        "Centro Comunitario Alfa, A.C. (ALFA)",  # what the list offers
        "  centro comunitario alfa, a.c.  ",  # as typed, any case
        "ALFA",  # the acronym
        "centro-comunitario-alfa-ac",  # the slug still works (imports, old bookmarks)
    ],
)
def test_a_partner_is_chosen_by_what_the_editor_sees(client, editor, org_a, typed):
    org_a.slug = "centro-comunitario-alfa-ac"
    org_a.save()
    client.force_login(editor)
    response = create(client, **{"participations-TOTAL_FORMS": "1", **partner_row(typed)})
    assert response.status_code == 302, response.content.decode()[:3000]
    project = Project.objects.get(code="FIC-2025-050")
    assert list(project.participations.values_list("organization__slug", "role")) == [
        ("centro-comunitario-alfa-ac", "implementer")
    ]


def test_the_list_offers_names_and_the_form_never_asks_for_a_slug(client, editor, org_a, org_b):
    client.force_login(editor)
    text = client.get(reverse("project_create")).content.decode()
    options = re.findall(r'<datalist id="organizaciones">(.*?)</datalist>', text, re.S)[0]
    assert '<option value="Centro Comunitario Alfa, A.C. (ALFA)">' in options
    assert '<option value="Red Beta por la Paz, A.C. (BETA)">' in options
    assert org_a.slug not in options
    assert "slug" not in text.lower()
    assert "Escriba el nombre o las siglas" in text


def test_the_kept_list_follows_every_organization_added_renamed_or_removed(client, editor, org_a):
    """The list is kept in the cache between pages (5,000 organizations take a quarter of a second to write out),
    and drawn again as soon as an organization is added (through the ORM or in bulk), renamed or removed."""

    def offered():
        text = client.get(reverse("project_create")).content.decode()
        return re.findall(
            r'<option value="([^"]*)">', re.findall(r'<datalist id="organizaciones">(.*?)</datalist>', text, re.S)[0]
        )

    client.force_login(editor)
    assert "Centro Comunitario Alfa, A.C. (ALFA)" in offered()
    gamma = Organization.objects.create(name="Colectivo Gama", acronym="GAMA", kind="osc")
    assert "Colectivo Gama (GAMA)" in offered()
    Organization.objects.bulk_create([Organization(name="Red Delta", acronym="DELTA", kind="osc", slug="red-delta")])
    assert "Red Delta (DELTA)" in offered()
    gamma.name = "Colectivo Gamma"
    gamma.save()
    assert "Colectivo Gamma (GAMA)" in offered() and "Colectivo Gama (GAMA)" not in offered()
    gamma.delete()
    assert not [text for text in offered() if "Gamma" in text]


def test_an_existing_partner_shows_by_its_name_on_the_edit_page(client, editor, published_project):
    client.force_login(editor)
    text = client.get(reverse("project_edit", args=[published_project.code])).content.decode()
    assert 'value="Centro Comunitario Alfa, A.C. (ALFA)"' in text


def test_an_unknown_organization_is_explained_in_spanish_with_what_was_typed(client, editor, org_a):
    client.force_login(editor)
    response = create(client, **{"participations-TOTAL_FORMS": "1", **partner_row("Colectivo Inexistente")})
    assert response.status_code == 400
    text = response.content.decode()
    assert "No encontramos «Colectivo Inexistente»" in text
    assert "escriba su nombre o sus siglas" in text
    assert not Project.objects.filter(code="FIC-2025-050").exists()


def test_a_name_shared_by_two_organizations_asks_for_the_one_in_the_list(client, editor, org_a):
    Organization.objects.create(name=org_a.name, acronym="ALFA2", kind="osc", slug="alfa-dos")
    client.force_login(editor)
    response = create(client, **{"participations-TOTAL_FORMS": "1", **partner_row(org_a.name)})
    assert response.status_code == 400
    assert "Hay varias organizaciones" in response.content.decode()
    response = create(client, **{"participations-TOTAL_FORMS": "1", **partner_row(f"{org_a.name} (ALFA2)")})
    assert response.status_code == 302
    assert Participation.objects.get(project__code="FIC-2025-050").organization.slug == "alfa-dos"


def test_adding_an_organization_says_to_pick_it_by_its_name(client, editor):
    client.force_login(editor)
    data = form_data(
        add_organization="1",
        **{"new_org-name": "Colectivo Nuevo por la Paz", "new_org-acronym": "CONUPAZ", "new_org-kind": "osc"},
    )
    text = client.post(reverse("project_create"), data).content.decode()
    assert "Colectivo Nuevo por la Paz (CONUPAZ)" in text
    assert "conupaz" not in text  # no slug to type anywhere


def test_the_error_summary_lists_every_error_of_the_page_formsets_included(client, editor, org_a):
    client.force_login(editor)
    response = create(
        client,
        title="",
        planned_start="2025-12-01",
        planned_end="2025-01-01",
        **{
            "participations-TOTAL_FORMS": "2",
            **partner_row("Nadie Conocido"),
            **partner_row(org_a.name, amount="-5", index=1),
            "indicators-TOTAL_FORMS": "1",
            "indicators-0-name": "",
            "indicators-0-unit": "personas",
            "indicators-0-direction": "increase",
            "indicators-0-frequency": "3",
            "indicators-0-target": "10",
        },
    )
    assert response.status_code == 400
    text = response.content.decode()
    summary = re.search(r'<div class="error-summary[^>]*>(.*?)</div>', text, re.S).group(1)
    links = dict(re.findall(r'<a href="#([^"]+)">(.*?)</a>', summary))
    assert "id_title" in links  # the project's own field
    assert "El fin planeado no puede ser anterior al inicio planeado." in summary  # a rule across fields
    assert "No encontramos «Nadie Conocido»" in links["id_participations-0-organization"]
    assert "mayor o igual a 0" in links["id_participations-1-amount"]
    assert "id_indicators-0-name" in links
    assert links["id_participations-1-amount"].startswith("Socio 2")
    assert re.search(r"5 errores", summary)


# Organizations whose plain text the picker could read as another one (found at 1,000,000 projects, and by review):
# (the partner's name, its acronym, the other's name, acronym and slug).
NAMESAKES = {
    "same name and acronym": ("Centro Alfa, A.C.", "ALFA", "Centro Alfa, A.C.", "ALFA", "alfa-dos"),
    "a name without acronym shared": ("Centro Alfa, A.C.", "", "Centro Alfa, A.C.", "OTRA", "alfa-dos"),
    "same name, no acronyms": ("Centro Alfa, A.C.", "", "centro alfa, a.c.", "", "alfa-dos"),
    "the acronym inside the name": (
        "Centro de Integración Juvenil (CIJ)",
        "",
        "Centro de Integración Juvenil",
        "CIJ",
        "cij",
    ),
    "a double space": ("Centro  Alfa", "", "Centro Alfa", "", "alfa-dos"),
    "a name that is another's slug": ("alfa-dos", "", "Red Beta", "BETA", "alfa-dos"),
    "brackets in the name": ("Foro [beta]", "", "Foro", "", "beta"),
}


@pytest.mark.parametrize("case", NAMESAKES.values(), ids=NAMESAKES.keys())
def test_a_project_whose_partner_could_be_read_as_another_saves_unchanged_as_shown(
    client, editor, published_project, org_a, case
):
    """The edit page shows each partner by a text that finds it and no other, and the list offers every
    organization by such a text: saving the page unchanged keeps every partner (it was refused, or worse, swapped)."""
    from bench.edits import form_fields

    name, acronym, other_name, other_acronym, other_slug = case
    Organization.objects.filter(pk=org_a.pk).update(name=name, acronym=acronym)  # as stored, spaces and all
    org_a.refresh_from_db()
    other = Organization.objects.create(name=other_name, acronym=other_acronym, kind="osc", slug=other_slug)
    client.force_login(editor)
    url = reverse("project_edit", args=[published_project.code])
    page = client.get(url).content.decode()
    fields = form_fields(page, {"class": "project-form"})
    rows = [value for key, value in fields if re.fullmatch(r"participations-\d+-organization", key) and value]
    options = re.findall(
        r'<option value="([^"]*)">', re.findall(r'<datalist id="organizaciones">(.*?)</datalist>', page, re.S)[0]
    )
    field = OrganizationChoiceField()
    for text in options:  # every text offered finds exactly its organization
        assert len(field.resolve(html.unescape(text), field.stored)) == 1, text
    assert {field.to_python(html.unescape(text)).pk for text in options} >= {org_a.pk, other.pk}
    assert any(field.to_python(html.unescape(text)) == org_a for text in rows)
    before = sorted(published_project.participations.values_list("organization", "role", "amount"))

    data = {}
    for key, value in fields + [("save", "1")]:
        data.setdefault(key, []).append(value)
    response = client.post(url, data)

    assert response.status_code == 302, re.findall(r'class="errorlist[^"]*">(.*?)</ul>', response.content.decode())
    assert sorted(published_project.participations.values_list("organization", "role", "amount")) == before
    assert not Participation.objects.filter(organization=other).exists()


def test_the_list_brackets_only_the_organizations_that_need_it(org_a, org_b):
    namesake = Organization.objects.create(name=org_a.name, acronym="ALFA", kind="osc", slug="alfa-dos")
    shown = OrganizationChoiceField.shown_list(Organization.objects.order_by("pk"))
    assert shown == [f"{org_a} [{org_a.slug}]", str(org_b), f"{namesake} [alfa-dos]"]


def test_a_namesake_is_picked_by_the_text_the_list_offers(client, editor, org_a):
    Organization.objects.create(name=org_a.name, acronym="ALFA", kind="osc", slug="alfa-dos")
    client.force_login(editor)
    response = create(client, **{"participations-TOTAL_FORMS": "1", **partner_row(f"{org_a.name} (ALFA)")})
    assert response.status_code == 400
    assert "Hay varias organizaciones" in response.content.decode()
    assert "clave entre corchetes" in response.content.decode()
    response = create(client, **{"participations-TOTAL_FORMS": "1", **partner_row(f"{org_a.name} (ALFA) [alfa-dos]")})
    assert response.status_code == 302
    assert Participation.objects.get(project__code="FIC-2025-050").organization.slug == "alfa-dos"


def test_a_bracketed_key_counts_only_with_its_own_name(client, editor, org_a, org_b):
    """ "Red Beta [alfa]" is neither: the key in brackets is taken only after the name the list shows for it."""
    client.force_login(editor)
    text = f"{org_b} [{org_a.slug}]"
    response = create(client, **{"participations-TOTAL_FORMS": "1", **partner_row(text)})
    assert response.status_code == 400
    assert f"No encontramos «{text}»" in html.unescape(response.content.decode())
    assert not Project.objects.filter(code="FIC-2025-050").exists()
