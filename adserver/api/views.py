"""The JSON API's views: parse, check permission, call one service, render.

Reads come from querysets with their joins built in and from
`spend.selectors`, once per page; writes go through the services of each
app, whose errors `adserver.api.exceptions` turns into 400/404/409.
"""

from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import models
from django.db.models import Count
from django.urls import Resolver404, resolve
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adserver.api import filters
from adserver.api.pagination import Pagination
from adserver.api.schema import ErrorSerializer
from adserver.api.serializers import (
    BrandSerializer,
    BudgetSerializer,
    CampaignSerializer,
    DaypartSerializer,
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
from adserver.api.throttling import ScopeRateThrottle
from budgets import services as budget_services
from budgets.models import Brand, Budget
from campaigns import services as campaign_services
from campaigns.models import Campaign, Daypart
from spend.models import SpendEvent
from spend.selectors import status_overview
from spend.services import (
    SpendBatchInvalid,
    SpendConflict,
    SpendInput,
    spend_record,
    spend_record_batch,
)

M = TypeVar("M", bound=models.Model)


CONFLICT = OpenApiResponse(ErrorSerializer, description="Still referenced; nothing was deleted.")


class ServiceModelViewSet(viewsets.ModelViewSet[M]):
    """CRUD whose writes are calls to services; responses re-read the row.

    Re-reading through `get_queryset()` gives create and update responses
    the same joins and annotations as a list.
    """

    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    pagination_class = Pagination

    def create_with_service(self, data: dict[str, Any]) -> M:
        raise NotImplementedError

    def update_with_service(self, instance: M, data: dict[str, Any]) -> M:
        raise NotImplementedError

    def delete_with_service(self, instance: M) -> None:
        raise NotImplementedError

    def reread(self, pk: object) -> M:
        return self.get_queryset().get(pk=pk)

    def perform_create(self, serializer: serializers.BaseSerializer[M]) -> None:
        serializer.instance = self.reread(self.create_with_service(serializer.validated_data).pk)

    def perform_update(self, serializer: serializers.BaseSerializer[M]) -> None:
        instance = serializer.instance
        if instance is None:
            raise TypeError("perform_update needs the serializer of an existing row")
        updated = self.update_with_service(instance, serializer.validated_data)
        serializer.instance = self.reread(updated.pk)

    def perform_destroy(self, instance: M) -> None:
        self.delete_with_service(instance)


@extend_schema_view(destroy=extend_schema(responses={204: None, 409: CONFLICT}))
class BrandViewSet(ServiceModelViewSet[Brand]):
    """Brands (advertisers); spend and remaining are for the brand's local day and month."""

    # Meta.ordering does not apply to a GROUP BY query: order explicitly.
    queryset = Brand.objects.annotate(campaigns_count=Count("campaigns")).order_by("name")
    serializer_class = BrandSerializer

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


class CanChangeCampaigns(permissions.BasePermission):
    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.has_perm("campaigns.change_campaign"))


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
    @action(detail=True, methods=["post"], permission_classes=[CanChangeCampaigns])
    def pause(self, request: Request, pk: str | None = None) -> Response:
        """Manual pause: it holds until a person resumes the campaign."""
        return self._set_enabled(request, enabled=False)

    @extend_schema(request=PauseSerializer, responses=CampaignSerializer)
    @action(detail=True, methods=["post"], permission_classes=[CanChangeCampaigns])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        """Lift the manual pause; the campaign serves only if nothing else holds it."""
        return self._set_enabled(request, enabled=True)


class DaypartViewSet(ServiceModelViewSet[Daypart]):
    """Weekly windows in the brand's wall-clock time; none means all week."""

    queryset = Daypart.objects.all()
    serializer_class = DaypartSerializer
    filterset_class = filters.DaypartFilter

    def create_with_service(self, data: dict[str, Any]) -> Daypart:
        return campaign_services.daypart_create(**data)

    def update_with_service(self, instance: Daypart, data: dict[str, Any]) -> Daypart:
        return campaign_services.daypart_update(daypart_id=instance.pk, **data)

    def delete_with_service(self, instance: Daypart) -> None:
        campaign_services.daypart_delete(daypart_id=instance.pk)


SPEND_CONFLICT = OpenApiResponse(
    SpendConflictSerializer,
    description="The event_id was recorded before with another payload; nothing was stored.",
)


def _conflict(exc: SpendConflict) -> Response:
    body: dict[str, Any] = {"detail": str(exc), "event_id": exc.event_id, "fields": exc.fields}
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
            409: SPEND_CONFLICT,
        },
    ),
    batch=extend_schema(
        request=SpendBatchRequestSerializer,
        responses={201: SpendBatchRecordedSerializer, 409: SPEND_CONFLICT},
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
    throttle_classes = [ScopeRateThrottle]

    def create(self, request: Request) -> Response:
        spend, errors = spend_input(request.data)
        if spend is None:
            raise ValidationError(errors)
        try:
            recorded = spend_record(
                campaign_id=spend.campaign_id,
                amount=spend.amount,
                occurred_at=spend.occurred_at,
                event_id=spend.event_id,
                source=spend.source,
                kind=spend.kind,
            )
        except SpendConflict as exc:
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
        inputs: list[SpendInput] = []
        for data in events:
            spend, _errors = spend_input(data)
            if spend is None:  # report every event's errors, the service's too
                raise ValidationError({"events": cast(Any, spend_input_errors(events))})
            inputs.append(spend)
        try:
            recorded = spend_record_batch(inputs)
        except SpendBatchInvalid as exc:
            problems: Any = exc.errors or [str(exc)]
            raise ValidationError({"events": problems}) from exc
        except SpendConflict as exc:
            return _conflict(exc)
        body = SpendBatchRecordedSerializer(recorded).data
        return Response(body, status=status.HTTP_201_CREATED)


class StatusView(APIView):
    """The system at a glance."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=StatusSerializer)
    def get(self, request: Request) -> Response:
        return Response(StatusSerializer(status_overview(user=request.user)).data)


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
