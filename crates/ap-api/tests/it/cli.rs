//! The built `ap` binary against the real server: `login` through the loopback callback
//! (a script given as `$BROWSER` stands in for the browser, and `--no-browser` prints the
//! address for a person to open), the token kept in `~/.agentpowers/auth.json` as the
//! Python tool keeps it, `whoami`, `logout` revoking it, `search` and `detail`, each as
//! text and as JSON, and refusals as exit codes with a message.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use ap_domain::code::Code;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{Listing, TestApp};

/// Stands in for a browser: opens the sign-in address, fills in the development sign-in
/// form and follows the redirects to the CLI's loopback listener.
const BROWSER: &str = r#"#!/usr/bin/env python3
import html, http.cookiejar, re, sys, urllib.parse, urllib.request
url = sys.argv[1]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
page = opener.open(url).read().decode()
def field(name):
    return html.unescape(re.search(r'name="%s" value="([^"]*)"' % name, page).group(1))
form = {"email": "cli@example.com", "display_name": "Cli User", "csrf": field("csrf"),
        "redirect_url": field("redirect_url"), "state": field("state")}
opener.open(url.split("/sign-in")[0] + "/sign-in", urllib.parse.urlencode(form).encode()).read()
"#;

/// The `ap` binary of this build (built with the workspace, beside this test binary).
fn ap_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary");
    let dir = exe.parent().and_then(Path::parent).expect("target folder");
    let ap = dir.join("ap");
    assert!(
        ap.exists(),
        "{} is missing: build the workspace (cargo build -p ap-cli)",
        ap.display()
    );
    ap
}

/// A home folder for the CLI and the fake browser in it.
struct Home {
    dir: tempfile::TempDir,
    browser: PathBuf,
}

impl Home {
    fn new() -> Home {
        let dir = tempfile::tempdir().expect("home");
        let browser = dir.path().join("browser");
        std::fs::write(&browser, BROWSER).expect("browser script");
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Home { dir, browser }
    }

    fn auth_file(&self) -> PathBuf {
        self.dir.path().join(".agentpowers/auth.json")
    }

    fn stored_token(&self) -> String {
        let stored: Value =
            serde_json::from_str(&std::fs::read_to_string(self.auth_file()).expect("auth.json"))
                .expect("JSON");
        stored["token"].as_str().expect("token").to_owned()
    }

    fn command(&self, app: &TestApp, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(ap_binary());
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AGENTPOWERS_API_URL", &app.base)
            .env("BROWSER", &self.browser)
            .env("COLUMNS", "120")
            .kill_on_drop(true);
        command
    }

    /// Runs `ap args`: exit code, standard output, standard error.
    async fn run(&self, app: &TestApp, args: &[&str]) -> (i32, String, String) {
        let out = self.command(app, args).output().await.expect("ap runs");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    }
}

#[actix_web::test]
async fn ap_logs_in_through_the_browser_and_out_again() {
    let app = TestApp::sqlite().await;
    let home = Home::new();

    let (code, out, err) = home.run(&app, &["login"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Logged in successfully!"), "{out}");
    assert!(
        err.contains(&format!("{}/sign-in?redirect_url={}/auth/cli-callback", app.base, app.base))
    );
    let mode = std::fs::metadata(home.auth_file()).expect("auth.json").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "only its owner reads the token");
    let token = home.stored_token();
    assert!(token.starts_with(ap_auth::cli_token::PREFIX), "a CLI token, not the session");

    let (code, out, _) = home.run(&app, &["whoami"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("Email:  cli@example.com") && out.contains("Name:   Cli User"), "{out}");
    let (_, out, _) = home.run(&app, &["whoami", "--json"]).await;
    let me: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(me["email"], "cli@example.com");

    let (code, out, _) = home.run(&app, &["logout"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("Logged out."));
    assert!(!home.auth_file().exists(), "forgotten here");
    let revoked = ap_client::Client::builder(&app.base).token(&token).build().expect("client");
    let refused = revoked.me().await.expect_err("revoked on the server");
    assert_eq!(refused.code(), Some(Code::Unauthorized));
    let (code, _, err) = home.run(&app, &["whoami"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("Not logged in"), "{err}");

    // Without a browser: the address is printed, and opening it anywhere signs in.
    let mut child = home
        .command(&app, &["login", "--no-browser"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ap login");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut address = None;
    while let Some(line) = lines.next_line().await.expect("stderr line") {
        if line.trim_start().starts_with("http") {
            address = Some(line.trim().to_owned());
            break;
        }
    }
    let address = address.expect("the printed address");
    let opened = tokio::process::Command::new(&home.browser).arg(&address).status().await;
    assert!(opened.expect("the stand-in browser").success());
    let status = child.wait().await.expect("ap login ends");
    assert!(status.success());
    assert_ne!(home.stored_token(), token, "a new token");
}

#[actix_web::test]
async fn ap_searches_and_shows_details() {
    let app = TestApp::sqlite().await;
    let seller = app.seller("Page Makers").await;
    for (slug, title, downloads) in
        [("commit-craft", "Commit Craft", 50), ("review-buddy", "Review Buddy", 20)]
    {
        app.listing(&seller, Listing { downloads, ..Listing::skill(slug, title) }).await;
    }
    let home = Home::new();

    let (code, out, err) = home.run(&app, &["search", "revie"]).await;
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("SLUG") && lines[0].contains("TITLE"), "{out}");
    assert!(lines[1].starts_with("review-buddy") && lines[1].ends_with("Review Buddy"), "{out}");
    let (_, out, _) = home.run(&app, &["search", "commit", "craft", "--json"]).await;
    let found: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(found[0]["slug"], "commit-craft");
    let (_, out, _) = home.run(&app, &["search", "review", "--type", "agent"]).await;
    assert_eq!(out, "No results.\n");

    let (code, out, _) = home.run(&app, &["detail", "commit-craft", "--scan"]).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("Commit Craft\n"), "{out}");
    assert!(out.contains("Author     Page Makers"), "{out}");
    assert!(out.contains("Install    ap install commit-craft"), "{out}");
    assert!(out.contains("Security scan: warn · score 8/10"), "{out}");
    assert!(out.contains("LOW      Long line (SKILL.md:3)"), "{out}");
    let (_, out, _) = home.run(&app, &["detail", "commit-craft", "--json"]).await;
    let detail: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(detail["slug"], "commit-craft");

    let (code, _, err) = home.run(&app, &["detail", "no-such-skill"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("(SKILL_NOT_FOUND)"), "{err}");
    let (code, _, err) = home.run(&app, &["search"]).await;
    assert_eq!(code, 2, "a usage error");
    assert!(err.contains("Usage"), "{err}");
}
