from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Axis, Line


@admin.register(Axis)
class AxisAdmin(SimpleHistoryAdmin):
    list_display = ["number", "name", "short_name", "colour"]
    search_fields = ["name", "short_name", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Line)
class LineAdmin(SimpleHistoryAdmin):
    list_display = ["number", "name", "short_name"]
    search_fields = ["name", "short_name", "description"]
    prepopulated_fields = {"slug": ["name"]}

    def has_delete_permission(self, request, obj=None):
        return False  # the strategic framework's lines are kept (projects' history and derived ids name them)
