from django.contrib import admin

from governance.inventory.models import MLModel, ModelVersion


class ModelVersionInline(admin.TabularInline):
    model = ModelVersion
    extra = 0


@admin.register(MLModel)
class MLModelAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "risk_tier", "stage", "owner", "updated_at"]
    list_filter = ["team", "risk_tier", "stage"]
    search_fields = ["name", "description", "use_case"]
    list_select_related = ["team", "owner"]
    inlines = [ModelVersionInline]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["model", "version", "framework", "artifact_sha256", "created_at"]
    search_fields = ["model__name", "version", "artifact_sha256"]
    list_select_related = ["model"]
