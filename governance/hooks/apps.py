from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "governance.hooks"
    label = "hooks"
