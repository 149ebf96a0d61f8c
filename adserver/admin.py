"""The admin's pages that no single brand owns.

The scheduler's admin pages (django-celery-beat) and the failed logins'
(django-axes: "Access attempts", where deleting a row unlocks its username
and address) are the agency admins' only.

Beat's periodic tasks run the reconcile for every brand at once: no brand
rule can narrow them, so a staff user who manages some brands does not see
them even when given the models' permissions.
"""

from django.contrib import admin
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse

from budgets.admin_base import agency_admins_only

# django_celery_beat and axes come before this app in INSTALLED_APPS, so their
# admin modules are registered by the time autodiscovery imports this one.
for _model, _model_admin in list(admin.site._registry.items()):
    if _model._meta.app_label in {"django_celery_beat", "axes"}:
        admin.site.unregister(_model)
        admin.site.register(_model, agency_admins_only(type(_model_admin)))


def view_on_site(request: HttpRequest, content_type_id: int, object_id: str) -> HttpResponse:
    """The admin's "view on site" redirect, for rows the person's admin lists only.

    Django's own redirects any staff user to any row's page, so a 404 or a
    redirect would tell them whether another brand's object exists.
    """
    try:
        model = ContentType.objects.get_for_id(content_type_id).model_class()
    except ContentType.DoesNotExist:
        raise Http404("No such content type.") from None
    if model is None or not admin.site.is_registered(model):
        raise Http404("No such object.")
    rows = admin.site.get_model_admin(model).get_queryset(request)
    try:
        if not rows.filter(pk=object_id).exists():
            raise Http404("No such object.")
    except (ValueError, ValidationError):
        raise Http404("No such object.") from None
    return contenttype_views.shortcut(request, content_type_id, object_id)
