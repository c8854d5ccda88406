from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "governance.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Registers the API token scheme with drf-spectacular (import side effect by design).
        from governance.accounts import schema  # noqa: F401
