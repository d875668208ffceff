//! `ap login`: the browser sign-in the Python `ap` does, through the same pages: open
//! `<sign-in>/sign-in?redirect_url=<site>/auth/cli-callback?redirect_to=<loopback>&state=`,
//! receive the session on `http://127.0.0.1:<port>/callback`, exchange it for a CLI token.

use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How long the sign-in may take.
const WAIT: Duration = Duration::from_secs(180);

const DONE_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
    <title>Signed in</title></head><body><h1>Signed in to AgentPowers</h1>\
    <p>You can close this tab and return to the terminal.</p></body></html>";
const FAILED_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
    <title>Sign-in failed</title></head><body><h1>Sign-in failed</h1>\
    <p>Run ap login again.</p></body></html>";

/// Where the sign-in page and the bridge are: as the Python tool reads them
/// (`CLERK_FRONTEND_URL`, `AGENTPOWERS_SITE_URL`); when unset, the API's own server when
/// `AGENTPOWERS_API_URL` names a server outside `agentpowers.ai` (a self-hosted server
/// serves both), else the hosted product's.
fn pages(api: &str) -> (String, String) {
    // A server named in AGENTPOWERS_API_URL that is not the hosted product's serves the
    // pages itself.
    let hosted = url::Url::parse(api)
        .ok()
        .and_then(|u| u.host_str().map(|h| h == "agentpowers.ai" || h.ends_with(".agentpowers.ai")))
        .unwrap_or(true);
    let self_hosted = std::env::var(ap_client::API_URL_ENV).is_ok() && !hosted;
    let or = |name: &str, hosted: &str| {
        std::env::var(name)
            .unwrap_or_else(|_| if self_hosted { api.to_owned() } else { hosted.to_owned() })
    };
    let sign_in = or("CLERK_FRONTEND_URL", "https://accounts.agentpowers.ai");
    let site = or("AGENTPOWERS_SITE_URL", "https://agentpowers.ai");
    (sign_in.trim_end_matches('/').to_owned(), site.trim_end_matches('/').to_owned())
}

/// Signs in through the browser (or, with `no_browser`, by printing the address),
/// exchanges the session for a CLI token and stores it in `auth.json`.
pub async fn sign_in(client: &ap_client::Client, no_browser: bool) -> anyhow::Result<()> {
    let session = session(client.base_url().as_str().trim_end_matches('/'), no_browser).await?;
    let minted = client.with_token(session).mint_cli_token().await?;
    crate::state::save_token(&minted.token)
}

/// Revokes the stored token on the server when it can (saying why not on standard
/// error) and forgets it here in any case.
pub async fn sign_out(client: &ap_client::Client) -> anyhow::Result<()> {
    if let Some(token) = crate::state::token()?
        && let Err(error) = client.with_token(token).revoke_cli_token().await
    {
        eprintln!(
            "The server did not revoke the token: {}",
            crate::commands::explain(&error.into())
        );
    }
    crate::state::delete_token()
}

/// Signs in through the browser (or, with `no_browser`, by printing the address) and
/// answers the session token the bridge handed over.
async fn session(api: &str, no_browser: bool) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.context("listening for the sign-in")?;
    let port = listener.local_addr()?.port();
    let state: String = {
        use rand::Rng;
        let mut rng = rand::rng();
        (0..43).map(|_| rng.sample(rand::distr::Alphanumeric) as char).collect()
    };
    let (sign_in, site) = pages(api);
    // Built as the Python tool builds it (nothing encoded): the servers read it so.
    let address = format!(
        "{sign_in}/sign-in?redirect_url={site}/auth/cli-callback?redirect_to=http://127.0.0.1:{port}/callback&state={state}"
    );
    eprintln!("Sign in at:\n  {address}");
    if !no_browser {
        open(&address);
    }
    eprintln!("Waiting for the sign-in (listening on port {port})...");
    tokio::time::timeout(WAIT, callback(&listener, &state))
        .await
        .context("the sign-in did not finish in time; run ap login again")?
}

/// Opens `address` with `$BROWSER` (a command, possibly with arguments, where `%s` stands
/// for the address, else the address comes last), else the desktop's opener; a failure
/// only means the person opens the printed address themselves.
pub fn open(address: &str) {
    let browser = std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty());
    let default = if cfg!(target_os = "macos") { "open" } else { "xdg-open" };
    let line = browser.unwrap_or_else(|| default.to_owned());
    let mut words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    if words.iter().any(|w| w.contains("%s")) {
        words = words.iter().map(|w| w.replace("%s", address)).collect();
    } else {
        words.push(address.to_owned());
    }
    // No standard input (under `ap mcp` it is the protocol's stream), and reaped when it
    // ends so a long-running `ap mcp` leaves no zombies.
    let started = std::process::Command::new(&words[0])
        .args(&words[1..])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    match started {
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(_) => eprintln!("Could not start {}: open the address above yourself.", words[0]),
    }
}

/// Answers requests on the loopback port, each connection on a task of its own (an idle
/// connection holds nothing up), until one brings the token with our state; a callback
/// without it is refused (403) and the wait goes on.
async fn callback(listener: &TcpListener, state: &str) -> anyhow::Result<String> {
    let (found, mut tokens) = tokio::sync::mpsc::channel::<String>(1);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted?;
                tokio::spawn(answer(stream, state.to_owned(), found.clone()));
            }
            Some(token) = tokens.recv() => return Ok(token),
        }
    }
}

/// Answers one connection; passes on the token of a callback with the right state.
async fn answer(
    mut stream: tokio::net::TcpStream,
    state: String,
    found: tokio::sync::mpsc::Sender<String>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    let Ok(Ok(read)) =
        tokio::time::timeout(Duration::from_secs(30), stream.read(&mut buffer)).await
    else {
        return;
    };
    let request = String::from_utf8_lossy(&buffer[..read]);
    let target = request.lines().next().and_then(|l| l.split(' ').nth(1)).unwrap_or("");
    let url = url::Url::parse(&format!("http://127.0.0.1{target}")).ok();
    let Some(url) = url.filter(|u| u.path() == "/callback") else {
        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n").await;
        return;
    };
    let param =
        |name: &str| url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    let token = param("token").filter(|_| param("state").as_deref() == Some(state.as_str()));
    let (status, page) = match &token {
        Some(_) => ("200 OK", DONE_PAGE),
        None => ("403 Forbidden", FAILED_PAGE),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(reply.as_bytes()).await;
    if let Some(token) = token {
        let _ = found.send(token).await;
    }
}
