from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "governance.evidence"
    label = "evidence"
    verbose_name = "Evidence (scan runs and what they looked at)"
