from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "medworks.notifications"
    label = "notifications"
