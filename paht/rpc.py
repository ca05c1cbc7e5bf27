"""RPC between services that never waits forever: every call is bounded by PAHT_RPC_TIMEOUT_SECONDS.

nameko 2.14's proxy waits for its reply without a limit, and a reply can be lost for good (a callee that died
mid-call, or a call made before the caller's reply queue existed, as a timer firing at start-up does). A caller
that waited would hold its worker, and whatever lock it held, for ever."""
from __future__ import annotations

import logging
from contextlib import contextmanager

import eventlet
from eventlet.corolocal import local
from nameko.rpc import RpcProxy

from . import settings
from .errors import ApiError, RpcApiError

log = logging.getLogger(__name__)


class RpcTimeout(ApiError):
    """The callee gave no answer in time: the API's SERVICE_UNAVAILABLE (503 with Retry-After over HTTP, the same
    code over intake's RPC API), like any other ApiError where it reaches an answer."""

    def __init__(self, call: str, seconds: float):
        super().__init__("SERVICE_UNAVAILABLE", retry_after=5)
        self.args = (f"{call}: no answer in {seconds:g} s",)


_PATIENCE = local()   # this green thread's `waiting_up_to`


@contextmanager
def waiting_up_to(seconds: float):
    """The calls this green thread makes inside the block wait up to `seconds` instead of PAHT_RPC_TIMEOUT_SECONDS:
    background work no one waits for (rating's periodic reports, whose year of counts a loaded intake may take
    longer to give than a page may wait) — asked again on a timeout, the callee would count it again meanwhile."""
    before = getattr(_PATIENCE, "seconds", None)
    _PATIENCE.seconds = seconds
    try:
        yield
    finally:
        _PATIENCE.seconds = before


class _TimedMethod:
    def __init__(self, method, name: str):
        self._method, self._name = method, name

    def __call__(self, *args, **kwargs):
        seconds = getattr(_PATIENCE, "seconds", None) or settings.rpc_timeout_seconds()
        try:
            with eventlet.Timeout(seconds, RpcTimeout(self._name, seconds)):
                return self._method(*args, **kwargs)
        except RpcTimeout as exc:
            log.warning("%s", exc)
            raise


class _TimedService:
    def __init__(self, proxy, service: str):
        self._proxy, self._service = proxy, service

    def __getattr__(self, name):
        return _TimedMethod(getattr(self._proxy, name), f"{self._service}.{name}")


class TimedRpcProxy(RpcProxy):
    """`RpcProxy("intake")` whose calls raise RpcTimeout after PAHT_RPC_TIMEOUT_SECONDS."""

    def get_dependency(self, worker_ctx):
        return _TimedService(super().get_dependency(worker_ctx), self.target_service)


@contextmanager
def answered_remotely(method: str):
    """In an RPC that raises its refusals: ApiError → its RpcApiError; anything else → INTERNAL_ERROR (logged with
    its trace, which the caller never sees), as the HTTP API answers 500."""
    try:
        yield
    except ApiError as exc:
        raise RpcApiError.of(exc) from None
    except Exception:
        log.exception("unhandled error in %s", method)
        raise RpcApiError.of(ApiError("INTERNAL_ERROR")) from None


def given(**arguments) -> dict:
    """The arguments a caller gave: null means absent (a model default applies, a required one is missing)."""
    return {name: value for name, value in arguments.items() if value is not None}
