from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Proyectos")

    def ready(self):
        post_migrate.connect(sync_roles, sender=self, dispatch_uid="projects.sync_roles")


def sync_roles(app_config, **kwargs):
    """After every migrate (the test database's too), give the role groups exactly the permissions projects/roles.py
    lists, as Django brings model permissions up to date: migration 0003 froze the roles of its day, and a role that
    gains a permission later needs no new migration."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    from . import roles

    for config in apps.get_app_configs():  # every app's permissions exist before the groups are given them
        create_permissions(config, verbosity=0)
    roles.ensure_roles(Group, Permission)
