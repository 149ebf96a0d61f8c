"""Admin plumbing shared by the apps' admins (imported downward only)."""

from typing import TypeVar

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from budgets.services import DeletionRefused

M = TypeVar("M", bound=Model)


class DeleteThroughServiceAdmin(admin.ModelAdmin[M]):
    """Deletes, one or many, go through the model's delete service.

    A refused deletion (the object has spend, or is in use) is shown as a
    message and leaves the others of a bulk delete to go ahead.
    """

    def delete_through_service(self, pk: int) -> None:
        raise NotImplementedError

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        self.delete_through_service(obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        for pk in queryset.values_list("pk", flat=True):
            try:
                self.delete_through_service(pk)
            except DeletionRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
