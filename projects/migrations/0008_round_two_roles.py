"""The roles gain the permissions of the round-two models (the money ledger, governance, results). Frozen here, as
in 0003_roles, so that editing projects/roles.py later never changes what this migration does."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE_PERMISSIONS = {
    "Coordinador": [
        "auth.add_user",
        "auth.change_user",
        "auth.view_user",
        "axes.change_axis",
        "axes.change_line",
        "axes.view_axis",
        "axes.view_line",
        "projects.add_annualreport",
        "projects.add_apikey",
        "projects.add_commitment",
        "projects.add_disbursement",
        "projects.add_expenseproof",
        "projects.add_indicator",
        "projects.add_measurement",
        "projects.add_organization",
        "projects.add_participation",
        "projects.add_project",
        "projects.approve_money",
        "projects.change_annualreport",
        "projects.change_apikey",
        "projects.change_indicator",
        "projects.change_measurement",
        "projects.change_municipality",
        "projects.change_organization",
        "projects.change_participation",
        "projects.change_project",
        "projects.change_region",
        "projects.delete_indicator",
        "projects.delete_measurement",
        "projects.delete_participation",
        "projects.manage_apikey",
        "projects.merge_organization",
        "projects.publish_project",
        "projects.restore_project",
        "projects.view_apikey",
        "projects.view_commitment",
        "projects.view_disbursement",
        "projects.view_expenseproof",
        "projects.view_indicator",
        "projects.view_measurement",
        "projects.view_municipality",
        "projects.view_organization",
        "projects.view_participation",
        "projects.view_project",
        "projects.view_region",
        "projects.view_workflowstep",
    ],
    "Editor": [
        "axes.view_axis",
        "axes.view_line",
        "projects.add_commitment",
        "projects.add_disbursement",
        "projects.add_expenseproof",
        "projects.add_indicator",
        "projects.add_measurement",
        "projects.add_organization",
        "projects.add_participation",
        "projects.add_project",
        "projects.change_indicator",
        "projects.change_measurement",
        "projects.change_organization",
        "projects.change_participation",
        "projects.change_project",
        "projects.delete_indicator",
        "projects.delete_measurement",
        "projects.delete_participation",
        "projects.view_commitment",
        "projects.view_disbursement",
        "projects.view_expenseproof",
        "projects.view_indicator",
        "projects.view_measurement",
        "projects.view_municipality",
        "projects.view_organization",
        "projects.view_participation",
        "projects.view_project",
        "projects.view_region",
        "projects.view_workflowstep",
    ],
    "Socio": [
        "projects.add_expenseproof",
        "projects.add_measurement",
        "projects.change_measurement",
        "projects.view_expenseproof",
        "projects.view_measurement",
    ],
}


def update_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():  # permissions of the models created by the migrations before this one
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    for name, wanted in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        found = []
        for perm in wanted:
            app_label, codename = perm.split(".")
            found += Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        group.permissions.set(found)


class Migration(migrations.Migration):
    dependencies = [("projects", "0007_merge_round_two"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(update_roles, migrations.RunPython.noop)]
