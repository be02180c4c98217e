"""Proposals routes: a plan covering every uncovered unit of a territory (writes nothing), and
its saving as agency scenarios."""

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, Field

from app.api.cpts import CodeList, CptsContext
from app.domain.cpts_access import Status
from app.domain.proposals import Weights
from app.services import proposals as service

router = APIRouter(tags=["proposals"])


class WeightsIn(BaseModel):
    """Poids des préférences (0 : ignorée, 10 au plus)."""

    epci: float = Field(default=1.0, ge=0, le=10)
    bassin_de_vie: float = Field(default=1.0, ge=0, le=10)
    compactness: float = Field(default=1.0, ge=0, le=10)
    balance: float = Field(default=1.0, ge=0, le=10)
    signed_changes: float = Field(default=1.0, ge=0, le=10)


class OptionsIn(BaseModel):
    min_population: int | None = Field(
        default=None, ge=1, le=2_000_000,
        description="Seuil de population d'une nouvelle CPTS (défaut : la plus petite taille "
                    "ACI de la règle en vigueur, 40 000)")
    max_size_class: int | None = Field(
        default=None, ge=1, le=4,
        description="Taille ACI qu'un rattachement ne fait jamais dépasser (défaut : 4)")
    weights: WeightsIn = WeightsIn()
    seed: int = Field(default=2024, ge=0, le=2**31 - 1,
                      description="Graine : même graine, même plan")
    method: Literal["maxp", "naive"] = "maxp"


class ProposalIn(BaseModel):
    scope: str | None = Field(default=None, max_length=40, description=(
        "`region:<code>`, `departement:<code>`, `epci:<siren>` (administrateurs : aussi "
        "`national`)"))
    units: CodeList | None = Field(default=None, description="ou une liste de communes")
    statuses: list[Status] | None = Field(
        default=None, max_length=4, description="Stades comptés comme couverts (défaut : tous)")
    options: OptionsIn = OptionsIn()


class Reason(BaseModel):
    code: Literal["zone_below_floor", "without_polygon", "max_size_class", "other_region",
                  "no_neighbour"]
    detail: str


class AreaTouched(BaseModel):
    code: str
    nom: str | None
    communes: int
    split: bool


class GroupOut(BaseModel):
    id: str
    name: str
    communes: list[str]
    units: int
    population: int
    size_class: int
    region: str
    departements: list[str]
    siege_commune: str
    siege_nom: str
    reaches_floor: bool
    compactness: float
    epci: list[AreaTouched]
    bassins_de_vie: list[AreaTouched]
    reasons: list[Reason]


class AttachmentOut(BaseModel):
    cpts_id: int
    name: str
    status: Status
    status_label: str
    communes: list[str]
    units: int
    population: int
    population_before: int
    population_after: int
    size_class_before: int
    size_class_after: int
    compactness_before: float
    compactness_after: float
    exceeds_max_size_class: bool
    epci: list[AreaTouched]
    bassins_de_vie: list[AreaTouched]


class Preference(BaseModel):
    term: str
    weight: float
    label: str
    detail: str


class CostsOut(BaseModel):
    epci_split: int
    bassin_de_vie_split: int
    compactness: float
    balance: float
    signed_changes: float
    total: float


class CoverageFigures(BaseModel):
    population_total: int
    population_covered: int
    coverage_rate: float
    communes_total: int
    communes_covered: int


class ProposalOut(BaseModel):
    scope: str
    scope_name: str | None
    statuses: list[str]
    covered_means: str
    population_year: int
    size_rule: str
    method: Literal["maxp", "naive"]
    options: dict[str, Any]
    rules: list[str]
    preferences: list[Preference]
    zones: int
    groups: list[GroupOut]
    attachments: list[AttachmentOut]
    costs: CostsOut
    summary: dict[str, Any]
    coverage_before: CoverageFigures
    coverage_after: CoverageFigures
    writes_nothing: bool


@router.post("/proposals", response_model=ProposalOut,
             responses={200: {"content": {"application/geo+json": {}},
                              "description": "Le plan (JSON) ou ses périmètres (GeoJSON)"}})
def propose(
    body: ProposalIn,
    ctx: CptsContext,
    file_format: Annotated[Literal["json", "geojson"], Query(alias="format")] = "json",
) -> Response:
    """Propose un plan couvrant toutes les communes non couvertes d'un territoire : chacune est
    rattachée à une CPTS voisine que vous pouvez consulter, ou regroupée dans une nouvelle CPTS
    proposée (contiguë, dans une seule région, au moins au seuil quand la zone le permet ; un
    groupe sous le seuil dit pourquoi). Les préférences pondérées (EPCI, bassins de vie, formes
    compactes, populations équilibrées, peu de changements aux CPTS signées) et les termes de
    coût sont rappelés dans la réponse, avec la couverture avant et après. Chaque groupe et
    chaque rattachement porte `colour`, l'indice de sa couleur dans la palette de la carte
    (deux propositions qui se touchent diffèrent), le même en `?format=geojson`. N'écrit rien."""
    options = body.options
    query = service.parse_query(
        ctx, scope=body.scope, units=body.units,
        statuses=[s.value for s in body.statuses] if body.statuses else None,
        min_population=options.min_population, max_size_class=options.max_size_class,
        weights=Weights(**options.weights.model_dump()), seed=options.seed,
        method=options.method)
    planned = service.compute(ctx, query)
    answer = service.view(ctx, planned)
    if file_format == "geojson":
        collection = service.geojson(ctx, planned, answer)
        return Response(json.dumps(collection, ensure_ascii=False).encode("utf-8"),
                        media_type="application/geo+json")
    return Response(json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"), media_type="application/json")


class ScenarioGroupIn(BaseModel):
    communes: CodeList
    siege_commune: str | None = Field(default=None, max_length=10)
    name: str | None = Field(default=None, min_length=1, max_length=200)


class ScenarioAttachmentIn(BaseModel):
    cpts_id: int
    communes: CodeList


class ScenariosIn(BaseModel):
    groups: list[ScenarioGroupIn] = Field(default=[], max_length=300)
    attachments: list[ScenarioAttachmentIn] = Field(default=[], max_length=300)
    reason: str | None = Field(default=None, max_length=2000)


class ScenarioOut(BaseModel):
    id: int
    name: str
    communes: int
    population: int


@router.post("/proposals/scenarios", status_code=status.HTTP_201_CREATED,
             response_model=list[ScenarioOut])
def save_scenarios(body: ScenariosIn, ctx: CptsContext) -> list[dict[str, Any]]:
    """Enregistre un plan comme scénarios de l'ARS (privés, jamais comptés dans la couverture,
    modifiables ensuite comme tout périmètre) : chaque nouvelle CPTS proposée, et chaque CPTS
    avec les communes qui lui seraient rattachées. Tout ou rien ; seulement dans vos régions,
    le siège étant l'une des communes du périmètre."""
    return service.save_scenarios(
        ctx,
        [service.ScenarioGroup(g.communes, g.siege_commune, g.name) for g in body.groups],
        [service.ScenarioAttachment(a.cpts_id, a.communes) for a in body.attachments],
        body.reason)
