"""The JSON API's views: parse, check permission, call one service, render.

Reads come from querysets with their joins built in and from
`spend.selectors`, once per page; writes go through the services of each
app, whose errors `adserver.api.exceptions` turns into 400/404/409.

Access is the brand roles of `budgets.access` (`adserver.api.permissions`):
every queryset is narrowed to the brands the person may see, writes need
the manager role on the brand.
"""

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import models
from django.db.models import Count
from django.urls import Resolver404, resolve
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.exceptions import (
    AuthenticationFailed,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adserver.api import filters
from adserver.api.pagination import Pagination
from adserver.api.parsers import BodyLimit, decimals_in
from adserver.api.permissions import (
    NEEDS_MANAGER,
    BrandRoleOrSpendFeed,
    SpendFeedScope,
)
from adserver.api.schema import ErrorSerializer
from adserver.api.serializers import (
    BIGINT_MAX,
    BrandSerializer,
    BudgetSerializer,
    CampaignSerializer,
    DaypartSerializer,
    MembershipRequestSerializer,
    MembershipRoleSerializer,
    MembershipSerializer,
    SettingChangeSerializer,
    SpendBatchRecordedSerializer,
    SpendBatchRequestSerializer,
    SpendConflictSerializer,
    SpendEventRequestSerializer,
    SpendEventSerializer,
    SpendRecordedSerializer,
    StatusSerializer,
    spend_recorded_body,
)
from adserver.api.spend_input import spend_input, spend_input_errors
from budgets import services as budget_services
from budgets.access import may_manage_brand, scope_to_visible
from budgets.models import Brand, BrandMembership, Budget, SettingChange
from campaigns import archive as campaign_archive
from campaigns import services as campaign_services
from campaigns.access import campaigns_not_managed
from campaigns.models import Campaign, Daypart
from spend.models import SpendEvent
from spend.selectors import status_overview
from spend.senders import Sender, sender_of
from spend.services import (
    SpendArchived,
    SpendBatchInvalid,
    SpendConflict,
    SpendInput,
    SpendRefused,
    spend_record,
    spend_record_batch,
)

M = TypeVar("M", bound=models.Model)


CONFLICT = OpenApiResponse(ErrorSerializer, description="Still referenced; nothing was deleted.")


class ServiceModelViewSet(viewsets.ModelViewSet[M]):
    """CRUD whose writes are calls to services; responses re-read the row.

    Re-reading through `get_queryset()` gives create and update responses
    the same joins and annotations as a list.

    Rows are those of the brands the person may see (`brand_field` is the
    path from a row to its brand's id); writing needs the manager role on
    the row's brand, and creating one needs it on the brand the body names.
    """

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    pagination_class = Pagination
    brand_field = "brand_id"
    # Actions for agency admins only (`adserver.api.permissions.BrandRole`).
    agency_admin_actions: frozenset[str] = frozenset()

    def get_queryset(self) -> models.QuerySet[M]:
        queryset = super().get_queryset()
        return scope_to_visible(queryset, self.request.user, brand_field=self.brand_field)

    def filter_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """A list leaves out what is archived unless `?archived=` is given.

        Only a list: an archived object keeps its page, history and changes.
        """
        filterset = getattr(self, "filterset_class", None)
        lookups = getattr(filterset, "archived_lookups", None)
        if self.action == "list" and lookups and "archived" not in self.request.query_params:
            queryset = queryset.exclude(filters.archived_q(lookups))
        return super().filter_queryset(queryset)

    def brand_id_of(self, obj: M) -> int:
        brand_id: int = getattr(obj, self.brand_field)
        return brand_id

    def brand_id_of_new(self, data: dict[str, Any]) -> int:
        """The brand a validated creation body puts the new row under."""
        brand: Brand = data["brand"]
        return brand.pk

    def create_with_service(self, data: dict[str, Any]) -> M:
        raise NotImplementedError

    def update_with_service(self, instance: M, data: dict[str, Any]) -> M:
        raise NotImplementedError

    def delete_with_service(self, instance: M) -> None:
        raise NotImplementedError

    def reread(self, pk: object) -> M:
        return self.get_queryset().get(pk=pk)

    def perform_create(self, serializer: serializers.BaseSerializer[M]) -> None:
        # The body's brand is one the person sees (the related field is
        # scoped): whether they may add to it is a 403, not a 400.
        if "create" not in self.agency_admin_actions and not may_manage_brand(
            self.request.user, self.brand_id_of_new(serializer.validated_data)
        ):
            raise PermissionDenied(NEEDS_MANAGER)
        serializer.instance = self.reread(self.create_with_service(serializer.validated_data).pk)

    def perform_update(self, serializer: serializers.BaseSerializer[M]) -> None:
        instance = serializer.instance
        if instance is None:
            raise TypeError("perform_update needs the serializer of an existing row")
        updated = self.update_with_service(instance, serializer.validated_data)
        serializer.instance = self.reread(updated.pk)

    def perform_destroy(self, instance: M) -> None:
        self.delete_with_service(instance)


USER_ID = OpenApiParameter(
    "user_id", int, OpenApiParameter.PATH, description="The member's user id."
)


@extend_schema_view(
    create=extend_schema(description="Agency admins only."),
    destroy=extend_schema(
        description="Agency admins only; refused (409) while the brand has spend: "
        "archive it instead (`archive/`).",
        responses={204: None, 409: CONFLICT},
    ),
)
class BrandViewSet(ServiceModelViewSet[Brand]):
    """Brands (advertisers); spend and remaining are for the brand's local day and month."""

    # Meta.ordering does not apply to a GROUP BY query: order explicitly.
    queryset = Brand.objects.annotate(campaigns_count=Count("campaigns")).order_by("name")
    serializer_class = BrandSerializer
    filterset_class = filters.BrandFilter
    brand_field = "id"
    agency_admin_actions = frozenset(
        {"create", "destroy", "members", "member", "archive", "unarchive"}
    )

    def get_queryset(self) -> models.QuerySet[Brand]:
        if self.action in {"members", "member", "changes", "destroy", "archive", "unarchive"}:
            # The brand itself is all these need: no campaign count.
            return scope_to_visible(Brand.objects.all(), self.request.user, brand_field="id")
        return super().get_queryset()

    @extend_schema(
        methods=["GET"],
        summary="The brand's members",
        description="Agency admins only.",
        responses=MembershipSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Give a person a role on the brand",
        description="Agency admins only. Adds the membership (201) or changes its role (200).",
        request=MembershipRequestSerializer,
        responses={201: MembershipSerializer, 200: MembershipSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="members")
    def members(self, request: Request, pk: str | None = None) -> Response:
        brand = self.get_object()
        if request.method == "GET":
            memberships = BrandMembership.objects.filter(brand=brand).select_related("user")
            ordered = memberships.order_by("user__username", "user_id")
            return _page(request, ordered, MembershipSerializer)
        body = MembershipRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user = body.validated_data["user"]
        is_new = not BrandMembership.objects.filter(brand=brand, user=user).exists()
        membership = budget_services.membership_set(
            brand=brand, user=user, role=body.validated_data["role"]
        )
        return Response(
            MembershipSerializer(membership).data,
            status=status.HTTP_201_CREATED if is_new else status.HTTP_200_OK,
        )

    @extend_schema(
        methods=["PATCH"],
        summary="Change a member's role",
        description="Agency admins only.",
        parameters=[USER_ID],
        request=MembershipRoleSerializer,
        responses=MembershipSerializer,
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Take a person off the brand",
        description="Agency admins only; it counts from the person's next request.",
        parameters=[USER_ID],
        responses={204: None},
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"members/(?P<user_id>[0-9]+)",
        url_name="member",
    )
    def member(self, request: Request, pk: str | None = None, user_id: str = "") -> Response:
        brand = self.get_object()
        membership = (
            BrandMembership.objects.filter(brand=brand, user_id=_id_or_404(user_id))
            .select_related("user")
            .first()
        )
        if membership is None:
            raise NotFound("This person is not a member of the brand.")
        if request.method == "DELETE":
            budget_services.membership_delete(membership_id=membership.pk)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = MembershipRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        membership = budget_services.membership_set(
            brand=brand, user=membership.user, role=body.validated_data["role"]
        )
        return Response(MembershipSerializer(membership).data)

    @extend_schema(
        summary="The brand's audit trail",
        description="Every change of the brand's money and schedule settings, newest first.",
        responses=SettingChangeSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def changes(self, request: Request, pk: str | None = None) -> Response:
        brand = self.get_object()
        changes = SettingChange.objects.filter(brand_id=brand.pk).order_by("-changed_at", "-id")
        return _page(request, changes, SettingChangeSerializer)

    @extend_schema(
        summary="Archive the brand",
        description="Agency admins only. It leaves the lists (`?archived=true` shows it), "
        "takes no new spend (409), and keeps its history; its campaigns are paused.",
        request=None,
        responses=BrandSerializer,
    )
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        brand = self.get_object()
        campaign_archive.brand_archive(brand_id=brand.pk, user=request.user)  # type: ignore[arg-type]
        return Response(self.get_serializer(self._with_count(brand.pk)).data)

    @extend_schema(
        summary="Bring the brand back from the archive",
        description="Agency admins only. Its campaigns stay paused until a person resumes them.",
        request=None,
        responses=BrandSerializer,
    )
    @action(detail=True, methods=["post"])
    def unarchive(self, request: Request, pk: str | None = None) -> Response:
        brand = self.get_object()
        campaign_archive.brand_unarchive(brand_id=brand.pk, user=request.user)  # type: ignore[arg-type]
        return Response(self.get_serializer(self._with_count(brand.pk)).data)

    def _with_count(self, pk: int) -> Brand:
        return scope_to_visible(BrandViewSet.queryset, self.request.user, brand_field="id").get(
            pk=pk
        )

    def create_with_service(self, data: dict[str, Any]) -> Brand:
        return budget_services.brand_create(**data)

    def update_with_service(self, instance: Brand, data: dict[str, Any]) -> Brand:
        return budget_services.brand_update(brand_id=instance.pk, **data)

    def delete_with_service(self, instance: Brand) -> None:
        budget_services.brand_delete(brand_id=instance.pk)


@extend_schema_view(destroy=extend_schema(responses={204: None, 409: CONFLICT}))
class BudgetViewSet(ServiceModelViewSet[Budget]):
    """Shared budgets inside a brand; a null limit is no cap at that level."""

    queryset = Budget.objects.select_related("brand")
    serializer_class = BudgetSerializer
    filterset_class = filters.BudgetFilter

    def create_with_service(self, data: dict[str, Any]) -> Budget:
        return budget_services.budget_create(**data)

    def update_with_service(self, instance: Budget, data: dict[str, Any]) -> Budget:
        return budget_services.budget_update(budget_id=instance.pk, **data)

    def delete_with_service(self, instance: Budget) -> None:
        budget_services.budget_delete(budget_id=instance.pk)


class PauseSerializer(serializers.Serializer[Any]):
    note = serializers.CharField(
        max_length=255, required=False, allow_blank=True, help_text="Why; kept in the history."
    )


@extend_schema_view(destroy=extend_schema(responses={204: None, 409: CONFLICT}))
class CampaignViewSet(ServiceModelViewSet[Campaign]):
    """Campaigns; `status` and `pause_reason` are derived from the serving facts."""

    queryset = Campaign.objects.select_related("brand", "budget")
    serializer_class = CampaignSerializer
    filterset_class = filters.CampaignFilter

    def create_with_service(self, data: dict[str, Any]) -> Campaign:
        return campaign_services.campaign_create(**data)

    def update_with_service(self, instance: Campaign, data: dict[str, Any]) -> Campaign:
        return campaign_services.campaign_update(
            campaign_id=instance.pk,
            user=self.request.user,  # type: ignore[arg-type]
            **data,
        )

    def delete_with_service(self, instance: Campaign) -> None:
        campaign_services.campaign_delete(campaign_id=instance.pk)

    def _set_enabled(self, request: Request, *, enabled: bool) -> Response:
        campaign = self.get_object()
        body = PauseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        change = campaign_services.campaign_resume if enabled else campaign_services.campaign_pause
        change(
            campaign_id=campaign.pk,
            user=request.user,  # type: ignore[arg-type]
            note=body.validated_data.get("note", ""),
        )
        return Response(self.get_serializer(self.reread(campaign.pk)).data)

    @extend_schema(request=PauseSerializer, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        """Manual pause: it holds until a person resumes the campaign."""
        return self._set_enabled(request, enabled=False)

    @extend_schema(request=PauseSerializer, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        """Lift the manual pause; the campaign serves only if nothing else holds it."""
        return self._set_enabled(request, enabled=True)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str | None = None) -> Response:
        """Pause and archive: it leaves the lists (`?archived=true` shows it), takes no new
        spend (409), and keeps its history."""
        campaign = self.get_object()
        campaign_archive.campaign_archive(campaign_id=campaign.pk, user=request.user)  # type: ignore[arg-type]
        return Response(self.get_serializer(self.reread(campaign.pk)).data)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def unarchive(self, request: Request, pk: str | None = None) -> Response:
        """Back from the archive; it stays paused until a person resumes it."""
        campaign = self.get_object()
        campaign_archive.campaign_unarchive(campaign_id=campaign.pk, user=request.user)  # type: ignore[arg-type]
        return Response(self.get_serializer(self.reread(campaign.pk)).data)


class DaypartViewSet(ServiceModelViewSet[Daypart]):
    """Weekly windows in the brand's wall-clock time; none means all week."""

    queryset = Daypart.objects.select_related("campaign")
    serializer_class = DaypartSerializer
    filterset_class = filters.DaypartFilter
    brand_field = "campaign__brand_id"

    def brand_id_of(self, obj: Daypart) -> int:
        return obj.campaign.brand_id

    def brand_id_of_new(self, data: dict[str, Any]) -> int:
        campaign: Campaign = data["campaign"]
        return campaign.brand_id

    def create_with_service(self, data: dict[str, Any]) -> Daypart:
        return campaign_services.daypart_create(**data)

    def update_with_service(self, instance: Daypart, data: dict[str, Any]) -> Daypart:
        return campaign_services.daypart_update(daypart_id=instance.pk, **data)

    def delete_with_service(self, instance: Daypart) -> None:
        campaign_services.daypart_delete(daypart_id=instance.pk)


SPEND_CONFLICT = OpenApiResponse(
    SpendConflictSerializer,
    description=(
        "The event_id was recorded before by the same sender with another payload "
        "(`event_id`, `fields`), or the campaign or its brand is archived (`archived`); "
        "nothing was stored."
    ),
)
SPEND_REFUSED = OpenApiResponse(
    description=(
        "Refused, nothing stored: a person without the manager role on a campaign's brand, "
        "a spend feed posting for a campaign outside its brands (named), or an adjustment "
        "(or spend dated before the brand's previous month) without the right to adjust."
    ),
)


def _page(
    request: Request, rows: models.QuerySet[Any], serializer: type[serializers.BaseSerializer[Any]]
) -> Response:
    """A page of rows that are not the view's own, paginated like every list."""
    paginator = Pagination()
    page = paginator.paginate_queryset(rows, request)
    return paginator.get_paginated_response(serializer(page, many=True).data)


def _id_or_404(value: str) -> int:
    number = int(value)
    if not 0 < number <= BIGINT_MAX:
        raise NotFound
    return number


def _well_formed_ids(values: Iterable[object]) -> Iterator[int]:
    """The values that are ids, read only if asked; the rest is the service's 400 to name."""
    return (
        value
        for value in values
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= BIGINT_MAX
    )


def _refuse_unless_manager(
    request: Request, sender: Sender, campaign_ids: Iterable[object]
) -> None:
    """Recording spend needs the manager role on every campaign's brand (a person).

    Checked before anything is validated against the database, and worded
    the same whether a campaign exists or not, so a refusal reveals nothing.
    A spend feed's brands are checked by the service, on the brands it reads
    with the campaigns anyway (the same wording for unknown campaigns).
    """
    if sender.brand_ids is not None:
        return
    refused = campaigns_not_managed(request.user, _well_formed_ids(campaign_ids))
    if refused:
        shown = sorted(refused)
        names = ", ".join(str(pk) for pk in shown[:10]) + (", ..." if len(shown) > 10 else "")
        which = "campaign" if len(shown) == 1 else "campaigns"
        whose = "the campaign's brand" if len(shown) == 1 else "each campaign's brand"
        why = f"it needs the manager role on {whose}"
        raise PermissionDenied(f"You may not record spend for {which} {names}: {why}.")


def _conflict(exc: SpendConflict | SpendArchived) -> Response:
    body: dict[str, Any] = {"detail": str(exc)}
    if isinstance(exc, SpendConflict):
        body.update(event_id=exc.event_id, fields=exc.fields)
    else:
        body.update(archived=exc.archived, campaign=exc.campaign_id)
    if exc.index is not None:
        body["index"] = exc.index
    return Response(body, status=status.HTTP_409_CONFLICT)


@extend_schema_view(
    create=extend_schema(
        request=SpendEventRequestSerializer,
        responses={
            201: SpendRecordedSerializer,
            200: OpenApiResponse(
                SpendRecordedSerializer, description="A replay: the event recorded before."
            ),
            403: SPEND_REFUSED,
            409: SPEND_CONFLICT,
        },
    ),
    batch=extend_schema(
        request=SpendBatchRequestSerializer,
        responses={201: SpendBatchRecordedSerializer, 403: SPEND_REFUSED, 409: SPEND_CONFLICT},
    ),
)
class SpendViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[SpendEvent]
):
    """The spend ledger, newest first; recording spend, one event or a batch.

    Spend for a paused campaign is recorded all the same (the money is spent)
    and the answer shows the campaign paused.
    """

    queryset = SpendEvent.objects.all()
    serializer_class = SpendEventSerializer
    filterset_class = filters.SpendEventFilter
    throttle_scope = "spend"
    permission_classes = [SpendFeedScope, BrandRoleOrSpendFeed]
    spend_feed_actions = frozenset({"create", "batch"})

    def get_queryset(self) -> models.QuerySet[SpendEvent]:
        return scope_to_visible(super().get_queryset(), self.request.user, brand_field="brand_id")

    def body_limit(self) -> BodyLimit | None:
        """An over-large body is a 413 before it is parsed; a batch's numbers
        become Decimals only once its events are counted."""
        if self.action == "batch":
            return BodyLimit(settings.SPEND_BATCH_MAX_BYTES, numbers_later=True)
        if self.action == "create":
            return BodyLimit(settings.SPEND_EVENT_MAX_BYTES)
        return None

    def create(self, request: Request) -> Response:
        spend, errors = spend_input(request.data)
        if spend is None:
            raise ValidationError(errors)
        sender = sender_of(request)
        _refuse_unless_manager(request, sender, [spend.campaign_id])
        try:
            recorded = spend_record(
                campaign_id=spend.campaign_id,
                amount=spend.amount,
                occurred_at=spend.occurred_at,
                event_id=spend.event_id,
                kind=spend.kind,
                sender=sender,
            )
        except SpendRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        except (SpendConflict, SpendArchived) as exc:
            return _conflict(exc)
        return Response(
            spend_recorded_body(recorded),
            status=status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK,
        )

    @action(detail=False, methods=["post"])
    def batch(self, request: Request) -> Response:
        """Up to 10,000 events: all of them are stored, or none."""
        events = request.data.get("events") if isinstance(request.data, dict) else None
        if not isinstance(events, list) or not events:
            raise ValidationError({"events": ["Send a non-empty list of events."]})
        limit = settings.SPEND_BATCH_MAX_EVENTS
        if len(events) > limit:
            raise ValidationError({"events": [f"Send at most {limit:,} events per batch."]})
        events = decimals_in(events)
        sender = sender_of(request)
        inputs: list[SpendInput] = []
        for data in events:
            spend, _errors = spend_input(data)
            if spend is None:  # report every event's errors, the service's too
                shape_errors = spend_input_errors(events, source=sender.source)
                raise ValidationError({"events": cast(Any, shape_errors)})
            inputs.append(spend)
        _refuse_unless_manager(request, sender, (spend.campaign_id for spend in inputs))
        try:
            recorded = spend_record_batch(inputs, sender=sender)
        except SpendRefused as exc:
            raise PermissionDenied(str(exc)) from exc
        except SpendBatchInvalid as exc:
            problems: Any = exc.errors or [str(exc)]
            raise ValidationError({"events": problems}) from exc
        except (SpendConflict, SpendArchived) as exc:
            return _conflict(exc)
        body = SpendBatchRecordedSerializer(recorded).data
        return Response(body, status=status.HTTP_201_CREATED)


class StatusView(APIView):
    """The system at a glance."""

    permission_classes = [SpendFeedScope, permissions.IsAuthenticated]

    @extend_schema(responses=StatusSerializer)
    def get(self, request: Request) -> Response:
        return Response(StatusSerializer(status_overview(user=request.user)).data)


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI for anyone logged in (SERVE_PERMISSIONS); a person who is not
    goes to the login page and comes back. Its script is a file of its own
    (the split view), as the Content-Security-Policy allows no inline script."""

    def handle_exception(self, exc: Exception) -> Any:  # a redirect is no DRF Response
        if isinstance(exc, NotAuthenticated | AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


def _resolves_elsewhere(path: str) -> bool:
    try:
        return resolve(path).func is not not_found
    except Resolver404:
        return False


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PATCH", "PUT", "DELETE", "HEAD", "OPTIONS"])
@permission_classes([permissions.AllowAny])
@authentication_classes([])
def not_found(request: Request) -> Response:
    """Anything else under /api/: a JSON 404, never the site's HTML page or a
    redirect that would drop a POST body."""
    with_slash = f"{request.path}/"
    if not request.path.endswith("/") and _resolves_elsewhere(with_slash):
        raise NotFound(f"Not found. The address ends with a slash: {with_slash}")
    raise NotFound
