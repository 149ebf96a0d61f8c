from django.apps import AppConfig


class SpendConfig(AppConfig):
    name = "spend"

    def ready(self) -> None:
        from budgets.signals import serving_facts_changed
        from spend.receivers import reconcile_brands_on_serving_facts_changed

        serving_facts_changed.connect(
            reconcile_brands_on_serving_facts_changed,
            dispatch_uid="spend.reconcile_brands_on_serving_facts_changed",
        )
