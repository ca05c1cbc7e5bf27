import pytest
from pydantic import ValidationError

from paht.errors import MESSAGES, ApiError
from paht.schemas import Location, ReportIn


def test_coordinates_out_of_range_are_refused():
    with pytest.raises(ValidationError):
        Location(lat=91, lon=107)
    with pytest.raises(ValidationError):
        Location(lat=16, lon=181)
    with pytest.raises(ValidationError):
        Location(lat=16)


def test_unknown_fields_and_missing_description_are_refused():
    with pytest.raises(ValidationError):
        ReportIn(pack="x", description="a", colour="red")
    with pytest.raises(ValidationError):
        ReportIn(pack="x")


def test_category_must_be_a_known_id():
    with pytest.raises(ValidationError):
        ReportIn(pack="x", description="a", category="potholes")
    assert ReportIn(pack="x", description="a", category="roads_traffic").category == "roads_traffic"


def test_every_error_code_has_a_vietnamese_and_english_message():
    for code, (status, vi, en) in MESSAGES.items():
        assert 400 <= status < 600 and vi and en, code
    body = ApiError("UNKNOWN_PACK", fields={"pack": "x"}).body()
    assert body["error"]["code"] == "UNKNOWN_PACK" and body["error"]["fields"] == {"pack": "x"}
