//! How a live value is compared with the wanted one. Most knobs are limits
//! where more is fine (`at-least`, element by element for lists such as
//! `tcp_mem`); some must be exactly one value (`tcp_syncookies = 1`); a port
//! range must contain the wanted range; a port list must include the wanted
//! ports; a few are better smaller.
//!
//! In a profile file the rule of a knob is written on a comment line of its
//! own just above it, `# tune: exact`; without one a numeric knob is
//! `at-least` and any other is `exact`.

use crate::ports::PortSet;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    AtLeast,
    AtMost,
    Exact,
    /// Two numbers `low high`: the live range must contain the wanted one.
    Range,
    /// A port list `a-b,c`: the live list must include every wanted port
    /// (others may be reserved too).
    Includes,
}

impl Rule {
    pub fn parse(word: &str) -> Option<Rule> {
        match word {
            "at-least" => Some(Rule::AtLeast),
            "at-most" => Some(Rule::AtMost),
            "exact" => Some(Rule::Exact),
            "range" => Some(Rule::Range),
            "includes" => Some(Rule::Includes),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Rule::AtLeast => "at-least",
            Rule::AtMost => "at-most",
            Rule::Exact => "exact",
            Rule::Range => "range",
            Rule::Includes => "includes",
        }
    }

    /// The rule a knob gets when its profile says none.
    pub fn default_for(value: &str) -> Rule {
        if numbers(value).is_some() {
            Rule::AtLeast
        } else {
            Rule::Exact
        }
    }

    /// Whether `current` satisfies `wanted`.
    pub fn satisfied(self, current: &str, wanted: &str) -> bool {
        if self == Rule::Includes {
            return match (PortSet::parse(current), PortSet::parse(wanted)) {
                (Some(cur), Some(want)) => cur.contains(&want),
                _ => false,
            };
        }
        self.target(current, wanted).as_deref() == Some(normalise(current).as_str())
    }

    /// The value to write so that the knob satisfies `wanted` without
    /// lowering what is already better: element-wise max for `at-least`,
    /// min for `at-most`, the union for `range`, `wanted` for `exact`.
    /// `None` when the two cannot be compared (different shapes).
    pub fn target(self, current: &str, wanted: &str) -> Option<String> {
        if self == Rule::Exact {
            return Some(normalise(wanted));
        }
        if self == Rule::Includes {
            let (cur, want) = (PortSet::parse(current)?, PortSet::parse(wanted)?);
            return Some(cur.union(&want).to_string());
        }
        let (cur, want) = (numbers(current)?, numbers(wanted)?);
        if cur.len() != want.len() {
            return None;
        }
        let merged: Vec<u64> = match self {
            Rule::AtLeast => cur.iter().zip(&want).map(|(c, w)| *c.max(w)).collect(),
            Rule::AtMost => cur.iter().zip(&want).map(|(c, w)| *c.min(w)).collect(),
            Rule::Range if cur.len() == 2 => vec![cur[0].min(want[0]), cur[1].max(want[1])],
            Rule::Range | Rule::Exact | Rule::Includes => return None,
        };
        Some(
            merged
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" "),
        )
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whitespace-separated unsigned numbers, or `None`.
pub fn numbers(value: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = value.split_whitespace().map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty())
}

/// Single spaces between fields, as `/proc/sys` values are compared.
pub fn normalise(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_compares_each_element_and_never_lowers() {
        let r = Rule::AtLeast;
        assert!(r.satisfied("4096", "1024"));
        assert!(!r.satisfied("128", "1024"));
        assert!(!r.satisfied("10 50 90", "20 40 80"));
        assert_eq!(r.target("10 50 90", "20 40 80").unwrap(), "20 50 90");
    }

    #[test]
    fn range_must_contain_the_wanted_range() {
        let r = Rule::Range;
        assert!(r.satisfied("1024\t65535", "1024 65535"));
        assert!(!r.satisfied("32768 60999", "1024 65535"));
        assert_eq!(r.target("32768 60999", "1024 65535").unwrap(), "1024 65535");
    }

    #[test]
    fn includes_wants_every_port_and_keeps_what_else_is_reserved() {
        let r = Rule::Includes;
        assert!(r.satisfied("9000-9999,13306,40000", "9090,13306"));
        assert!(!r.satisfied("", "9090"));
        assert!(!r.satisfied("9000-9089", "9090"));
        assert_eq!(r.target("40000", "9090-9091").unwrap(), "9090-9091,40000");
        assert_eq!(r.target("", "9090").unwrap(), "9090");
        assert!(!r.satisfied("nonsense", "9090"));
    }

    #[test]
    fn exact_and_at_most() {
        assert!(Rule::Exact.satisfied("1", "1"));
        assert!(!Rule::Exact.satisfied("2", "1"));
        assert!(Rule::AtMost.satisfied("15", "30"));
        assert!(!Rule::AtMost.satisfied("60", "30"));
        assert_eq!(Rule::default_for("bbr"), Rule::Exact);
        assert_eq!(Rule::default_for("4 5"), Rule::AtLeast);
    }
}
