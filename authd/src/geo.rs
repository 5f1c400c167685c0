//! Where a client address is: its country, city and coordinates from a
//! MaxMind GeoIP2/GeoLite2 City or Country database (the `maxminddb`
//! crate), read whole into memory at start. Without a database region
//! checks are off, and authd says so once at start; an address the
//! database does not hold (loopback, private ranges) has no place, which
//! is never "a new region".

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// Where an address is, as far as the database knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    /// ISO 3166-1 alpha-2, empty when unknown.
    pub country: String,
    /// The English name of the city, empty when unknown (or a Country
    /// database).
    pub city: String,
    /// Latitude and longitude in degrees, when the database has them.
    pub coordinates: Option<(f64, f64)>,
}

/// The database, or none; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Geo {
    reader: Option<Arc<maxminddb::Reader<Vec<u8>>>>,
}

impl Geo {
    /// Opens the database at `path`; an empty path means none.
    pub fn open(path: &Path) -> Result<Geo, String> {
        if path.as_os_str().is_empty() {
            log::warn!(
                "security.geoip is not set: sign-in regions are unknown, so new-region and \
                 impossible-travel warnings are off"
            );
            return Ok(Geo::default());
        }
        let reader = maxminddb::Reader::open_readfile(path)
            .map_err(|e| format!("security.geoip {}: {e}", path.display()))?;
        log::info!(
            "GeoIP database {} ({}, built {})",
            path.display(),
            reader.metadata.database_type,
            reader.metadata.build_epoch
        );
        Ok(Geo {
            reader: Some(Arc::new(reader)),
        })
    }

    pub fn enabled(&self) -> bool {
        self.reader.is_some()
    }

    /// Where `ip` (a textual address, as the callers send it) is; the
    /// default place for anything the database cannot say.
    pub fn place(&self, ip: &str) -> Place {
        let (Some(reader), Ok(addr)) = (&self.reader, ip.parse::<IpAddr>()) else {
            return Place::default();
        };
        let Ok(found) = reader.lookup(addr) else {
            return Place::default();
        };
        let Ok(Some(city)) = found.decode::<maxminddb::geoip2::City<'_>>() else {
            return Place::default();
        };
        let coordinates = match (city.location.latitude, city.location.longitude) {
            (Some(lat), Some(lon)) if lat.is_finite() && lon.is_finite() => Some((lat, lon)),
            _ => None,
        };
        Place {
            country: city
                .country
                .iso_code
                .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
                .map(str::to_ascii_uppercase)
                .unwrap_or_default(),
            city: city
                .city
                .names
                .english
                .map(|c| crate::validate::clip(c, 64))
                .unwrap_or_default(),
            coordinates,
        }
    }
}

/// The great-circle distance between two points (degrees) in km.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_great_circles() {
        // Paris to New York is about 5,840 km.
        let d = distance_km((48.8566, 2.3522), (40.7128, -74.0060));
        assert!((5800.0..5900.0).contains(&d), "{d}");
        assert_eq!(distance_km((1.0, 2.0), (1.0, 2.0)), 0.0);
        assert!(distance_km((90.0, 0.0), (-90.0, 0.0)) <= 20_016.0);
    }

    #[test]
    fn without_a_database_nothing_is_known() {
        let geo = Geo::default();
        assert!(!geo.enabled());
        assert_eq!(geo.place("81.2.69.142"), Place::default());
        assert_eq!(geo.place("not an address"), Place::default());
    }
}
