"""The staff roles, in one place: the provincial centre's and the agencies'."""
from __future__ import annotations

AGENCY_ROLES = ("agency_staff", "agency_leader")
CENTRE_ROLES = ("operator", "admin")
STAFF_ROLES = AGENCY_ROLES + CENTRE_ROLES
# when an identity provider's token carries several roles, the strongest counts
ROLE_STRENGTH = {"admin": 3, "operator": 2, "agency_leader": 1, "agency_staff": 0}
