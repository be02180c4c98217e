"""`GET /api/communes` (search) and `GET /api/communes/{code}` (the commune card)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.db import ConnDep
from app.domain.communes import classify_query, is_commune_code, normalise_code
from app.errors import ProblemError
from app.repo import communes as repo

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


class CommuneCard(CommuneSummary):
    departement_nom: str | None
    region_nom: str | None
    epci_nom: str | None
    bassin_de_vie_nom: str | None
    area_km2: float | None
    polygon_note: str | None
    arrondissements: list[str]
    former_codes: list[str]
    cpts: list[CptsRef] = Field(description="CPTS dont le périmètre comprend cette unité")


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
    response_model=CommuneCard | CommuneFeature,
    responses={404: {"description": "Code inconnu, ancien code, ou commune hors carte"}},
)
def get_commune(
    conn: ConnDep,
    code: str,
    geometry: Annotated[bool, Query(description="Renvoie une Feature GeoJSON")] = False,
) -> dict[str, Any]:
    """La fiche d'une commune ou d'un arrondissement municipal."""
    code = normalise_code(code)
    if not is_commune_code(code):
        raise ProblemError(422, "invalid_commune_code",
                           f"« {code} » n'est pas un code commune INSEE (5 caractères, ex. "
                           f"06088 ou 2A004).")
    card = repo.card(conn, code, with_geometry=geometry)
    if card is None:
        raise _not_found(conn, code)
    card["cpts"] = []
    shape = card.pop("geometry")
    if geometry:
        return {"type": "Feature", "id": code, "geometry": shape, "properties": card}
    return card


def _not_found(conn: ConnDep, code: str) -> ProblemError:
    former = repo.former_code(conn, code)
    if former is not None:
        name = f" ({former['old_nom']})" if former["old_nom"] else ""
        return ProblemError(
            404, "former_commune_code",
            f"Le code {code}{name} n'est plus en vigueur : il fait partie de "
            f"{former['new_nom']} ({former['new_code']}).",
            errors=[{"code": code, "current_code": former["new_code"]}],
        )
    outside = repo.outside_map(conn, code)
    if outside is not None:
        return ProblemError(
            404, "commune_outside_map",
            f"{outside['nom']} ({code}) appartient à une collectivité d'outre-mer, hors du "
            f"champ des CPTS et de la carte.",
        )
    return ProblemError(404, "unknown_commune", f"Aucune commune ne porte le code {code}.")
