"""intake's RPCs that return personal data or administer the record (entrypoints of the intake service): dead
letters (`paht dlq`, the gateway's /api/v1/staff/dead-letters), the retention purge, and the reporter's contacts
(publishing's notifier). The broker is not an admin door: each takes an internal assertion made with
PAHT_INTERNAL_SECRET for that one call (paht.callers; intake keeps no staff accounts — the gateway checks a staff
token's role before it calls) and refuses anything else with FORBIDDEN, the RPC API's error shape
(paht.errors.RpcApiError). A call that changes something takes each assertion once. Dead letters are answered as
the letter or None."""
from __future__ import annotations

from datetime import timedelta

from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.rpc import rpc

from paht import callers, clock, deadletters
from paht.errors import RpcApiError
from paht.events import jsonable
from paht.rpc import answered_remotely, given

from .contacts import reporter_contact
from .record_rpc import parsed
from .rpc_schemas import DeadLetterArgs, DeadLettersArgs, PurgeArgs, ReporterContactArgs

SERVICE = "intake"


class AdminRpcApi:
    def rpc_caller(self, method: str, credential, arguments: dict, once: bool = False) -> callers.Caller:
        """Who makes this call (paht.callers.caller), or ApiError FORBIDDEN; `once`: an internal assertion is taken
        once (its nonce is kept, as a submission's idempotency key is, until it could no longer be valid)."""
        caller = callers.caller(credential, f"{SERVICE}.{method}", arguments)
        if once:
            now = clock.now()
            kept_until = now + timedelta(seconds=2 * (callers.LIFETIME_SECONDS + callers.CLOCK_SKEW_SECONDS))
            if not self.store.take_nonce(caller.assertion.nonce, now, kept_until):
                raise callers.forbidden(callers.USED)
        return caller

    # ---- dead letters (`paht dlq`; /api/v1/staff/dead-letters for the centre's tokens) -----------------------------
    @rpc(expected_exceptions=RpcApiError)
    def dead_letters(self, status=None, limit=None, credential=None):
        """Dead letters by status (default open), newest first, without their messages."""
        with answered_remotely("dead_letters"):
            self.rpc_caller("dead_letters", credential, given(status=status, limit=limit))
            call = parsed(DeadLettersArgs, given(status=status, limit=limit))
            return self.letters(call.status, call.limit)

    @rpc(expected_exceptions=RpcApiError)
    def dead_letter(self, letter_id=None, credential=None):
        """One dead letter with its message and error; None when there is none."""
        with answered_remotely("dead_letter"):
            self.rpc_caller("dead_letter", credential, given(letter_id=letter_id))
            call = parsed(DeadLetterArgs, given(letter_id=letter_id))
            return jsonable(self.store.dead_letter(call.letter_id))

    @rpc(expected_exceptions=RpcApiError)
    def replay_dead_letter(self, letter_id=None, credential=None):
        """Send an open letter's message to its queue again → the letter, or None when it is not open."""
        with answered_remotely("replay_dead_letter"):
            self.rpc_caller("replay_dead_letter", credential, given(letter_id=letter_id), once=True)
            return self.settle_letter(parsed(DeadLetterArgs, given(letter_id=letter_id)).letter_id, "replay")

    @rpc(expected_exceptions=RpcApiError)
    def drop_dead_letter(self, letter_id=None, credential=None):
        """Settle an open letter without handling it → the letter, or None when it is not open."""
        with answered_remotely("drop_dead_letter"):
            self.rpc_caller("drop_dead_letter", credential, given(letter_id=letter_id), once=True)
            return self.settle_letter(parsed(DeadLetterArgs, given(letter_id=letter_id)).letter_id, "drop")

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
            self.rpc_caller("purge_expired", credential, {}, once=True)
            parsed(PurgeArgs, {})
            return self.purge_now()

    # ---- the reporter's contacts (publishing's notifier) ------------------------------------------------------
    @rpc(expected_exceptions=RpcApiError)
    def reporter_contact(self, report_id=None, credential=None):
        """The contacts the reporter gave and consented to (contacts.reporter_contact), or None: PAHT's notifier."""
        with answered_remotely("reporter_contact"):
            self.rpc_caller("reporter_contact", credential, given(report_id=report_id))
            call = parsed(ReporterContactArgs, given(report_id=report_id))
            return reporter_contact(self.store.get(call.report_id))
