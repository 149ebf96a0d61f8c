from django.apps import AppConfig


class SpendConfig(AppConfig):
    name = "spend"

    def ready(self) -> None:
        from budgets.signals import brand_spend_asked, serving_facts_changed
        from spend.receivers import (
            answer_brand_spend_asked,
            reconcile_brands_on_serving_facts_changed,
        )

        serving_facts_changed.connect(
            reconcile_brands_on_serving_facts_changed,
            dispatch_uid="spend.reconcile_brands_on_serving_facts_changed",
        )
        brand_spend_asked.connect(
            answer_brand_spend_asked, dispatch_uid="spend.answer_brand_spend_asked"
        )
