"""What the notifier may know of a reporter: the contacts they gave and consented to (an intake RPC)."""
from __future__ import annotations


class ContactsApi:
    pass
