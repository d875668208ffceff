//! The in-memory backend: keyed GCRA limiters from the `governor` crate, one per tier,
//! measuring time with the injected clock. Budgets are per server instance.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use ap_domain::clock::Clock;
use governor::clock::Clock as GovernorClock;
use governor::middleware::StateInformationMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::policy::{Key, Quotas, Tier};
use crate::{Decision, DecisionFuture, Limiter};

/// Checks between two sweeps of idle keys (keeps memory bounded under many clients).
const SWEEP_EVERY: u64 = 10_000;

/// The injected clock as governor sees it: nanoseconds since the Unix epoch.
#[derive(Debug, Clone)]
struct ClockAdapter(Arc<dyn Clock>);

impl GovernorClock for ClockAdapter {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let nanos = self.0.now().timestamp_nanos_opt().unwrap_or(0).max(0);
        Nanos::from(nanos as u64)
    }
}

type Keyed =
    RateLimiter<String, DashMapStateStore<String>, ClockAdapter, StateInformationMiddleware>;

/// Per-instance limits.
#[derive(Debug)]
pub struct MemoryLimiter {
    quotas: Quotas,
    clock: ClockAdapter,
    public_read: Keyed,
    authenticated_read: Keyed,
    write: Keyed,
    token_lookup: Keyed,
    files: Keyed,
    admin: Keyed,
    checks: AtomicU64,
}

fn keyed(limit: u32, period: std::time::Duration, clock: &ClockAdapter) -> Keyed {
    let burst = NonZeroU32::new(limit.max(1)).unwrap_or(NonZeroU32::MIN);
    let interval = period / burst.get();
    let quota = Quota::with_period(interval.max(std::time::Duration::from_nanos(1)))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst);
    RateLimiter::dashmap_with_clock(quota, clock.clone())
        .with_middleware::<StateInformationMiddleware>()
}

impl MemoryLimiter {
    /// Limits with `quotas`, measured by `clock`.
    pub fn new(quotas: Quotas, clock: Arc<dyn Clock>) -> Self {
        let clock = ClockAdapter(clock);
        Self {
            public_read: keyed(quotas.public_read, quotas.period, &clock),
            authenticated_read: keyed(quotas.authenticated_read, quotas.period, &clock),
            write: keyed(quotas.write, quotas.period, &clock),
            token_lookup: keyed(quotas.token_lookup, quotas.period, &clock),
            files: keyed(quotas.files, quotas.period, &clock),
            admin: keyed(quotas.admin, quotas.period, &clock),
            quotas,
            clock,
            checks: AtomicU64::new(0),
        }
    }

    /// One check, synchronously.
    pub fn decide(&self, key: &Key) -> Decision {
        let limiter = match key.tier {
            Tier::PublicRead => &self.public_read,
            Tier::AuthenticatedRead => &self.authenticated_read,
            Tier::Write => &self.write,
            Tier::TokenLookup => &self.token_lookup,
            Tier::Files => &self.files,
            Tier::Admin => &self.admin,
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
        }
        let limit = self.quotas.limit(key.tier);
        let interval_ns = (self.quotas.period.as_nanos() / u128::from(limit)).max(1) as u64;
        let now = self.clock.now();
        let now_secs = (now.as_u64() / 1_000_000_000) as i64;
        match limiter.check_key(&key.subject) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let until_full_ns = u64::from(limit - remaining.min(limit)) * interval_ns;
                Decision {
                    allowed: true,
                    limit,
                    remaining,
                    reset_at: now_secs + until_full_ns.div_ceil(1_000_000_000) as i64,
                    retry_after: 0,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(now);
                let full_ns = u64::from(limit) * interval_ns;
                Decision {
                    allowed: false,
                    limit,
                    remaining: 0,
                    reset_at: now_secs + full_ns.div_ceil(1_000_000_000) as i64,
                    retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
                }
            }
        }
    }
}

impl Limiter for MemoryLimiter {
    fn check<'a>(&'a self, key: &'a Key) -> DecisionFuture<'a> {
        let decision = self.decide(key);
        Box::pin(async move { decision })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ap_domain::clock::ManualClock;

    #[test]
    fn counts_down_refuses_and_refills() {
        let clock = ManualClock::new(chrono::Utc::now());
        let limiter = MemoryLimiter::new(Quotas::default(), Arc::new(clock.clone()));
        let key = Key::new(crate::Tier::PublicRead, None, "1.2.3.4".parse().expect("ip"));
        for expected in (0..60).rev() {
            let d = limiter.decide(&key);
            assert!(d.allowed);
            assert_eq!((d.limit, d.remaining), (60, expected));
        }
        let refused = limiter.decide(&key);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, 1);
        clock.advance(chrono::Duration::seconds(1));
        assert!(limiter.decide(&key).allowed);
        assert!(!limiter.decide(&key).allowed);
        clock.advance(chrono::Duration::seconds(60));
        assert_eq!(limiter.decide(&key).remaining, 59);
    }
}
