//! The built `ap` binary against the real server: `login` through the loopback callback
//! (a script given as `$BROWSER` stands in for the browser, and `--no-browser` prints the
//! address for a person to open), the token kept in `~/.agentpowers/auth.json` as the
//! Python tool keeps it, `whoami`, `logout` revoking it, `search` and `detail`, each as
//! text and as JSON, and refusals as exit codes with a message; a seller who onboards,
//! reads the figures of a sale, unpublishes and republishes, and edits the profile; a
//! buyer who lists purchases and reviews.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use ap_domain::code::Code;
use ap_domain::listing::ListingType;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::client::pdf_wizard;
use crate::commerce::deliver;
use crate::support::{Listing, TestApp, skill_package};

/// Stands in for a browser: opens the sign-in address, fills in the development sign-in
/// form and follows the redirects to the CLI's loopback listener; on the sandbox's
/// onboarding and checkout pages it presses the button that completes them.
const BROWSER: &str = r#"#!/usr/bin/env python3
import html, http.cookiejar, re, sys, urllib.parse, urllib.request
url = sys.argv[1]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
page = opener.open(url).read().decode()
def field(name):
    return html.unescape(re.search(r'name="%s" value="([^"]*)"' % name, page).group(1))
if "/sandbox/" in url:
    action = "/pay" if "/sandbox/checkout/" in url else "/complete"
    opener.open(url.split("?")[0] + action, urllib.parse.urlencode({"csrf": field("csrf")}).encode()).read()
    sys.exit(0)
import os
email = os.environ.get("AP_BROWSER_EMAIL", "cli@example.com")
name = os.environ.get("AP_BROWSER_NAME", "Cli User")
form = {"email": email, "display_name": name, "csrf": field("csrf"),
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

/// A home folder for the CLI and the fake browser in it, and who that browser signs in
/// as.
pub struct Home {
    pub dir: tempfile::TempDir,
    browser: PathBuf,
    person: (&'static str, &'static str),
}

impl Home {
    pub fn new() -> Home {
        Home::of("cli@example.com", "Cli User")
    }

    /// A home whose browser signs in with `email` and `name`.
    pub fn of(email: &'static str, name: &'static str) -> Home {
        let dir = tempfile::tempdir().expect("home");
        let browser = dir.path().join("browser");
        std::fs::write(&browser, BROWSER).expect("browser script");
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Home { dir, browser, person: (email, name) }
    }

    /// The working directory the tool runs in (a project without tool folders).
    pub fn work(&self) -> PathBuf {
        let work = self.dir.path().join("work");
        std::fs::create_dir_all(&work).expect("work folder");
        work
    }

    /// `pins.json`, parsed.
    pub fn pins(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.path().join(".agentpowers/pins.json"));
        serde_json::from_str(&text.expect("pins.json")).expect("JSON")
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

    pub fn command(&self, app: &TestApp, args: &[&str]) -> tokio::process::Command {
        self.command_of(&ap_binary(), app, args)
    }

    /// `program args` in this home, against `app`.
    fn command_of(&self, program: &Path, app: &TestApp, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(program);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("AGENTPOWERS_API_URL", &app.base)
            .env("BROWSER", &self.browser)
            .env("AP_BROWSER_EMAIL", self.person.0)
            .env("AP_BROWSER_NAME", self.person.1)
            .env("COLUMNS", "120")
            .current_dir(self.work())
            .kill_on_drop(true);
        command
    }

    /// Runs `ap args`: exit code, standard output, standard error.
    pub async fn run(&self, app: &TestApp, args: &[&str]) -> (i32, String, String) {
        self.run_with(app, args, "").await
    }

    /// Runs `ap args` with `input` on its standard input.
    pub async fn run_with(
        &self,
        app: &TestApp,
        args: &[&str],
        input: &str,
    ) -> (i32, String, String) {
        self.run_program(&ap_binary(), app, args, input).await
    }

    /// Runs `program args` here with `input` on its standard input: exit code, standard
    /// output, standard error.
    pub async fn run_program(
        &self,
        program: &Path,
        app: &TestApp,
        args: &[&str],
        input: &str,
    ) -> (i32, String, String) {
        use tokio::io::AsyncWriteExt;
        let mut child = self
            .command_of(program, app, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("ap runs");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).await.expect("input");
        drop(stdin);
        let out = child.wait_with_output().await.expect("ap ends");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
    }

    /// `ap login` through the stand-in browser; answers the stored CLI token.
    pub async fn logged_in(&self, app: &TestApp) -> String {
        let (code, out, err) = self.run(app, &["login"]).await;
        assert_eq!(code, 0, "{out}{err}");
        self.stored_token()
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
    // A callback that does not carry this login's state is refused, and the wait goes on.
    let listening = address.split("redirect_to=http://127.0.0.1:").nth(1);
    let port = listening.and_then(|r| r.split('/').next()).expect("the loopback port");
    let forged = reqwest::get(format!("http://127.0.0.1:{port}/callback?token=forged&state=x"))
        .await
        .expect("the listener answers");
    assert_eq!(forged.status(), 403);
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
    assert_eq!(out, "No results found.\n");
    let (code, _, err) = home.run(&app, &["detail", ".."]).await;
    assert_eq!(code, 1);
    assert!(err.contains("Invalid slug '..'"), "{err}");

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

#[actix_web::test]
async fn ap_sells_buys_and_reviews() {
    let app = TestApp::sqlite().await;
    let seller = Home::of("sam@example.com", "Sam Seller");
    let token = seller.logged_in(&app).await;

    // Onboarding: the link is printed; the fake Stripe then says the account is ready.
    let (code, out, _) = seller.run(&app, &["seller", "onboard", "--no-browser"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("Continue onboarding at:"), "{out}");
    app.fake_stripe().set_account(&app.newest_connected_account(), true, true, true);
    let (_, out, _) = seller.run(&app, &["seller", "status"]).await;
    assert!(out.contains("Payouts enabled:   yes"), "{out}");

    // Published through the client (the CLI's publish comes later), on the CLI's token.
    let as_seller = ap_client::Client::builder(&app.base).token(&token).build().expect("client");
    as_seller.create_listing(ListingType::Skill, &pdf_wizard()).await.expect("create");
    let package = skill_package("pdf-wizard", "Fill a form.");
    as_seller.upload(ListingType::Skill, "pdf-wizard", None, package).await.expect("upload");

    // The buyer pays at the fake Stripe.
    let buyer = Home::of("bea@example.com", "Bea Buyer");
    let as_buyer = ap_client::Client::builder(&app.base)
        .token(buyer.logged_in(&app).await)
        .build()
        .expect("client");
    let started = as_buyer.checkout("pdf-wizard").await.expect("checkout");
    app.fake_stripe().pay(&started.session_id);
    let paid = json!({"id": started.session_id});
    assert_eq!(deliver(&app, "evt_cli", "checkout.session.completed", paid).await.status, 200);

    let (code, out, _) = buyer.run(&app, &["purchases"]).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("pdf-wizard") && out.contains("$12.50") && out.contains("completed"));
    let (_, out, _) = buyer.run(&app, &["purchases", "--json"]).await;
    let bought: Value = serde_json::from_str(&out).expect("JSON");
    let code_text = bought[0]["license_code"].as_str().expect("license code");
    assert!(!code_text.is_empty());

    let (code, out, err) =
        buyer.run(&app, &["review", "pdf-wizard", "--rating", "5", "--text", "Great"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Review saved: 5 of 5"), "{out}");
    let (code, _, _) = buyer.run(&app, &["review", "pdf-wizard", "--rating", "9"]).await;
    assert_eq!(code, 2, "out of range is a usage error");
    let (_, out, _) = buyer.run(&app, &["reviews", "pdf-wizard"]).await;
    assert!(out.starts_with("5.0 of 5 from 1 ratings"), "{out}");
    assert!(out.contains("★★★★★ Bea Buyer (bought it)") && out.contains("  Great"), "{out}");
    let (code, _, err) = seller.run(&app, &["review", "pdf-wizard", "--rating", "5"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("(OWN_SKILL)"), "{err}");

    // The seller's figures.
    let (_, out, _) = seller.run(&app, &["seller", "earnings"]).await;
    assert!(out.contains("Sales                     1"), "{out}");
    let (_, out, _) = seller.run(&app, &["seller", "sales"]).await;
    assert!(out.contains("pdf-wizard") && out.contains("$12.50"), "{out}");
    let (_, out, _) = seller.run(&app, &["seller", "revenue", "--period", "month"]).await;
    assert!(out.contains('█') && out.contains("from 1 sales by month"), "{out}");
    let (_, out, _) = seller.run(&app, &["seller", "sales", "--json"]).await;
    assert_eq!(serde_json::from_str::<Value>(&out).expect("JSON")["total"], 1);

    // Unpublish asks first; republish with --yes does not.
    let (code, _, err) = seller.run_with(&app, &["unpublish", "pdf-wizard"], "n\n").await;
    assert_eq!(code, 1);
    assert!(err.contains("Aborted."), "{err}");
    assert!(as_buyer.listing("pdf-wizard").await.is_ok(), "still live");
    let (code, out, _) = seller.run_with(&app, &["unpublish", "pdf-wizard"], "y\n").await;
    assert_eq!(code, 0);
    assert!(out.contains("Skill unpublished."), "the server's words: {out}");
    assert!(as_buyer.listing("pdf-wizard").await.is_err(), "hidden");
    let (_, out, _) = seller.run(&app, &["republish", "pdf-wizard", "--yes"]).await;
    assert!(out.contains("Skill republished."), "{out}");

    // The profile, shown and changed by answering its questions.
    let (code, out, _) = seller.run_with(&app, &["profile", "--set"], "\nMakes PDF tools.\n").await;
    assert_eq!(code, 0);
    assert!(out.contains("Profile updated!") && out.contains("Display name: Sam Seller"), "{out}");
    let (_, out, _) = seller.run(&app, &["profile", "--json"]).await;
    assert_eq!(serde_json::from_str::<Value>(&out).expect("JSON")["bio"], "Makes PDF tools.");
}

/// A skill folder named `name` whose body says `body`.
pub fn skill_folder(parent: &Path, name: &str, body: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(dir.join("examples")).expect("folder");
    let manifest = format!(
        "---\nname: {name}\ndescription: Writes clear release notes from merged changes.\n---\n\n# {name}\n\n{body}\n"
    );
    std::fs::write(dir.join("SKILL.md"), manifest).expect("SKILL.md");
    std::fs::write(dir.join("examples/notes.md"), "# Example\n\nA short note.\n").expect("example");
    // Ordered by path components, `examples/…` comes before `examples-more.md` (byte order
    // would put it after): both tools must agree.
    std::fs::write(dir.join("examples-more.md"), "More.\n").expect("second example");
    std::fs::create_dir_all(dir.join(".git")).expect(".git");
    std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/main\n").expect("not packed");
    dir
}

#[actix_web::test]
async fn ap_publishes_installs_updates_verifies_and_uninstalls() {
    let app = TestApp::sqlite().await;
    let seller = Home::of("pia@example.com", "Pia Publisher");
    seller.logged_in(&app).await;
    let folder = skill_folder(seller.dir.path(), "release-notes", "Version one.");
    let dir = folder.to_str().expect("path");

    let (code, out, err) = seller.run(&app, &["scan", "--dir", dir]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Security scan: pass"), "{out}");
    let (code, out, err) = seller.run(&app, &["publish", "--dir", dir]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Published 'release-notes' successfully!"), "{out}");
    assert!(out.contains("Security scan: pass"), "{out}");

    // A buyer installs it (free: no sign-in needed) into ~/.claude/skills.
    let user = Home::new();
    let (code, out, err) = user.run(&app, &["install", "release-notes"]).await;
    assert_eq!(code, 0, "{err}");
    let installed = user.dir.path().join(".claude/skills/release-notes");
    assert!(
        out.contains(&format!("Installed 'release-notes' to {}", installed.display())),
        "{out}"
    );
    assert!(installed.join("examples/notes.md").is_file() && !installed.join(".git").exists());
    let pin = &user.pins()["release-notes"];
    assert_eq!(pin["source"], "agentpowers");
    assert_eq!(pin["version"], "1.0.0");
    assert_eq!(pin["type"], "skill");
    assert_eq!(pin["security_status"], "pass");
    assert_eq!(pin["install_location"], installed.to_str().expect("path"));
    let manifest = std::fs::read(installed.join("SKILL.md")).expect("SKILL.md");
    let example = std::fs::read(installed.join("examples/notes.md")).expect("example");
    let more = std::fs::read(installed.join("examples-more.md")).expect("example");
    let expected = ap_domain::content::content_hash([
        ("SKILL.md", manifest.as_slice()),
        ("examples-more.md", more.as_slice()),
        ("examples/notes.md", example.as_slice()),
    ]);
    assert_eq!(pin["content_hash"], expected, "the hash of CONTRACT §2.4");
    let (code, out, _) = user.run(&app, &["verify"]).await;
    assert_eq!(code, 0);
    assert_eq!(out, "  OK      release-notes (agentpowers)\n");
    let (_, out, _) = user.run(&app, &["status"]).await;
    assert!(out.contains("Not logged in.") && out.contains("Installed Skills (1)"), "{out}");
    assert!(out.contains("release-notes  agentpowers  pass      1.0.0"), "{out}");
    assert!(out.contains("No agents installed."), "{out}");
    let (_, out, _) = user.run(&app, &["status", "--json"]).await;
    let status: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(status["installed"][0]["location"], "global");
    let (code, _, err) = user.run(&app, &["install", "someone-else/release-notes"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("not found for seller 'someone-else'"), "{err}");
    let (_, out, _) = user.run(&app, &["update"]).await;
    assert!(out.contains("release-notes is already up to date (v1.0.0)"), "{out}");

    // A second version; `update` lists it and asks first.
    let body = folder.join("SKILL.md");
    let text =
        std::fs::read_to_string(&body).expect("read").replace("Version one.", "Version two.");
    std::fs::write(&body, text).expect("edit");
    let (code, out, err) = seller
        .run(&app, &["publish", "--dir", dir, "--bump", "minor", "--changelog", "Two."])
        .await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Updated 'release-notes' to v1.1.0."), "{out}");
    let (code, out, _) = user.run_with(&app, &["update"], "n\n").await;
    assert_eq!(code, 0);
    assert!(out.contains("release-notes: v1.0.0 → v1.1.0") && out.contains("Update cancelled."));
    let (code, out, err) = user.run_with(&app, &["update"], "y\n").await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Updated release-notes from v1.0.0 to v1.1.0"), "{out}");
    assert!(
        std::fs::read_to_string(installed.join("SKILL.md")).expect("new").contains("Version two.")
    );
    assert_eq!(user.pins()["release-notes"]["version"], "1.1.0");

    // A local edit fails verification; updating everything leaves it (even with --force);
    // updating it by name offers to restore it.
    std::fs::write(installed.join("examples/notes.md"), "changed").expect("tamper");
    let (code, out, err) = user.run(&app, &["verify"]).await;
    assert_eq!(code, 1);
    assert!(out.contains("FAIL    release-notes (agentpowers) — hash mismatch"), "{out}");
    assert!(err.contains("1 installed package(s) failed verification."), "{err}");
    let (code, out, _) = user.run(&app, &["update", "--force"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("release-notes has been locally edited; skipped"), "{out}");
    assert_eq!(std::fs::read(installed.join("examples/notes.md")).expect("kept"), b"changed");
    let (_, out, err) = user.run_with(&app, &["update", "release-notes"], "n\n").await;
    assert!(err.contains("Restore it to the original?") && out.contains("Skipping"), "{out}");
    let (_, out, _) = user.run_with(&app, &["update", "release-notes"], "y\n").await;
    assert!(out.contains("Restored release-notes v1.1.0 to original."), "{out}");
    let installed_version = &user.pins()["release-notes"]["version"];
    assert_eq!(installed_version, "1.1.0");
    assert_eq!(user.run(&app, &["verify"]).await.0, 0);

    // An edited install with an update is asked about even with --force.
    std::fs::write(installed.join("examples/notes.md"), "changed again").expect("tamper");
    let text = std::fs::read_to_string(&body).expect("read").replace("Version two.", "Three.");
    std::fs::write(&body, text).expect("edit");
    let (code, _, err) = seller.run(&app, &["publish", "--dir", dir]).await;
    assert_eq!(code, 0, "{err}");
    let (_, out, err) = user.run_with(&app, &["update", "--force"], "n\n").await;
    assert!(err.contains("has been locally edited. Update anyway?"), "{err}");
    assert!(out.contains("Skipping release-notes."), "{out}");
    assert_eq!(std::fs::read(installed.join("examples/notes.md")).expect("kept"), b"changed again");
    let (_, out, _) = user.run_with(&app, &["update", "--force"], "y\n").await;
    assert!(out.contains("Updated release-notes from v1.1.0 to v1.1.1"), "{out}");
    assert_eq!(user.run(&app, &["verify"]).await.0, 0);

    // Uninstall asks, removes the folder and the pin.
    let (_, out, _) = user.run_with(&app, &["uninstall", "release-notes"], "n\n").await;
    assert!(out.contains("Aborted.") && installed.exists(), "{out}");
    let (code, out, _) = user.run_with(&app, &["uninstall", "release-notes"], "y\n").await;
    assert_eq!(code, 0);
    assert!(out.contains("Uninstalled 'release-notes'."), "{out}");
    assert!(!installed.exists());
    assert!(user.pins().as_object().expect("pins").is_empty());
    let (code, _, err) = user.run(&app, &["uninstall", "release-notes", "-f"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("'release-notes' not found. Not installed."), "{err}");
    let (_, out, _) = user.run(&app, &["verify"]).await;
    assert_eq!(out, "No installed skills to verify.\n");

    // A project with its own .claude folder gets a project-local install; --global goes
    // to the home folder; uninstall removes both.
    std::fs::create_dir_all(user.work().join(".claude")).expect("project folder");
    // A token revoked elsewhere does not stand in the way of a free install.
    std::fs::create_dir_all(user.dir.path().join(".agentpowers")).expect("state folder");
    std::fs::write(user.auth_file(), r#"{"token": "ap_cli_revoked"}"#).expect("stale token");
    let (code, _, err) = user.run(&app, &["install", "pia-publisher/release-notes"]).await;
    std::fs::remove_file(user.auth_file()).expect("forgotten");
    assert_eq!(code, 0, "{err}");
    let project = user.work().join(".claude/skills/release-notes");
    assert!(project.join("SKILL.md").is_file() && !installed.exists());
    let (_, out, _) = user.run(&app, &["status"]).await;
    assert!(out.contains("LOCATION"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("release-notes") && l.ends_with("project")));
    assert_eq!(user.run(&app, &["verify"]).await.0, 0, "the pin follows the project install");
    let (code, _, err) = user.run(&app, &["install", "release-notes", "--global"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(installed.join("SKILL.md").is_file(), "--global: the home folder");
    let (code, _, _) = user.run(&app, &["uninstall", "release-notes", "-f"]).await;
    assert_eq!(code, 0);
    assert!(!installed.exists() && !project.exists(), "both removed");
    let (code, out, err) =
        user.run(&app, &["install", "release-notes", "--global", "--for", "codex"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(".codex/skills/release-notes"), "{out}");
    let (code, _, err) = user.run(&app, &["install", "release-notes", "--for", "vim"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("Unknown tool 'vim'. Supported tools: agents, claude-code"), "{err}");

    // The listing's own scan; the seller's rights.
    let (code, out, _) = user.run(&app, &["scan", "release-notes"]).await;
    assert_eq!(code, 0);
    assert!(out.starts_with("Security scan: pass · score 10/10"), "{out}");
    let (code, _, err) = user.run(&app, &["publish", "--dir", dir]).await;
    assert_eq!(code, 1);
    assert!(err.contains("Not logged in"), "{err}");
}

#[actix_web::test]
async fn ap_buys_through_the_browser_and_installs() {
    let app = TestApp::sandbox().await;
    let seller = Home::of("sol@example.com", "Sol Seller");
    seller.logged_in(&app).await;
    // Onboarding in the (sandbox) browser, opened on the printed link.
    let (code, out, err) = seller.run(&app, &["seller", "onboard", "--no-browser"]).await;
    assert_eq!(code, 0, "{err}");
    let link = out.lines().last().expect("the onboarding link").trim().to_owned();
    let opened = tokio::process::Command::new(&seller.browser).arg(&link).status().await;
    assert!(opened.expect("the stand-in browser").success());
    let (_, out, _) = seller.run(&app, &["seller", "status"]).await;
    assert!(out.contains("Charges enabled:   yes"), "{out}");
    let folder = skill_folder(seller.dir.path(), "invoice-kit", "Paid.");
    let dir = folder.to_str().expect("path");
    let published = seller.run(&app, &["publish", "--dir", dir, "--price", "12.50"]).await;
    let (code, out, err) = published;
    assert_eq!(code, 0, "{out}{err}");

    let buyer = Home::of("bo@example.com", "Bo Buyer");
    let (code, _, err) = buyer.run(&app, &["buy", "invoice-kit"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("Not logged in"), "{err}");
    buyer.logged_in(&app).await;
    let (code, _, err) = buyer.run(&app, &["install", "invoice-kit"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("'invoice-kit' is paid: buy it with `ap buy invoice-kit`"), "{err}");
    let (code, out, err) = buyer.run(&app, &["buy", "invoice-kit"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("Pay $12.50 for 'invoice-kit' at:"), "{out}");
    assert!(out.contains("Paid. License code: "), "{out}");
    assert!(out.contains("Installed 'invoice-kit' to "), "{out}");
    assert!(buyer.dir.path().join(".claude/skills/invoice-kit/SKILL.md").is_file());
    let (_, out, _) = buyer.run(&app, &["purchases", "--json"]).await;
    let bought: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(bought[0]["status"], "completed");
    let code_text = bought[0]["license_code"].as_str().expect("license code").to_owned();
    let (_, out, _) = buyer.run(&app, &["buy", "invoice-kit", "--global"]).await;
    assert!(out.contains("You already own 'invoice-kit'."), "{out}");

    // Someone given the license code installs with --code.
    let friend = Home::of("fa@example.com", "Fa Friend");
    friend.logged_in(&app).await;
    let (code, out, err) =
        friend.run(&app, &["install", "invoice-kit", "--code", &code_text]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Installed 'invoice-kit'"), "{out}");
    let (_, out, _) = seller.run(&app, &["seller", "sales"]).await;
    assert!(out.contains("invoice-kit") && out.contains("$12.50"), "{out}");
}

#[actix_web::test]
async fn ap_help_is_complete_and_completions_are_printed() {
    let app = TestApp::sqlite().await;
    let home = Home::new();
    let (code, out, _) = home.run(&app, &["--help"]).await;
    assert_eq!(code, 0);
    for command in [
        "login",
        "logout",
        "whoami",
        "search",
        "detail",
        "install",
        "update",
        "uninstall",
        "status",
        "verify",
        "scan",
        "publish",
        "unpublish",
        "republish",
        "profile",
        "buy",
        "purchases",
        "reviews",
        "review",
        "seller",
        "completions",
    ] {
        assert!(out.contains(&format!("\n  {command} ")), "{command} in {out}");
        let (code, help, _) = home.run(&app, &[command, "--help"]).await;
        assert_eq!(code, 0, "{command}");
        assert!(help.contains("Usage: ap "), "{command}: {help}");
    }
    let (_, out, _) = home.run(&app, &["publish", "--help"]).await;
    for flag in ["--price", "--dir", "--category", "--bump", "--version", "--changelog"] {
        assert!(out.contains(flag), "{flag}");
    }
    let (_, out, _) = home.run(&app, &["install", "--help"]).await;
    for flag in ["--code", "--global", "--for"] {
        assert!(out.contains(flag), "{flag}");
    }
    let (code, out, _) = home.run(&app, &["completions", "bash"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("_ap()") && out.contains("install"), "a bash completion script");
}
