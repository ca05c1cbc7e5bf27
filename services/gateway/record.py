"""The gateway's one way to the report record: intake's internal RPCs (services/intake/record_rpc.py), each signed
as PAHT's own call (paht.callers) and bounded by PAHT_RPC_TIMEOUT_SECONDS; a refusal comes back as the API's
ApiError, so a handler reads `self.record.staff_report(user=…, report_id=…)` like a local call."""
from __future__ import annotations

from paht import callers
from paht.errors import ApiError
from paht.events import jsonable
from paht.rpc import TimedRpcProxy


def looked_up(arguments: dict) -> None:
    """The API's answers to what can name no report: an id that is no report id's length is NOT_FOUND, a tracking
    token that is no token's length INVALID_TOKEN (the record would call both malformed)."""
    report_id, token = arguments.get("report_id"), arguments.get("tracking_token")
    if report_id is not None and not (isinstance(report_id, str) and 0 < len(report_id.strip()) <= 64):
        raise ApiError("NOT_FOUND")
    if token is not None and not (isinstance(token, str) and 0 < len(token.strip()) <= 100):
        raise ApiError("INVALID_TOKEN")


class RecordClient:
    def __init__(self, intake):
        self._intake = intake

    def __getattr__(self, method: str):
        def call(**arguments):
            looked_up(arguments)
            given = jsonable({name: value for name, value in arguments.items() if value is not None})
            credential = callers.internal_credential(f"intake.{method}", given)
            answer = getattr(self._intake, method)(**given, credential=credential)
            if "error" in answer:
                error = answer["error"]
                raise ApiError(error["code"], fields=error.get("fields"), detail=error.get("detail"),
                               retry_after=error.get("retry_after"))
            return answer["ok"]
        return call


class Record(TimedRpcProxy):
    def __init__(self):
        super().__init__("intake")

    def get_dependency(self, worker_ctx):
        return RecordClient(super().get_dependency(worker_ctx))


def user_of(user: dict) -> dict:
    """What the record needs of an authenticated staff user (its StaffUser)."""
    return {"_id": user["_id"], "role": user["role"], "pack": user.get("pack"), "agency": user.get("agency"),
            "name": user.get("name")}
