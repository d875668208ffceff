#![doc = include_str!("../README.md")]

pub mod memory;
pub mod policy;
pub mod redis;

use std::future::Future;
use std::pin::Pin;

pub use policy::{Key, Quotas, Tier};

/// The outcome of one check, with what the response headers report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the request may proceed.
    pub allowed: bool,
    /// Requests per period of the tier (`X-RateLimit-Limit`).
    pub limit: u32,
    /// Requests left right now (`X-RateLimit-Remaining`).
    pub remaining: u32,
    /// Unix time (seconds) when the budget is full again (`X-RateLimit-Reset`).
    pub reset_at: i64,
    /// Seconds to wait before retrying when refused (`Retry-After`, at least 1).
    pub retry_after: u64,
}

/// A boxed future of a decision (keeps [`Limiter`] object-safe).
pub type DecisionFuture<'a> = Pin<Box<dyn Future<Output = Decision> + Send + 'a>>;

/// A rate-limit backend.
pub trait Limiter: Send + Sync + std::fmt::Debug {
    /// Counts one request under `key` and answers whether it may proceed.
    fn check<'a>(&'a self, key: &'a Key) -> DecisionFuture<'a>;
}

/// GCRA arithmetic shared by the backends, in milliseconds.
pub mod gcra {
    /// The state after a check: the new theoretical arrival time and the decision parts.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Outcome {
        /// Allowed.
        pub allowed: bool,
        /// Theoretical arrival time to store (unchanged when refused).
        pub tat: i64,
        /// Requests left.
        pub remaining: u32,
        /// When the budget is full again (ms).
        pub reset_at: i64,
        /// When a refused request may retry (ms from now).
        pub retry_after: i64,
    }

    /// One GCRA step: `limit` requests per `period_ms`, burst of `limit`.
    pub fn step(tat: Option<i64>, now: i64, limit: u32, period_ms: i64) -> Outcome {
        let limit = i64::from(limit.max(1));
        let interval = (period_ms / limit).max(1);
        let tat = tat.unwrap_or(now).max(now);
        let new_tat = tat + interval;
        let window = interval * limit;
        if new_tat - now > window {
            let remaining = 0;
            return Outcome {
                allowed: false,
                tat,
                remaining,
                reset_at: tat,
                retry_after: new_tat - now - window,
            };
        }
        let remaining = ((window - (new_tat - now)) / interval) as u32;
        Outcome { allowed: true, tat: new_tat, remaining, reset_at: new_tat, retry_after: 0 }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn sixty_per_minute() {
            let mut tat = None;
            for i in 0..60 {
                let o = step(tat, 0, 60, 60_000);
                assert!(o.allowed, "request {i}");
                assert_eq!(o.remaining, 59 - i);
                tat = Some(o.tat);
            }
            let refused = step(tat, 0, 60, 60_000);
            assert!(!refused.allowed);
            assert_eq!(refused.retry_after, 1_000);
            // One interval later, one more request fits.
            assert!(step(tat, 1_000, 60, 60_000).allowed);
            assert!(!step(tat, 999, 60, 60_000).allowed);
            // A full period later, the whole budget is back.
            assert_eq!(step(tat, 60_000, 60, 60_000).remaining, 59);
        }
    }
}
