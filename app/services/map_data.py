"""What the map page reads besides tiles: every visible perimeter with its units (to colour
the communes), what the user may do with one CPTS (to hide the rest), groups of units and
polygon selections for the edit mode. Access rules come from `app.auth.policy` only."""

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from app.domain import cpts_colours
from app.domain.cpts_access import (
    Actions,
    Status,
    Visibility,
    allowed_actions,
    can_create_cpts,
    split_claims,
)
from app.errors import ProblemError
from app.repo import map_data as repo
from app.repo import tiles as tiles_repo
from app.services import cpts as cpts_service
from app.services.cpts import Context

# Overview documents kept in memory (~1 MB each), one per distinct set of visible CPTS.
OVERVIEW_CACHE_SIZE = 8
_overview_cache: OrderedDict[tuple[str, str], bytes] = OrderedDict()
_overview_lock = threading.Lock()

# Colour indices (app.domain.cpts_colours), one entry per set of visible CPTS and versions.
COLOUR_CACHE_SIZE = 16
_colour_cache: OrderedDict[tuple[int, tuple[tuple[int, int], ...]], dict[int, int]] = OrderedDict()

# A polygon selection keeps a unit when at least this share of its area is inside.
SELECTION_MIN_SHARE = 0.5
SELECTION_LIMIT = 5000


def _visible(ctx: Context, statuses: list[str] | None, *,
             include_archived: bool) -> list[dict[str, Any]]:
    """The CPTS the user may read (their current version)."""
    return cpts_service.listing(ctx, statuses=statuses, include_archived=include_archived)


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": int(row["id"]), "name": row["name"], "status": row["status"],
        "pending_status": row["pending_status"], "region": row["region"],
        "version": int(row["version"]), "is_scenario": row["is_scenario"],
        "archived": row["archived_at"] is not None, "population": row["population"],
        "size_class": row["size_class"],
    }


def colours(ctx: Context, rows: list[dict[str, Any]] | None = None,
            members: dict[int, list[str]] | None = None) -> dict[int, int]:
    """The colour index of each CPTS on the map (`app.domain.cpts_colours.assign`): a
    colouring of the CPTS this user may read and that are not archived, so that neighbours
    differ; what the user may not read takes no part (no gap betrays a hidden draft). `rows`:
    that listing when the caller has it; `members`: their units when the caller has them.
    Kept per set of (id, version) and geodata release."""
    if rows is None:
        rows = _visible(ctx, None, include_archived=False)
    live = sorted((int(r["id"]), int(r["version"])) for r in rows if r["archived_at"] is None)
    key = (ctx.graph.release_id, tuple(live))
    with _overview_lock:
        cached = _colour_cache.get(key)
        if cached is not None:
            _colour_cache.move_to_end(key)
            return cached
    ids = [cpts_id for cpts_id, _ in live]
    if members is None:
        members = repo.members_of(ctx.conn, ids)
    found = cpts_colours.assign({i: members.get(i, []) for i in ids}, ctx.graph.neighbours)
    with _overview_lock:
        _colour_cache[key] = found
        while len(_colour_cache) > COLOUR_CACHE_SIZE:
            _colour_cache.popitem(last=False)
    return found


def perimeters(ctx: Context, statuses: list[str] | None, *,
               include_archived: bool = False) -> dict[str, Any]:
    """The CPTS the user may read, each with its current units (one query for all units) and
    its colour on the map (the same as in the overview, whatever the filter)."""
    rows = _visible(ctx, statuses, include_archived=include_archived)
    members = repo.members_of(ctx.conn, [int(r["id"]) for r in rows])
    colour_of = colours(ctx, rows, members) if statuses is None else colours(ctx)
    return {
        "population_year": ctx.graph.population_year,
        "size_rule": ctx.rule().id,
        "cpts": [_summary(r) | {"communes": members.get(int(r["id"]), []),
                                "colour": colour_of.get(int(r["id"]))} for r in rows],
    }


def overview(ctx: Context) -> bytes:
    """The national coverage map in one light JSON document: every CPTS the user may read
    (not archived) without its units, the generalised outline of each, the units two or more
    of them claim (with their ids, for the hatching) and the regions' shapes (the ground the
    zones blanches show on). Geometries are GeoJSON text from PostGIS, spliced as they are.

    `other_claims`: the units a listed CPTS shares with CPTS outside the listing, as
    `app.domain.cpts_access.split_claims` lets this user know them (`_other_claims`)."""
    repo.plan_without_jit(ctx.conn)
    rows = _visible(ctx, None, include_archived=False)
    colour_of = colours(ctx, rows)
    head = json.dumps({"population_year": ctx.graph.population_year,
                       "size_rule": ctx.rule().id,
                       "cpts": [_summary(r) | {"colour": colour_of.get(int(r["id"]))}
                                for r in rows]},
                      ensure_ascii=False, separators=(",", ":"))
    # The shapes follow from the listed CPTS and their versions (in `head`) and from the
    # geodata release: a document already drawn for the same key is the same document.
    key = (tiles_repo.current_vintage(ctx.conn).token, head)
    ids = [int(r["id"]) for r in rows]
    others = _other_claims(ctx, ids)  # depends on what is not listed: never cached
    with _overview_lock:
        cached = _overview_cache.get(key)
        if cached is not None:
            _overview_cache.move_to_end(key)
    if cached is None:
        cached = _overview_body(ctx, head, ids)
        with _overview_lock:
            _overview_cache[key] = cached
            while len(_overview_cache) > OVERVIEW_CACHE_SIZE:
                _overview_cache.popitem(last=False)
    return cached[:-1] + b',"other_claims":' + others + b"}"


@dataclass(frozen=True)
class _OtherClaim:
    """A claim on a unit by a CPTS outside the overview's listing (`ClaimLike`)."""

    code: str
    cpts_id: int
    name: str
    is_scenario: bool


def _other_claims(ctx: Context, ids: list[int]) -> bytes:
    """Per unit of a listed CPTS that CPTS outside the listing claim too: the listed claimants
    (`cpts`), the names of the others the user may see as outlines (`names`), and the number
    of those it may not see (`hidden`) with the sentence the commune card shows for them
    (`hidden_text`, `HiddenClaims.notice`): counted, never identified. Nothing is hatched for
    them (the commune layer and the card do not call them an overlap either)."""
    rows = repo.overview_unlisted_claims(ctx.conn, ids)
    if not rows:
        return b"[]"
    visibility: dict[int, Visibility] = cpts_service.visibility_of(
        ctx, {int(r["cpts_id"]) for r in rows})
    by_code: dict[str, tuple[list[int], list[_OtherClaim]]] = {}
    for r in rows:
        entry = by_code.setdefault(r["code"], ([int(i) for i in r["listed"]], []))
        entry[1].append(_OtherClaim(r["code"], int(r["cpts_id"]), r["name"],
                                    bool(r["is_scenario"])))
    found: list[dict[str, Any]] = []
    for code, (listed, claims) in by_code.items():
        named, hidden = split_claims(claims, visibility)
        notice = hidden.notice("cette commune")
        if named or notice:
            found.append({"code": code, "cpts": listed,
                          "names": sorted({c.name for c in named}), "hidden": hidden.cpts,
                          "hidden_text": notice["detail"] if notice else None})
    shapes = repo.overview_unit_shapes(ctx.conn, [e["code"] for e in found])
    return ("[" + ",".join(
        json.dumps(e, ensure_ascii=False, separators=(",", ":"))[:-1]
        + f',"geometry":{shapes[e["code"]]}}}' for e in found if e["code"] in shapes)
        + "]").encode("utf-8")


def _overview_body(ctx: Context, head: str, ids: list[int]) -> bytes:
    outlines = repo.overview_outlines(ctx.conn, ids)
    overlaps = repo.overview_overlaps(ctx.conn, ids)
    land = repo.land_shapes(ctx.conn)
    parts = [head[:-1], ',"outlines":{',
             ",".join(f'"{cpts_id}":{geometry}' for cpts_id, geometry in outlines.items()),
             '},"overlaps":[',
             ",".join(f'{{"code":{json.dumps(r["code"])},'
                      f'"cpts":{json.dumps([int(i) for i in r["ids"]])},'
                      f'"geometry":{r["geometry"]}}}' for r in overlaps),
             '],"land":[', ",".join(land), "]}"]
    return "".join(parts).encode("utf-8")


def unit_at(ctx: Context, lon: float, lat: float) -> dict[str, str]:
    code = repo.unit_at(ctx.conn, lon, lat)
    if code is None:
        raise ProblemError(404, "no_unit_here", "Aucune commune à cet endroit.")
    return {"code": code}


def neighbours(ctx: Context, code: str) -> dict[str, Any]:
    """A unit, its outline and its neighbours with their points (reference geography only)."""
    found = repo.neighbours(ctx.conn, code)
    if found is None:
        raise ProblemError(404, "unit_not_found",
                           f"Aucune commune de la carte n'a le code « {code} ».")
    return found | {"geometry": json.loads(found["geometry"])}


def actions(ctx: Context, cpts_id: int) -> Actions:
    """What the user may do with one CPTS (`app.domain.cpts_access.allowed_actions`)."""
    current = cpts_service.load_readable(ctx, cpts_id)
    return allowed_actions(ctx.user, current.ref, archived=current.row["archived_at"] is not None,
                           pending_status=current.row["pending_status"],
                           publish_signed=ctx.publish_signed)


def may_create(ctx: Context) -> bool:
    """Whether the user may start a draft (pre-projet) from the map; the region is checked on
    creation. Agencies record CPTS from the letter of intent on, not from the map."""
    user = ctx.user
    if user is None:
        return False
    regions = sorted(user.regions) or [""]
    return any(can_create_cpts(user, region, Status.PRE_PROJET) for region in regions)


def group(ctx: Context, kind: repo.GroupKind, code: str) -> dict[str, Any]:
    found = repo.group(ctx.conn, kind, code.strip().upper())
    if found is None:
        label = "EPCI" if kind == "epci" else "bassin de vie"
        raise ProblemError(404, f"unknown_{kind}", f"Aucun {label} ne porte le code {code}.")
    return found


def selection(ctx: Context, geometry: dict[str, Any]) -> dict[str, Any]:
    """The units a drawn rectangle or polygon selects, by the stated share rule."""
    import json

    import shapely.geometry

    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ProblemError(422, "invalid_selection",
                           "La sélection doit être un polygone (GeoJSON Polygon).")
    try:
        shape = shapely.geometry.shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise ProblemError(422, "invalid_selection",
                           "Polygone de sélection illisible.") from None
    if shape.is_empty or shape.area == 0:
        raise ProblemError(422, "invalid_selection", "Le polygone de sélection est vide.")
    codes = repo.units_in_polygon(ctx.conn, json.dumps(geometry), SELECTION_MIN_SHARE,
                                  SELECTION_LIMIT + 1)
    if len(codes) > SELECTION_LIMIT:
        raise ProblemError(422, "selection_too_large",
                           f"La sélection dépasse {SELECTION_LIMIT} communes : tracez une zone "
                           f"plus petite.")
    return {"communes": codes, "min_share": SELECTION_MIN_SHARE,
            "rule": "Sont retenues les communes dont au moins la moitié de la surface est "
                    "dans la zone tracée."}


def units(ctx: Context, codes: list[str]) -> dict[str, Any]:
    cleaned = sorted({code.strip().upper() for code in codes if code.strip()})
    return repo.describe_units(ctx.conn, cleaned)
