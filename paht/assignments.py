"""How a report's `assigned_agencies` entry is made: routing writes the lead and co-agencies it picks, handling the
ones staff add or designate; `paht.schemas.lead_assignment` reads them back."""
from __future__ import annotations


def agency_assignment(pack, agency_id: str, role: str) -> dict:
    """`role` is lead or co; the name is the pack directory's, or the id where the directory has no such agency."""
    return {"id": agency_id, "name": pack.agencies.get(agency_id, {}).get("name", agency_id), "role": role}
