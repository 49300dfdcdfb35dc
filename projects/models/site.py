"""Switches about the site itself, written by commands rather than by people. Today only one: `demo`, on while the
demo data set is loaded (projects/demo.py), so that every page, download and API list says so."""

from django.core.cache import cache
from django.db import connection, models
from django.utils.translation import gettext_lazy as _


class SiteFlag(models.Model):
    DEMO = "demo"

    name = models.SlugField(_("nombre"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("creado"), auto_now_add=True)

    class Meta:
        verbose_name = _("indicador del sitio")
        verbose_name_plural = _("indicadores del sitio")

    def __str__(self):
        return self.name

    @staticmethod
    def cache_key(name):
        # the database's name too: several databases may share one Redis
        return f"site-flag:{connection.settings_dict['NAME']}:{name}"

    @classmethod
    def is_on(cls, name):
        """Whether the flag is set: read once per cache lifetime (the pages showing it must not each ask)."""
        key = cls.cache_key(name)
        value = cache.get(key)
        if value is None:
            value = cls.objects.filter(name=name).exists()
            cache.set(key, value, 300)
        return value

    @classmethod
    def turn_on(cls, name):
        """Set the flag; returns whether it was off before (a change)."""
        _flag, created = cls.objects.get_or_create(name=name)
        cache.set(cls.cache_key(name), True, 300)
        return created

    @classmethod
    def turn_off(cls, name):
        cls.objects.filter(name=name).delete()
        cache.set(cls.cache_key(name), False, 300)

    @classmethod
    def demo(cls):
        return cls.is_on(cls.DEMO)
