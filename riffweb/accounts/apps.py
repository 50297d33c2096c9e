from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "riffweb.accounts"
    verbose_name = "Accounts"
