"""The FICOSEC domain, one module per topic: places, organizations, projects and their money (with the editing and
the workflow of a project in modules of their own), indicators, and the workflow record with API keys. The rules of
each model (constraints, validators, queryset predicates and methods) live beside it; forms, serializers, importers
and commands call them rather than restating them."""

from .common import (  # noqa: F401
    CLUNI_PATTERN,
    INEGI_PATTERN,
    PROJECT_CODE_PATTERN,
    RFC_PATTERN,
    SEARCH_CONFIG,
    RichTextField,
    constraint_message,
    months_before,
    sanitize_html,
)
from .editing import StaleVersion  # noqa: F401
from .governance import (  # noqa: F401, E402
    Administration,
    Agreement,
    Application,
    Attendance,
    AwardDecision,
    Call,
    CommitteeMember,
    CommitteeSession,
    ConflictDeclaration,
    Recusal,
)
from .indicators import Indicator, LatestMeasurement, Measurement  # noqa: F401
from .keys import ApiKey, KeyUser, WorkflowStep  # noqa: F401
from .limits import Counter  # noqa: F401
from .money import (  # noqa: F401
    AlreadyCharged,
    AnnualReport,
    Charge,
    Commitment,
    Disbursement,
    ExpenseProof,
    MoneyFact,
    MoneyFigure,
    MoneyProjectCount,
)
from .organizations import Organization, Sector, sector_expression, unique_slug  # noqa: F401
from .places import Municipality, Region  # noqa: F401
from .projects import (  # noqa: F401
    BROAD_SEARCH,
    CatalogueChange,
    Participation,
    Population,
    Project,
    ProjectDocument,
    ProjectVersion,
    is_staff_user,
    leverage,
    money_by_sector,
    own_project_ids,
    partner_organization_ids,
    search_prefixes,
)
from .results import (  # noqa: F401
    AT_RISK,
    NO_REPORT,
    OFF_TRACK,
    ON_TRACK,
    STATUS_LABELS,
    BreakdownPart,
    Evaluation,
    Period,
    breakdown_errors,
    expected_progress,
    period_of,
    progress_status,
    progress_status_counts,
    set_breakdown,
)
from .site import SiteFlag  # noqa: F401
from .withdrawals import Withdrawal  # noqa: F401
