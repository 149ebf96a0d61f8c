from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, BaseModelFormSet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from budgets.admin_base import (
    BrandScopedInline,
    CampaignArchivedListFilter,
    DeleteThroughServiceAdmin,
    ReadOnlyAdmin,
    local_time_display,
)
from budgets.services import spend_refusal
from campaigns import archive, services
from campaigns.forms import CampaignForm, DaypartForm
from campaigns.models import (
    Campaign,
    CampaignStatusChange,
    Daypart,
    PauseReason,
    Status,
    mask_to_days,
)


class DaypartInline(BrandScopedInline[Daypart, Campaign]):
    model = Daypart
    form = DaypartForm
    extra = 0


class _GeneratedChoiceFilter(admin.SimpleListFilter):
    """A filter on a generated column, by its labels (Django would list its raw codes)."""

    choices_of: type[models.TextChoices]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, str(label)) for value, label in self.choices_of.choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        field = str(self.parameter_name)
        return queryset if value is None else queryset.filter(**{field: value})


class StatusFilter(_GeneratedChoiceFilter):
    title = "status"
    parameter_name = "status"
    choices_of = Status


class PauseReasonFilter(_GeneratedChoiceFilter):
    title = "pause reason"
    parameter_name = "pause_reason"
    choices_of = PauseReason


@admin.register(Campaign)
class CampaignAdmin(DeleteThroughServiceAdmin[Campaign]):
    list_display = [
        "name",
        "brand",
        "budget",
        "enabled",
        "status_display",
        "reason_display",
        "starts_on",
        "ends_on",
    ]
    list_select_related = ["brand", "budget"]
    list_filter = [CampaignArchivedListFilter, StatusFilter, PauseReasonFilter, "enabled"]
    search_fields = ["name", "brand__name", "budget__name"]
    # The budget is a list narrowed to the campaign's brand (an autocomplete
    # would search every brand's), named with its brand on the "add" page.
    autocomplete_fields = ["brand"]
    readonly_fields = [
        "history_link",
        "status",
        "pause_reason",
        "schedule_hold",
        "budget_hold",
        "pacing_hold",
        "archived_at",
        "created_at",
        "updated_at",
    ]
    form = CampaignForm
    inlines = [DaypartInline]
    actions = ["pause_selected", "resume_selected", "archive_selected", "unarchive_selected"]

    def get_readonly_fields(self, request: HttpRequest, obj: Campaign | None = None) -> list[str]:
        fields = list(self.readonly_fields)
        # A campaign's spend and caps are its brand's: it never changes brand.
        return [*fields, "brand"] if obj is not None else fields

    # Saved through the services: a new campaign, budget, flight or daypart
    # is enforced at once, and turning `enabled` off is a recorded manual pause.
    def save_model(
        self, request: HttpRequest, obj: Campaign, form: forms.ModelForm[Campaign], change: bool
    ) -> None:
        data: dict[str, Any] = form.cleaned_data
        if change:
            changes = {f: data[f] for f in form.changed_data if f != "brand"}
            services.campaign_update(campaign_id=obj.pk, user=request.user, **changes)  # type: ignore[arg-type]
            return
        created = services.campaign_create(
            brand=data["brand"],
            budget=data["budget"],
            name=data["name"],
            enabled=data["enabled"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
        )
        obj.pk, obj._state.adding = created.pk, False

    def save_formset(
        self,
        request: HttpRequest,
        form: forms.ModelForm[Campaign],
        formset: BaseModelFormSet[Any, Any],
        change: bool,
    ) -> None:
        if not isinstance(formset, BaseInlineFormSet) or formset.model is not Daypart:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        for daypart in formset.deleted_objects:
            services.daypart_delete(daypart_id=daypart.pk)
        for daypart, fields in formset.changed_objects:
            changes = {f: getattr(daypart, f) for f in fields}
            if "days" in changes:
                changes["days"] = mask_to_days(changes["days"])
            services.daypart_update(daypart_id=daypart.pk, **changes)
        for daypart in formset.new_objects:
            services.daypart_create(
                campaign=form.instance,
                days=mask_to_days(daypart.days),
                start_time=daypart.start_time,
                end_time=daypart.end_time,
            )

    def delete_through_service(self, pk: int) -> None:
        services.campaign_delete(campaign_id=pk)

    def deletion_refusal(self, obj: Campaign) -> str | None:
        if obj.spend_events.exists():
            return spend_refusal(f'Campaign "{obj.name}"', archivable=True)
        return None

    # Generated columns: the admin does not map their codes to labels by itself.
    @admin.display(description="Status", ordering="status")
    def status_display(self, campaign: Campaign) -> str:
        return str(Status(campaign.status).label)

    @admin.display(description="Pause reason", ordering="pause_reason")
    def reason_display(self, campaign: Campaign) -> str:
        return (
            "-" if campaign.pause_reason is None else str(PauseReason(campaign.pause_reason).label)
        )

    @admin.display(description="Status history")
    def history_link(self, campaign: Campaign) -> str:
        # A link rather than an inline: a campaign with dayparts changes state
        # twice a day, and its history grows without bound.
        if campaign._state.adding:
            return "-"
        url = reverse("admin:campaigns_campaignstatuschange_changelist")
        return format_html('<a href="{}?campaign__id__exact={}">All changes</a>', url, campaign.pk)

    # Actions write: they need the change permission (a view-only staff user
    # is not offered them, and Django refuses them when posted), and the user
    # must manage the brand of every selected campaign (403 otherwise, and
    # nothing changes). Campaigns of other brands never reach the queryset.
    @admin.action(description="Pause selected campaigns (manual pause)", permissions=["change"])
    def pause_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self.check_may_write(request, queryset)
        changes = services.campaigns_set_enabled(
            campaign_ids=list(queryset.values_list("id", flat=True)),
            enabled=False,
            user=request.user,  # type: ignore[arg-type]
        )
        self.message_user(request, f"{len(changes)} campaign(s) paused.", messages.SUCCESS)

    @admin.action(
        description="Resume selected campaigns (lift the manual pause)", permissions=["change"]
    )
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self.check_may_write(request, queryset)
        ids = list(queryset.values_list("id", flat=True))
        services.campaigns_set_enabled(campaign_ids=ids, enabled=True, user=request.user)  # type: ignore[arg-type]
        still_held = Campaign.objects.filter(id__in=ids, status="paused").count()
        message = f"{len(ids) - still_held} of {len(ids)} campaign(s) now serving."
        if still_held:
            message += f" {still_held} still held by their schedule or budget."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(
        description="Archive selected campaigns (pause; out of lists and spend)",
        permissions=["change"],
    )
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self.check_may_write(request, queryset)
        ids = list(queryset.filter(archived_at__isnull=True).values_list("id", flat=True))
        for pk in ids:
            archive.campaign_archive(campaign_id=pk, user=request.user)  # type: ignore[arg-type]
        self.message_user(request, f"{len(ids)} campaign(s) archived.", messages.SUCCESS)

    @admin.action(
        description="Unarchive selected campaigns (they stay paused)", permissions=["change"]
    )
    def unarchive_selected(self, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
        self.check_may_write(request, queryset)
        done = 0
        for pk in queryset.filter(archived_at__isnull=False).values_list("id", flat=True):
            try:
                archive.campaign_unarchive(campaign_id=pk, user=request.user)  # type: ignore[arg-type]
            except ValidationError as refused:
                self.message_user(request, " ".join(refused.messages), messages.ERROR)
            else:
                done += 1
        self.message_user(request, f"{done} campaign(s) unarchived.", messages.SUCCESS)


@admin.register(CampaignStatusChange)
class CampaignStatusChangeAdmin(ReadOnlyAdmin[CampaignStatusChange]):
    brand_field = "campaign__brand_id"

    list_display = [
        "changed_display",
        "campaign",
        "old_status",
        "old_reason",
        "new_status",
        "new_reason",
        "actor",
        "user",
        "note",
    ]
    list_select_related = ["campaign__brand", "user"]
    list_filter = ["new_status", "new_reason", "actor"]
    search_fields = ["campaign__name", "note"]
    date_hierarchy = "changed_at"

    @admin.display(description="Changed at (brand's time)", ordering="changed_at")
    def changed_display(self, change: CampaignStatusChange) -> str:
        return local_time_display(change.changed_at, change.campaign.brand.timezone)
