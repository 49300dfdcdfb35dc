"""Forms of the staff workspace."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from ficosec import throttle


class SignInForm(AuthenticationForm):
    """Django's sign-in form, locking an account+address for a while after repeated failures."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Usuario o contraseña incorrectos. Tras %(limit)s intentos fallidos la cuenta se bloquea unos minutos."),
        "locked": _("Demasiados intentos fallidos. Espere %(minutes)s minuto(s) e intente de nuevo."),
    }

    locked = False

    def clean(self):
        ident = f"{(self.data.get('username') or '').strip().lower()}|{throttle.client_ip(self.request)}"
        wait = throttle.locked_for("login", ident)
        if wait:
            self.locked = True
            raise ValidationError(self.error_messages["locked"], code="locked", params={"minutes": -(-wait // 60)})
        try:
            cleaned = super().clean()
        except ValidationError:
            throttle.fail("login", ident, settings.LOGIN_ATTEMPTS, settings.LOGIN_LOCK_SECONDS)
            raise
        throttle.clear("login", ident)
        return cleaned

    def get_invalid_login_error(self):
        return ValidationError(self.error_messages["invalid_login"], code="invalid_login", params={"limit": settings.LOGIN_ATTEMPTS})
