from django.apps import AppConfig


class ExportsConfig(AppConfig):
    """Evidence out: the CycloneDX ML-BOM with VEX, streamed findings and audit exports."""

    name = "governance.exports"
    label = "exports"
    default_auto_field = "django.db.models.BigAutoField"
