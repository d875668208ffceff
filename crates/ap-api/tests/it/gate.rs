//! `TcpGate`: a TCP proxy for outage tests that forwards bytes or swallows them, the way
//! a network that stops delivering packets looks to both ends (connections stay open,
//! nothing arrives). It runs on its own thread and runtime, so it keeps serving while a
//! test (or the server under test) blocks.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// One proxied connection: its two pumps, and whether it has swallowed any bytes.
struct Link {
    lost: Arc<AtomicBool>,
    pumps: [AbortHandle; 2],
}

#[derive(Default)]
struct Shared {
    swallowing: AtomicBool,
    links: Mutex<Vec<Link>>,
}

/// A proxy in front of `upstream`.
pub struct TcpGate {
    /// `127.0.0.1:<port>` to connect to instead of the upstream.
    pub address: String,
    shared: Arc<Shared>,
}

impl TcpGate {
    /// Starts forwarding from a fresh local port to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> TcpGate {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the gate");
        listener.set_nonblocking(true).expect("non-blocking");
        let address = listener.local_addr().expect("gate address").to_string();
        let shared = Arc::new(Shared::default());
        let (upstream, state) = (upstream.to_owned(), Arc::clone(&shared));
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("gate runtime");
            runtime.block_on(accept(listener, upstream, state));
        });
        TcpGate { address, shared }
    }

    /// From now on, bytes in either direction are read and dropped.
    pub fn swallow(&self) {
        self.shared.swallowing.store(true, Ordering::SeqCst);
    }

    /// Forwards again. Connections that lost bytes cannot be trusted by either end, so
    /// they are closed (as a peer's TCP stack would reset them).
    pub fn forward(&self) {
        self.shared.swallowing.store(false, Ordering::SeqCst);
        let mut links = self.shared.links.lock().expect("links");
        links.retain(|link| {
            let lost = link.lost.load(Ordering::SeqCst);
            if lost {
                link.pumps.iter().for_each(AbortHandle::abort);
            }
            !lost
        });
    }
}

async fn accept(listener: std::net::TcpListener, upstream: String, shared: Arc<Shared>) {
    let listener = TcpListener::from_std(listener).expect("gate listener");
    while let Ok((client, _)) = listener.accept().await {
        let Ok(server) = TcpStream::connect(&upstream).await else { continue };
        let lost = Arc::new(AtomicBool::new(false));
        let (client_read, client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let up =
            tokio::spawn(pump(client_read, server_write, Arc::clone(&shared), Arc::clone(&lost)));
        let down =
            tokio::spawn(pump(server_read, client_write, Arc::clone(&shared), Arc::clone(&lost)));
        let link = Link { lost, pumps: [up.abort_handle(), down.abort_handle()] };
        shared.links.lock().expect("links").push(link);
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    shared: Arc<Shared>,
    lost: Arc<AtomicBool>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if shared.swallowing.load(Ordering::SeqCst) {
            lost.store(true, Ordering::SeqCst);
            continue;
        }
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}
