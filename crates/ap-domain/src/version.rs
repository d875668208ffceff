//! Semantic versions of listings: `X.Y.Z`, ordered numerically, bumped by
//! `patch`/`minor`/`major`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A `MAJOR.MINOR.PATCH` version without pre-release or build parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Version {
    /// Incompatible changes.
    pub major: u32,
    /// Compatible additions.
    pub minor: u32,
    /// Fixes.
    pub patch: u32,
}

/// Why a string is not a version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Version must look like 1.2.3")]
pub struct InvalidVersion;

/// Which part of the version a bump increments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bump {
    /// `1.2.3` → `1.2.4`.
    Patch,
    /// `1.2.3` → `1.3.0`.
    Minor,
    /// `1.2.3` → `2.0.0`.
    Major,
}

impl Bump {
    /// Parses `patch`, `minor` or `major`, case-insensitively.
    pub fn parse(value: &str) -> Option<Self> {
        match value.to_ascii_lowercase().as_str() {
            "patch" => Some(Bump::Patch),
            "minor" => Some(Bump::Minor),
            "major" => Some(Bump::Major),
            _ => None,
        }
    }
}

impl Version {
    /// The first version of every listing.
    pub const INITIAL: Version = Version { major: 1, minor: 0, patch: 0 };

    /// Parses `X.Y.Z` (decimal, no leading zeros except `0` itself).
    pub fn parse(value: &str) -> Result<Self, InvalidVersion> {
        let mut parts = value.split('.');
        let mut next = || -> Result<u32, InvalidVersion> {
            let part = parts.next().ok_or(InvalidVersion)?;
            let canonical = !part.is_empty()
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part == "0" || !part.starts_with('0'));
            if !canonical {
                return Err(InvalidVersion);
            }
            part.parse().map_err(|_| InvalidVersion)
        };
        let version = Version { major: next()?, minor: next()?, patch: next()? };
        if parts.next().is_some() {
            return Err(InvalidVersion);
        }
        Ok(version)
    }

    /// The next version after a bump, or `None` when a part would overflow.
    pub fn bump(self, bump: Bump) -> Option<Self> {
        Some(match bump {
            Bump::Patch => Version { patch: self.patch.checked_add(1)?, ..self },
            Bump::Minor => Version { minor: self.minor.checked_add(1)?, patch: 0, ..self },
            Bump::Major => Version { major: self.major.checked_add(1)?, minor: 0, patch: 0 },
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl TryFrom<String> for Version {
    type Error = InvalidVersion;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Version::parse(&value)
    }
}

impl From<Version> for String {
    fn from(version: Version) -> Self {
        version.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parse_and_display() {
        assert_eq!(Version::parse("1.0.0"), Ok(Version::INITIAL));
        assert_eq!(Version::parse("10.20.30").map(|v| v.to_string()), Ok("10.20.30".to_owned()));
        for bad in ["", "1", "1.0", "1.0.0.0", "01.0.0", "1.-1.0", "a.b.c", "1.0.0-beta", " 1.0.0"]
        {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bumps() {
        let v = Version { major: 1, minor: 2, patch: 3 };
        assert_eq!(v.bump(Bump::Patch).map(|v| v.to_string()), Some("1.2.4".to_owned()));
        assert_eq!(v.bump(Bump::Minor).map(|v| v.to_string()), Some("1.3.0".to_owned()));
        assert_eq!(v.bump(Bump::Major).map(|v| v.to_string()), Some("2.0.0".to_owned()));
        assert_eq!(Bump::parse("PATCH"), Some(Bump::Patch));
        assert_eq!(Bump::parse("Minor"), Some(Bump::Minor));
        assert_eq!(Bump::parse("huge"), None);
    }

    proptest! {
        #[test]
        fn roundtrip(major in 0u32..100_000, minor in 0u32..100_000, patch in 0u32..100_000) {
            let v = Version { major, minor, patch };
            prop_assert_eq!(Version::parse(&v.to_string()), Ok(v));
        }

        #[test]
        fn bump_is_greater(major in 0u32..1000, minor in 0u32..1000, patch in 0u32..1000) {
            let v = Version { major, minor, patch };
            for bump in [Bump::Patch, Bump::Minor, Bump::Major] {
                let next = v.bump(bump).expect("no overflow");
                prop_assert!(next > v);
            }
        }

        #[test]
        fn order_matches_numeric_tuple(a in (0u32..50, 0u32..50, 0u32..50), b in (0u32..50, 0u32..50, 0u32..50)) {
            let va = Version { major: a.0, minor: a.1, patch: a.2 };
            let vb = Version { major: b.0, minor: b.1, patch: b.2 };
            prop_assert_eq!(va.cmp(&vb), a.cmp(&b));
        }

        #[test]
        fn arbitrary_text_never_panics(s in ".{0,20}") {
            let _ = Version::parse(&s);
        }
    }
}
