from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "medworks.api"
    label = "api"
