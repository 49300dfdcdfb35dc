import os
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone


def pg_env(database):
    """libpq's environment for a Django database settings dict (keeps the password off the command line)."""
    env = dict(os.environ)
    for var, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if database.get(key):
            env[var] = str(database[key])
    return env


class Command(BaseCommand):
    help = "Respalda la base de datos con pg_dump (formato comprimido -Fc)."

    def add_arguments(self, parser):
        parser.add_argument("--output", help="Archivo destino (por omisión backups/ficosec-AAAAMMDD-HHMMSS.dump).")

    def handle(self, *args, **options):
        output = Path(options["output"] or f"backups/ficosec-{timezone.now():%Y%m%d-%H%M%S}.dump")
        output.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["pg_dump", "-Fc", "--no-owner", "-f", str(output)],
            env=pg_env(settings.DATABASES["default"]),
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise CommandError(f"pg_dump falló: {result.stderr.strip()}")
        self.stdout.write(str(output))
