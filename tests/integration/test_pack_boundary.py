"""The public map draws the pack's own ward polygons (issue 24 item 2): the gateway serves the GeoJSON of
rules/<pack>/boundary, the same wards verification locates reports in (WardIndex.of)."""
from __future__ import annotations

import json

import pytest
import requests

from paht.geo import WardIndex, boundary_path
from paht.rules import get_pack, list_packs

pytestmark = pytest.mark.integration


def test_the_map_serves_each_packs_own_ward_polygons(system):
    system.start("gateway")
    for pack_id in list_packs():
        pack = get_pack(pack_id)
        answer = requests.get(f"{system.api}/map/wards/{pack_id}.geojson", timeout=10)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/geo+json")
        assert answer.content == boundary_path(pack.path, pack.meta).read_bytes()
        codes = {f["properties"]["ward_code"] for f in json.loads(answer.content)["features"]}
        assert codes == {ward.code for ward in WardIndex.of(pack).wards()}
    assert requests.get(f"{system.api}/map/wards/no-such-pack.geojson", timeout=10).status_code == 422   # UNKNOWN_PACK
