from django.contrib.auth.management import create_permissions
from django.db import migrations

# The roles as they were when this migration was written: frozen here, so that editing projects/roles.py later never
# changes what this old migration does (load_demo and later data migrations bring the groups up to date).
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
]

ROLE_PERMISSIONS = {
    "Editor": _EDITOR_PERMISSIONS,
    "Coordinador": _EDITOR_PERMISSIONS
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
    ],
    "Socio": ["projects.view_measurement", "projects.add_measurement", "projects.change_measurement"],
}


def ensure_roles(Group, Permission):
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; create them now so the groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    ensure_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0002_seed_geography"),
        ("axes", "0002_seed_axes_and_lines"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
