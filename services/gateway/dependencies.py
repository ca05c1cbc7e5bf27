"""The door's storage: staff accounts and their login sessions, the demo accounts, idempotency keys, the nonces of
internal assertions it took, and the channels' drafts (zalo.py); its rate limiter. No report state: that is the
record's (services/intake)."""
from __future__ import annotations

import hmac
import json
import secrets
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone

from eventlet import tpool
from nameko.extensions import DependencyProvider
from pymongo.errors import PyMongoError

from paht import settings, storage
from paht.demo_users import users_from_tokens
from paht.ratelimit import RateLimiter
from paht.storage import DuplicateKeyError
from paht.tokens import hash_token

# what a store or the media disk raise when they cannot take a write now (the client may retry)
STORAGE_ERRORS = (PyMongoError, sqlite3.Error, OSError)


class DoorStore:
    def __init__(self, db):
        self.database = db
        self.users = db["users"]
        self.idempotency = db["idempotency"]
        self.accounts = StaffAccounts(db)
        self.sign_ins = db["staff_sign_ins"]
        self.users.create_index([("token_hash", 1)], unique=True)
        self.idempotency.create_index([("expires_at", 1)])
        self.sign_ins.create_index([("expires_at", 1)], expireAfterSeconds=0)

    # submissions retried with an Idempotency-Key
    def reserve_key(self, key: str, fingerprint: str, answer: dict, now: datetime,
                    expires_at: datetime) -> dict | None:
        """Claim `key` for this submission's answer; the earlier claim when the key was used before and has not
        expired (after PAHT_IDEMPOTENCY_HOURS the key is free again, as documented)."""
        self.idempotency.delete_one({"_id": key, "expires_at": {"$lte": now}})
        try:
            self.idempotency.insert_one({"_id": key, "fingerprint": fingerprint, "answer": answer,
                                         "expires_at": expires_at})
            return None
        except DuplicateKeyError:
            return self.idempotency.find_one({"_id": key})

    def release_key(self, key: str) -> None:
        self.idempotency.delete_one({"_id": key})

    def forget_keys(self, now: datetime) -> int:
        return self.idempotency.delete_many({"expires_at": {"$lte": now}}).deleted_count

    # the portal's sign-ins through the identity provider (pages/staff.py), each taken once
    def begin_sign_in(self, state: str, binding: str, secrets_: dict, expires_at: datetime) -> None:
        """A sign-in under way: its state (hashed) and the browser cookie it is bound to (hashed), with its nonce,
        PKCE verifier and where to go after."""
        self.sign_ins.delete_many({"expires_at": {"$lte": StaffAccounts.now()}})
        self.sign_ins.insert_one({"_id": hash_token(state), "binding": hash_token(binding), **secrets_,
                                  "expires_at": expires_at})

    def take_sign_in(self, state: str, binding: str) -> dict | None:
        """The sign-in of this state, once (a replayed or raced callback finds none), when it is this browser's
        and has not expired."""
        key = hash_token(state)
        found = self.sign_ins.find_one({"_id": key})
        if found is None or self.sign_ins.delete_one({"_id": key}).deleted_count != 1:
            return None
        if not hmac.compare_digest(found["binding"], hash_token(binding)) or found["expires_at"] <= StaffAccounts.now():
            return None
        return found

    # staff users (bearer tokens are stored hashed)
    def upsert_user(self, token: str, role: str, pack: str | None, agency: str | None, name: str) -> str:
        """A staff account: an agency account belongs to one pack; the centre's (pack None) sees every pack."""
        user_id = f"{role}:{pack or '*'}:{agency or '*'}"
        self.users.update_one({"_id": user_id}, {"$set": {"token_hash": hash_token(token), "role": role, "pack": pack,
                                                          "agency": agency, "name": name}}, upsert=True)
        return user_id

    def demo_user(self, token: str) -> dict | None:
        return self.users.find_one({"token_hash": hash_token(token)})

    def user_by_token(self, token: str) -> dict | None:
        """Whoever a bearer credential names (staff.resolve: login session, identity provider's token, demo)."""
        from .staff import resolve
        return resolve(self, token)



class StaffAccounts:
    """Staff accounts (`paht users`, the admin API) and their login sessions.

    An account `user:<username>` has a role, a pack and an agency (agency roles), a password hashed with argon2id
    and a `disabled` flag. A login gives a random bearer token, stored only as its SHA-256 with an expiry
    (settings.session_minutes, wall time); each use reads the account again, so disabling it or resetting its
    password ends its sessions at once (they are also deleted)."""

    def __init__(self, db):
        from argon2 import PasswordHasher
        self.accounts = db["staff_accounts"]
        self.sessions = db["staff_sessions"]
        self.accounts.create_index([("username", 1)], unique=True)
        self.accounts.create_index([("pack", 1)])
        self.sessions.create_index([("token_hash", 1)], unique=True)
        self.sessions.create_index([("user_id", 1)])
        self.sessions.create_index([("expires_at", 1)], expireAfterSeconds=0)   # MongoDB removes them itself
        self.hasher = PasswordHasher()
        self._dummy = None

    @staticmethod
    def now() -> datetime:
        return datetime.now(timezone.utc)

    def _hash(self, password: str) -> str:
        return tpool.execute(self.hasher.hash, password)   # ~0.1 s of argon2 off the eventlet hub

    def _verify(self, hashed: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError
        try:
            return tpool.execute(self.hasher.verify, hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    @staticmethod
    def account_id(reference: str) -> str:
        reference = (reference or "").strip()
        return reference if reference.startswith("user:") else "user:" + reference.lower()

    def get(self, reference: str) -> dict | None:
        """An account by its id (`user:<username>`) or username."""
        return self.accounts.find_one({"_id": self.account_id(reference)})

    def add(self, username: str, password: str, role: str, pack: str | None, agency: str | None,
            name: str | None) -> dict:
        """A new account (DuplicateKeyError when the username is taken)."""
        now = self.now()
        account = {"_id": self.account_id(username), "username": username.lower(), "role": role, "pack": pack,
                   "agency": agency, "name": name or username, "disabled": False,
                   "password_hash": self._hash(password), "created_at": now, "updated_at": now,
                   "password_set_at": now, "last_login_at": None}
        self.accounts.insert_one(account)
        return account

    def list(self, pack: str | None = None, agency: str | None = None, role: str | None = None,
             include_disabled: bool = True) -> list[dict]:
        query: dict = {}
        if pack:
            query["pack"] = pack
        if agency:
            query["agency"] = agency
        if role:
            query["role"] = role
        if not include_disabled:
            query["disabled"] = False
        return list(self.accounts.find(query, sort=[("pack", 1), ("agency", 1), ("username", 1)]))

    def set_disabled(self, reference: str, disabled: bool) -> dict | None:
        account_id = self.account_id(reference)
        result = self.accounts.update_one({"_id": account_id},
                                          {"$set": {"disabled": disabled, "updated_at": self.now()}})
        if result.matched_count == 0:
            return None
        if disabled:
            self.sessions.delete_many({"user_id": account_id})
        return self.get(account_id)

    def reset_password(self, reference: str, password: str) -> dict | None:
        """A new password; every session of the account ends."""
        account_id = self.account_id(reference)
        now = self.now()
        result = self.accounts.update_one({"_id": account_id}, {"$set": {
            "password_hash": self._hash(password), "password_set_at": now, "updated_at": now}})
        if result.matched_count == 0:
            return None
        self.sessions.delete_many({"user_id": account_id})
        return self.get(account_id)

    def login(self, username: str, password: str, minutes: int) -> tuple[str, datetime, dict] | None:
        """(token, expires_at, account) for the right password of an enabled account; None otherwise (the same
        work is done for an unknown username, so the answer's time does not tell which usernames exist)."""
        account = self.get(username) if username else None
        if account is None:
            if self._dummy is None:
                self._dummy = self._hash(secrets.token_hex(16))
            self._verify(self._dummy, password)
            return None
        if not self._verify(account["password_hash"], password) or account.get("disabled"):
            return None
        now = self.now()
        if self.hasher.check_needs_rehash(account["password_hash"]):
            self.accounts.update_one({"_id": account["_id"]}, {"$set": {"password_hash": self._hash(password)}})
        self.sessions.delete_many({"expires_at": {"$lte": now}})
        token = secrets.token_urlsafe(32)
        expires_at = now + timedelta(minutes=minutes)
        self.sessions.insert_one({"_id": uuid.uuid4().hex, "token_hash": hash_token(token), "user_id": account["_id"],
                                  "created_at": now, "expires_at": expires_at})
        self.accounts.update_one({"_id": account["_id"]}, {"$set": {"last_login_at": now}})
        return token, expires_at, account

    def open_session(self, user: dict, minutes: int) -> str:
        """A login session for a user the identity provider signed in (the portal's sign-in): the user as its ID
        token named them, kept with the session (there is no account here)."""
        now = self.now()
        self.sessions.delete_many({"expires_at": {"$lte": now}})
        token = secrets.token_urlsafe(32)
        self.sessions.insert_one({"_id": uuid.uuid4().hex, "token_hash": hash_token(token), "user_id": user["_id"],
                                  "user": user, "created_at": now, "expires_at": now + timedelta(minutes=minutes)})
        return token

    def user_by_session(self, token: str) -> dict | None:
        """The staff user of a live session of an enabled account, or of the identity provider's sign-in."""
        session = self.sessions.find_one({"token_hash": hash_token(token)})
        if session is None or session["expires_at"] <= self.now():
            return None
        if session.get("user"):
            return dict(session["user"], session_expires_at=session["expires_at"])
        account = self.accounts.find_one({"_id": session["user_id"]})
        if account is None or account.get("disabled"):
            return None
        return {"_id": account["_id"], "username": account["username"], "role": account["role"],
                "pack": account.get("pack"), "agency": account.get("agency"), "name": account.get("name"),
                "via": "session", "session_expires_at": session["expires_at"]}

    def logout(self, token: str) -> bool:
        return self.sessions.delete_one({"token_hash": hash_token(token)}).deleted_count == 1


class Door(DependencyProvider):
    def setup(self):
        self.store = DoorStore(storage.open_database("gateway"))
        tokens = settings.demo_tokens_path()
        if tokens and tokens.exists():
            ids = []
            for token, role, pack, agency, name in users_from_tokens(json.loads(tokens.read_text())):
                ids.append(self.store.upsert_user(token, role, pack, agency, name))
            self.store.users.delete_many({"_id": {"$nin": ids}})   # demo accounts no longer in the file

    def get_dependency(self, worker_ctx):
        return self.store


class RateLimits(DependencyProvider):
    """One limiter per process for the citizens' endpoints (per client address and per reporter)."""

    def setup(self):
        self.limiter = RateLimiter(settings.rate_limit_per_minute())

    def get_dependency(self, worker_ctx):
        return self.limiter
