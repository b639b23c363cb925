"""Surveys (SURV) events (issue 16, contracts §5).

``pic-survey`` announces every answer as ``es.madrid.pic.survey.answered.v1``: the first one and each edit until
the survey closes (``first`` tells them apart). Campaigns count a survey answer as a conversion of the campaign
that carried the invitation (``campaign_id``, from the signed link). For an anonymous survey the event names
no citizen and its ``response_id`` cannot be derived from the person (a hash of the link's random nonce).
"""

from __future__ import annotations

from datetime import datetime

from events.base import EventData


class SurveyAnswered(EventData):
    survey_id: str
    response_id: str  # opaque; for an anonymous survey not derivable from the person
    citizen_id: str | None = None  # None for an anonymous survey
    campaign_id: str | None = None  # from the invitation link, when the invitation came from a campaign
    first: bool  # the first answer (an edit until close is first=False)
    answered_at: datetime
