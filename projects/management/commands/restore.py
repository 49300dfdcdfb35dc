import subprocess
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ... import facets
from .backup import pg_env


class Command(BaseCommand):
    help = "Restaura un respaldo de pg_dump en la base configurada o en --database-url (reemplaza su contenido)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--database-url", help="Base destino; por omisión, la configurada.")
        parser.add_argument("--yes", action="store_true", help="Confirmar que se reemplaza la base configurada.")

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No existe el respaldo {path}.")
        if options["database_url"]:
            target = dj_database_url.parse(options["database_url"])
        else:
            if not options["yes"]:
                raise CommandError("Esto reemplaza la base de datos configurada: repita con --yes para confirmar.")
            target = settings.DATABASES["default"]
        # Extensions (unaccent, pg_trgm) belong to the server's superuser and are provisioned by the set-up
        # (scripts/bootstrap.sh, the first migration): restore everything but them.
        listing = subprocess.run(["pg_restore", "-l", str(path)], capture_output=True, text=True)
        if listing.returncode:
            raise CommandError(f"pg_restore no pudo leer el respaldo: {listing.stderr.strip()}")
        entries = path.with_suffix(".list")
        entries.write_text("\n".join(line for line in listing.stdout.splitlines() if " EXTENSION " not in line))
        result = subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", "-L", str(entries), "-d", target["NAME"], str(path)],
            env=pg_env(target),
            capture_output=True,
            text=True,
        )
        entries.unlink()
        if result.returncode:
            raise CommandError(f"pg_restore falló: {result.stderr.strip()}")
        # pg_restore loads the rows before it creates the triggers: the change log must say the catalogue was
        # replaced, so that every running process builds its counting index afresh.
        subprocess.run(
            ["psql", "-v", "ON_ERROR_STOP=1", "-q", "-d", target["NAME"], "-c", facets.REPLACED],
            env=pg_env(target),
            check=True,
            capture_output=True,
        )
        self.stdout.write(f"Restaurado {path} en {target['NAME']}.")
