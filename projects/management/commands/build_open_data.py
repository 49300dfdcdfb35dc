from django.core.management.base import BaseCommand

from projects.opendata import files


class Command(BaseCommand):
    help = (
        "Construye los archivos de datos abiertos (IATI, 360Giving) de los datos actuales y sus sumas SHA-256. "
        "Con muchos proyectos, ejecútelo tras publicar (p. ej. con cron): las descargas se sirven entonces del disco."
    )

    def handle(self, *args, **options):
        stamp = files.current_stamp()
        summary = files.summary(stamp)
        for open_file in files.FILES:
            self.stdout.write(f"{open_file.url}  sha256:{summary['sha256'][open_file.key]}")
        self.stdout.write(f"{summary['counts']['projects']} proyectos, {summary['counts']['grants']} donativos.")
