from django.apps import AppConfig


class NetworkConfig(AppConfig):
    name = "medworks.network"
    label = "network"
