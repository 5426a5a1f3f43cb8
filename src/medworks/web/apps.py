from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "medworks.web"
    label = "web"
