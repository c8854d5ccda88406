from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "governance.hooks"
    label = "hooks"

    def ready(self) -> None:
        from governance.hooks import schema  # noqa: F401
