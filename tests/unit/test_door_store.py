"""The gateway's store (the front door): a submission's idempotency key."""
from datetime import datetime, timedelta, timezone

from paht.storage import open_database
from services.gateway.dependencies import DoorStore

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


def test_an_idempotency_key_holds_its_answer_for_its_hours_then_is_free_and_forgotten():
    store = DoorStore(open_database("gateway", "memory://"))
    expires = NOW + timedelta(hours=24)
    assert store.reserve_key("k", "f1", {"id": "A"}, NOW, expires) is None
    assert store.reserve_key("k", "f2", {"id": "B"}, NOW + timedelta(hours=23), expires)["answer"] == {"id": "A"}
    later = NOW + timedelta(hours=25)
    assert store.reserve_key("k", "f2", {"id": "B"}, later, later + timedelta(hours=24)) is None   # free again
    assert store.reserve_key("other", "f", {}, NOW, expires) is None
    assert store.forget_keys(NOW + timedelta(hours=30)) == 1           # "other" expired; "k" holds until later
    assert store.idempotency.find_one({"_id": "k"})["answer"] == {"id": "B"}
