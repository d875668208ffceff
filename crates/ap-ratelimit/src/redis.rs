//! The Redis backend: GCRA as one atomic Lua script per check, so every server instance
//! shares one budget per key. Keys expire on their own (`PX` = time until the budget is
//! full again).
//!
//! When Redis does not answer within the timeout, the check falls back to an in-memory
//! limiter of this instance (budgets then hold per instance until Redis is back); the
//! failure is counted and logged at most every ten seconds. Requests never hang or fail
//! because Redis is down, and after a failure they stop waiting for it at all: the
//! circuit opens, every check is answered in memory at once, and one check a second
//! (by the injected clock) asks Redis again; the first answer closes the circuit. The
//! connection manager reconnects by itself.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ap_domain::clock::Clock;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::memory::MemoryLimiter;
use crate::policy::{Key, Quotas};
use crate::{Decision, DecisionFuture, Limiter, gcra};

/// `KEYS[1]` = bucket, `ARGV` = now (ms), limit, period (ms). The same steps as
/// [`gcra::step`]. Answers `{allowed, remaining, reset_at_ms, retry_after_ms}`.
const GCRA_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local interval = math.max(math.floor(period / limit), 1)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local new_tat = tat + interval
local window = interval * limit
if new_tat - now > window then
  return {0, 0, tat, new_tat - now - window}
end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return {1, math.floor((window - (new_tat - now)) / interval), new_tat, 0}
";

/// Limits shared through Redis.
pub struct RedisLimiter {
    connection: ConnectionManager,
    script: Script,
    prefix: String,
    quotas: Quotas,
    clock: Arc<dyn Clock>,
    timeout: Duration,
    fallback: MemoryLimiter,
    failures: AtomicU64,
    attempts: AtomicU64,
    /// While the circuit is open: when (ms of the injected clock) a check may ask Redis
    /// again; 0 while it is closed.
    retry_at_ms: AtomicI64,
    last_logged: Mutex<Option<Instant>>,
}

/// How long the circuit stays open before one check asks Redis again.
pub const PROBE_INTERVAL: Duration = Duration::from_secs(1);

impl std::fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLimiter").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// Connects to `url`; keys are `<prefix><tier>:<subject>`. Each check waits at most
    /// `timeout` for Redis.
    pub async fn connect(
        url: &str,
        prefix: &str,
        quotas: Quotas,
        clock: Arc<dyn Clock>,
        timeout: Duration,
    ) -> Result<RedisLimiter, String> {
        let client = redis::Client::open(url).map_err(|e| e.to_string())?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection =
            tokio::time::timeout(timeout * 4, client.get_connection_manager_with_config(config))
                .await
                .map_err(|_| "timed out connecting to Redis".to_owned())?
                .map_err(|e| e.to_string())?;
        Ok(RedisLimiter {
            connection,
            script: Script::new(GCRA_SCRIPT),
            prefix: prefix.to_owned(),
            fallback: MemoryLimiter::new(quotas, Arc::clone(&clock)),
            quotas,
            clock,
            timeout,
            failures: AtomicU64::new(0),
            attempts: AtomicU64::new(0),
            retry_at_ms: AtomicI64::new(0),
            last_logged: Mutex::new(None),
        })
    }

    /// How many times asking Redis failed so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// How many times Redis was asked so far (none while the circuit is open, but for
    /// its probes).
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Whether this check may ask Redis: the circuit is closed, or it is open and due
    /// for a probe, which this check then takes (the others keep answering in memory).
    fn may_ask(&self, now_ms: i64) -> bool {
        let retry_at = self.retry_at_ms.load(Ordering::Acquire);
        if retry_at == 0 {
            return true;
        }
        let next = now_ms + PROBE_INTERVAL.as_millis() as i64;
        now_ms >= retry_at
            && self
                .retry_at_ms
                .compare_exchange(retry_at, next, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
    }

    async fn ask(&self, key: &Key) -> Result<Decision, String> {
        let limit = self.quotas.limit(key.tier);
        let period_ms = self.quotas.period.as_millis() as i64;
        let now_ms = self.clock.now().timestamp_millis();
        let mut connection = self.connection.clone();
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(format!("{}{}", self.prefix, key.storage_key()))
            .arg(now_ms)
            .arg(limit)
            .arg(period_ms);
        let reply: (i64, i64, i64, i64) =
            tokio::time::timeout(self.timeout, invocation.invoke_async(&mut connection))
                .await
                .map_err(|_| "Redis did not answer in time".to_owned())?
                .map_err(|e| e.to_string())?;
        let (allowed, remaining, reset_at_ms, retry_after_ms) = reply;
        let outcome = gcra::Outcome {
            allowed: allowed == 1,
            tat: reset_at_ms,
            remaining: remaining.clamp(0, i64::from(limit)) as u32,
            reset_at: reset_at_ms,
            retry_after: retry_after_ms,
        };
        Ok(decision(outcome, limit))
    }

    fn note_failure(&self, error: &str) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        let mut last = self.last_logged.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_none_or(|at| at.elapsed() >= Duration::from_secs(10)) {
            *last = Some(Instant::now());
            tracing::error!(%error, failures, "Redis rate limiter unavailable; limiting per instance");
        }
    }
}

/// The headers' view of a GCRA outcome.
pub fn decision(outcome: gcra::Outcome, limit: u32) -> Decision {
    Decision {
        allowed: outcome.allowed,
        limit,
        remaining: outcome.remaining,
        reset_at: (outcome.reset_at + 999).div_euclid(1000),
        retry_after: if outcome.allowed {
            0
        } else {
            ((outcome.retry_after + 999) / 1000).max(1) as u64
        },
    }
}

impl Limiter for RedisLimiter {
    fn check<'a>(&'a self, key: &'a Key) -> DecisionFuture<'a> {
        Box::pin(async move {
            let now_ms = self.clock.now().timestamp_millis();
            if !self.may_ask(now_ms) {
                metrics::counter!("ap_rate_limit_redis_fallbacks_total").increment(1);
                return self.fallback.decide(key);
            }
            self.attempts.fetch_add(1, Ordering::Relaxed);
            match self.ask(key).await {
                Ok(decision) => {
                    if self.retry_at_ms.swap(0, Ordering::AcqRel) != 0 {
                        tracing::info!("Redis rate limiter answers again; budgets shared again");
                    }
                    decision
                }
                Err(error) => {
                    let next = now_ms + PROBE_INTERVAL.as_millis() as i64;
                    self.retry_at_ms.store(next.max(1), Ordering::Release);
                    self.note_failure(&error);
                    metrics::counter!("ap_rate_limit_redis_fallbacks_total").increment(1);
                    self.fallback.decide(key)
                }
            }
        })
    }
}
