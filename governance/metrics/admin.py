from django.contrib import admin

from governance.metrics.models import PostureDay, PostureSnapshot


@admin.register(PostureSnapshot)
class PostureSnapshotAdmin(admin.ModelAdmin):
    list_display = ("day", "team", "model", "severity", "category", "open_count", "overdue_count")
    list_filter = ("day", "severity", "category")
    list_select_related = ("team", "model")


@admin.register(PostureDay)
class PostureDayAdmin(admin.ModelAdmin):
    list_display = ("day", "taken_at")
