"""The response of `GET /api/cpts/{id}?at=YYYY-MM-DD` (route in `app.api.cpts`)."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.domain.cpts_access import Status


class CptsAlertOut(BaseModel):
    code: str
    detail: str
    communes: list[str]


class CptsAt(BaseModel):
    """La CPTS telle qu'elle était enregistrée à la date demandée."""

    id: int
    name: str
    status: Status
    version: int = Field(description="Version en vigueur à la date demandée")
    current_version: int
    at: date
    communes: list[str]
    visibility: Literal["full", "outline"]
    archived: bool | None = None
    effective_date: date | None = None
    created_at: datetime | None = None
    author_email: str | None = None
    reason: str | None = None
    added: list[str] | None = None
    removed: list[str] | None = None
    population: int | None = None
    population_year: int | None = None
    size_class: int | None = None
    size_rule: str | None = None
    alerts: list[CptsAlertOut] | None = None
