from django.contrib.auth import views as auth_views
from django.contrib.sitemaps.views import sitemap
from django.urls import path, re_path, reverse_lazy
from django.views.decorators.http import require_safe

from .sitemaps import SITEMAPS
from .views import directory, money, opendata, public, results, staff, transfer

# --- Public catalogue ----------------------------------------------------------------------------------------
public_urlpatterns = [
    path("", public.home, name="home"),
    path("proyectos/", public.project_list, name="project_list"),
    re_path(r"^proyectos/descarga\.(?P<fmt>csv|json)$", public.project_download, name="project_download"),
    path("proyectos/<slug:slug>/", public.project_detail, name="project_detail"),
    path("ejes/", public.axis_list, name="axis_list"),
    path("ejes/<slug:slug>/", public.axis_detail, name="axis_detail"),
    path("organizaciones/", public.organization_list, name="organization_list"),
    path("organizaciones/<slug:slug>/", public.organization_detail, name="organization_detail"),
    path("municipios/<slug:slug>/", results.municipality_detail, name="municipality_detail"),
    path("evidencia/", results.evidence, name="evidence"),
    path("aviso-de-privacidad/", results.privacy_notice, name="privacy_notice"),
    path("datos-abiertos/", opendata.open_data, name="open_data"),
    path("datos-abiertos/iati-actividades.xml", opendata.iati_activities, name="open_data_iati"),
    path("datos-abiertos/iati-organizacion.xml", opendata.iati_organisation, name="open_data_iati_organisation"),
    path("datos-abiertos/iati/<str:code>.xml", opendata.iati_activity, name="open_data_iati_activity"),
    re_path(r"^datos-abiertos/360giving\.(?P<fmt>json|csv|xlsx)$", opendata.giving, name="open_data_360giving"),
    path("datos-abiertos/datapackage.json", opendata.datapackage, name="open_data_datapackage"),
]

# --- One sitemap and one robots.txt for both languages, outside the /en/ prefix (ficosec/urls.py) -------------
site_urlpatterns = [
    path("sitemap.xml", require_safe(sitemap), {"sitemaps": SITEMAPS}, name="sitemap"),
    path("robots.txt", require_safe(public.robots), name="robots"),
]

# --- Staff workspace (/gestion/) -----------------------------------------------------------------------------
staff_urlpatterns = [
    path("gestion/", staff.dashboard, name="dashboard"),
    path("gestion/proyectos/", staff.project_index, name="project_index"),
    path("gestion/proyectos/nuevo/", staff.project_create, name="project_create"),
    path("gestion/proyectos/importar/", transfer.project_import, name="project_import"),
    re_path(r"^gestion/proyectos/exportar\.(?P<fmt>csv|xlsx)$", transfer.project_export, name="project_export"),
    path("gestion/proyectos/<str:code>/", staff.project_edit, name="project_edit"),
    path("gestion/proyectos/<str:code>/estado/", staff.project_transition, name="project_transition"),
    path("gestion/proyectos/<str:code>/historial/", staff.project_history, name="project_history"),
    path("gestion/proyectos/<str:code>/resultados/", results.project_results, name="project_results"),
    path(
        "gestion/proyectos/<str:code>/historial/<int:history_id>/restaurar/",
        staff.project_restore,
        name="project_restore",
    ),
    path("gestion/organizaciones/", directory.organization_index, name="organization_index"),
    path("gestion/organizaciones/nueva/", directory.organization_create, name="organization_create"),
    path("gestion/organizaciones/<slug:slug>/", directory.organization_edit, name="organization_edit"),
    path("gestion/organizaciones/<slug:slug>/fusionar/", directory.organization_merge, name="organization_merge"),
    path("gestion/personas/", directory.user_index, name="user_index"),
    path("gestion/personas/nueva/", directory.user_create, name="user_create"),
    path("gestion/personas/<int:pk>/", directory.user_edit, name="user_edit"),
    path("gestion/llaves/", directory.apikey_index, name="apikey_index"),
    path("gestion/llaves/<int:pk>/revocar/", directory.apikey_revoke, name="apikey_revoke"),
    path("gestion/entrar/", staff.sign_in, name="login"),
    path("gestion/salir/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "gestion/contrasena/",
        auth_views.PasswordChangeView.as_view(success_url=reverse_lazy("password_change_done")),
        name="password_change",
    ),
    path("gestion/contrasena/cambiada/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("gestion/contrasena/restablecer/", staff.password_reset, name="password_reset"),
    path(
        "gestion/contrasena/restablecer/enviado/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "gestion/contrasena/restablecer/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(success_url=reverse_lazy("password_reset_complete")),
        name="password_reset_confirm",
    ),
    path(
        "gestion/contrasena/restablecida/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

# --- Money: the public accountability page and the ledger workspace (projects/views/money.py) ----------------
money_urlpatterns = [
    path("dinero/", money.money_page, name="money"),
    path("dinero/descarga.csv", money.money_csv, name="money_csv"),
    path("gestion/proyectos/<str:code>/dinero/", money.project_ledger, name="project_ledger"),
    path("gestion/proyectos/<str:code>/dinero/compromiso/", money.commitment_create, name="commitment_create"),
    path("gestion/proyectos/<str:code>/dinero/ministracion/", money.disbursement_create, name="disbursement_create"),
    path("gestion/proyectos/<str:code>/dinero/cfdi/", money.proof_upload, name="proof_upload"),
    path("gestion/dinero/aprobar/<str:kind>/<int:pk>/", money.ledger_approve, name="ledger_approve"),
    path("gestion/dinero/revision/", money.review_queue, name="review_queue"),
    path("gestion/dinero/revision/<int:pk>/", money.proof_review, name="proof_review"),
    path("gestion/dinero/informes/", money.annual_reports, name="annual_reports"),
]

urlpatterns = public_urlpatterns + staff_urlpatterns + money_urlpatterns

# --- Governance and continuity (issue 15) --------------------------------------------------------------------
from .views import governance  # noqa: E402

urlpatterns += [
    path("gobernanza/", governance.governance_public, name="governance_public"),
    re_path(
        r"^gobernanza/(?P<table>decisiones|convocatorias)\.csv$",
        governance.governance_download,
        name="governance_download",
    ),
    path("gestion/gobernanza/", governance.governance_index, name="governance_index"),
    path("gestion/gobernanza/mias/", governance.governance_mine, name="governance_mine"),
    path("gestion/gobernanza/sesiones/nueva/", governance.session_create, name="session_create"),
    path("gestion/gobernanza/sesiones/<int:pk>/", governance.session_edit, name="session_edit"),
    path("gestion/gobernanza/sesiones/<int:pk>/aprobar/", governance.session_approve, name="session_approve"),
    path("gestion/gobernanza/<slug:kind>/nuevo/", governance.governance_capture, name="governance_create"),
    path("gestion/gobernanza/<slug:kind>/<int:pk>/", governance.governance_capture, name="governance_edit"),
    path("gestion/transiciones/", governance.transition_radar, name="transition_radar"),
    path("gestion/transiciones/<slug:slug>/entrega/", governance.handover_file, name="handover_file"),
]
