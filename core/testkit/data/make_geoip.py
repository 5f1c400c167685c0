"""Writes the GeoIP2 City database the tests use (PyPI's mmdb-writer):
three documentation ranges placed in three cities, so that a test can
sign in "from Paris", "from Lyon" and "from Tokyo" through a trusted
proxy's X-Forwarded-For. Usage: make_geoip.py OUT.mmdb (core/testkit/src/geoip.rs runs it)"""

import sys

from mmdb_writer import MMDBWriter, MmdbF64
from netaddr import IPSet

PLACES = {
    # address range: (ISO country, English city, latitude, longitude)
    "192.0.2.0/24": ("FR", "Paris", 48.8566, 2.3522),
    "203.0.113.0/24": ("FR", "Lyon", 45.7640, 4.8357),
    "198.51.100.0/24": ("JP", "Tokyo", 35.6762, 139.6503),
}

writer = MMDBWriter(ip_version=4, database_type="GeoIP2-City", languages=["en"],
                    description="Throng test places")
for network, (country, city, lat, lon) in PLACES.items():
    writer.insert_network(IPSet([network]), {
        "country": {"iso_code": country, "names": {"en": country}},
        "city": {"names": {"en": city}},
        "location": {"latitude": MmdbF64(lat), "longitude": MmdbF64(lon)},
    })
writer.to_db_file(sys.argv[1])
