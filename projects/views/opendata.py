"""The open-data page and its downloads: IATI 2.03 and 360Giving 1.4.3 files of the published projects.

Everything here is public and shows published projects only (`sources.published_projects`); internal notes,
conflict-of-interest notes and drafts never reach a file. The big files are streamed.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from .. import figures
from ..opendata import dictionary, files, giving360, iati, sources


def download(open_file, stamp):
    path = files.built_path(open_file, stamp)
    if path:
        response = FileResponse(path.open("rb"), content_type=open_file.media_type)
    else:
        response = StreamingHttpResponse(open_file.chunks(stamp), content_type=f"{open_file.media_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{open_file.filename}"'
    return response


# The 360Giving fields of the dictionary are those these many grants use (the same for every grant but optional ones;
# at 100,000 projects the first 10 use the same fields as the first 2,000, and each one costs the page ~1.5 ms).
DICTIONARY_SAMPLE = 10


@require_GET
def open_data(request):
    """The files with the checksums and counts of their last build for the current data (`files.built_summary`):
    never built on a request; before `build_open_data` has run for this data the page says they are to come."""
    stamp = figures.stamp()
    summary = files.built_summary(stamp) or {"sha256": {}, "counts": None}
    sample = list(giving360.grants(sources.published_projects()[:DICTIONARY_SAMPLE]))
    rows = [{"file": f, "sha256": summary["sha256"].get(f.key)} for f in files.FILES]
    return render(
        request,
        "projects/public/open_data.html",
        {
            "rows": rows,
            "counts": summary["counts"],
            "licence": settings.OPEN_DATA_LICENCE,
            "changed": datetime.fromtimestamp(int(stamp), tz=UTC) if stamp else None,
            "publisher": sources.publisher(),
            "grant_prefix": settings.GRANT_ID_PREFIX,
            "catalogue_columns": dictionary.catalogue_columns(),
            "giving_fields": dictionary.giving_fields(dictionary.used_paths(sample)),
            "iati_elements": dictionary.iati_elements(),
            "page_url": sources.absolute(request.path),
        },
    )


@require_GET
def iati_activities(request):
    return download(files.BY_KEY["iati-activities"], figures.stamp())


@require_GET
def iati_organisation(request):
    return download(files.BY_KEY["iati-organisation"], figures.stamp())


@require_GET
def iati_activity(request, code):
    """One published project as its own IATI activity file."""
    projects = sources.published_projects().filter(code=code)
    if not projects.exists():
        raise Http404(_("No hay un proyecto publicado con esa clave."))
    response = StreamingHttpResponse(
        iati.activities_chunks(figures.stamp(), projects), content_type="application/xml; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="iati-{code}.xml"'
    return response


@require_GET
def giving(request, fmt):
    return download(files.BY_KEY[f"360giving-{fmt}"], figures.stamp())


@require_GET
def datapackage(request):
    open_file = files.BY_KEY["datapackage"]
    return HttpResponse(
        b"".join(files.as_bytes(c) for c in open_file.chunks(figures.stamp())),
        content_type="application/json; charset=utf-8",
    )
