from django.apps import AppConfig


class ExporterConfig(AppConfig):
    name = "governance.exporter"
    label = "exporter"
