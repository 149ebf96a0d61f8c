"""Who may do what through the API: the brand roles of `budgets.access`, nothing else.

Reading needs a login; each view narrows its rows to the brands the person
may see, so an object of any other brand is a 404, as an unknown id is.
Writing to an object (PATCH, DELETE, `pause/`, `resume/`) needs the manager
role on its brand: a 403 that changes nothing. Creating under a brand is
checked by the view once the body names the brand (see
`ServiceModelViewSet.perform_create`); the few actions for agency admins
only (creating and deleting brands, their members) are listed by the view.
No model permission (`add_…`, `change_…`) is asked for any more.

A spend feed (`Authorization: Api-Key`, `request.auth.is_spend_feed`) is no
person: `SpendFeedScope`, the first permission of every view, lets it call
the actions a view lists in `spend_feed_actions` (recording spend) and
refuses everything else with a 403.
"""

from typing import TYPE_CHECKING, Any, Protocol

from rest_framework import permissions

from budgets.access import manages_all_brands, may_manage_brand

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views loads
    from rest_framework.request import Request
    from rest_framework.views import APIView

NEEDS_MANAGER = "This needs the manager role on the brand."
NEEDS_AGENCY_ADMIN = "Only agency admins may do this."
SPEND_FEEDS_POST_SPEND_ONLY = (
    "A spend feed may only record spend: POST /api/spend/ and POST /api/spend/batch/."
)


def is_spend_feed(request: "Request") -> bool:
    return getattr(request.auth, "is_spend_feed", False) is True


class SpendFeedScope(permissions.BasePermission):
    """A spend feed's key opens the view's `spend_feed_actions` and nothing else."""

    message = SPEND_FEEDS_POST_SPEND_ONLY

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        if not is_spend_feed(request):
            return True
        actions: frozenset[str] = getattr(view, "spend_feed_actions", frozenset())
        return request.method == "POST" and getattr(view, "action", None) in actions


class BrandScoped(Protocol):
    agency_admin_actions: frozenset[str]

    def brand_id_of(self, obj: Any) -> int: ...


def _agency_admin_action(view: "APIView") -> bool:
    actions: frozenset[str] = getattr(view, "agency_admin_actions", frozenset())
    return getattr(view, "action", None) in actions


class BrandRole(permissions.IsAuthenticated):
    """A login to read; the manager role on the object's brand to change it."""

    message = NEEDS_MANAGER

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        if not super().has_permission(request, view):
            return False
        # Creating a brand has no object to look up first: refuse it here.
        if getattr(view, "action", None) == "create" and _agency_admin_action(view):
            self.message = NEEDS_AGENCY_ADMIN
            return manages_all_brands(request.user)
        return True

    def has_object_permission(self, request: "Request", view: "APIView", obj: Any) -> bool:
        # Reached only for an object the view's scoped queryset found, so the
        # person sees its brand: a refusal here may say so (403, not 404).
        if _agency_admin_action(view):
            self.message = NEEDS_AGENCY_ADMIN
            return manages_all_brands(request.user)
        if request.method in permissions.SAFE_METHODS:
            return True
        scoped: BrandScoped = view  # type: ignore[assignment]
        return may_manage_brand(request.user, scoped.brand_id_of(obj))


class BrandRoleOrSpendFeed(BrandRole):
    """A person as `BrandRole` says; a spend feed as far as `SpendFeedScope` let it.

    Which campaigns a feed may post for is its brands' (checked by the view).
    """

    def has_permission(self, request: "Request", view: "APIView") -> bool:
        return is_spend_feed(request) or super().has_permission(request, view)
