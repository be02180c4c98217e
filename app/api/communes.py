"""`GET /api/communes` (search) and `GET /api/communes/{code}` (the commune card)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.api.cpts import CptsContext
from app.db import ConnDep
from app.domain.communes import classify_query, is_commune_code, normalise_code
from app.errors import ProblemError
from app.repo import communes as repo
from app.services import cpts as cpts_service

router = APIRouter(tags=["communes"])


class CommuneSummary(BaseModel):
    code: str
    nom: str
    type: str = Field(description="COM (commune) ou ARM (arrondissement municipal)")
    parent: str | None = Field(description="Commune d'un arrondissement municipal")
    is_unit: bool = Field(description="Peut entrer dans un périmètre (faux pour Paris, Lyon, "
                                      "Marseille : on y utilise les arrondissements)")
    departement: str
    region: str
    epci: str | None
    bassin_de_vie: str | None
    codes_postaux: list[str]
    population: int
    population_year: int
    has_polygon: bool
    bbox: list[float] | None = Field(description="[ouest, sud, est, nord] en WGS84")


class CptsRef(BaseModel):
    id: int
    name: str
    status: str
    is_scenario: bool = Field(description="Scénario privé de l'ARS (jamais compté)")
    communes: list[str] = Field(description="Unités concernées (arrondissements à Paris, Lyon, "
                                            "Marseille)")


class HiddenCpts(BaseModel):
    code: str
    cpts: int
    communes: int
    detail: str


class CommuneCard(CommuneSummary):
    departement_nom: str | None
    region_nom: str | None
    epci_nom: str | None
    bassin_de_vie_nom: str | None
    area_km2: float | None
    polygon_note: str | None
    arrondissements: list[str]
    former_codes: list[str]
    cpts: list[CptsRef] = Field(description="CPTS dont le périmètre comprend cette unité, "
                                            "parmi celles que l'utilisateur peut voir")
    hidden_cpts: HiddenCpts | None = Field(
        default=None, description="Projets que l'utilisateur ne peut pas voir : comptés, jamais "
                                  "nommés")


class FormerCodeStep(BaseModel):
    old_code: str
    old_nom: str | None
    kind: str = Field(description="deleguee, associee ou ancien_code")
    new_code: str
    new_nom: str


class FormerCommune(BaseModel):
    """Un code qui n'est plus en vigueur : la ou les communes actuelles qui l'ont repris."""

    code: str
    nom: str | None = Field(description="Nom de l'ancienne commune, s'il est connu")
    in_force: bool = Field(description="Toujours faux : ce code n'est plus en vigueur")
    current: list[CommuneSummary] = Field(description="Commune(s) en vigueur qui l'ont repris")
    history: list[FormerCodeStep]


class CommuneFeature(BaseModel):
    type: str = "Feature"
    id: str
    geometry: dict[str, Any] | None
    properties: CommuneCard


@router.get("/communes", response_model=list[CommuneSummary])
def search_communes(
    conn: ConnDep,
    q: Annotated[str, Query(min_length=1, max_length=100,
                            description="Nom (sans accents ni majuscules), code INSEE ou code "
                                        "postal")],
    departement: Annotated[str | None, Query(max_length=3)] = None,
    region: Annotated[str | None, Query(max_length=3)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    """Recherche de communes et d'arrondissements municipaux."""
    query = classify_query(q)
    if not query.text:
        return []
    return repo.search(conn, query, departement=departement, region=region, limit=limit)


@router.get(
    "/communes/{code}",
    response_model=CommuneCard | CommuneFeature | FormerCommune,
    responses={404: {"description": "Code inconnu, ou commune hors carte"}},
)
def get_commune(
    conn: ConnDep,
    ctx: CptsContext,
    code: str,
    geometry: Annotated[bool, Query(description="Renvoie une Feature GeoJSON")] = False,
) -> dict[str, Any]:
    """La fiche d'une commune ou d'un arrondissement municipal ; pour un ancien code, la ou
    les communes actuelles qui l'ont repris et l'historique."""
    code = normalise_code(code)
    if not is_commune_code(code):
        raise ProblemError(422, "invalid_commune_code",
                           f"« {code} » n'est pas un code commune INSEE (5 caractères, ex. "
                           f"06088 ou 2A004).")
    card = repo.card(conn, code, with_geometry=geometry)
    if card is None:
        history = repo.former_history(conn, code)
        if history:
            return {"code": code, "nom": next((h["old_nom"] for h in history if h["old_nom"]),
                                              None),
                    "in_force": False, "history": history,
                    "current": repo.summaries(conn, sorted({h["new_code"] for h in history}))}
        raise _not_found(conn, code)
    card |= cpts_service.covering(ctx, code)
    shape = card.pop("geometry")
    if geometry:
        return {"type": "Feature", "id": code, "geometry": shape, "properties": card}
    return card


def _not_found(conn: ConnDep, code: str) -> ProblemError:
    outside = repo.outside_map(conn, code)
    if outside is not None:
        return ProblemError(
            404, "commune_outside_map",
            f"{outside['nom']} ({code}) appartient à une collectivité d'outre-mer, hors du "
            f"champ des CPTS et de la carte.",
        )
    return ProblemError(404, "unknown_commune", f"Aucune commune ne porte le code {code}.")
