from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "medworks.accounts"
    label = "accounts"
