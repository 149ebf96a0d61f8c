"""The errors of spend recording. spend.services exports the public ones."""

from collections.abc import Sequence

from django.core.exceptions import ValidationError

from spend.recording.validation import Errors


class SpendInvalid(ValidationError):  # noqa: N818 - the name is the API contract
    """Bad input for one event; `message_dict` names the fields. Nothing was stored."""


class SpendBatchInvalid(Exception):  # noqa: N818 - the name is the API contract
    """Bad input in a batch; nothing was stored.

    `errors` maps the index of each bad event to its fields and messages. It
    is empty when the batch as a whole is refused (too many events); `str()`
    of the exception says why.
    """

    def __init__(self, errors: dict[int, Errors], message: str = "") -> None:
        self.errors = errors
        super().__init__(message or f"{len(errors)} invalid event(s); nothing was stored.")


class SpendConflict(Exception):  # noqa: N818 - the name is the API contract
    """An event_id recorded before with a different payload. Nothing was stored."""

    def __init__(self, *, event_id: str, fields: Sequence[str], index: int | None = None) -> None:
        self.event_id = event_id
        self.fields = list(fields)
        self.index = index
        super().__init__(
            f"Event id {event_id!r} was recorded before with a different "
            f"{', '.join(self.fields)}; it is not recorded again."
        )


class SpendRefused(Exception):  # noqa: N818 - named as SpendInvalid and SpendConflict
    """The sender may not record this (the API's 403); nothing was stored.

    `index` is the refused event's in a batch (the first one), when one is
    to blame; `campaign_ids` the campaigns outside the sender's brands.
    """

    def __init__(
        self, message: str, *, index: int | None = None, campaign_ids: Sequence[int] = ()
    ) -> None:
        self.index = index
        self.campaign_ids = list(campaign_ids)
        super().__init__(message)


class CampaignsRefusedError(Exception):
    """Campaigns outside the sender's brands, or unknown (their ids, sorted)."""

    def __init__(self, campaign_ids: list[int]) -> None:
        self.campaign_ids = campaign_ids


class DatedTooEarlyError(Exception):
    """Events dated before their brand's previous local month (by index, the reason)."""

    def __init__(self, problems: dict[int, str]) -> None:
        self.problems = problems


class UnknownCampaignsError(Exception):
    """Some events name campaigns that do not exist (their indexes)."""

    def __init__(self, indexes: list[int]) -> None:
        self.indexes = indexes


class EventIdRaceError(Exception):
    """An event_id was stored by another transaction between our read and our insert."""


class AmountRefusedError(Exception):
    """Amounts the brand's books cannot take (by event index, the reason); nothing stored.

    An event larger than its brand's whole monthly budget, or an adjustment
    that would take a period total below zero.
    """

    def __init__(self, problems: dict[int, str]) -> None:
        self.problems = problems


class SpendArchived(Exception):  # noqa: N818 - the name is the API contract
    """Spend for an archived campaign, or a campaign of an archived brand. Nothing stored.

    `index` is the event's position in a batch (None for one event).
    """

    def __init__(self, *, campaign_id: int, archived: str, index: int | None = None) -> None:
        self.campaign_id = campaign_id
        self.archived = archived  # "Campaign 42 (Summer sale)" or "Brand 3 (Fjord Outdoor)"
        self.index = index
        super().__init__(
            f"{archived} is archived: it takes no new spend. Unarchive it to record spend "
            "for it; nothing was stored."
        )
