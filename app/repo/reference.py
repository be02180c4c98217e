"""The reference graph of units (attributes and adjacency), read once per geodata release."""

import threading
import time

from psycopg.rows import tuple_row

from app.db import Conn
from app.domain.perimeter import ReferenceGraph, Unit


def current_release_id(conn: Conn) -> int | None:
    row = conn.execute("SELECT id FROM geodata_release WHERE is_current").fetchone()
    return None if row is None else int(row["id"])


def read_graph(conn: Conn) -> ReferenceGraph:
    release = conn.execute(
        "SELECT id, population_year FROM geodata_release WHERE is_current").fetchone()
    units: dict[str, Unit] = {}
    arrondissements: dict[str, list[str]] = {}
    # Plain tuples and one row per unit for the adjacency: three times faster than dict rows
    # of every pair (a CLI write, such as the COG migration of a load, reads the graph once).
    cursor = conn.cursor(row_factory=tuple_row)
    for row in cursor.execute(
        """SELECT code, nom, population, departement, region, area_m2, edge_m, has_polygon,
                  is_unit, parent, epci, bassin_de_vie FROM commune"""
    ):
        units[row[0]] = Unit(*row)
        if row[9]:
            arrondissements.setdefault(row[9], []).append(row[0])
    neighbours: dict[str, list[str]] = dict(cursor.execute(
        "SELECT code, array_agg(neighbour) FROM unit_adjacency GROUP BY code").fetchall())
    return ReferenceGraph(
        release_id=0 if release is None else int(release["id"]),
        population_year=0 if release is None else int(release["population_year"]),
        units=units,
        neighbours={code: frozenset(codes) for code, codes in neighbours.items()},
        arrondissements={code: tuple(sorted(codes)) for code, codes in arrondissements.items()},
    )


class GraphCache:
    """Keeps the graph of the current release; re-reads it when another release is loaded.

    The release id is checked at most every `check_every_s` seconds.
    """

    def __init__(self, check_every_s: float = 2.0) -> None:
        self._graph: ReferenceGraph | None = None
        self._checked_at = 0.0
        self._check_every_s = check_every_s
        self._lock = threading.Lock()

    def get(self, conn: Conn) -> ReferenceGraph:
        now = time.monotonic()
        graph = self._graph
        if graph is not None and now - self._checked_at < self._check_every_s:
            return graph
        release = current_release_id(conn) or 0
        with self._lock:
            if self._graph is None or self._graph.release_id != release:
                self._graph = read_graph(conn)
            self._checked_at = now
            return self._graph
