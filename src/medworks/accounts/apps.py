from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "medworks.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Each sign-in notes in its session whether it owes a second factor (two_factor.py).
        from .two_factor import connect_signals

        connect_signals()
