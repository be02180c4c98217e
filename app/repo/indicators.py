"""SQL of indicator tables: the tables and their versions (one per import), declared columns,
values per unit, and the reference the rows are matched against (postal codes, former codes)."""

import json
from collections.abc import Sequence
from typing import Any

from app.db import Conn
from app.domain.indicator_aggregates import Row
from app.domain.indicators import Category, Column, Definition, ReferenceUnit, UnitValues


def reference_units(conn: Conn) -> list[ReferenceUnit]:
    rows = conn.execute("SELECT code, nom, codes_postaux FROM commune ORDER BY code").fetchall()
    return [ReferenceUnit(r["code"], r["nom"], tuple(r["codes_postaux"] or ())) for r in rows]


def generation(conn: Conn) -> tuple[int, int]:
    """Changes when a version is added or a table's visibility changes: (last version, tables
    made restricted)."""
    row = conn.execute(
        """SELECT coalesce((SELECT max(id) FROM indicator_version), 0) AS version,
                  (SELECT count(*) FROM indicator_table WHERE visibility = 'restricted')
                  AS restricted""").fetchone()
    assert row is not None
    return int(row["version"]), int(row["restricted"])


def lock_table(conn: Conn, slug: str) -> dict[str, Any] | None:
    """The table of this name, locked until the end of the transaction (two imports of the same
    table wait for each other); None when there is none yet (its name is locked anyway)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('indicator_table:' || %s))", (slug,))
    return conn.execute("SELECT id, slug, title, visibility FROM indicator_table WHERE slug = %s "
                        "FOR UPDATE", (slug,)).fetchone()


def save_table(conn: Conn, definition: Definition, user_id: int | None) -> int:
    row = conn.execute(
        """INSERT INTO indicator_table (slug, title, visibility, created_by)
           VALUES (%s, %s, %s, %s)
           ON CONFLICT (slug) DO UPDATE SET title = excluded.title,
                                            visibility = excluded.visibility
           RETURNING id""",
        (definition.slug, definition.title, definition.visibility, user_id)).fetchone()
    assert row is not None
    return int(row["id"])


def insert_version(conn: Conn, table_id: int, definition: Definition, *, filename: str | None,
                   rows: int, matched: int, report: dict[str, Any], user_id: int | None,
                   release: int | None) -> int:
    row = conn.execute(
        """INSERT INTO indicator_version (table_id, vintage, source, visibility, match_by,
                                          filename, rows, matched, report, created_by,
                                          cog_release)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (table_id, definition.vintage, definition.source, definition.visibility,
         definition.match_by, filename, rows, matched, json.dumps(report, ensure_ascii=False),
         user_id, release)).fetchone()
    assert row is not None
    version_id = int(row["id"])
    with conn.cursor() as cursor:
        cursor.executemany(
            """INSERT INTO indicator_column (version_id, position, key, header, label, unit,
                                             source, vintage, aggregation, weight, categories)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [(version_id, position, c.key, c.header, c.label, c.unit, c.source, c.vintage,
              c.aggregation, c.weight,
              json.dumps([{"value": k.value, "label": k.label} for k in c.categories],
                         ensure_ascii=False) if c.categories else None)
             for position, c in enumerate(definition.columns)])
    return version_id


def _copy_text(text: str) -> str:
    """A value in COPY's text format."""
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _array_item(text: str) -> str:
    """A text element of an array literal, quoted."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def copy_values(conn: Conn, version_id: int, values: Sequence[UnitValues]) -> None:
    """The values in COPY's text format, written by hand: psycopg's per-row array adaptation
    costs ten times more for 35,000 rows."""
    lines: list[str] = []
    for unit in values:
        numbers = ",".join("NULL" if n is None else repr(float(n)) for n in unit.numbers)
        categories = ",".join("NULL" if c is None else _array_item(c) for c in unit.categories)
        lines.append(f"{version_id}\t{_copy_text(unit.code)}\t{{{numbers}}}\t"
                     f"{_copy_text('{' + categories + '}')}\t"
                     f"{{{','.join(str(n) for n in unit.lines)}}}\n")
    with conn.cursor().copy(
            "COPY indicator_value (version_id, commune, numbers, categories, lines) "
            "FROM STDIN") as copy:
        copy.write("".join(lines).encode("utf-8"))


def versions(conn: Conn) -> list[dict[str, Any]]:
    """Every version of every table, newest vintage first, with its table's name."""
    return conn.execute(
        """SELECT v.id, v.table_id, t.slug, t.title, t.visibility, v.vintage, v.source,
                  v.match_by, v.filename, v.rows, v.matched, v.created_at,
                  u.email AS created_by_email, v.report -> 'summary' AS summary
             FROM indicator_version v
             JOIN indicator_table t ON t.id = v.table_id
             LEFT JOIN app_user u ON u.id = v.created_by
            ORDER BY t.slug, v.vintage DESC, v.id DESC""").fetchall()


def columns_of(conn: Conn, version_ids: Sequence[int]) -> dict[int, tuple[Column, ...]]:
    found: dict[int, list[Column]] = {}
    for row in conn.execute(
            """SELECT version_id, key, header, label, unit, source, vintage, aggregation,
                      weight, categories
                 FROM indicator_column WHERE version_id = ANY(%s)
                ORDER BY version_id, position""", (list(version_ids),)):
        found.setdefault(int(row["version_id"]), []).append(Column(
            key=row["key"], header=row["header"], label=row["label"], unit=row["unit"],
            source=row["source"], vintage=row["vintage"], aggregation=row["aggregation"],
            weight=row["weight"],
            categories=tuple(Category(c["value"], c["label"]) for c in row["categories"] or ())))
    return {version_id: tuple(columns) for version_id, columns in found.items()}


def values_of(conn: Conn, version_id: int) -> dict[str, Row]:
    with conn.cursor() as cursor:
        cursor.execute("SELECT commune, numbers, categories FROM indicator_value "
                       "WHERE version_id = %s", (version_id,))
        return {r["commune"]: Row(tuple(r["numbers"]), tuple(r["categories"]))
                for r in cursor}


def report_of(conn: Conn, version_id: int) -> dict[str, Any] | None:
    row = conn.execute("SELECT report FROM indicator_version WHERE id = %s",
                       (version_id,)).fetchone()
    return None if row is None else dict(row["report"])
