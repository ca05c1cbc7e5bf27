"""Issue 13 item 5 on the real broker: accounts made with `paht users` (AMQP RPC) log in and work; a disabled one
is refused at once; the admin API; the province's identity provider's tokens (JWKS over HTTP)."""
from __future__ import annotations

import re

import pytest
import requests

from paht import users_cli
from tests.integration.test_walking_route import PACK, fresh_photo, good_report, lead
from tests.oidc_helpers import stranger_key

pytestmark = pytest.mark.integration


def login(system, username, password):
    return requests.post(f"{system.api}/api/v1/auth/login", json={"username": username, "password": password},
                         timeout=10)


def test_a_user_added_with_the_cli_logs_in_works_and_is_refused_once_disabled(system, monkeypatch, capsys):
    system.start()
    report_id = system.submit(good_report(urgent=True), [fresh_photo()]).json()["id"]   # routed at any hour
    agency = lead(system.wait_state(report_id, "dispatched"))

    monkeypatch.setenv("AMQP_URI", system.rabbit_config["AMQP_URI"])
    assert users_cli.main(["add", "tran.thi.b", "--role", "agency_staff", "--pack", PACK, "--agency", agency,
                           "--name", "Trần Thị B"]) == 0
    password = re.search(r"password \(shown once\): (\S+)", capsys.readouterr().out).group(1)
    assert users_cli.main(["add", "tran.thi.b", "--role", "operator"]) == 1          # the username is taken
    assert "already taken" in capsys.readouterr().out

    assert login(system, "tran.thi.b", "not-the-password").status_code == 401
    answer = login(system, "tran.thi.b", password)
    assert answer.status_code == 200, answer.text
    session = answer.json()
    assert session["token_type"] == "Bearer" and session["expires_in"] == 3600
    assert session["user"] == {**session["user"], "role": "agency_staff", "pack": PACK, "agency": agency}
    token = session["token"]

    listed = system.staff_get("reports", token)
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["reports"]] == [report_id]
    acted = system.staff(report_id, "acknowledge", token)                # the signed actor is this account
    assert acted.status_code == 200, acted.text
    timeline = system.staff_get(f"reports/{report_id}", system.tokens["operator"]).json()["timeline"]
    assert any((step.get("actor") or {}).get("user") == "user:tran.thi.b" for step in timeline)

    assert users_cli.main(["list", "--pack", PACK]) == 0 and "tran.thi.b" in capsys.readouterr().out
    assert users_cli.main(["disable", "tran.thi.b"]) == 0
    refused = system.staff_get("reports", token)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "UNAUTHORIZED"
    assert login(system, "tran.thi.b", password).status_code == 401

    assert users_cli.main(["enable", "tran.thi.b"]) == 0
    assert users_cli.main(["reset", "tran.thi.b"]) == 0
    new_password = re.search(r"password \(shown once\): (\S+)", capsys.readouterr().out).group(1)
    assert login(system, "tran.thi.b", password).status_code == 401
    again = login(system, "tran.thi.b", new_password).json()["token"]
    logged_out = requests.post(f"{system.api}/api/v1/auth/logout", headers={"Authorization": f"Bearer {again}"},
                               timeout=10)
    assert logged_out.status_code == 200 and system.staff_get("reports", again).status_code == 401


def test_the_admin_api_is_for_admins_only(system):
    system.start("intake")
    admin = {"Authorization": f"Bearer {system.tokens['admin']}"}
    agency = min(system.tokens[PACK])
    created = requests.post(f"{system.api}/api/v1/admin/users", headers=admin, timeout=10,
                            json={"username": "le.van.c", "role": "agency_leader", "pack": PACK, "agency": agency,
                                  "password": "mat-khau-rat-dai"})
    assert created.status_code == 201, created.text
    assert created.json()["password"] is None and created.json()["user"]["id"] == "user:le.van.c"
    bad = requests.post(f"{system.api}/api/v1/admin/users", headers=admin, timeout=10,
                        json={"username": "x.y.z", "role": "agency_leader", "pack": PACK})
    assert bad.status_code == 422 and "agency" in bad.json()["error"]["fields"]

    leader = login(system, "le.van.c", "mat-khau-rat-dai").json()["token"]
    for method, path in (("GET", "admin/users"), ("POST", "admin/users/user:le.van.c/disable")):
        answer = requests.request(method, f"{system.api}/api/v1/{path}", timeout=10,
                                  headers={"Authorization": f"Bearer {leader}"})
        assert answer.status_code == 403
    assert requests.get(f"{system.api}/api/v1/admin/users", timeout=10).status_code == 401

    users = requests.get(f"{system.api}/api/v1/admin/users", headers=admin, params={"pack": PACK}, timeout=10).json()
    assert [u["username"] for u in users["users"]] == ["le.van.c"]
    reset = requests.post(f"{system.api}/api/v1/admin/users/user:le.van.c/reset", headers=admin, json={},
                          timeout=10).json()
    assert reset["password"] and system.staff_get("reports", leader).status_code == 401
    disabled = requests.post(f"{system.api}/api/v1/admin/users/le.van.c/disable", headers=admin, timeout=10)
    assert disabled.status_code == 200 and disabled.json()["user"]["disabled"] is True
    assert login(system, "le.van.c", reset["password"]).status_code == 401


def test_a_token_of_the_provinces_identity_provider(system, provider):
    system.start()
    report_id = system.submit(good_report(urgent=True), [fresh_photo()]).json()["id"]   # routed at any hour
    agency = lead(system.wait_state(report_id, "dispatched"))

    leader = provider.token("kc-7", paht_role="agency_leader", paht_pack=PACK, paht_agency=agency, name="Phạm D")
    listed = system.staff_get("reports", leader)
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["reports"]] == [report_id]
    me = requests.get(f"{system.api}/api/v1/auth/me", headers={"Authorization": f"Bearer {leader}"},
                      timeout=10).json()
    assert (me["id"], me["role"], me["pack"], me["agency"], me["via"]) == ("oidc:kc-7", "agency_leader", PACK,
                                                                           agency, "oidc")
    other = provider.token("kc-8", paht_role="agency_staff", paht_pack=PACK, paht_agency="not-" + agency)
    assert system.staff_get(f"reports/{report_id}", other).status_code == 403         # its claims scope it
    acted = system.staff(report_id, "acknowledge", provider.token("kc-9", paht_role="agency_staff",
                                                                  paht_pack=PACK, paht_agency=agency))
    assert acted.status_code == 200, acted.text

    for refused in (provider.token("kc-7", lifetime=-120, paht_role="admin"),
                    provider.token("kc-7", key=stranger_key(), paht_role="admin"),
                    provider.token("kc-7", paht_role="admin", aud="another-client")):
        answer = system.staff_get("reports", refused)
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "UNAUTHORIZED"
