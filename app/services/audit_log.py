"""Reading the audit log: the entries of the user's regions (`app.auth.policy.audit_regions`),
and among them only those whose CPTS the user may see in full (`app.domain.cpts_access`): the
creation of a carrier's draft or of another agency's scenario is nobody else's business."""

from typing import Any

from app.domain.cpts_access import Visibility
from app.services.cpts import Context, visibility_of


def mentioned_cpts(entry: dict[str, Any]) -> set[int]:
    """The CPTS an entry is about: its entity, or the CPTS an import wrote."""
    found: set[int] = set()
    if entry["entity"] == "cpts" and entry["entity_id"] is not None:
        found.add(int(entry["entity_id"]))
    imported = (entry.get("changes") or {}).get("cpts")
    if isinstance(imported, dict):
        found.update(int(i) for i in imported.get("after") or () if isinstance(i, int))
    return found


def readable(ctx: Context, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries every CPTS of which the user may see in full (administrators: all)."""
    mentioned = {id(entry): mentioned_cpts(entry) for entry in entries}
    seen = visibility_of(ctx, {i for ids in mentioned.values() for i in ids})
    return [entry for entry in entries
            if all(seen.get(i, Visibility.NONE) is Visibility.FULL for i in mentioned[id(entry)])]
