"""The scheduler's admin pages (django-celery-beat) are the agency admins' only.

Beat's periodic tasks run the reconcile for every brand at once: no brand
rule can narrow them, so a staff user who manages some brands does not see
them even when given the models' permissions.
"""

from django.contrib import admin

from budgets.admin_base import agency_admins_only

# django_celery_beat comes before this app in INSTALLED_APPS, so its admin
# modules are registered by the time autodiscovery imports this one.
for _model, _model_admin in list(admin.site._registry.items()):
    if _model._meta.app_label == "django_celery_beat":
        admin.site.unregister(_model)
        admin.site.register(_model, agency_admins_only(type(_model_admin)))
