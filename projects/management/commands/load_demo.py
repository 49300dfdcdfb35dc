from django.core.management.base import BaseCommand, CommandError

from projects import demo
from projects.models import Organization, Project


class Command(BaseCommand):
    help = "Carga los datos de DEMOSTRACIÓN (idempotente: una segunda ejecución no cambia nada)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Cargar aunque DEBUG esté apagado (nunca en producción)."
        )

    def handle(self, *args, **options):
        try:
            changes = demo.load(force=options["force"])
        except RuntimeError as error:
            raise CommandError(f"No se cargaron datos de demostración: {error}.") from error
        self.stdout.write(self.style.WARNING("DATOS DE DEMOSTRACIÓN: no son información oficial de FICOSEC."))
        self.stdout.write(
            f"{Project.objects.count()} proyectos y {Organization.objects.count()} organizaciones; "
            f"{changes} filas escritas en esta ejecución."
        )
        self.stdout.write(f"Usuarios locales: editor, coordinador, socio, admin (contraseña {demo.DEMO_PASSWORD}).")
