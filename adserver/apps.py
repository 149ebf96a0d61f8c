from django.apps import AppConfig


class AdserverConfig(AppConfig):
    name = "adserver"
    verbose_name = "Ad budget server"
