//! Outages and slow clients: a database that stops answering or restarts, and a request
//! body that stops arriving. Every case answers in time with the contract's envelope and
//! recovers by itself.

use std::time::{Duration, Instant};

use ap_store::testing::TestDatabase;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::both_backends;
use crate::gate::TcpGate;
use crate::support::{BODY_TIMEOUT, Listing, TestApp};

/// The work deadline of the server behind the gate.
const DEADLINE: Duration = Duration::from_secs(1);

/// A bound far above every deadline in play: it only tells "answered" from "hung".
const HUNG: Duration = Duration::from_secs(30);

/// A TCP proxy between the server and PostgreSQL starts swallowing every packet: requests
/// that need the database answer 503 by the deadline instead of hanging; when packets
/// flow again, the same requests answer 200 without a restart.
#[actix_web::test]
async fn a_database_that_stops_answering_gets_503s_at_the_deadline_then_recovers() {
    let Some(origin) = TestDatabase::postgres() else { return };
    let gate = TcpGate::start(&origin.server_address().expect("server address"));
    let handle = origin.attach_through(&gate.address, DEADLINE).expect("PostgreSQL");
    let app = TestApp::on(handle, origin);
    let seller = app.seller("Gate Keeper").await;
    app.listing(&seller, Listing::skill("kept-skill", "Kept skill")).await;
    assert_eq!(app.get("/ready").await.status, 200);

    gate.swallow();
    for path in ["/ready", "/v1/skills/kept-skill"] {
        let started = Instant::now();
        let res = app.get(path).await;
        res.assert_coded(503, "SERVICE_UNAVAILABLE");
        assert!(started.elapsed() < HUNG, "{path} hung for {:?}", started.elapsed());
    }
    assert_eq!(app.get("/health").await.status, 200, "liveness does not need the database");

    gate.forward();
    let ready = app.get("/ready").await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    let detail = app.get("/v1/skills/kept-skill").await;
    assert_eq!(detail.status, 200, "{}", detail.text);
    assert_eq!(detail.json["slug"], "kept-skill");
}

/// PostgreSQL goes away and comes back (every connection dropped, none allowed, then
/// allowed again): writes and CLI-token sign-ins answer 503 meanwhile — never 401, never
/// a remembered refusal — and work again at once afterwards.
#[actix_web::test]
async fn a_restarted_database_serves_writes_and_cli_tokens_again() {
    let Some(app) = TestApp::postgres().await else { return };
    let token = app.publisher_token("restart", "Restart Tester").await;
    let rename = |name: &str| {
        app.client
            .patch(format!("{}/v1/users/profile", app.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "display_name": name }))
    };

    assert!(app.cut_off_database());
    // The token was just seen (its lookup is cached): the write itself needs the database.
    app.send(rename("Down Tester")).await.assert_coded(503, "SERVICE_UNAVAILABLE");
    // Past the token cache, signing in needs the database too.
    app.clock.advance(chrono::Duration::seconds(60));
    app.get_as("/v1/auth/me", &token).await.assert_coded(503, "SERVICE_UNAVAILABLE");

    assert!(app.restore_database());
    let me = app.get_as("/v1/auth/me", &token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    let renamed = app.send(rename("Back Tester")).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.json["display_name_slug"], "back-tester");
}

both_backends!(a_stalled_upload_is_cut_off_and_leaves_no_staging_file);

/// An upload whose body stops arriving is answered 408 once the body deadline passes,
/// and its half-written staging file is gone.
async fn a_stalled_upload_is_cut_off_and_leaves_no_staging_file(app: TestApp) {
    let address = app.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let boundary = "stall-boundary";
    let part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"package\"; \
         filename=\"package.zip\"\r\nContent-Type: application/zip\r\n\r\n"
    );
    let head = format!(
        "POST /v1/security/scan-package HTTP/1.1\r\nHost: {address}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: 1000000\r\n\r\n{part}"
    );
    stream.write_all(head.as_bytes()).await.expect("send the head");
    stream.write_all(&[b'P'; 64 * 1024]).await.expect("send some of the file");
    stream.flush().await.expect("flush");
    // Then nothing more: the server must answer on its own.
    let started = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buffer).await.expect("read the answer");
        assert!(n > 0, "closed without an answer: {}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buffer[..n]);
    }
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(elapsed < HUNG, "answered after {elapsed:?}");
    assert!(elapsed + Duration::from_millis(100) >= BODY_TIMEOUT, "cut off early: {elapsed:?}");
    let left: Vec<_> = std::fs::read_dir(app.staging_dir())
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "staging files left behind: {left:?}");
}

/// A multipart body that ends right after a part's data, before the next boundary, once
/// left the multipart reader waiting forever for bytes that could not come (found by the
/// `multipart` fuzz target): it is refused as malformed at once.
#[actix_web::test]
async fn a_body_cut_after_a_part_is_refused_not_hung() {
    let app = TestApp::sqlite().await;
    let body = "--cut\r\nContent-Disposition: form-data; name=\"package\"; \
                filename=\"p.zip\"\r\nContent-Type: application/zip\r\n\r\nPK\r\n";
    let request = app
        .client
        .post(format!("{}/v1/security/scan-package", app.base))
        .header("content-type", "multipart/form-data; boundary=cut")
        .body(body);
    let res = tokio::time::timeout(HUNG, app.send(request)).await.expect("an answer, not a hang");
    res.assert_coded(400, "BAD_REQUEST");
}
