"""The published files: one list says what each is, how it is made and where it is downloaded.

Every file is a function of the data at a moment, named by `figures.stamp()` (the last change to any project): the
same stamp gives the same bytes. So checksums are computed once per stamp and cached, and the flattened 360Giving
forms (which flattentool writes to disk) are kept in a folder per stamp until a project changes. Building the files
of a stamp (`summary`, run by `manage.py build_open_data`) records their checksums and counts in the stamp's
manifest; the data page only reads that manifest (`built_summary`), never builds a file.
"""

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.urls import reverse

from .. import exports, figures
from ..models import Organization, Project
from . import giving360, iati, sources


def cache_root():
    """Where built files are kept: OPEN_DATA_DIR, one folder per database (test runs in parallel never meet)."""
    return Path(settings.OPEN_DATA_DIR) / connection.settings_dict["NAME"]


def catalogue_projects():
    """The catalogue download without filters, in the catalogue's default order ("recientes")."""
    return Project.objects.published().order_by("-published_at", "-pk")


def stamp_folder(stamp):
    """The folder of the files of this stamp; the folders of older stamps are removed (never served again)."""
    folder = cache_root() / str(stamp).replace(".", "_")
    if not folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
        for stale in cache_root().iterdir():
            if stale != folder:
                shutil.rmtree(stale, ignore_errors=True)
    return folder


def write_atomically(path, chunks):
    """Write chunks to `path` through a private temporary file (two workers may build at once); the SHA-256."""
    hasher = hashlib.sha256()
    with tempfile.NamedTemporaryFile("wb", dir=path.parent, suffix=".partial", delete=False) as f:
        for chunk in chunks:
            data = as_bytes(chunk)
            hasher.update(data)
            f.write(data)
    Path(f.name).replace(path)
    return hasher.hexdigest()


def flattened_path(stamp, fmt):
    """The flattened 360Giving file for this stamp ("csv" or "xlsx"), made on first use."""
    path = stamp_folder(stamp) / f"360giving.{fmt}"
    if not path.exists():
        write_atomically(path, [giving360.flattened(fmt)])
    return path


@dataclass(frozen=True)
class OpenFile:
    key: str
    title: str
    standard: str
    media_type: str
    url_name: str
    url_args: tuple = ()

    @property
    def url(self):
        return reverse(self.url_name, args=self.url_args)

    @property
    def filename(self):
        return self.url.rsplit("/", 1)[-1]

    def chunks(self, stamp):
        """The file's content as text or bytes chunks."""
        if self.key == "catalogue-csv":
            return exports.csv_lines(catalogue_projects(), exports.absolute_url)
        if self.key == "catalogue-json":
            return exports.json_chunks(catalogue_projects(), exports.absolute_url)
        if self.key == "iati-activities":
            return iati.activities_chunks(stamp)
        if self.key == "iati-organisation":
            return iati.organisation_chunks(stamp)
        if self.key == "360giving-json":
            return giving360.json_chunks()
        if self.key in ("360giving-csv", "360giving-xlsx"):
            return iter([flattened_path(stamp, self.key.rsplit("-", 1)[1]).read_bytes()])
        if self.key == "datapackage":
            return iter([json.dumps(datapackage(stamp), ensure_ascii=False, indent=2)])
        raise KeyError(self.key)


FILES = [
    OpenFile(
        "catalogue-csv",
        "Catálogo de proyectos (CSV)",
        "CSV (RFC 4180), UTF-8",
        "text/csv",
        "project_download",
        ("csv",),
    ),
    OpenFile(
        "catalogue-json", "Catálogo de proyectos (JSON)", "JSON", "application/json", "project_download", ("json",)
    ),
    OpenFile("iati-activities", "Actividades IATI", "IATI 2.03", "application/xml", "open_data_iati"),
    OpenFile(
        "iati-organisation",
        "Organización IATI (FICOSEC)",
        "IATI 2.03",
        "application/xml",
        "open_data_iati_organisation",
    ),
    OpenFile(
        "360giving-json",
        "Donativos 360Giving (JSON)",
        "360Giving 1.4.3",
        "application/json",
        "open_data_360giving",
        ("json",),
    ),
    OpenFile(
        "360giving-csv",
        "Donativos 360Giving (CSV, hoja principal)",
        "360Giving 1.4.3",
        "text/csv",
        "open_data_360giving",
        ("csv",),
    ),
    OpenFile(
        "360giving-xlsx",
        "Donativos 360Giving (XLSX, todas las hojas)",
        "360Giving 1.4.3",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "open_data_360giving",
        ("xlsx",),
    ),
    OpenFile(
        "datapackage",
        "Descripción de los CSV (datapackage.json)",
        "Frictionless Data Package",
        "application/json",
        "open_data_datapackage",
    ),
]
BY_KEY = {f.key: f for f in FILES}


def as_bytes(chunk):
    return chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")


# Files kept on disk once built for a stamp, and served from there: at 100,000 projects they take minutes to make,
# longer than a worker may spend on one request (`manage.py build_open_data` builds them ahead).
KEPT = {"iati-activities", "360giving-json", "360giving-csv", "360giving-xlsx"}


def built_path(open_file, stamp):
    """The file as built on disk for this stamp, or None."""
    if open_file.key in ("360giving-csv", "360giving-xlsx"):
        return flattened_path(stamp, open_file.key.rsplit("-", 1)[1])
    path = cache_root() / str(stamp).replace(".", "_") / open_file.filename
    return path if open_file.key in KEPT and path.exists() else None


def sha256(open_file, stamp):
    """The file's SHA-256 (cached per stamp). Kept files are built on disk on the way."""
    key = f"opendata-sha256:{stamp}:{open_file.key}"
    digest = cache.get(key)
    if digest is None:
        if open_file.key in KEPT:
            path = built_path(open_file, stamp) or stamp_folder(stamp) / open_file.filename
            digest = (
                hashlib.sha256(path.read_bytes()).hexdigest()
                if path.exists()
                else write_atomically(path, open_file.chunks(stamp))
            )
        else:
            hasher = hashlib.sha256()
            for chunk in open_file.chunks(stamp):
                hasher.update(as_bytes(chunk))
            digest = hasher.hexdigest()
        cache.set(key, digest, 24 * 60 * 60)
    return digest


def counts(stamp):
    """Projects, organizations and grants published. Grants are counted in the built 360Giving file (one grant per
    line), so that the count is what the file holds and costs no second pass over the projects."""
    published = Project.objects.published()
    sha256(BY_KEY["360giving-json"], stamp)
    with built_path(BY_KEY["360giving-json"], stamp).open("rb") as f:
        grants = sum(1 for _line in f) - 2  # less the opening and closing lines
    return {
        "projects": published.count(),
        "organizations": Organization.objects.filter(participations__project__in=published.values("pk")).aggregate(
            n=Count("pk", distinct=True)
        )["n"],
        "grants": grants,
    }


MANIFEST = "manifest.json"


def manifest_path(stamp):
    return cache_root() / str(stamp).replace(".", "_") / MANIFEST


def summary(stamp):
    """Build every file of this stamp (kept ones on disk) with its SHA-256 and the counts, and record them in the
    stamp's manifest, which the data page reads (`built_summary`). Minutes at 100,000 projects: `build_open_data`."""
    data = {"sha256": {f.key: sha256(f, stamp) for f in FILES}}
    data["counts"] = counts(stamp)
    path = manifest_path(stamp)
    stamp_folder(stamp)
    write_atomically(path, [json.dumps(data)])
    return data


def built_summary(stamp):
    """The checksums and counts recorded when the files of this stamp were built, or None when they are not built
    yet (or a project changed since): read from disk, never computed, so the data page stays fast at any size."""
    try:
        return json.loads(manifest_path(stamp).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


# --- datapackage.json --------------------------------------------------------------------------------------------


def csv_header(open_file, stamp):
    """The header row of a CSV file, as it is downloaded."""
    import csv
    import io

    first = b""
    for chunk in open_file.chunks(stamp):
        first += as_bytes(chunk)
        if b"\n" in first:
            break
    text = first.decode("utf-8-sig").split("\n", 1)[0]
    return next(csv.reader(io.StringIO(text)))


def datapackage(stamp):
    """A Frictionless Data Package describing the CSV files (fields named as in each file's header)."""
    from . import dictionary

    licence = settings.OPEN_DATA_LICENCE
    catalogue = BY_KEY["catalogue-csv"]
    grants = BY_KEY["360giving-csv"]
    return {
        "name": "ficosec-proyectos-prevencion",
        "title": "Proyectos de prevención financiados por FICOSEC",
        "homepage": sources.absolute(reverse("open_data")),
        "licenses": [{"name": licence["name"], "title": licence["title"], "path": licence["url"]}],
        "resources": [
            {
                "name": "catalogo-proyectos",
                "path": sources.absolute(catalogue.url),
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig",
                "schema": {
                    "fields": [
                        {"name": row["column"], "type": row["type"], "description": row["description"]}
                        for row in dictionary.catalogue_columns()
                    ]
                },
            },
            {
                "name": "donativos-360giving",
                "path": sources.absolute(grants.url),
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": [{"name": name, "type": "string"} for name in csv_header(grants, stamp)]},
            },
        ],
    }


def current_stamp():
    return figures.stamp()
