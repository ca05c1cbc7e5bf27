"""The gateway's RPCs that change staff accounts (`paht users`; entrypoints of the gateway service). The broker is
not an admin door: each takes a `credential` — an admin's staff bearer token, checked as the HTTP API checks it
(staff.resolve), or an internal assertion made with PAHT_INTERNAL_SECRET for that one call (paht.callers) — and
refuses anything else with FORBIDDEN, the RPC API's error shape (paht.errors.RpcApiError). A call that changes
something takes each internal assertion once. Accounts are answered as {"user", "password"} or an error body
{"error"} (a refusal is raised, never answered)."""
from __future__ import annotations

from datetime import timedelta

from nameko.rpc import rpc

from paht import callers, clock
from paht.errors import ApiError, RpcApiError
from paht.events import jsonable
from paht.rpc import answered_remotely, given

from . import staff as staff_auth
from .rpc_schemas import DisableUserArgs, ListUsersArgs, ResetUserArgs

ADMIN = ("admin",)
SERVICE = "gateway"


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
