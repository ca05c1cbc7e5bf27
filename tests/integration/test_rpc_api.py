"""intake's AMQP RPC API through nameko's own RPC proxy, and the public events (issue 14, item 1)."""
from __future__ import annotations

import base64
import json

import pika
import pytest
from nameko.exceptions import RemoteError
from nameko.rpc import rpc
from nameko.standalone.rpc import ClusterRpcProxy

from paht import clock
from paht.schemas import ReportIn
from paht.tokens import hash_token
from services.intake import reports as domain
from services.intake.public_events import PublicEvents
from tests.integration.test_agency_paths import SOC_TRANG
from tests.integration.test_client import pika_parameters
from tests.integration.test_walking_route import fresh_photo, good_report, lead

pytestmark = pytest.mark.integration


def media(*photos):
    return [{"filename": name, "content_type": mime, "data_b64": base64.b64encode(data).decode()}
            for name, data, mime in photos]


@pytest.fixture
def intake(system):
    system.start()
    with ClusterRpcProxy(system.rabbit_config, timeout=30) as cluster:
        yield cluster.gateway   # the RPC API for other systems is the front door's


def refused(call, *args, **kwargs) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_submit_and_get_a_report_over_rpc(system, intake):
    photos = media(fresh_photo(seed=5))
    answer = intake.submit_report(good_report(), photos, idempotency_key="rpc-1")
    assert answer["state"] == "submitted" and answer["tracking_token"]
    assert intake.submit_report(good_report(), photos, idempotency_key="rpc-1") == answer
    conflict = refused(intake.submit_report, good_report(description="Một phản ánh khác hẳn"), [],
                       idempotency_key="rpc-1")
    assert conflict.exc_type == "IDEMPOTENCY_CONFLICT"

    system.wait_state(answer["id"], "dispatched")
    view = intake.get_report(answer["id"])
    assert view["id"] == answer["id"] and view["state"] == "dispatched" and view["description"]
    public = system.get(answer["id"])                                          # the HTTP API's public view
    assert set(view) == set(public) and all(view[k] == public[k] for k in ("pack", "description", "ward", "timeline"))
    assert "reporter" not in view and "0905123456" not in json.dumps(view, ensure_ascii=False)
    assert answer["tracking_token"] not in json.dumps(view)
    stored = system.staff_get(f"reports/{answer['id']}", system.tokens["operator"]).json()["media"]
    assert [(m["filename"], m["content_type"], m["kind"]) for m in stored] == [("photo.jpg", "image/jpeg", "photo")]


def test_errors_carry_the_codes_of_the_http_api(intake):
    assert refused(intake.get_report, "PA-000000-00000000").exc_type == "NOT_FOUND"
    error = refused(intake.get_report, {"$ne": None})                       # no query through the id
    assert error.exc_type == "VALIDATION_FAILED" and "Thông tin phản ánh chưa hợp lệ" in error.value
    assert refused(intake.get_report).exc_type == "VALIDATION_FAILED"

    assert refused(intake.submit_report, good_report(pack="no-such-pack")).exc_type == "UNKNOWN_PACK"
    assert refused(intake.submit_report, good_report(urgent="yes")).exc_type == "VALIDATION_FAILED"
    photo = media(fresh_photo())[0]
    bad_base64 = refused(intake.submit_report, good_report(), [dict(photo, data_b64="not base64!")])
    assert bad_base64.exc_type == "VALIDATION_FAILED" and "media[0].data_b64" in bad_base64.value
    not_media = dict(photo, data_b64=base64.b64encode(b"just some text, not a photo").decode())
    assert refused(intake.submit_report, good_report(), [not_media]).exc_type == "UNSUPPORTED_MEDIA"
    empty = dict(photo, data_b64="")
    assert refused(intake.submit_report, good_report(), [empty]).exc_type == "EMPTY_UPLOAD"
    assert refused(intake.submit_report, good_report(), [photo] * 21).exc_type == "PAYLOAD_TOO_LARGE"

    assert refused(intake.list_reports, "not-a-token").exc_type == "UNAUTHORIZED"
    assert refused(intake.staff_action, "not-a-token", "PA-000000-00000000", "acknowledge").exc_type == \
        "UNAUTHORIZED"


def test_list_reports_shows_only_what_the_credential_may_see(system, intake):
    hue = intake.submit_report(good_report(), media(fresh_photo(seed=11)))["id"]
    soc_trang = intake.submit_report(good_report(**SOC_TRANG), media(fresh_photo(seed=12)))["id"]
    system.wait_state(hue, "dispatched")
    agency = lead(system.wait_state(soc_trang, "dispatched"))
    st_staff = system.agency_tokens("soc-trang-2022", agency)[0]
    hue_staff = system.agency_tokens("thua-thien-hue-2022", agency)[0]   # the same agency id in another province

    listed = intake.list_reports(st_staff)
    assert [r["id"] for r in listed["reports"]] == [soc_trang] and listed["count"] == 1 and listed["next"] is None
    assert "reporter" not in listed["reports"][0]
    assert soc_trang not in [r["id"] for r in intake.list_reports(hue_staff)["reports"]]
    assert intake.list_reports(hue_staff, {"pack": "soc-trang-2022"})["count"] == 0
    other = "cap-nuoc" if agency != "cap-nuoc" else "dien-luc"
    assert refused(intake.list_reports, st_staff, {"agency": other}).exc_type == "FORBIDDEN"

    operator = system.tokens["operator"]
    first = intake.list_reports(operator, {"limit": 1})
    assert first["count"] == 1 and first["next"]
    second = intake.list_reports(operator, {"limit": 1, "cursor": first["next"]})
    assert second["count"] == 1 and second["next"] is None
    assert {first["reports"][0]["id"], second["reports"][0]["id"]} == {hue, soc_trang}
    assert [r["id"] for r in intake.list_reports(operator, {"state": "dispatched"})["reports"]] == \
        [first["reports"][0]["id"], second["reports"][0]["id"]]
    assert refused(intake.list_reports, operator, {"cursor": "bm90IGEgY3Vyc29y"}).exc_type == "VALIDATION_FAILED"
    assert refused(intake.list_reports, operator, {"limit": 0}).exc_type == "VALIDATION_FAILED"


def test_staff_action_over_rpc_acts_as_the_credentials_account(system, intake):
    report_id = intake.submit_report(good_report(), media(fresh_photo(seed=21)))["id"]
    agency = lead(system.wait_state(report_id, "dispatched"))
    staff, _ = system.agency_tokens("thua-thien-hue-2022", agency)
    outsider = system.agency_tokens("thua-thien-hue-2022", "cap-nuoc" if agency != "cap-nuoc" else "dien-luc")[0]

    assert refused(intake.staff_action, outsider, report_id, "acknowledge").exc_type == "FORBIDDEN"
    assert refused(intake.staff_action, staff, report_id, "no_such_action").exc_type == "UNKNOWN_ACTION"
    assert refused(intake.staff_action, staff, report_id, "acknowledge", {"note": 5}).exc_type == "VALIDATION_FAILED"
    answer = intake.staff_action(staff, report_id, "acknowledge", {"note": "Đã nhận"})
    assert answer["id"] == report_id and answer["state"] == "in_progress" and answer["event_id"]
    assert refused(intake.staff_action, staff, report_id, "acknowledge").exc_type == "ACTION_NOT_ALLOWED"
    staff_view = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()
    assert any(e["kind"] == "acknowledged" and e["actor"].get("agency") == agency for e in staff_view["timeline"])


class Announcer:
    """A stand-in for intake's announce: publishes through the PublicEvents dependency."""
    name = "announcer"
    public_events = PublicEvents()

    @rpc
    def publish(self, report, event_id):
        self.public_events.publish(report, event_id)


def test_public_events_carry_the_public_view_only(system):
    announcer = system.factory(Announcer, system.rabbit_config)
    announcer.start()
    report_in = ReportIn.model_validate(good_report())
    report = domain.new_report(report_in, [], clock.now(), "PA-240101-0000ABCD", "secret-tracking-token")

    connection = pika.BlockingConnection(pika_parameters(system))
    channel = connection.channel()
    channel.exchange_declare("paht.public", exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, "paht.public", routing_key="report.submitted")
    try:
        with ClusterRpcProxy(system.rabbit_config, timeout=30) as cluster:
            cluster.announcer.publish(json.loads(json.dumps(report, default=str)), "event-1")
        method, properties, body = channel.basic_get(queue, auto_ack=True)
    finally:
        connection.close()
    assert method.routing_key == "report.submitted"
    assert properties.message_id == "event-1" and properties.delivery_mode == 2
    assert properties.content_type == "application/json"
    view = json.loads(body)
    assert view["id"] == "PA-240101-0000ABCD" and view["state"] == "submitted"
    text = json.dumps(view, ensure_ascii=False)
    assert "reporter" not in view and "0905123456" not in text and "Nguyễn Văn An" not in text
    assert "secret-tracking-token" not in text and hash_token("secret-tracking-token") not in text
