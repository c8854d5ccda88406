from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "governance.channels"
    label = "channels"
