"""What the health check reads from the database."""

from dataclasses import dataclass

from app.db import Conn


@dataclass(frozen=True)
class DataSummary:
    communes: int
    cog: str | None


def data_summary(conn: Conn) -> DataSummary:
    row = conn.execute(
        """
        SELECT (SELECT count(*) FROM commune WHERE type = 'COM') AS communes,
               (SELECT cog_year::text FROM geodata_release WHERE is_current) AS cog
        """
    ).fetchone()
    assert row is not None
    return DataSummary(communes=row["communes"], cog=row["cog"])
