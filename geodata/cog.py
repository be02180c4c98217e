"""The current COG as tables: communes and arrondissements with their attributes, the history of
former codes, and the areas communes belong to (EPCI, département, région, bassin de vie)."""

from dataclasses import dataclass
from typing import Any

import pandas as pd

PLM_COMMUNES = ("13055", "69123", "75056")  # Marseille, Lyon, Paris: perimeters use their ARM

# Communes restored on 1 January 2025 from the commune nouvelle Neussargues en Pinatelle
# (15141). No source here records that link, nor their outline: their land is still drawn
# inside 15141, and they take its bassin de vie.
RESTORED_WITHOUT_OUTLINE = {
    "15031": "15141",
    "15035": "15141",
    "15047": "15141",
    "15171": "15141",
}


@dataclass(frozen=True)
class Cog:
    communes: pd.DataFrame       # one row per COM and ARM of metropolitan France and the DROM
    outside_map: pd.DataFrame    # communes of the collectivités d'outre-mer
    history: pd.DataFrame        # old_code, old_nom, new_code, kind
    epci: pd.DataFrame           # code, nom, type
    departements: pd.DataFrame   # code, nom, region
    regions: pd.DataFrame        # code, nom
    bassins_de_vie: pd.DataFrame  # code, nom


def build_history(communes_json: list[dict[str, Any]]) -> pd.DataFrame:
    """Former codes → current code: communes déléguées and associées, and `anciensCodes`."""
    rows: list[dict[str, str | None]] = []
    for item in communes_json:
        if item["type"] in ("commune-deleguee", "commune-associee") and item["code"] != item[
            "chefLieu"
        ]:
            kind = "deleguee" if item["type"] == "commune-deleguee" else "associee"
            rows.append({"old_code": item["code"], "old_nom": item["nom"],
                         "new_code": item["chefLieu"], "kind": kind})
        if item["type"] == "commune-actuelle":
            for old in item.get("anciensCodes", []):
                if old != item["code"]:
                    rows.append({"old_code": old, "old_nom": None, "new_code": item["code"],
                                 "kind": "ancien_code"})
    history = pd.DataFrame(rows, columns=["old_code", "old_nom", "new_code", "kind"])
    # A code listed both as a déléguée and in anciensCodes: keep the row that carries a name.
    history = history.sort_values(["old_code", "new_code", "old_nom"], na_position="last")
    return history.drop_duplicates(["old_code", "new_code"]).reset_index(drop=True)


def _current_code(old_codes: pd.Series, history: pd.DataFrame, current: set[str]) -> pd.Series:
    """Map COG 2024 codes to current ones (a code still current maps to itself)."""
    forward = history.drop_duplicates("old_code").set_index("old_code")["new_code"]
    mapped = old_codes.where(old_codes.isin(current), old_codes.map(forward))
    return mapped


def build_cog(
    decoupage: dict[str, list[dict[str, Any]]],
    zonings: pd.DataFrame,
    labels: pd.DataFrame,
    population_year: int,
) -> Cog:
    items = decoupage["communes"]
    history = build_history(items)

    current = [c for c in items if c["type"] == "commune-actuelle"]
    arms = [c for c in items if c["type"] == "arrondissement-municipal"]
    on_map = [c for c in current if c["zone"] in ("metro", "drom")]
    outside = [c for c in current if c["zone"] not in ("metro", "drom")]

    epci_of: dict[str, str] = {}
    for epci in decoupage["epci"]:
        for member in epci["membres"]:
            epci_of[member["code"]] = epci["code"]

    rows = []
    for c in on_map:
        rows.append({
            "code": c["code"], "nom": c["nom"], "type": "COM", "parent": None,
            "is_unit": c["code"] not in PLM_COMMUNES,
            "departement": c["departement"], "region": c["region"],
            "epci": epci_of.get(c["code"]),
            "codes_postaux": sorted(c.get("codesPostaux", [])),
            "population": int(c.get("population", 0)),
        })
    parents = {c["code"]: c for c in on_map}
    for a in arms:
        parent = parents[a["commune"]]
        rows.append({
            "code": a["code"], "nom": a["nom"], "type": "ARM", "parent": a["commune"],
            "is_unit": True, "departement": a["departement"], "region": a["region"],
            "epci": epci_of.get(a["commune"]),
            "codes_postaux": sorted(a.get("codesPostaux", [])),
            "population": int(a.get("population", 0)),
        })
        del parent
    communes = pd.DataFrame(rows)
    communes["population_year"] = population_year

    # Bassins de vie are given for COG 2024 communes: bring them to current codes. When several
    # former communes now form one, the one whose code the new commune kept decides.
    zonings = zonings.assign(
        current=_current_code(zonings["CODGEO"], history, set(communes["code"]))
    )
    kept = zonings[zonings["CODGEO"] == zonings["current"]].set_index("current")["BV2022"]
    merged = zonings[zonings["current"].notna()].drop_duplicates("current").set_index(
        "current")["BV2022"]
    bv = kept.combine_first(merged)
    communes["bassin_de_vie"] = communes["code"].map(bv)
    restored = communes["code"].isin(RESTORED_WITHOUT_OUTLINE.keys())
    communes.loc[restored, "bassin_de_vie"] = communes.loc[restored, "code"].map(
        RESTORED_WITHOUT_OUTLINE).map(bv)
    is_arm = communes["type"] == "ARM"
    communes.loc[is_arm, "bassin_de_vie"] = communes.loc[is_arm, "parent"].map(bv)

    outside_map = pd.DataFrame([
        {"code": c["code"], "nom": c["nom"], "collectivite": c["departement"],
         "population": c.get("population")}
        for c in outside
    ])
    epci_table = pd.DataFrame([{"code": e["code"], "nom": e["nom"], "type": e["type"]}
                         for e in decoupage["epci"]])
    departements = pd.DataFrame([
        {"code": d["code"], "nom": d["nom"], "region": d["region"]}
        for d in decoupage["departements"] if d.get("zone") in ("metro", "drom")
    ])
    regions = pd.DataFrame([{"code": r["code"], "nom": r["nom"]} for r in decoupage["regions"]
                            if r.get("zone") in ("metro", "drom")])
    bv_labels = labels[labels["NIVGEO"] == "BV2022"].rename(
        columns={"CODGEO": "code", "LIBGEO": "nom"})[["code", "nom"]]
    return Cog(communes, outside_map, history, epci_table, departements, regions,
               bv_labels.reset_index(drop=True))
