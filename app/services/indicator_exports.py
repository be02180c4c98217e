"""The indicators of a CPTS in its exports: a sheet « Indicateurs » of the XLSX file and a block
of the standalone HTML map, with the département, région and France beside each figure. Only the
tables the user may read (`app.services.indicators.for_cpts`)."""

from html import escape
from typing import Any

from app.domain.csv_safety import xlsx_append
from app.services import indicators as service
from app.services.cpts import Context

HEADERS = ("Table", "Indicateur", "Unité", "Règle", "Millésime", "Source", "Périmètre",
           "Département", "Région", "France", "Part de la population couverte")


def for_cpts(ctx: Context, cpts_id: int) -> dict[str, Any] | None:
    return service.for_cpts(ctx, cpts_id)


def _value(indicator: dict[str, Any], result: dict[str, Any] | None) -> Any:
    if result is None:
        return None
    if indicator["aggregation"] == "share":
        parts = [f"{c['label']} {c['share'] * 100:.1f} %".replace(".", ",")
                 for c in result.get("categories", ()) if c.get("share")]
        return " ; ".join(parts) or None
    value = result.get("value")
    return None if value is None else round(float(value), 4)


def rows(indicators: dict[str, Any]) -> list[tuple[Any, ...]]:
    found = []
    for table in indicators["tables"]:
        for item in table["indicators"]:
            comparisons = item["comparisons"]
            coverage = item["result"].get("coverage")
            found.append((
                table["title"], item["label"], item["unit"], item["aggregation_label"],
                item["vintage"], item["source"], _value(item, item["result"]),
                _value(item, comparisons.get("departement")),
                _value(item, comparisons.get("region")),
                _value(item, comparisons.get("france")),
                None if coverage is None else round(float(coverage), 4)))
    return found


def add_sheet(workbook: Any, indicators: dict[str, Any] | None) -> None:
    """The sheet « Indicateurs » (nothing when no table is readable)."""
    if not indicators:
        return
    from openpyxl.styles import Font

    sheet = workbook.create_sheet("Indicateurs")
    names = {c["level"]: c["nom"] for c in indicators["comparisons"]}
    xlsx_append(sheet, [*HEADERS[:7], *(f"{label} ({names.get(level) or '—'})" for label, level
                                         in zip(HEADERS[7:10], ("departement", "region",
                                                                "france"), strict=True)),
                        HEADERS[10]])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows(indicators):
        xlsx_append(sheet, row)
    sheet.freeze_panes = "A2"


def html_block(indicators: dict[str, Any] | None) -> str:
    """A table of the indicators for the HTML map (nothing when no table is readable)."""
    if not indicators:
        return ""
    names = [c["nom"] or c["level"] for c in indicators["comparisons"]]

    def text(value: Any, unit: str | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, float):
            shown = f"{value:,.1f}".replace(",", "\u202f").replace(".", ",").removesuffix(",0")
            return escape(f"{shown} {unit}" if unit else shown)
        return escape(str(value))

    lines = "".join(
        f"<tr><td title=\"{escape(str(row[5]))}, {escape(str(row[4]))}\">{escape(str(row[1]))}"
        f"</td><td>{text(row[6], row[2])}</td>"
        + "".join(f"<td>{text(v, row[2])}</td>" for v in row[7:7 + len(names)]) + "</tr>"
        for row in rows(indicators))
    heads = "".join(f"<th>{escape(str(n))}</th>" for n in names)
    return (f'<table class="cpts-indicators" style="font-size:12px;border-collapse:collapse">'
            f"<tr><th>Indicateur</th><th>Périmètre</th>{heads}</tr>{lines}</table>")
