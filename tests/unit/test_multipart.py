"""paht.multipart: the boundary found without a compiled pattern per body, event for event as werkzeug's decoder."""
import re

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug import formparser
from werkzeug.datastructures import FileStorage
from werkzeug.sansio.multipart import Epilogue, MultipartDecoder, NeedData
from werkzeug.test import EnvironBuilder

from paht.multipart import BoundaryDecoder, BoundarySearch
from paht.web import LimitedRequest

BREAKS = [b"\r\n", b"\n", b"\r"]


def events(decoder_class, boundary: bytes, body: bytes, chunk: int):
    decoder, seen = decoder_class(boundary, max_parts=100), []
    for start in range(0, len(body) + 1, chunk):
        piece = body[start:start + chunk]
        decoder.receive_data(piece if piece else None)
        try:
            event = decoder.next_event()
            while not isinstance(event, NeedData):
                seen.append(event)
                if isinstance(event, Epilogue):
                    return seen
                event = decoder.next_event()
        except ValueError as exc:      # a malformed body: both must refuse it
            return seen + [type(exc).__name__]
    return seen


boundaries = st.text(alphabet="abcXYZ019-'()+_,./:=? ", min_size=1, max_size=20).map(str.encode).filter(
    lambda b: not b.endswith(b" "))
noise = st.lists(st.sampled_from([b"a", b"-", b"--", b" ", b"\t", b"\r", b"\n", b"\r\n", b"x" * 40, b"\x00\xff"]),
                 max_size=12).map(b"".join)


@st.composite
def bodies(draw):
    boundary = draw(boundaries)
    brk = draw(st.sampled_from(BREAKS))
    parts = [draw(noise) if draw(st.booleans()) else b""]     # a preamble, or none
    for index in range(draw(st.integers(0, 3))):
        content = draw(noise)
        if draw(st.booleans()):       # the boundary (or part of it) inside a part's content
            content += draw(st.sampled_from([b"--", b"\r\n--", b"\n--", b"\r--", b""])) + boundary[
                :draw(st.integers(0, len(boundary)))] + draw(noise)
        parts.append(draw(st.sampled_from(BREAKS + [b""])) + b"--" + boundary + draw(st.sampled_from([b"", b" ", b" \t"]))
                     + brk + f'Content-Disposition: form-data; name="f{index}"'.encode() + brk + brk + content)
    ending = draw(st.sampled_from([b"--", b"-- ", b"", b"--\t"]))
    parts.append(draw(st.sampled_from(BREAKS)) + b"--" + boundary + ending + draw(st.sampled_from(BREAKS + [b""])))
    if draw(st.booleans()):
        parts.append(draw(noise))     # an epilogue
    return boundary, b"".join(parts), draw(st.integers(1, 64))


@settings(max_examples=600, deadline=None)
@given(bodies())
def test_events_are_werkzeugs(case):
    boundary, body, chunk = case
    assert events(BoundaryDecoder, boundary, body, chunk) == events(MultipartDecoder, boundary, body, chunk)


@settings(max_examples=600, deadline=None)
@given(boundaries, st.binary(max_size=60) | noise, st.integers(0, 70), st.booleans())
def test_search_is_the_patterns(boundary, filler, pos, optional):
    line_break = b"(?:\r\n|\n|\r)"
    pattern = re.compile(rb"%s%s--%s(--[^\S\n\r]*%s?|[^\S\n\r]*%s)" % (
        line_break, b"?" if optional else b"", re.escape(boundary), line_break, line_break), re.MULTILINE)
    for data in (filler, filler + b"\r\n--" + boundary + b"\r\n", b"--" + boundary + b"--" + filler,
                 filler + b"\n--" + boundary + b" x\r--" + boundary + b"--", bytearray(b"\r--" + boundary + filler)):
        expected, found = pattern.search(data, pos), BoundarySearch(boundary, optional).search(data, pos)
        assert (found and (found.start(), found.end(), found.group(1))) == \
            (expected and (expected.start(), expected.end(), expected.group(1)))


def test_the_form_parser_uses_it_and_reads_the_form():
    assert formparser.MultipartDecoder is BoundaryDecoder      # installed by paht.web
    environ = EnvironBuilder(method="POST", data={"report": '{"a": 1}', "media": (FileStorage(
        stream=__import__("io").BytesIO(b"\xff\xd8 bytes --x\r\n-- "), filename="p.jpg"))}).get_environ()
    request = LimitedRequest(environ)
    assert request.form["report"] == '{"a": 1}'
    assert request.files["media"].read() == b"\xff\xd8 bytes --x\r\n-- "


def test_overlapping_markers():
    """Boundary `-`: in `----\r\n` the marker `---` at 0 is followed by `-\r\n` (no match there), at 1 by a line
    break: the preamble's pattern matches from 1."""
    found = BoundarySearch(b"-", break_optional=True).search(b"----\r\n")
    assert (found.start(), found.end(), found.group(1)) == (1, 6, b"\r\n")
    assert BoundarySearch(b"-", break_optional=False).search(b"\n----\r\n") is None


def test_request_headers_of_a_multipart_body_compile_no_pattern(monkeypatch):
    import http.client
    import io

    from paht.web import ClientAddressProtocol, RequestHeaders

    assert ClientAddressProtocol.MessageClass is RequestHeaders
    compiled = []
    real = re.compile
    monkeypatch.setattr(re, "compile", lambda *a, **k: compiled.append(a) or real(*a, **k))
    block = (b"Host: x\r\nContent-Type: multipart/form-data; boundary=a1b2c3\r\nContent-Length: 10\r\n"
             b"X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n\r\n")
    headers = http.client.parse_headers(io.BytesIO(block), _class=RequestHeaders)
    assert compiled == []
    assert headers["Content-Type"] == "multipart/form-data; boundary=a1b2c3"
    assert headers.get_all("X-Forwarded-For") == ["10.0.0.1", "10.0.0.2"]
    assert dict(headers.items()) == dict(http.client.parse_headers(io.BytesIO(block)).items())
