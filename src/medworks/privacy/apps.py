from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class PrivacyConfig(AppConfig):
    name = "medworks.privacy"
    label = "privacy"
    verbose_name = gettext_lazy("Privacy")
