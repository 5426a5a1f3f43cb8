from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "medworks.demo"
    label = "demo"
    verbose_name = "Demo data"
