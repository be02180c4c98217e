"""Perimeters follow the COG: real history (COG 2024 → 2026) and a synthetic COG 2027.

The perimeters are stored while the COG 2024 is loaded (`--cog-package 4.1.0`), then the COG
2026 is loaded (the default package): the communes that formed 12218, 14581, 49126 and 69114 in
2025 change code, Hesdin-la-Forêt (62447) absorbs Huby-Saint-Leu, Marconne and
Sainte-Austreberthe, and the Cantal restorations (15031, 15035, 15047, 15171) come out of 15141.
A synthetic COG 2027 built from the 2026 one adds two merges and one change of code.
This module works in its own database (`<test database>_cog`).
"""

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely

from app.db import Conn, connect
from app.dbadmin import database_name, ensure_database, with_database
from app.migrations import upgrade
from app.services import cpts as service
from app.services.cpts_history import read_at
from app.settings import Settings
from geodata.build import GEOM_COLUMNS, Built
from geodata.load import Scope, filter_scope, write_release
from geodata.pipeline import built_for, format_report, load_geodata, read_sources
from geodata.polygons import assign_polygons

DEPARTEMENTS = ["12", "14", "15", "49", "62", "69"]
STORED_ON = date(2024, 6, 1)

# name → (status, COG 2024 codes, scenario)
PERIMETERS_2024: dict[str, tuple[str, list[str], bool]] = {
    "Conques": ("lettre_intention", ["12076"], False),
    "Aurseulles": ("projet_sante", ["14011"], False),
    "Orée d'Anjou": ("aci_signe", ["49069"], False),
    "Pierres Dorées": ("lettre_intention", ["69159"], False),
    "Neussargues": ("lettre_intention", ["15141"], False),
    "Huby": ("lettre_intention", ["62461"], False),
    "Hesdin": ("lettre_intention", ["62447"], False),
    "Scénario Beaujolais": ("lettre_intention", ["69159"], True),
    "Brouillon Anjou": ("pre_projet", ["49069"], False),
    "Rodez": ("lettre_intention", ["12202"], False),
}


@pytest.fixture(scope="module")
def cog_settings(settings: Settings) -> Settings:
    url = with_database(settings.database_url, database_name(settings.database_url) + "_cog")
    return settings.model_copy(update={"database_url": url})


@pytest.fixture(scope="module")
def history(cog_settings: Settings) -> Iterator[dict[str, Any]]:
    """The COG 2024 loaded, perimeters stored, the dry run, then the COG 2026 loaded."""
    url = cog_settings.database_url
    ensure_database(url)
    with connect(url) as conn:
        conn.autocommit = True
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    with connect(url) as conn:
        upgrade(conn, cog_settings.migrations_dir)
    load_geodata(cog_settings, departements=DEPARTEMENTS, cog_package="4.1.0",
                 show_progress=False)
    ids: dict[str, int] = {}
    with connect(url) as conn:
        ctx = service.command_line_context(conn)
        for name, (status, codes, scenario) in PERIMETERS_2024.items():
            ids[name] = service.create(ctx, name=f"CPTS {name}", status=status, communes=codes,
                                       is_scenario=scenario, effective_date=STORED_ON)
        archived = service.create(ctx, name="CPTS Aurseulles (ancienne)", status="projet_sante",
                                  communes=["14011"], effective_date=STORED_ON)
        service.archive(ctx, archived, expected_version=1, reason="remplacée")
        ids["archived"] = archived
        conn.commit()
    dry = load_geodata(cog_settings, departements=DEPARTEMENTS, dry_run=True,
                       show_progress=False)
    with connect(url) as conn:
        versions_after_dry_run = _count(conn, "SELECT count(*) FROM cpts_version")
    loaded = load_geodata(cog_settings, departements=DEPARTEMENTS, show_progress=False)
    yield {"ids": ids, "dry": dry.report["migration"], "report": loaded.report["migration"],
           "dry_text": format_report(dry), "load_text": format_report(loaded),
           "versions_after_dry_run": versions_after_dry_run, "url": url}


def _count(conn: Conn, statement: str) -> int:
    row = conn.execute(statement).fetchone()
    assert row is not None
    return int(row["count"])


def _entries(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"].removeprefix("CPTS "): entry for entry in report["cpts"]}


def test_codes_of_2025_are_replaced_in_every_perimeter(history: dict[str, Any]) -> None:
    entries = _entries(history["report"])
    assert {name: entry["replaced"] for name, entry in entries.items() if entry["replaced"]} == {
        "Conques": {"12076": ["12218"]},
        "Aurseulles": {"14011": ["14581"]},
        "Aurseulles (ancienne)": {"14011": ["14581"]},
        "Orée d'Anjou": {"49069": ["49126"]},
        "Brouillon Anjou": {"49069": ["49126"]},
        "Pierres Dorées": {"69159": ["69114"]},
        "Scénario Beaujolais": {"69159": ["69114"]},
        "Huby": {"62461": ["62447"]},
    }
    assert "Rodez" not in entries  # untouched by the COG 2026
    assert history["report"]["cpts_changed"] == 10
    assert history["report"]["written"] == 10 and history["report"]["not_migrated"] == []


def test_population_and_size_class_before_and_after(history: dict[str, Any]) -> None:
    entries = _entries(history["report"])
    figures = {name: (e["population_before"], e["population_after"], e["size_class_before"],
                      e["size_class_after"]) for name, e in entries.items()}
    # Populations légales 2021 (COG 2024 package) before, 2023 (COG 2026 package) after.
    assert figures["Conques"] == (1555, 1540, 1, 1)
    assert figures["Aurseulles"] == (1908, 1896, 1, 1)
    assert figures["Orée d'Anjou"] == (16975, 17162, 1, 1)
    assert figures["Pierres Dorées"][1] == 4185
    assert figures["Huby"] == (840, 4480, 1, 1)
    assert figures["Hesdin"] == (2225, 4480, 1, 1)
    assert figures["Neussargues"][0] == 1577


def test_cantal_restorations_join_the_cpts_that_held_15141(history: dict[str, Any]) -> None:
    entry = _entries(history["report"])["Neussargues"]
    assert entry["restored"] == {"15031": "15141", "15035": "15141", "15047": "15141",
                                 "15171": "15141"}
    assert entry["added"] == ["15031", "15035", "15047", "15171"] and entry["removed"] == []
    assert [a["code"] for a in entry["alerts"]] == ["cog_restored_commune"] * 4
    assert history["report"]["codes_restored"] == ["15031", "15035", "15047", "15171"]


def test_partial_merge_of_hesdin_la_foret_is_flagged_and_overlaps(
        history: dict[str, Any]) -> None:
    entries = _entries(history["report"])
    for name, missing in (("Huby", ["62549", "62743"]),
                          ("Hesdin", ["62461", "62549", "62743"])):
        alerts = entries[name]["alerts"]
        assert [a["code"] for a in alerts] == ["cog_partial_merge"]
        assert alerts[0]["communes"] == ["62447", *missing]
    assert [(o["commune"], o["name"]) for o in entries["Huby"]["new_overlaps"]] == [
        ("62447", "CPTS Hesdin")]
    # Perimeters that already shared the merged commune get no new overlap.
    assert entries["Scénario Beaujolais"]["new_overlaps"] == []
    assert history["report"]["new_overlaps"] == 1


def test_dry_run_reports_the_same_migration_and_writes_nothing(history: dict[str, Any]) -> None:
    assert history["dry"]["cpts"] == history["report"]["cpts"]
    # 11 CPTS created (version 1) and one archived (version 2) before the dry run.
    assert history["versions_after_dry_run"] == 12
    text = history["dry_text"].splitlines()
    assert text[0].startswith("Simulation (rien n'est écrit") and "COG 2024 → COG 2026" in text[0]
    assert "    12076 → 12218" in text
    assert "    population 1\u202f555 → 1\u202f540 ; taille 1 → 1" in text
    assert "    + 15031 (rétablie à partir de 15141)" in text
    assert any(line.startswith("    nouveau recouvrement sur 62447 avec la CPTS") for line in text)
    # The load prints the same blocks after the geography.
    assert "    12076 → 12218" in history["load_text"].splitlines()


def test_versions_are_written_by_the_system_and_keep_the_old_codes(
        history: dict[str, Any]) -> None:
    ids = history["ids"]
    with connect(history["url"]) as conn:
        rows = conn.execute(
            "SELECT version, reason, author_email, units, added, removed, archived "
            "FROM cpts_version WHERE cpts_id = %s ORDER BY version", (ids["Conques"],)).fetchall()
        assert [(r["version"], list(r["units"])) for r in rows] == [(1, ["12076"]),
                                                                     (2, ["12218"])]
        assert (rows[1]["reason"], rows[1]["author_email"]) == ("COG 2026", "système")
        assert (list(rows[1]["added"]), list(rows[1]["removed"])) == (["12218"], ["12076"])
        members = conn.execute("SELECT code FROM cpts_member WHERE cpts_id = %s",
                               (ids["Conques"],)).fetchall()
        assert [m["code"] for m in members] == ["12218"]
        archived = conn.execute(
            "SELECT version, archived, units FROM cpts_version WHERE cpts_id = %s "
            "ORDER BY version DESC LIMIT 1", (ids["archived"],)).fetchone()
        assert archived is not None
        assert (archived["version"], archived["archived"], list(archived["units"])) == (
            3, True, ["14581"])
        audit = _count(conn, "SELECT count(*) FROM audit_log WHERE action = 'cpts.cog_migration'")
        assert audit == 10
        stale = _count(conn, "SELECT count(*) FROM cpts_member m WHERE NOT EXISTS "
                             "(SELECT 1 FROM commune c WHERE c.code = m.code)")
        assert stale == 0


def test_the_cpts_as_it_stood_before_the_change(history: dict[str, Any]) -> None:
    ids = history["ids"]
    with connect(history["url"]) as conn:
        ctx = service.command_line_context(conn)
        before = read_at(ctx, ids["Huby"], date(2025, 1, 1))
        assert (before["version"], before["communes"], before["population"]) == (
            1, ["62461"], 840)
        now = read_at(ctx, ids["Huby"], date.today())
        assert (now["version"], now["communes"], now["reason"]) == (2, ["62447"], "COG 2026")
        assert [a["code"] for a in now["alerts"]] == ["cog_partial_merge"]
        current = service.read(ctx, ids["Huby"])
        assert "cog_partial_merge" in {w["code"] for w in current["warnings"]}


def test_a_second_load_of_the_same_cog_migrates_nothing(
        history: dict[str, Any], cog_settings: Settings) -> None:
    again = load_geodata(cog_settings, departements=DEPARTEMENTS, force=True,
                         show_progress=False)
    assert again.report["migration"]["cpts_changed"] == 0


# A synthetic COG 2027 made from the 2026 build: Rodez (12202) absorbs Onet-le-Château
# (12176); Sébazac-Concourès (12264) absorbs Luc-la-Primaube (12133) and Olemps (12174);
# Conques-en-Rouergue goes back to its 2024 code 12076.
MERGES_2027 = {"12202": ["12176"], "12264": ["12133", "12174"]}
CODE_CHANGES_2027 = {"12218": "12076"}


def future_cog(built: Built) -> Built:
    units = built.units.copy()
    history = [built.history]
    for keep, absorbed in MERGES_2027.items():
        rows = units["code"].isin([keep, *absorbed])
        at = units.index[units["code"] == keep][0]
        for column in GEOM_COLUMNS:
            merged: Any = shapely.MultiPolygon(shapely.get_parts(
                shapely.union_all(np.asarray(units.loc[rows, column], dtype=object))))
            units.at[at, column] = merged
        units.at[at, "population"] = int(units.loc[rows, "population"].sum())
        units.at[at, "area_m2"] = float(units.loc[rows, "area_m2"].sum())
        units = units[~units["code"].isin(absorbed)]
        history.append(pd.DataFrame({"old_code": absorbed, "old_nom": None, "new_code": keep,
                                     "kind": "ancien_code"}))
    renamed = {**{a: k for k, absorbed in MERGES_2027.items() for a in absorbed},
               **CODE_CHANGES_2027}
    for old, new in CODE_CHANGES_2027.items():
        units.loc[units["code"] == old, "code"] = new
        history.append(pd.DataFrame({"old_code": [old], "old_nom": None, "new_code": [new],
                                     "kind": ["ancien_code"]}))
    frame = pd.concat(history, ignore_index=True)
    frame = frame[~frame["old_code"].isin(CODE_CHANGES_2027.values())]
    adjacency = built.adjacency.replace({"code": renamed, "neighbour": renamed})
    adjacency = adjacency[adjacency["code"] != adjacency["neighbour"]]
    summed = adjacency.groupby(["code", "neighbour"])["border_m"].sum().reset_index()
    return Built(units.reset_index(drop=True), built.layers, summed, frame,
                 built.outside_map, built.report)


@pytest.fixture(scope="module")
def future(history: dict[str, Any], cog_settings: Settings) -> dict[str, Any]:
    sources = read_sources(cog_settings, None)
    built, _ = built_for(sources, cog_settings.cache_dir, show_progress=False)
    synthetic = future_cog(built)
    url = history["url"]
    ids = {}
    with connect(url) as conn:
        ctx = service.command_line_context(conn)
        for name, codes in {"Rodez-Onet": ["12202", "12176"], "Onet": ["12176"],
                            "Sébazac": ["12264"], "Olemps": ["12174"]}.items():
            ids[name] = service.create(ctx, name=f"CPTS {name}", status="lettre_intention",
                                       communes=codes, effective_date=date(2026, 2, 1))
        conn.commit()
    scope = Scope(tuple(sorted(DEPARTEMENTS)))
    future_sources = replace(sources, cog_year=2027, descriptions=[
        *sources.descriptions, {"name": "COG 2027 synthétique (tests)"}])
    report: dict[str, Any] = {}
    with connect(url) as conn:
        write_release(conn, filter_scope(synthetic, scope), future_sources, scope, report,
                      national=synthetic)
    return {"ids": ids, "report": report["migration"]}


def test_future_merges_and_code_change(future: dict[str, Any]) -> None:
    entries = _entries(future["report"])
    assert entries["Rodez-Onet"]["replaced"] == {"12176": ["12202"]}
    assert entries["Rodez-Onet"]["alerts"] == []  # it held the whole merged commune
    assert entries["Onet"]["replaced"] == {"12176": ["12202"]}
    assert [a["code"] for a in entries["Onet"]["alerts"]] == ["cog_partial_merge"]
    # Onet already shared 12176 with Rodez-Onet, but not Rodez with the CPTS Rodez.
    assert [(o["commune"], o["name"]) for o in entries["Onet"]["new_overlaps"]] == [
        ("12202", "CPTS Rodez")]
    assert [a["code"] for a in entries["Rodez"]["alerts"]] == ["cog_partial_merge"]
    # Sébazac kept its code but now holds Luc-la-Primaube and Olemps: a partial merge.
    assert entries["Sébazac"]["replaced"] == {}
    assert [a["code"] for a in entries["Sébazac"]["alerts"]] == ["cog_partial_merge"]
    assert entries["Sébazac"]["alerts"][0]["communes"] == ["12264", "12133", "12174"]
    assert entries["Olemps"]["replaced"] == {"12174": ["12264"]}
    assert [(o["commune"], o["name"]) for o in entries["Olemps"]["new_overlaps"]] == [
        ("12264", "CPTS Sébazac")]
    assert entries["Conques"]["replaced"] == {"12218": ["12076"]}
    assert entries["Conques"]["alerts"] == [] and entries["Conques"]["restored"] == {}
    assert future["report"]["cog_year"] == 2027 and future["report"]["written"] == 6
    before, after = entries["Olemps"]["population_before"], entries["Olemps"]["population_after"]
    assert after > before


def test_a_commune_nouvelle_takes_its_former_communes_polygons() -> None:
    square = shapely.box(0, 0, 1, 1)
    units = pd.DataFrame({"code": ["01001", "01002"], "type": ["COM", "COM"]})
    polygons = pd.DataFrame({
        "code": ["01001", "01003", "01002"], "type": ["COM", "COM", "COMD"],
        "parent": [None, None, "01002"],
        "geometry": [square, shapely.box(1, 0, 2, 1), shapely.box(5, 5, 6, 6)]})
    history = pd.DataFrame({"old_code": ["01003"], "new_code": ["01001"]})
    found, report = assign_polygons(units, polygons, history)
    assert found.iloc[0].area == 2.0 and report.rebuilt_from_predecessors == {
        "01001": ["01001", "01003"], "01002": ["01002"]}
    assert found.iloc[1].area == 1.0
