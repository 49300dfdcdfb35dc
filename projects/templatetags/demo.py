from django import template

from ..models import SiteFlag

register = template.Library()


@register.simple_tag
def demo_data():
    """Whether the demo data set is loaded (the flag load_demo writes): base.html then shows its banner."""
    return SiteFlag.demo()
