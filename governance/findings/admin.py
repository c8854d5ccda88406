from django.contrib import admin

from governance.findings.models import Finding, FindingEvent


class FindingEventInline(admin.TabularInline):
    model = FindingEvent
    extra = 0
    readonly_fields = [
        "kind",
        "actor",
        "actor_label",
        "from_value",
        "to_value",
        "reason",
        "scan_run",
        "created_at",
    ]
    can_delete = False


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "model",
        "severity",
        "status",
        "category",
        "tool",
        "sla_due",
        "last_seen",
    ]
    list_filter = ["status", "severity", "category", "tool"]
    search_fields = ["title", "vuln_id", "package", "fingerprint"]
    list_select_related = ["model"]
    raw_id_fields = ["model", "version", "first_scan", "last_scan", "assignee", "team"]
    inlines = [FindingEventInline]


@admin.register(FindingEvent)
class FindingEventAdmin(admin.ModelAdmin):
    list_display = [
        "finding",
        "kind",
        "actor",
        "actor_label",
        "from_value",
        "to_value",
        "created_at",
    ]
    list_filter = ["kind"]
    raw_id_fields = ["finding", "scan_run", "actor"]
