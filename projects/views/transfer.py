"""Bulk import and export of projects in the workspace: upload, a dry-run preview with each row's errors, then
confirm; the confirmed import is one transaction. The uploaded file waits in the session between the two steps."""

import base64
import hashlib

import tablib
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from ..forms import ImportForm
from ..models import Project
from ..resources import ProjectResource, run_import

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def load_dataset(content, fmt):
    """The rows of an uploaded file, or ValueError with a Spanish reason."""
    try:
        if fmt == "csv":
            return tablib.Dataset().load(content.decode("utf-8-sig"), format="csv")
        return tablib.Dataset().load(content, format="xlsx")
    except UnicodeDecodeError as error:
        raise ValueError(_("El CSV debe estar en UTF-8.")) from error
    except Exception as error:  # tablib and openpyxl raise many kinds for a damaged file
        raise ValueError(_("No se pudo leer el archivo: ¿está dañado o es de otro formato?")) from error


@login_required
@permission_required(["projects.add_project", "projects.change_project"], raise_exception=True)
def project_import(request):
    """Step 1 (POST a file): dry run and preview. Step 2 (POST confirm): the same file, for real."""
    form, result, status = ImportForm(), None, 200
    pending = request.session.get("project_import")
    if request.method == "POST" and "confirm" in request.POST:
        if not pending or request.POST.get("digest") != pending["digest"]:
            messages.error(request, _("La vista previa expiró o cambió: suba el archivo de nuevo."))
            return redirect("project_import")
        dataset = load_dataset(base64.b64decode(pending["content"]), pending["format"])
        result = run_import(dataset, request.user, dry_run=False)
        if not (result.has_errors() or result.has_validation_errors()):
            del request.session["project_import"]
            totals = result.totals
            messages.success(
                request,
                _("Importación terminada: %(new)s nuevos, %(update)s actualizados, %(skip)s sin cambios.")
                % {"new": totals["new"], "update": totals["update"], "skip": totals["skip"]},
            )
            return redirect("project_index")
        status = 400
    elif request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            upload = form.cleaned_data["file"]
            content, fmt = upload.read(), upload.name.rsplit(".", 1)[-1].lower()
            try:
                result = run_import(load_dataset(content, fmt), request.user, dry_run=True)
            except ValueError as error:
                form.add_error("file", str(error))
            else:
                if not (result.has_errors() or result.has_validation_errors()):
                    status = 200
                    request.session["project_import"] = pending = {
                        "name": upload.name,
                        "format": fmt,
                        "content": base64.b64encode(content).decode(),
                        "digest": hashlib.sha256(content).hexdigest(),
                    }
    return render(
        request,
        "projects/staff/project_import.html",
        {
            "form": form,
            "result": result,
            "pending": pending if result and status == 200 else None,
            "columns": ProjectResource().get_export_headers(),
        },
        status=status,
    )


@login_required
@permission_required("projects.view_project", raise_exception=True)
@require_GET
def project_export(request, fmt):
    """Every project the person may see, in the import format (internal notes included: staff only)."""
    dataset = ProjectResource().export(
        ProjectResource()
        .get_queryset()
        .filter(pk__in=Project.objects.visible_to(request.user).values("pk"))
        .order_by("code")
    )
    response = HttpResponse(dataset.export(fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="proyectos-ficosec-{timezone.localdate():%Y-%m-%d}.{fmt}"'
    return response
