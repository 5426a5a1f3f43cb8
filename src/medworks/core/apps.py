from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "medworks.core"
    label = "core"
