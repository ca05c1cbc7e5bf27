"""Background work waits longer for its answers (paht.rpc.waiting_up_to, issue 22): rating's periodic reports wait up
to PAHT_REPORT_RPC_TIMEOUT_SECONDS for a year of counts instead of asking intake again every 10 s; every other call,
in other green threads too, keeps PAHT_RPC_TIMEOUT_SECONDS."""
import eventlet
import pytest

from paht import settings
from paht.rpc import RpcTimeout, _TimedMethod, waiting_up_to


def slow(seconds):
    eventlet.sleep(seconds)
    return "counted"


def test_a_call_inside_the_block_waits_longer_and_only_there(monkeypatch):
    monkeypatch.setenv("PAHT_RPC_TIMEOUT_SECONDS", "0.1")
    call = _TimedMethod(slow, "intake.agency_counters")
    with pytest.raises(RpcTimeout):
        call(0.3)
    outside = []

    def elsewhere():      # another green thread while the block is open: the usual limit
        try:
            call(0.3)
        except RpcTimeout:
            outside.append("timed out")
    with waiting_up_to(1.0):
        other = eventlet.spawn(elsewhere)
        assert call(0.3) == "counted"
        other.wait()
    assert outside == ["timed out"]
    with pytest.raises(RpcTimeout):
        call(0.3)          # after the block: the usual limit again


def test_the_reports_limit_is_never_shorter_than_the_usual_one(monkeypatch):
    monkeypatch.delenv("PAHT_REPORT_RPC_TIMEOUT_SECONDS", raising=False)
    assert settings.report_rpc_timeout_seconds() == 300.0
    monkeypatch.setenv("PAHT_REPORT_RPC_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("PAHT_RPC_TIMEOUT_SECONDS", "10")
    assert settings.report_rpc_timeout_seconds() == 10.0
