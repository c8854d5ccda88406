from django.apps import AppConfig


class RuntimeConfig(AppConfig):
    name = "governance.runtime"
    label = "runtime"
    verbose_name = "Post-deployment: deployments and what production sees"
