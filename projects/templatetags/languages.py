"""The page in each language: its hreflang alternates, which the language switch links to as well."""

from django import template
from django.conf import settings
from django.urls import translate_url

register = template.Library()

HREFLANG = {"es-mx": "es-MX", "en": "en"}


@register.simple_tag(takes_context=True)
def alternates(context):
    """[(code, hreflang, absolute URL)] of this page (its query string kept) in each language, Spanish first;
    empty for a page that lives outside the language prefix (the API guide, error pages)."""
    request = context.get("request")
    if request is None:
        return []
    path = request.get_full_path()
    urls = [(code, HREFLANG.get(code, code), translate_url(path, code)) for code, _name in settings.LANGUAGES]
    if len({url for _code, _lang, url in urls}) < len(urls):
        return []
    return [(code, lang, request.build_absolute_uri(url)) for code, lang, url in urls]
