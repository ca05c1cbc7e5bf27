"""Which reports a staff account may see: agency users see their own agency's, in their own pack (province), only;
another province's report does not exist for them. The user is who the gateway authenticated (paht.callers signs
the call that names them)."""
from __future__ import annotations

from paht.agreement import designated_agency
from paht.errors import ApiError
from paht.roles import CENTRE_ROLES


def assigned_ids(report: dict) -> set[str]:
    """The agencies a report concerns: those assigned, and the agency the province designated for it (it agrees to
    the result before publication, TTH Điều 16 khoản 4, VL Điều 17 khoản 4, after naming the competent one)."""
    return {a["id"] for a in report.get("assigned_agencies") or []} | ({designated_agency(report)} - {None})


def in_province(user: dict, report: dict) -> bool:
    """An account of one pack never sees another pack's reports; the centre's accounts without a pack see all."""
    pack = user.get("pack")
    if pack is None:
        return user["role"] in CENTRE_ROLES
    return pack == report.get("pack")


def may_see(user: dict, report: dict) -> bool:
    return in_province(user, report) and (user["role"] in CENTRE_ROLES or user.get("agency") in assigned_ids(report))


def staff_filter(user: dict, query) -> dict:
    """The store query for a staff listing; an agency user's own agency always narrows it."""
    found: dict = {}
    for field in ("state", "category", "pack"):
        value = getattr(query, field)
        if value:
            found[field] = value
    if query.ward:
        found["ward.code"] = query.ward
    if user.get("pack") is not None:
        found["pack"] = user["pack"] if query.pack in (None, "", user["pack"]) else {"$in": []}
    elif user["role"] not in CENTRE_ROLES:
        found["pack"] = {"$in": []}
    agency = query.agency
    if user["role"] not in CENTRE_ROLES:
        if agency and agency != user.get("agency"):
            raise ApiError("FORBIDDEN")
        agency = user.get("agency")
    if agency:
        found["$or"] = [{"assigned_agencies.id": agency}, {"route.designation.agency": agency}]
    return found
