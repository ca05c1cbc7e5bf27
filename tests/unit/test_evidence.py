"""Evidence measured from real files (issue 4): capture time, GPS, edit signals, kinds, content, duplicates; measured
at decoder speed (issue 15): a JPEG decoded at the smallest DCT scale, the header read without the pixels, the pixel
work in OS threads while the hub runs."""
from __future__ import annotations

import io
from datetime import datetime, timedelta

import eventlet
import imagehash
import pillow_heif
import pytest
from eventlet.semaphore import Semaphore
from PIL import Image

from paht.geo import WardIndex
from paht.mediatypes import open_image
from paht.rules import rules_root
from services.verification import media
from services.verification.evidence import (
    MediaEvidence,
    content_facts,
    inspect_all,
    inspect_media,
    load_wordlists,
    location_facts,
    photo_facts,
)
from tests import media_factory as make

pytestmark = pytest.mark.calendar   # run from every start instant (tests/start_instants.py)

VN = make.VN
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=VN)
TZ = "Asia/Ho_Chi_Minh"


def inspect(data, name="p.jpg", app=None):
    return inspect_media(data, name, None, app, TZ)


def test_capture_time_from_exif_with_offset_and_age():
    photo = inspect(make.jpeg(NOW - timedelta(hours=30)))
    assert photo.captured_source == "exif"
    assert photo_facts([photo], NOW)["photo_age_h"] == 30


def test_capture_time_without_offset_uses_the_province_time_zone():
    import io

    from PIL import Image
    data = make.jpeg(NOW - timedelta(hours=2))
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    del exif.get_ifd(0x8769)[0x9011]
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    assert photo_facts([inspect(out.getvalue())], NOW)["photo_age_h"] == 2


def test_app_captured_at_when_exif_is_stripped_and_unknown_otherwise():
    stripped = make.png()
    unknown = photo_facts([inspect(stripped, "p.png")], NOW)
    assert unknown["photo_age_known"] is False and unknown["photo_age_h"] is None
    assert not any(unknown[s] for s in ("edited_software", "edited_datetime", "edited_thumbnail",
                                        "edited_requantized")), "missing metadata is never 'edited'"
    app = photo_facts([inspect(stripped, "p.png", app=NOW - timedelta(hours=5))], NOW)
    assert app["photo_age_h"] == 5 and app["capture_time_client_asserted"], "the app's word, flagged as such"
    assert not unknown["capture_time_client_asserted"]


def test_exif_time_comes_first_and_a_contradicting_app_time_is_flagged():
    photo = inspect(make.jpeg(NOW - timedelta(hours=30)), app=NOW - timedelta(minutes=2))
    facts = photo_facts([photo], NOW)
    assert photo.captured_source == "exif" and facts["photo_age_h"] == 30
    assert facts["capture_time_conflict"] and not facts["capture_time_client_asserted"]
    close = photo_facts([inspect(make.jpeg(NOW - timedelta(hours=1)), app=NOW - timedelta(minutes=58))], NOW)
    assert not close["capture_time_conflict"]


def test_a_capture_time_in_the_future_is_never_a_fresh_photo():
    future = photo_facts([inspect(make.jpeg(NOW + timedelta(days=2)))], NOW)
    assert future["capture_time_future"] and not future["photo_age_known"] and future["photo_age_h"] is None
    app_future = photo_facts([inspect(make.png(), "p.png", app=NOW + timedelta(hours=1))], NOW)
    assert app_future["capture_time_future"] and app_future["photo_age_h"] is None
    skewed = photo_facts([inspect(make.jpeg(NOW + timedelta(minutes=3)))], NOW)
    assert not skewed["capture_time_future"] and skewed["photo_age_h"] == 0, "a clock a few minutes fast"
    mixed = photo_facts([inspect(make.jpeg(NOW + timedelta(days=2))), inspect(make.jpeg(NOW - timedelta(hours=40)))],
                        NOW)
    assert mixed["capture_time_future"] and mixed["photo_age_h"] == 40


def test_heic_capture_time_gps_and_hash():
    photo = inspect(make.heic(NOW - timedelta(hours=4)), "p.heic")
    assert photo.kind == "photo" and photo.captured_source == "exif" and photo.phash
    assert photo_facts([photo], NOW)["photo_age_h"] == 4


def test_exif_gps_degrees_minutes_seconds_and_hemispheres():
    lat, lon = inspect(make.jpeg(NOW, gps=(16.4637, 107.5909))).exif_gps
    assert abs(lat - 16.4637) < 1e-4 and abs(lon - 107.5909) < 1e-4
    lat, lon = inspect(make.jpeg(NOW, gps=(-33.8688, -151.2093))).exif_gps
    assert abs(lat + 33.8688) < 1e-4 and abs(lon + 151.2093) < 1e-4


def test_editing_software_and_late_save_are_separate_signals():
    edited = inspect(make.jpeg(NOW - timedelta(hours=1), software="Adobe Photoshop 25.0 (Windows)"))
    assert edited.signals["edited_software"] and not edited.signals["edited_datetime"]
    later = inspect(make.jpeg(NOW - timedelta(hours=3), saved_at=NOW - timedelta(hours=1)))
    assert later.signals["edited_datetime"] and not later.signals["edited_software"]
    camera = inspect(make.jpeg(NOW - timedelta(hours=1), software="HDR+ 1.0.540104767zd"))
    assert not camera.signals["edited_software"]


@pytest.mark.parametrize("tool", ["Nikon Transfer 2 W2.13.3", "ViewNX-i 1.4.4 W", "Digital Photo Professional 4.17",
                                  "EOS Utility 3.16", "Canon ImageBrowser EX Utility", "Image Transfer Utility 2",
                                  "Samsung Photo Import", "Apple Photos Import 1.0"])
def test_a_camera_makers_transfer_tool_is_a_weak_sign_not_an_edit(tool):
    photo = inspect(make.jpeg(NOW - timedelta(hours=1), software=tool))
    assert not photo.signals["edited_software"] and photo.signals["vendor_resave"]
    facts = photo_facts([photo], NOW)
    assert facts["vendor_resave"] and not facts["edited_software"]


def test_thumbnail_that_does_not_match_the_image():
    photo = make.jpeg(NOW, seed=1)
    assert inspect(make.with_thumbnail(photo, make.jpeg(NOW, seed=99))).signals["edited_thumbnail"]
    assert not inspect(make.with_thumbnail(photo, photo)).signals["edited_thumbnail"]


def test_resave_with_standard_tables_and_ela():
    resaved = inspect(make.resaved(make.jpeg(NOW - timedelta(hours=1)), 75))
    assert resaved.signals["edited_requantized"]
    assert 0 <= resaved.ela_score <= 1


def test_kinds_from_bytes():
    assert inspect(make.png(), "x.png").kind == "photo"
    video = inspect(make.mp4(NOW - timedelta(hours=3)), "v.mp4")
    assert video.kind == "video" and video.captured_source == "container"
    assert photo_facts([video], NOW)["photo_age_h"] == 3
    assert inspect(b"\x00\x00\x00\x18ftypheic" + b"\0" * 40, "x.heic").mime == "image/heic"
    assert inspect(b"MZ this is not media", "x.jpg").kind == "other"


def test_location_ward_and_distance():
    index = WardIndex.of_pack("thua-thien-hue-2022")
    ward = index.wards()[3]
    lat, lon = index.representative_point(ward.code)
    facts = location_facts({"lat": lat, "lon": lon, "source": "gps"}, (lat + 0.001, lon), index)
    assert facts["ward_code"] == ward.code and facts["inside_province"] and facts["has_gps"]
    assert 100 < facts["gps_distance_m"] < 120
    outside = location_facts({"lat": 21.03, "lon": 105.85, "source": "gps"}, None, index)
    assert outside["has_gps"] and not outside["inside_province"]
    typed = location_facts({"address": "12 Lê Lợi, phường Thuận Hóa", "source": "manual"}, None, index)
    assert typed["has_address"] and not typed["has_gps"]


def test_word_lists_are_accent_aware():
    lists = load_wordlists(rules_root())
    assert content_facts("Tôi làm đơn khiếu nại cán bộ phường", lists)["out_of_scope_kind"] == "complaint"
    assert content_facts("tranh chap dat dai voi hang xom", lists)["out_of_scope_kind"] == "dispute"
    assert not content_facts("Ổ gà lớn giữa đường", lists)["prohibited_content"]
    assert content_facts("Liên hệ Zalo để được giảm giá", lists)["prohibited_content"]


def test_a_lock_with_a_duration_ends_by_itself():
    from services.verification.penalties import lock_until
    from services.verification.facts import reporter_facts
    until = lock_until({"duration": {"amount": 30, "unit": "d"}}, NOW)
    history = {"interaction_locked": {"rule": "r", "until": until}, "account_locked": {"rule": "r", "until": None}}
    facts = reporter_facts({"phone": "0905"}, history, "2026-11", NOW + timedelta(days=29))
    assert facts["interaction_locked"] and facts["account_locked"]
    later = reporter_facts({"phone": "0905"}, history, "2026-12", NOW + timedelta(days=31))
    assert not later["interaction_locked"] and later["account_locked"]


# ---- decoder speed (issue 15) ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("longest,factor", [(160, 1), (512, 1), (513, 2), (800, 2), (1024, 2), (1025, 4), (2048, 4),
                                            (2049, 8), (4000, 8), (4096, 8), (4097, 16), (8160, 16), (16000, 32)])
def test_the_analysis_picture_is_the_image_divided_by_a_whole_factor(longest, factor):
    assert media.reduction(longest) == factor
    assert longest / factor <= media.ANALYSIS_SIDE


def test_a_12_mp_jpeg_is_never_decoded_above_the_analysis_size():
    image = open_image(make.jpeg(NOW, size=(4000, 3000)), "image/jpeg")
    small = media.analysis_image(image)
    assert small.size == (500, 375) and small.mode == "RGB"
    assert image.size == (500, 375), "libjpeg decoded it at 1/8 (DCT scaling), not at full size"
    narrow = open_image(make.jpeg(NOW, size=(4000, 6)), "image/jpeg")
    assert media.analysis_image(narrow).size == (500, 1)
    assert narrow.size == (1000, 2), "too narrow for 1/8: decoded at 1/4, then reduced by 2"


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P", "L", "1", "I;16"])
def test_a_full_size_png_is_never_converted_at_full_size(mode, monkeypatch):
    picture = Image.open(io.BytesIO(make.jpeg(NOW, size=(1200, 900)))).convert("RGB")
    out = io.BytesIO()
    (picture.convert("L").convert("I;16") if mode == "I;16" else picture.convert(mode)).save(out, "PNG")
    converted = []
    convert = Image.Image.convert
    monkeypatch.setattr(Image.Image, "convert", lambda self, *a, **k: converted.append(self.size) or convert(
        self, *a, **k))
    photo = inspect(out.getvalue(), "p.png")
    assert photo.phash and photo.width == 1200
    assert converted and (1200, 900) not in converted, "never the whole picture converted (nor premultiplied)"


def test_the_same_picture_hashes_alike_as_jpeg_png_and_heic():
    data = make.jpeg(NOW, seed=7, size=(2000, 1500))
    picture = Image.open(io.BytesIO(data))
    png, heic = io.BytesIO(), io.BytesIO()
    picture.save(png, "PNG")
    pillow_heif.from_pillow(picture).save(heic, quality=90)
    hashes = [imagehash.hex_to_hash(inspect(file).phash) for file in (data, png.getvalue(), heic.getvalue())]
    assert max(hashes[0] - other for other in hashes[1:]) <= 2, "well within a duplicate's 8 bits"


@pytest.mark.parametrize("kind", ["jpeg", "heic"])
def test_exif_comes_from_the_header_without_decoding_a_pixel(kind, monkeypatch):
    taken = NOW - timedelta(hours=2)
    data = make.jpeg(taken, gps=(16.4637, 107.5909), software="Snapseed 2.0") if kind == "jpeg" else make.heic(taken)
    image = open_image(data, f"image/{kind}")

    def refuse(*args, **kwargs):
        raise AssertionError("pixels decoded to read the header")
    monkeypatch.setattr(type(image), "load", refuse)
    evidence = MediaEvidence(sha256="x", kind="photo", mime=f"image/{kind}")
    media.read_header(image, evidence, TZ)
    assert evidence.captured_at == taken and evidence.captured_source == "exif"
    if kind == "jpeg":
        assert evidence.exif_gps == pytest.approx((16.4637, 107.5909), abs=1e-4)
        assert evidence.signals["edited_software"] and evidence.software == "Snapseed 2.0"


def test_every_libjpeg_quality_is_a_standard_table_and_a_cameras_is_not():
    for quality in range(1, 101):
        out = io.BytesIO()
        Image.new("RGB", (16, 16)).save(out, "JPEG", quality=quality)
        tables = Image.open(out).quantization
        assert media.standard_quantization(tables), quality
        tuned = {0: [value + (index == 5) for index, value in enumerate(tables[0])]}   # one step off
        assert not media.standard_quantization(tuned), quality


def test_inspect_all_answers_as_inspect_media_in_order():
    items = [(make.jpeg(NOW - timedelta(hours=n), seed=n), f"{n}.jpg", None, None, TZ, f"h{n}") for n in range(4)]
    items += [(make.heic(NOW), "p.heic", None, None, TZ), (make.png(), "p.png", None, NOW, TZ, "png"),
              (make.mp4(NOW), "v.mp4", None, None, TZ), (make.truncated(make.jpeg(NOW)), "cut.jpg", None, NOW, TZ)]
    assert inspect_all(items) == [inspect_media(*item) for item in items]
    assert inspect_all([]) == []


def test_inspect_all_decodes_in_another_thread_while_the_hub_runs(monkeypatch):
    """The pixel work waits until a green thread has run after it started: were it decoding in the hub's thread,
    that green thread could not run, and the photo would come back unknown."""
    threads = eventlet.patcher.original("threading")
    started, released, workers = threads.Event(), threads.Event(), set()
    measure = media.measure_pixels

    def held(image):
        workers.add(threads.get_ident())
        started.set()
        if not released.wait(10):
            raise AssertionError("no green thread ran while a photo was being decoded")
        return measure(image)

    def release():
        while not started.is_set():
            eventlet.sleep(0.001)
        released.set()

    monkeypatch.setattr(media, "measure_pixels", held)
    helper = eventlet.spawn(release)
    photos = inspect_all([(make.jpeg(NOW, seed=n), "p.jpg", None, None, TZ) for n in range(3)])
    helper.wait()
    assert all(photo.phash for photo in photos)
    assert threads.get_ident() not in workers


def test_inspect_all_takes_the_next_file_only_when_a_slot_is_free(monkeypatch):
    """A report's files are read as they are inspected: at most one file per core is held (and one waiting)."""
    slots = Semaphore(2)
    monkeypatch.setattr(media, "_pool_slots", lambda: slots)
    started, in_flight = [], []
    measure = media.measure_pixels
    monkeypatch.setattr(media, "measure_pixels", lambda image: started.append(1) or measure(image))

    def files():
        for n in range(6):
            in_flight.append(n - len(started))
            yield make.jpeg(NOW, seed=n), "p.jpg", None, None, TZ

    photos = inspect_all(files())
    assert len(photos) == 6 and all(photo.phash for photo in photos)
    assert max(in_flight) <= 2
