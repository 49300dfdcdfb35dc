"""The portal's roles, as Django groups with model permissions: the one permission vocabulary that pages, the API
and API keys all ask (user.has_perm). Created idempotently by a data migration and by `load_demo`."""

EDITOR = "Editor"
COORDINATOR = "Coordinador"
PARTNER = "Socio"

_EDITOR_PERMISSIONS = [
    "projects.view_project",
    "projects.add_project",
    "projects.change_project",
    "projects.view_participation",
    "projects.add_participation",
    "projects.change_participation",
    "projects.delete_participation",
    "projects.view_indicator",
    "projects.add_indicator",
    "projects.change_indicator",
    "projects.delete_indicator",
    "projects.view_measurement",
    "projects.add_measurement",
    "projects.change_measurement",
    "projects.delete_measurement",
    "projects.view_organization",
    "projects.add_organization",
    "projects.change_organization",
    "projects.view_workflowstep",
    "projects.view_region",
    "projects.view_municipality",
    "axes.view_axis",
    "axes.view_line",
    # The ledger (projects/models/money.py): staff enter it, coordinators approve it.
    "projects.view_commitment",
    "projects.add_commitment",
    "projects.view_disbursement",
    "projects.add_disbursement",
    "projects.view_expenseproof",
    "projects.add_expenseproof",
]

ROLE_PERMISSIONS = {
    EDITOR: _EDITOR_PERMISSIONS,
    COORDINATOR: _EDITOR_PERMISSIONS
    + [
        "projects.publish_project",
        "projects.restore_project",
        "projects.merge_organization",
        "projects.manage_apikey",
        "projects.view_apikey",
        "projects.add_apikey",
        "projects.change_apikey",
        "projects.change_region",
        "projects.change_municipality",
        "axes.change_axis",
        "axes.change_line",
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "projects.approve_money",
        "projects.add_annualreport",
        "projects.change_annualreport",
    ],
    # Members of a partner organization: they see their organization's projects and report their progress.
    PARTNER: ["projects.view_measurement", "projects.add_measurement", "projects.change_measurement"]
    + ["projects.view_expenseproof", "projects.add_expenseproof"],  # they prove the expenses of their own projects
}


def ensure_roles(Group, Permission):
    """Create or update the role groups so that each has exactly its listed permissions."""
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if permission:  # None while an early migration runs before the model exists; a later one adds it
                wanted.append(permission)
        group.permissions.set(wanted)
