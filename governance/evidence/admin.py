from django.contrib import admin

from governance.evidence.models import Assessment, CheckResult, ScanRun


@admin.register(ScanRun)
class ScanRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "model",
        "version",
        "tool",
        "scan_type",
        "status",
        "count_total",
        "count_new",
        "count_resolved",
        "created_at",
    ]
    list_filter = ["status", "category", "tool"]
    search_fields = ["report_sha256", "commit", "branch", "model__name"]
    list_select_related = ["model", "version"]
    raw_id_fields = ["model", "version", "team", "created_by", "api_token"]


@admin.register(CheckResult)
class CheckResultAdmin(admin.ModelAdmin):
    list_display = ["title", "model", "tool", "metric_name", "metric_value"]
    raw_id_fields = ["scan_run", "model"]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin):
    list_display = ["id", "model", "version", "origin", "mode", "dataset_rows", "assessed_at"]
    list_filter = ["origin", "mode"]
    search_fields = ["artifact_sha256", "dataset_sha256", "model__name"]
    raw_id_fields = ["scan_run", "team", "model", "version"]
