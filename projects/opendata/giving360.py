"""360Giving 1.4.3: FICOSEC's grants as a JSON package (`{"grants": [...]}`), streamed, and its flattened forms.

One grant per award (`sources.awards_of`). The CSV and XLSX forms are the ones the standard defines, produced by
the standard's own tool, flattentool, from the JSON and the vendored package schema.
"""

import json
import tempfile
import warnings
from pathlib import Path

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from . import sources

STANDARDS = Path(__file__).parent / "standards" / "360giving-1.4.3"
PACKAGE_SCHEMA = STANDARDS / "360-giving-package-schema.json"
GRANT_SCHEMA = STANDARDS / "360-giving-schema.json"
VERSION = "1.4"


def grant_id(award):
    """`<GRANT_ID_PREFIX>-<project code>-<n>`: unique per award, stable across downloads."""
    return f"{settings.GRANT_ID_PREFIX}-{award.project.code}-{award.number}"


def organization(org):
    data = {"id": sources.organization_identifier(org), "name": org.name}
    if org.acronym:
        data["alternateName"] = org.acronym
    if org.cluni:
        # An additional field (the standard allows them): the federal register of civil-society organizations.
        data["cluni"] = org.cluni
    if org.website:
        data["url"] = org.website
    data["addressCountry"] = "MX"
    return data


def grant(award, publisher):
    project = award.project
    data = {
        "id": grant_id(award),
        "title": project.title,
        "description": project.summary or project.title,
        "currency": "MXN",
        "amountAwarded": float(award.amount),
        "awardDate": award.date.isoformat(),
    }
    if project.start_date and project.end_date:
        data["plannedDates"] = [{"startDate": project.start_date.isoformat(), "endDate": project.end_date.isoformat()}]
    data["url"] = sources.absolute(project.get_absolute_url())
    data["recipientOrganization"] = [organization(award.recipient)]
    data["fundingOrganization"] = [{"id": publisher.identifier, "name": publisher.name}]
    data["grantProgramme"] = [{"code": code, "title": title} for code, title in sources.programme_of(project)]
    data["fromOpenCall"] = "Yes" if award.from_open_call else "No"
    locations = []
    for municipality, point in sources.locations_of(project):
        location = {
            "name": f"{municipality.name}, Chihuahua",
            "countryCode": "MX",
            "geoCode": municipality.inegi_code,
            "description": "Municipio; geoCode es la clave INEGI (Marco Geoestadístico)",
        }
        if point:
            location["latitude"], location["longitude"] = float(point[0]), float(point[1])
        locations.append(location)
    if locations:
        data["beneficiaryLocation"] = locations
    data["dateModified"] = project.updated_at.isoformat(timespec="seconds")
    data["dataSource"] = sources.absolute(reverse("open_data"))
    return data


def grants(projects=None):
    publisher = sources.publisher()
    with translation.override("es-mx"):
        for project in sources.each_project(sources.GRANT_FACTS, projects):
            for award in sources.awards_of(project):
                yield grant(award, publisher)


def json_chunks(projects=None):
    """The package as text chunks: one grant at a time (flat memory at any number of projects)."""
    yield '{"version": "%s", "grants": [\n' % VERSION
    for n, data in enumerate(grants(projects)):
        yield ("," if n else "") + json.dumps(data, ensure_ascii=False) + "\n"
    yield "]}\n"


def flatten(json_path, output_name, output_format):
    """Run flattentool's flatten on a package file: `output_format` "csv" (a folder with grants.csv) or "xlsx"."""
    from flattentool import flatten as flattentool_flatten
    from flattentool.exceptions import FlattenToolWarning

    with warnings.catch_warnings():
        # The standard's transaction fields have no titles, so flattentool skips them (the portal fills none).
        warnings.simplefilter("ignore", FlattenToolWarning)
        flattentool_flatten(
            str(json_path),
            output_name=str(output_name),
            output_format=output_format,
            schema=str(GRANT_SCHEMA),
            root_list_path="grants",
            root_id="",
            main_sheet_name="grants",
            use_titles=True,
            rollup=True,
        )


def flattened(output_format):
    """The flattened form as bytes: "csv" (grants.csv, the main sheet) or "xlsx" (every sheet)."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "grants.json"
        with source.open("w", encoding="utf-8") as f:
            for chunk in json_chunks():
                f.write(chunk)
        if output_format == "xlsx":
            target = Path(folder) / "grants.xlsx"
            flatten(source, target, "xlsx")
            return target.read_bytes()
        target = Path(folder) / "flat"
        flatten(source, target, "csv")
        return (target / "grants.csv").read_bytes()
