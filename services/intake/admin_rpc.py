"""intake's RPCs that change accounts, return personal data or administer the system (entrypoints of the intake
service): staff accounts (`paht users`), dead letters (`paht dlq`), the retention purge, and the reporter's contacts
(publishing's notifier). The broker is not an admin door: each takes a `credential` — a staff bearer token checked as
the HTTP API checks it (staff.resolve) with the role the HTTP API asks for the same thing, or an internal assertion
made with PAHT_INTERNAL_SECRET for that one call (paht.callers) — and refuses anything else with FORBIDDEN, the RPC
API's error shape (paht.errors.RpcApiError). A call that changes something takes each internal assertion once.

Answers stay as before: accounts as {"user", "password"} or an error body {"error"} (a refusal is raised, never
answered), dead letters as the letter or None."""
from __future__ import annotations

from datetime import timedelta

from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.rpc import rpc

from paht import callers, clock, deadletters
from paht.errors import ApiError, RpcApiError
from paht.events import jsonable
from paht.roles import CENTRE_ROLES, STAFF_ROLES

from . import staff as staff_auth
from .contacts import reporter_contact
from .reports import agencies_see_contact
from .rpc_api import answered_remotely, given
from .rpc_schemas import (
    DeadLetterArgs,
    DeadLettersArgs,
    DisableUserArgs,
    ListUsersArgs,
    PurgeArgs,
    ReporterContactArgs,
    ResetUserArgs,
)

ADMIN = ("admin",)
SERVICE = "intake"


def answer_or_error(work) -> dict:
    """An account RPC's answer, or the error body `paht users` prints (VALIDATION_FAILED, NOT_FOUND …)."""
    try:
        return work()
    except ApiError as exc:
        return exc.body()


class AdminRpcApi:
    def rpc_caller(self, method: str, credential, arguments: dict, roles, once: bool = False) -> callers.Caller:
        """Who makes this call (paht.callers.caller), or ApiError FORBIDDEN; `once`: an internal assertion is taken
        once (its nonce is kept, as a submission's idempotency key is, until it could no longer be valid)."""
        caller = callers.caller(credential, f"{SERVICE}.{method}", arguments, staff=self.store.user_by_token,
                                roles=roles)
        if once and caller.internal:
            now = clock.now()
            kept_until = now + timedelta(seconds=2 * (callers.LIFETIME_SECONDS + callers.CLOCK_SKEW_SECONDS))
            if self.store.reserve_key(f"assertion:{caller.assertion.nonce}", "", {}, now, kept_until) is not None:
                raise callers.forbidden(callers.USED)
        return caller

    # ---- staff accounts (`paht users`; the admin HTTP API does the same for an admin's token) ---------------------
    @rpc(expected_exceptions=RpcApiError)
    def add_user(self, account=None, credential=None):
        """A new staff account → {"user", "password"} (the password only when generated here) or {"error"}."""
        with answered_remotely("add_user"):
            caller = self.rpc_caller("add_user", credential, {"account": account}, ADMIN, once=True)
            try:
                account_in = self.validated(staff_auth.AccountIn, account or {})
            except ApiError as exc:
                return exc.body()
            if caller.user is not None and not staff_auth.may_manage(caller.user, {"pack": account_in.pack}):
                raise callers.forbidden(f"an admin of {caller.user.get('pack')} adds accounts of that pack only")
            return answer_or_error(lambda: self.new_account(account_in))

    @rpc(expected_exceptions=RpcApiError)
    def list_users(self, pack=None, agency=None, role=None, credential=None):
        """Staff accounts, filtered; an admin of one pack sees that pack's."""
        with answered_remotely("list_users"):
            caller = self.rpc_caller("list_users", credential, given(pack=pack, agency=agency, role=role), ADMIN)
            call = self.validated(ListUsersArgs, given(pack=pack, agency=agency, role=role))
            return self.accounts_listed((caller.user or {}).get("pack") or call.pack, call.agency, call.role)

    def accounts_listed(self, pack, agency, role) -> list:
        return jsonable([staff_auth.account_view(a) for a in self.store.accounts.list(pack, agency, role)])

    @rpc(expected_exceptions=RpcApiError)
    def disable_user(self, reference=None, disabled=None, credential=None):
        """Disable (its sessions end at once) or enable (`disabled` false) an account → {"user"} or {"error"}."""
        with answered_remotely("disable_user"):
            caller = self.rpc_caller("disable_user", credential, given(reference=reference, disabled=disabled),
                                     ADMIN, once=True)
            return answer_or_error(lambda: self.switch_account(caller, reference, disabled))

    def switch_account(self, caller, reference, disabled) -> dict:
        call = self.validated(DisableUserArgs, given(reference=reference, disabled=disabled))
        return self.account_switch(self.managed_account(caller, call.reference), call.disabled)

    @rpc(expected_exceptions=RpcApiError)
    def reset_user(self, reference=None, password=None, credential=None):
        """A new password (generated unless given; its sessions end) → {"user", "password"} or {"error"}."""
        with answered_remotely("reset_user"):
            caller = self.rpc_caller("reset_user", credential, given(reference=reference, password=password), ADMIN,
                                     once=True)
            return answer_or_error(lambda: self.reset_account(caller, reference, password))

    def reset_account(self, caller, reference, password) -> dict:
        call = self.validated(ResetUserArgs, given(reference=reference, password=password))
        return self.account_reset(self.managed_account(caller, call.reference), call.password)

    def managed_account(self, caller, reference: str) -> str:
        """The account a caller may manage (PAHT itself: any; an admin of one pack: that pack's), as the admin
        HTTP API finds it: NOT_FOUND otherwise."""
        if caller.user is None:
            return reference
        account = self.store.accounts.get(reference)
        if account is None or not staff_auth.may_manage(caller.user, account):
            raise ApiError("NOT_FOUND", detail="no such user")
        return account["_id"]

    # ---- dead letters (`paht dlq`; /api/v1/staff/dead-letters for the centre's tokens) -----------------------------
    @rpc(expected_exceptions=RpcApiError)
    def dead_letters(self, status=None, limit=None, credential=None):
        """Dead letters by status (default open), newest first, without their messages."""
        with answered_remotely("dead_letters"):
            self.rpc_caller("dead_letters", credential, given(status=status, limit=limit), CENTRE_ROLES)
            call = self.validated(DeadLettersArgs, given(status=status, limit=limit))
            return self.letters(call.status, call.limit)

    @rpc(expected_exceptions=RpcApiError)
    def dead_letter(self, letter_id=None, credential=None):
        """One dead letter with its message and error; None when there is none."""
        with answered_remotely("dead_letter"):
            self.rpc_caller("dead_letter", credential, given(letter_id=letter_id), CENTRE_ROLES)
            call = self.validated(DeadLetterArgs, given(letter_id=letter_id))
            return jsonable(self.store.dead_letter(call.letter_id))

    @rpc(expected_exceptions=RpcApiError)
    def replay_dead_letter(self, letter_id=None, credential=None):
        """Send an open letter's message to its queue again → the letter, or None when it is not open."""
        with answered_remotely("replay_dead_letter"):
            self.rpc_caller("replay_dead_letter", credential, given(letter_id=letter_id), CENTRE_ROLES, once=True)
            return self.settle_letter(self.validated(DeadLetterArgs, given(letter_id=letter_id)).letter_id, "replay")

    @rpc(expected_exceptions=RpcApiError)
    def drop_dead_letter(self, letter_id=None, credential=None):
        """Settle an open letter without handling it → the letter, or None when it is not open."""
        with answered_remotely("drop_dead_letter"):
            self.rpc_caller("drop_dead_letter", credential, given(letter_id=letter_id), CENTRE_ROLES, once=True)
            return self.settle_letter(self.validated(DeadLetterArgs, given(letter_id=letter_id)).letter_id, "drop")

    def letters(self, status: str, limit: int) -> list:
        return jsonable(self.store.dead_letters(status, limit))

    def settle_letter(self, letter_id: str, verb: str) -> dict | None:
        """Replay or drop an open dead letter → the letter after it; None when there is no open one."""
        letter = self.store.dead_letter(letter_id)
        if letter is None or letter["status"] != "open":
            return None
        if verb == "replay":
            deadletters.replay(self.config[AMQP_URI_CONFIG_KEY], letter)
        return jsonable(self.store.close_dead_letter(letter["_id"], "replayed" if verb == "replay" else "dropped",
                                                     clock.now()))

    # ---- retention ---------------------------------------------------------------------------------------------
    @rpc(expected_exceptions=RpcApiError)
    def purge_expired(self, credential=None):
        """Run the retention purge now (it also runs every hour) → {"announced": [report ids]}."""
        with answered_remotely("purge_expired"):
            self.rpc_caller("purge_expired", credential, {}, ADMIN, once=True)
            self.validated(PurgeArgs, {})
            return self.purge_now()

    # ---- the reporter's contacts (publishing's notifier) ------------------------------------------------------
    @rpc(expected_exceptions=RpcApiError)
    def reporter_contact(self, report_id=None, credential=None):
        """The contacts the reporter gave and consented to (contacts.reporter_contact), or None. PAHT's notifier;
        or a staff account that sees them on the HTTP API: the centre, an agency assigned the report where the
        reporter consented or the pack allows (staff_view unmasked)."""
        with answered_remotely("reporter_contact"):
            caller = self.rpc_caller("reporter_contact", credential, given(report_id=report_id), STAFF_ROLES)
            call = self.validated(ReporterContactArgs, given(report_id=report_id))
            if caller.internal:
                return reporter_contact(self.store.get(call.report_id))
            report = self.staff_reported(caller.user, call.report_id)
            if caller.user["role"] not in CENTRE_ROLES and not agencies_see_contact(report):
                raise callers.forbidden("the reporter's contacts are masked for this agency (staff_view)")
            return reporter_contact(report)
