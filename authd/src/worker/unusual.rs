//! Unusual sign-ins: a device this account has not used, a country it has
//! not signed in from, or a trip from its previous sign-in faster than an
//! airliner (`security.travel_kmh`, 1,000 km/h). The facts of a whole batch
//! of sign-ins (and TryLogins, which have no device) go in one pipeline of
//! their own, after the sessions' — one more round trip a batch, and a
//! failing command here can cost the warnings, never a session: the
//! account's devices (`dev:<uuid>`, a sorted set by last use, cut to the 32 latest so a client
//! that never keeps its cookie cannot grow it: `ZCARD` then `ZADD`, 1 when
//! new) and countries (`sc:<uuid>`, at most ~250: `SCARD` then `SADD`), and
//! its last place (`loc:<uuid>`, `SET … GET`: the previous one comes
//! back). An account's first device or first known
//! country raises nothing (there is nothing to compare with). Sets and
//! place live 400 days. A warning goes to the sign-in's answer (webd shows
//! a notice), to its login record and, when the account has an address, in
//! a mail; while Redis is down no warning is judged.

use super::signin::{Creds, Win};
use super::Worker;
use crate::geo::{distance_km, Place};
use crate::store::User;
use authd_wire::ops::warnings;

/// How long an account's devices, countries and last place are kept.
const REMEMBERED_FOR: u64 = 400 * 24 * 3600;

/// Devices remembered per account (the most recently used).
const DEVICES: isize = 32;

/// Trips shorter than this are GeoIP's imprecision, not travel.
const NEAREST_TRIP_KM: f64 = 100.0;

/// What a sign-in looked like, and which of its facts went into the
/// pipeline (their answers come back in this order).
#[derive(Debug, Clone, Default)]
pub struct Look {
    pub place: Place,
    /// A hash of the device id (the id itself is a bearer of nothing, but
    /// there is no reason to keep it).
    pub device: Option<[u8; 16]>,
    asked_device: bool,
    asked_country: bool,
    asked_place: bool,
    at_ms: u64,
}

/// The 16-byte hash of a device id.
pub fn device_hash(device: &str) -> [u8; 16] {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(device.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&digest[..16]);
    out
}

fn int(v: Option<redis::Value>) -> i64 {
    v.and_then(|v| redis::from_redis_value::<i64>(v).ok())
        .unwrap_or(0)
}

impl Look {
    /// Where a sign-in attempt came from, with nothing asked of Redis.
    pub fn at(place: Place) -> Look {
        Look {
            place,
            ..Look::default()
        }
    }

    /// Takes this look's answers off `answers` (in the order they were
    /// asked) and says which warnings they make.
    pub fn judge(&self, answers: &mut impl Iterator<Item = redis::Value>, travel_kmh: f64) -> u32 {
        let mut raised = 0;
        if self.asked_device {
            let (had, added) = (int(answers.next()), int(answers.next()));
            if had > 0 && added == 1 {
                raised |= warnings::NEW_DEVICE;
            }
        }
        if self.asked_country {
            let (had, added) = (int(answers.next()), int(answers.next()));
            if had > 0 && added == 1 {
                raised |= warnings::NEW_REGION;
            }
        }
        if self.asked_place {
            let previous = answers
                .next()
                .and_then(|v| redis::from_redis_value::<Option<String>>(v).ok())
                .flatten();
            if let (Some(previous), Some(here)) = (previous, self.place.coordinates) {
                if too_fast(&previous, here, self.at_ms, travel_kmh) {
                    raised |= warnings::IMPOSSIBLE_TRAVEL;
                }
            }
        }
        raised
    }
}

/// Whether going from `previous` ("lat,lon,ms") to `here` by `at_ms`
/// needs more than `kmh`.
fn too_fast(previous: &str, here: (f64, f64), at_ms: u64, kmh: f64) -> bool {
    let mut parts = previous.split(',');
    let (Some(lat), Some(lon), Some(ms)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let (Ok(lat), Ok(lon), Ok(ms)) = (lat.parse::<f64>(), lon.parse::<f64>(), ms.parse::<u64>())
    else {
        return false;
    };
    let km = distance_km((lat, lon), here);
    if km < NEAREST_TRIP_KM {
        return false;
    }
    // At least a minute apart, so two sign-ins in one second are judged
    // by distance against a minute, not divided by nothing.
    let hours = (at_ms.saturating_sub(ms).max(60_000)) as f64 / 3_600_000.0;
    km / hours > kmh
}

impl Worker {
    /// Each winner's look and the warnings it raises, from one pipeline
    /// (none when Redis cannot answer: no warning is judged then).
    pub(super) fn looks(
        &mut self,
        wins: &[(Win, Option<(String, String)>)],
        at_ms: u64,
    ) -> Vec<(Look, u32)> {
        let mut p = redis::pipe();
        let looks: Vec<Look> = wins
            .iter()
            .map(|(w, _)| self.look(&w.creds, &w.user, at_ms, &mut p))
            .collect();
        let asked = looks
            .iter()
            .any(|l| l.asked_device || l.asked_country || l.asked_place);
        let answers: Option<Vec<redis::Value>> = if asked {
            self.cache.run(|c| p.query(c))
        } else {
            None
        };
        let Some(answers) = answers else {
            return looks.into_iter().map(|l| (l, 0)).collect();
        };
        let kmh = self.shared.cfg.security.travel_kmh;
        let mut answers = answers.into_iter();
        looks
            .into_iter()
            .map(|l| {
                let raised = l.judge(&mut answers, kmh);
                (l, raised)
            })
            .collect()
    }

    /// Looks at a sign-in and queues on `p` the commands whose answers
    /// [`Look::judge`] reads.
    fn look(&self, creds: &Creds, user: &User, at_ms: u64, p: &mut redis::Pipeline) -> Look {
        let mut look = Look {
            place: self.shared.geo.place(&creds.ip),
            device: (!creds.device.is_empty()).then(|| device_hash(&creds.device)),
            at_ms,
            ..Look::default()
        };
        if !self.shared.cfg.security.warnings {
            return look;
        }
        let uuid = user.uuid_hex();
        if let Some(device) = look.device {
            let key = self.cache.key("dev", &uuid);
            p.cmd("ZCARD").arg(&key);
            p.cmd("ZADD")
                .arg(&key)
                .arg(look.at_ms)
                .arg(hex::encode(device));
            p.cmd("ZREMRANGEBYRANK")
                .arg(&key)
                .arg(0)
                .arg(-(DEVICES + 1))
                .ignore();
            p.expire(&key, REMEMBERED_FOR as i64).ignore();
            look.asked_device = true;
        }
        if !look.place.country.is_empty() {
            let key = self.cache.key("sc", &uuid);
            p.cmd("SCARD").arg(&key);
            p.cmd("SADD").arg(&key).arg(&look.place.country);
            p.expire(&key, REMEMBERED_FOR as i64).ignore();
            look.asked_country = true;
        }
        if let Some((lat, lon)) = look.place.coordinates {
            p.cmd("SET")
                .arg(self.cache.key("loc", &uuid))
                .arg(format!("{lat:.4},{lon:.4},{}", look.at_ms))
                .arg("EX")
                .arg(REMEMBERED_FOR)
                .arg("GET");
            look.asked_place = true;
        }
        look
    }

    /// Tells the account's owner by mail (when it has an address; a full
    /// mail queue costs the mail, not the sign-in).
    pub(super) fn warn(&self, user: &User, creds: &Creds, look: &Look, raised: u32) {
        let email = match &user.email {
            Some(e) => Some(e.clone()),
            None if !user.has_email => None,
            None => match self.shared.db.user_by_id(user.id) {
                Ok(Some(u)) => u.email,
                Ok(None) => None,
                Err(e) => {
                    log::warn!("loading an address for a sign-in warning: {e}");
                    None
                }
            },
        };
        let Some(to) = email else {
            return;
        };
        let (browser, platform) = crate::agent::describe(&creds.agent);
        let mut why = Vec::new();
        if raised & warnings::NEW_DEVICE != 0 {
            why.push("a device this account has not used");
        }
        if raised & warnings::NEW_REGION != 0 {
            why.push("a country this account has not signed in from");
        }
        if raised & warnings::IMPOSSIBLE_TRAVEL != 0 {
            why.push("too far from the previous sign-in for the time between them");
        }
        let place = match (look.place.city.as_str(), look.place.country.as_str()) {
            ("", "") => "unknown".to_owned(),
            ("", country) => country.to_owned(),
            (city, country) => format!("{city}, {country}"),
        };
        let detail = format!(
            "Why: {}.\nWhen: {} (Unix ms)\nAddress: {}\nPlace: {place}\nBrowser: {browser} on {platform}\n",
            why.join("; "),
            look.at_ms,
            creds.ip,
        );
        let _ = self.shared.mail.try_send(crate::mailer::Mail {
            to,
            purpose: "unusual sign-in",
            code: None,
            detail: Some(detail),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trip_no_airliner_makes_is_too_fast() {
        let paris = (48.8566, 2.3522);
        let new_york = (40.7128, -74.0060);
        let hour = 3_600_000;
        let prev = format!("{},{},{}", paris.0, paris.1, 10 * hour);
        // 5,840 km in one hour, and in ten.
        assert!(too_fast(&prev, new_york, 11 * hour, 1000.0));
        assert!(!too_fast(&prev, new_york, 20 * hour, 1000.0));
        // The same place a second later is no trip.
        assert!(!too_fast(&prev, paris, 10 * hour + 1000, 1000.0));
        assert!(!too_fast("garbage", new_york, 11 * hour, 1000.0));
    }

    #[test]
    fn a_first_device_warns_of_nothing_a_second_does() {
        let look = Look {
            asked_device: true,
            ..Look::default()
        };
        let first = vec![redis::Value::Int(0), redis::Value::Int(1)];
        assert_eq!(look.judge(&mut first.into_iter(), 1000.0), 0);
        let second = vec![redis::Value::Int(1), redis::Value::Int(1)];
        assert_eq!(
            look.judge(&mut second.into_iter(), 1000.0),
            warnings::NEW_DEVICE
        );
        let known = vec![redis::Value::Int(2), redis::Value::Int(0)];
        assert_eq!(look.judge(&mut known.into_iter(), 1000.0), 0);
    }
}
