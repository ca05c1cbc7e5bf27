"""The client's address behind trusted proxies (issue 20 item 5): paht.proxies, without a broker."""
from __future__ import annotations

import pytest
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from paht import proxies, settings
from paht.proxies import client_address, parse_address, parse_networks

INGRESS = parse_networks("10.0.0.0/8, 192.168.1.7")


def test_nothing_trusted_the_peer_is_the_client_whatever_it_writes():
    assert client_address("203.0.113.9", None, ()) == "203.0.113.9"
    assert client_address("203.0.113.9", "198.51.100.1", ()) == "203.0.113.9"
    assert client_address("10.1.2.3", "198.51.100.1", ()) == "10.1.2.3"   # default: even the ingress is the client


def test_a_forged_header_from_an_untrusted_peer_is_ignored():
    assert client_address("203.0.113.9", "198.51.100.1", INGRESS) == "203.0.113.9"
    assert client_address("203.0.113.9", "10.0.0.1", INGRESS) == "203.0.113.9"   # naming a trusted hop too


def test_through_a_trusted_proxy_the_address_it_appended_is_the_client():
    assert client_address("10.1.2.3", "198.51.100.1", INGRESS) == "198.51.100.1"
    # what the client wrote itself lies left of what the proxy appended: never reached
    assert client_address("10.1.2.3", "1.2.3.4, 198.51.100.1", INGRESS) == "198.51.100.1"


def test_the_chain_is_walked_from_the_right_through_every_trusted_hop():
    chain = "1.2.3.4, 198.51.100.1, 192.168.1.7, 10.9.9.9"      # forged, client, edge proxy, ingress
    assert client_address("10.1.2.3", chain, INGRESS) == "198.51.100.1"
    assert client_address("10.1.2.3", ["1.2.3.4, 198.51.100.1", "192.168.1.7", "10.9.9.9"], INGRESS) == \
        "198.51.100.1"                                            # several headers read as one list, in order


def test_a_trusted_chain_to_the_end_gives_its_leftmost_address():
    assert client_address("10.1.2.3", "10.4.4.4, 10.5.5.5", INGRESS) == "10.4.4.4"
    assert client_address("10.1.2.3", "", INGRESS) == "10.1.2.3"
    assert client_address("10.1.2.3", None, INGRESS) == "10.1.2.3"


def test_a_hop_that_is_not_an_address_stops_the_walk_at_the_proxy_that_wrote_it():
    assert client_address("10.1.2.3", "198.51.100.1, unknown", INGRESS) == "10.1.2.3"
    assert client_address("10.1.2.3", "unknown, 10.7.7.7", INGRESS) == "10.7.7.7"


def test_ports_brackets_and_mapped_addresses():
    assert client_address("10.1.2.3", "198.51.100.1:5123", INGRESS) == "198.51.100.1"
    assert client_address("10.1.2.3", "[2001:db8::1]:443", INGRESS) == "2001:db8::1"
    assert client_address("10.1.2.3", "2001:db8::1", INGRESS) == "2001:db8::1"
    assert client_address("::ffff:10.1.2.3", "198.51.100.1", INGRESS) == "198.51.100.1"   # a dual-stack socket
    assert parse_address("::ffff:198.51.100.1") == parse_address("198.51.100.1")
    assert parse_address("unknown") is None and parse_address("_hidden") is None and parse_address("") is None
    six = parse_networks("fd00::/8")
    assert client_address("fd00::5", "2001:db8::7", six) == "2001:db8::7"
    assert client_address("10.1.2.3", "2001:db8::7", six) == "10.1.2.3"


def test_networks_parse_or_say_which_entry_does_not():
    assert [str(n) for n in parse_networks(" 10.0.0.0/8 ,192.168.1.7,, fd00::/8 ")] == \
        ["10.0.0.0/8", "192.168.1.7/32", "fd00::/8"]
    assert parse_networks("") == () and parse_networks("10.1.2.3/8") == parse_networks("10.0.0.0/8")
    with pytest.raises(ValueError, match="'10.0.0.0/33'"):
        parse_networks("10.0.0.0/8,10.0.0.0/33")


def test_the_setting_fails_loudly_naming_itself(monkeypatch):
    monkeypatch.setenv("PAHT_TRUSTED_PROXIES", "10.0.0.0/8, the-ingress")
    with pytest.raises(settings.SettingInvalid, match="PAHT_TRUSTED_PROXIES='10.0.0.0/8, the-ingress'.*CIDR"):
        settings.trusted_proxies()
    assert any("PAHT_TRUSTED_PROXIES" in problem for problem in settings.setting_problems())
    assert settings.setting_problems({"PAHT_TRUSTED_PROXIES": "10.0.0.0/8"}) == []
    monkeypatch.delenv("PAHT_TRUSTED_PROXIES")
    assert settings.trusted_proxies() == ()


def test_a_request_is_resolved_once_by_the_setting(monkeypatch):
    monkeypatch.setenv("PAHT_TRUSTED_PROXIES", "127.0.0.1")
    environ = EnvironBuilder(headers={"X-Forwarded-For": "1.2.3.4, 198.51.100.1"},
                             environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ()
    request = Request(environ)
    assert proxies.of_request(request) == "198.51.100.1"
    monkeypatch.setenv("PAHT_TRUSTED_PROXIES", "")
    assert proxies.of_request(request) == "198.51.100.1"                  # kept for the request's life
    fresh = Request(EnvironBuilder(headers={"X-Forwarded-For": "198.51.100.1"},
                                   environ_base={"REMOTE_ADDR": "127.0.0.1"}).get_environ())
    assert proxies.of_request(fresh) == "127.0.0.1"                       # nothing trusted now
