//! The browser login chain: sign-in form → bridge → the CLI's loopback listener →
//! `POST /v1/auth/cli-token`; the bridge's refusals; and logs free of secrets.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

use crate::both_backends;
use crate::support::TestApp;

/// Log output captured by this test process.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    let _ = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .try_init();
    captured
}

/// The CLI's loopback listener: answers the target of the first request for `/callback`
/// (a browser may open a connection it sends nothing on, or ask for other paths).
pub(crate) fn loopback_listener() -> (u16, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    let handle = std::thread::spawn(move || {
        loop {
            let (mut stream, _) = listener.accept().expect("accept");
            // A connection that never asks anything must not hold the listener.
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut buf = [0u8; 8192];
            let n = stream.read(&mut buf).unwrap_or(0);
            let request = String::from_utf8_lossy(&buf[..n]).to_string();
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            let target = request.lines().next().unwrap_or("").split(' ').nth(1).unwrap_or("");
            if target.starts_with("/callback") {
                return target.to_owned();
            }
        }
    });
    (port, handle)
}

fn cookie(res: &crate::support::Response, name: &str) -> Option<String> {
    res.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).map(|i| i + marker.len()).expect("hidden field");
    html[start..].split('"').next().unwrap_or("").replace("&amp;", "&")
}

async fn the_login_chain_yields_a_working_cli_token(app: TestApp) {
    let logs = capture_logs();
    let (port, listener) = loopback_listener();
    let state = "st4te-Xyz_123";
    // Exactly as the CLI builds it: plain concatenation, nothing URL-encoded.
    let url = format!(
        "{base}/sign-in?redirect_url={base}/auth/cli-callback?redirect_to=http://127.0.0.1:{port}/callback&state={state}",
        base = app.base
    );
    let form = app.send(app.client.get(&url)).await;
    assert_eq!(form.status, 200, "{}", form.text);
    assert!(form.header("content-type").is_some_and(|ct| ct.starts_with("text/html")));
    assert!(form.text.contains("<form"));
    let csrf_cookie = cookie(&form, "ap_csrf").expect("CSRF cookie");
    let csrf = hidden_field(&form.text, "csrf");
    assert_eq!(hidden_field(&form.text, "state"), state);
    let redirect_url = hidden_field(&form.text, "redirect_url");
    assert_eq!(
        redirect_url,
        format!("{}/auth/cli-callback?redirect_to=http://127.0.0.1:{port}/callback", app.base)
    );

    let fields = [
        ("email", "Pat@Example.com"),
        ("display_name", "Pat Publisher"),
        ("csrf", csrf.as_str()),
        ("redirect_url", redirect_url.as_str()),
        ("state", state),
    ];
    // Without the CSRF cookie the form is refused.
    let forged = app.send(app.client.post(format!("{}/sign-in", app.base)).form(&fields)).await;
    assert_eq!(forged.status, 400);
    assert!(cookie(&forged, "__session").is_none());

    let signed_in = app
        .send(
            app.client
                .post(format!("{}/sign-in", app.base))
                .header("Cookie", &csrf_cookie)
                .form(&fields),
        )
        .await;
    assert_eq!(signed_in.status, 303, "{}", signed_in.text);
    let session_cookie = cookie(&signed_in, "__session").expect("session cookie");
    let bridge = signed_in.header("location").expect("location").to_owned();
    assert_eq!(bridge, format!("{redirect_url}&state={state}"));

    let bridged = app.send(app.client.get(&bridge).header("Cookie", &session_cookie)).await;
    assert_eq!(bridged.status, 303, "{}", bridged.text);
    let callback = bridged.header("location").expect("location").to_owned();
    assert!(
        callback.starts_with(&format!("http://127.0.0.1:{port}/callback?token=")),
        "{callback}"
    );
    // The browser follows the redirect to the CLI's listener.
    reqwest::get(&callback).await.expect("callback request");
    let target = listener.join().expect("listener");
    let received = url::Url::parse(&format!("http://127.0.0.1{target}")).expect("target");
    let params: std::collections::HashMap<_, _> = received.query_pairs().into_owned().collect();
    assert_eq!(params.get("state").map(String::as_str), Some(state));
    let jwt = params.get("token").expect("token").clone();

    let minted = app.post_as("/v1/auth/cli-token", &jwt).await;
    assert_eq!(minted.status, 201, "{}", minted.text);
    assert_eq!(minted.json["token_type"], "bearer");
    let token = minted.json["token"].as_str().expect("token").to_owned();
    let me = app.get_as("/v1/auth/me", &token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json["email"], "pat@example.com");
    assert_eq!(me.json["display_name"], "Pat Publisher");
    assert_eq!(me.json["display_name_slug"], "pat-publisher");
    assert_eq!(me.json["is_seller"], false);

    // Signing in again finds the same user.
    let again = app.send(app.client.get(&url)).await;
    let fields2 = [
        ("email", "pat@example.com"),
        ("display_name", "Someone Else"),
        ("csrf", &hidden_field(&again.text, "csrf")),
        ("redirect_url", redirect_url.as_str()),
        ("state", state),
    ];
    let again = app
        .send(
            app.client
                .post(format!("{}/sign-in", app.base))
                .header("Cookie", cookie(&again, "ap_csrf").expect("csrf"))
                .form(&fields2),
        )
        .await;
    assert_eq!(again.status, 303);

    let captured = String::from_utf8_lossy(&logs.0.lock().expect("logs")).to_string();
    assert!(captured.contains("request"), "logs were captured");
    for secret in [token.as_str(), jwt.as_str(), &session_cookie, &csrf] {
        assert!(!captured.contains(secret), "a secret reached the logs");
    }
}

async fn the_bridge_refuses_foreign_targets(app: TestApp) {
    let session = app.dev_jwt("quinn");
    let bridge = |query: String| {
        app.send(
            app.client
                .get(format!("{}/auth/cli-callback?{query}", app.base))
                .header("Cookie", format!("__session={session}")),
        )
    };
    for target in [
        "https://evil.example/callback",
        "http://127.0.0.1.evil.example/callback",
        "http://user@evil/callback",
        "javascript:alert(1)",
        "http://127.0.0.1:9/elsewhere",
        "http%3A%2F%2F127.0.0.1%3A9%2Fcallback%23frag",
    ] {
        let res = bridge(format!("redirect_to={target}&state=s1")).await;
        assert_eq!(res.status, 400, "{target}");
        assert!(res.header("location").is_none(), "{target}");
        assert!(res.header("content-type").is_some_and(|ct| ct.starts_with("text/html")));
    }
    for query in [
        "redirect_to=http://127.0.0.1:9/callback",
        "redirect_to=http://127.0.0.1:9/callback&state=",
    ] {
        let res = bridge(query.to_owned()).await;
        assert_eq!(res.status, 400, "missing state: {query}");
    }
    // Not signed in: sent to sign in first, keeping the target and state.
    let res = app.get("/auth/cli-callback?redirect_to=http://localhost:9/callback&state=s2").await;
    assert_eq!(res.status, 303);
    let location = res.header("location").expect("location");
    assert!(location.starts_with(&format!("{}/sign-in?redirect_url=", app.base)), "{location}");
    assert!(location.ends_with("&state=s2"), "{location}");
    // A valid target with a session goes through.
    let ok = bridge("redirect_to=http://[::1]:9/callback&state=s3".to_owned()).await;
    assert_eq!(ok.status, 303);
    assert!(ok.header("location").is_some_and(|l| l.starts_with("http://[::1]:9/callback?token=")));
}

both_backends!(the_login_chain_yields_a_working_cli_token, the_bridge_refuses_foreign_targets);
