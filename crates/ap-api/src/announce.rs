//! Announcements between instances over Redis pub/sub.
//!
//! After this instance changes something other instances cache (a CLI token minted or
//! revoked, a listing published, changed or unpublished, an account suspended — any
//! successful write), it publishes a wake-up on `<redis prefix>changes`. Every instance
//! listening follows the catalog's change log and the revocation list at once, instead
//! of at its next tick, and drops the affected cache entries. A message carries only the
//! sender's id: the database stays the truth, so a message lost while Redis is away
//! costs nothing but latency (the periodic follow still runs), and a listener that
//! reconnects follows once in case it missed something.
//!
//! Publishing never waits in a request: [`Announcements::changed`] queues one wake-up
//! (coalescing bursts) for a background task.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{Notify, mpsc, watch};

/// How long a publish or a (re)connection may take before it is given up.
const REDIS_WAIT: Duration = Duration::from_secs(1);
/// Pause between attempts to listen again after Redis went away.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// This instance's side of the announcements.
#[derive(Clone)]
pub struct Announcements {
    shared: Arc<Shared>,
}

struct Shared {
    /// Redis URL and channel; `None` = this instance announces nothing and hears nothing.
    redis: Option<(String, String)>,
    /// Tells this instance's follower to follow now.
    wake: Notify,
    /// Wake-ups waiting to be published (one at most: they coalesce).
    outgoing: mpsc::Sender<()>,
    queued: Mutex<Option<mpsc::Receiver<()>>>,
    /// Follow rounds done, for whoever waits for the next one.
    rounds: watch::Sender<u64>,
    /// Identifies this instance's messages, so it does not wake for its own.
    me: String,
}

impl std::fmt::Debug for Announcements {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let channel = self.shared.redis.as_ref().map(|(_, channel)| channel.as_str());
        f.debug_struct("Announcements").field("channel", &channel).finish_non_exhaustive()
    }
}

impl Announcements {
    fn with(redis: Option<(String, String)>) -> Self {
        let (outgoing, queued) = mpsc::channel(1);
        Announcements {
            shared: Arc::new(Shared {
                redis,
                wake: Notify::new(),
                outgoing,
                queued: Mutex::new(Some(queued)),
                rounds: watch::channel(0).0,
                me: uuid::Uuid::new_v4().simple().to_string(),
            }),
        }
    }

    /// None: a single instance (or one that relies on its periodic follow alone).
    pub fn off() -> Self {
        Self::with(None)
    }

    /// Over the Redis at `url`, on channel `<prefix>changes`.
    pub fn redis(url: &str, prefix: &str) -> Self {
        Self::with(Some((url.to_owned(), format!("{prefix}changes"))))
    }

    /// Tells the other instances that something changed (queued; never waits).
    pub fn changed(&self) {
        if self.shared.redis.is_some() {
            // Full = a wake-up is already queued, which covers this change too.
            let _ = self.shared.outgoing.try_send(());
        }
    }

    /// Resolves when another instance announces a change (at once if one came since
    /// the last call).
    pub async fn heard(&self) {
        self.shared.wake.notified().await;
    }

    /// Records that a follow round finished.
    pub fn round_done(&self) {
        self.shared.rounds.send_modify(|n| *n += 1);
    }

    /// Follow rounds as they finish (tests wait on it instead of sleeping).
    pub fn rounds(&self) -> watch::Receiver<u64> {
        self.shared.rounds.subscribe()
    }

    /// Starts publishing and listening on the current runtime (once; later calls and
    /// `off` do nothing).
    pub fn start(&self) {
        let Some((url, channel)) = self.shared.redis.clone() else { return };
        let Some(queued) = self.shared.queued.lock().ok().and_then(|mut q| q.take()) else {
            return;
        };
        let client = match redis::Client::open(url.as_str()) {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "announcements off: the Redis URL is not usable");
                return;
            }
        };
        actix_web::rt::spawn(publish(
            client.clone(),
            channel.clone(),
            self.shared.me.clone(),
            queued,
        ));
        actix_web::rt::spawn(listen(client, channel, Arc::clone(&self.shared)));
    }
}

/// Publishes each queued wake-up, reconnecting as needed (a connection found broken is
/// replaced and the wake-up sent again once); one that still cannot be published is
/// dropped, and the others' periodic follow covers it.
async fn publish(
    client: redis::Client,
    channel: String,
    me: String,
    mut queued: mpsc::Receiver<()>,
) {
    let mut connection = None;
    while queued.recv().await.is_some() {
        for _ in 0..2 {
            if connection.is_none() {
                let connecting = client.get_multiplexed_async_connection();
                connection =
                    tokio::time::timeout(REDIS_WAIT, connecting).await.ok().and_then(Result::ok);
            }
            let Some(open) = connection.as_mut() else { break };
            let mut command = redis::cmd("PUBLISH");
            command.arg(&channel).arg(&me);
            let sent = command.query_async::<i64>(open);
            if matches!(tokio::time::timeout(REDIS_WAIT, sent).await, Ok(Ok(_))) {
                break;
            }
            connection = None;
        }
    }
}

/// Listens for the others' wake-ups for as long as the runtime lives, reconnecting
/// every [`RECONNECT_EVERY`] while Redis is away.
async fn listen(client: redis::Client, channel: String, shared: Arc<Shared>) {
    let mut was_listening = true;
    loop {
        let subscribed = tokio::time::timeout(REDIS_WAIT, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            redis::RedisResult::Ok(pubsub)
        })
        .await;
        match subscribed {
            Ok(Ok(pubsub)) => {
                if !was_listening {
                    tracing::info!("listening for announcements again");
                }
                was_listening = true;
                // Whatever was announced while this instance was not listening.
                shared.wake.notify_one();
                let mut messages = pubsub.into_on_message();
                while let Some(message) = messages.next().await {
                    if message.get_payload::<String>().is_ok_and(|sender| sender != shared.me) {
                        shared.wake.notify_one();
                    }
                }
                tracing::warn!("lost the announcements channel; reconnecting");
            }
            Ok(Err(error)) if was_listening => {
                was_listening = false;
                tracing::warn!(%error, "cannot listen for announcements; retrying every second");
            }
            Err(_) if was_listening => {
                was_listening = false;
                tracing::warn!("Redis does not answer; announcements retried every second");
            }
            _ => {}
        }
        tokio::time::sleep(RECONNECT_EVERY).await;
    }
}
