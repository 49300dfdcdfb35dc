"""The partner REST API under /api/v1/.

Permissions are the portal's own: `Project.objects.visible_to(user)` decides what a caller reads,
`Project.objects.reportable_by(user)` where it reports, and `user.has_perm(...)` the rest. An API key is sent as
`Authorization: Api-Key <key>` and acts as its staff user, or as its organization (`ApiKey.acting_user`).

`access` holds authentication, permissions, throttling and the error format; `rendering` the renderers, paging and
sync cursors; `viewsets` the endpoints. This module wires them to URLs.
"""

from csp.decorators import csp_update
from django.shortcuts import render
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from .governance import AwardDecisionViewSet, CallViewSet
from .money import CommitmentViewSet, DisbursementViewSet, FiguresView, ProofViewSet
from .results import PeriodViewSet, ReportingMeasurementViewSet
from .viewsets import (
    AxisViewSet,
    IndicatorViewSet,
    LineViewSet,
    MunicipalityViewSet,
    OrganizationViewSet,
    ParticipationViewSet,
    ProjectViewSet,
    RegionViewSet,
)


def guide(request):
    return render(request, "api/guide.html")


# Swagger UI and Redoc (served from drf-spectacular-sidecar, no CDN) style their widgets inline and Redoc parses the
# schema in a worker: allow exactly that on these two pages; scripts stay 'self' only, as everywhere else.
DOCS_CSP = csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})

router = DefaultRouter()
router.register("axes", AxisViewSet, basename="api-axis")
router.register("lines", LineViewSet, basename="api-line")
router.register("regions", RegionViewSet, basename="api-region")
router.register("municipalities", MunicipalityViewSet, basename="api-municipality")
router.register("organizations", OrganizationViewSet, basename="api-organization")
router.register("projects", ProjectViewSet, basename="api-project")
router.register("participations", ParticipationViewSet, basename="api-participation")
router.register("indicators", IndicatorViewSet, basename="api-indicator")
router.register("measurements", ReportingMeasurementViewSet, basename="api-measurement")
router.register("award-decisions", AwardDecisionViewSet, basename="api-award-decision")  # governance (issue 15)
router.register("calls", CallViewSet, basename="api-call")  # governance (issue 15)
router.register("commitments", CommitmentViewSet, basename="api-commitment")
router.register("disbursements", DisbursementViewSet, basename="api-disbursement")
router.register("proofs", ProofViewSet, basename="api-proof")
router.register("periods", PeriodViewSet, basename="api-period")

urlpatterns = [
    path("guia/", guide, name="api_guide"),
    path("schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("docs/", DOCS_CSP(SpectacularSwaggerSplitView.as_view(url_name="api_schema")), name="api_docs"),
    path("redoc/", DOCS_CSP(SpectacularRedocView.as_view(url_name="api_schema")), name="api_redoc"),
    path("money-figures/", FiguresView.as_view(), name="api-money-figures-list"),
    path("", include(router.urls)),
]
