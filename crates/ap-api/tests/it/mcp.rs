//! `ap mcp` spoken to over standard input and output as an MCP client speaks to it
//! (newline-delimited JSON-RPC): initialize, `tools/list` with the plugins' names and
//! argument schemas, and a call of every tool against a real server (sandbox payments, so
//! a checkout is paid by the stand-in browser the tool opens).

use std::process::Stdio;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout};

use crate::cli::{Home, skill_folder};
use crate::support::TestApp;

/// A running `ap mcp` and the client's side of its pipes.
struct Session {
    _child: Child,
    input: ChildStdin,
    output: Lines<BufReader<ChildStdout>>,
    next_id: i64,
}

impl Session {
    async fn start(home: &Home, app: &TestApp) -> Session {
        let mut child = home
            .command(app, &["mcp"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ap mcp starts");
        let input = child.stdin.take().expect("stdin");
        let output = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut session = Session { _child: child, input, output, next_id: 1 };
        let init = session
            .request(
                "initialize",
                json!({
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "ap-tests", "version": "1.0.0"},
                }),
            )
            .await;
        assert_eq!(init["result"]["serverInfo"]["name"], "agentpowers", "{init}");
        assert!(init["result"]["capabilities"]["tools"].is_object(), "{init}");
        assert!(init["result"]["protocolVersion"].is_string(), "{init}");
        session.send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"})).await;
        session
    }

    async fn send(&mut self, message: Value) {
        let line = format!("{message}\n");
        self.input.write_all(line.as_bytes()).await.expect("write");
        self.input.flush().await.expect("flush");
    }

    /// Sends a request and answers its response (notifications in between are skipped).
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await;
        loop {
            let line = self.output.next_line().await.expect("read").expect("ap mcp answered");
            let message: Value = serde_json::from_str(&line).expect("JSON-RPC");
            if message["id"] == id {
                return message;
            }
        }
    }

    /// Calls a tool: whether it failed, and its text.
    async fn call(&mut self, tool: &str, arguments: Value) -> (bool, String) {
        let answer =
            self.request("tools/call", json!({"name": tool, "arguments": arguments})).await;
        let result = &answer["result"];
        let text = result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("{answer}"));
        (result["isError"] == true, text.to_owned())
    }

    /// Calls a tool that answers JSON.
    async fn json(&mut self, tool: &str, arguments: Value) -> Value {
        let (failed, text) = self.call(tool, arguments).await;
        assert!(!failed, "{tool}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{tool} answered {text}"))
    }
}

#[actix_web::test]
async fn ap_mcp_lists_the_plugins_tools_and_runs_each() {
    let app = TestApp::sandbox().await;
    // A seller with a free and a paid skill (onboarded in the stand-in browser).
    let seller = Home::of("mia@example.com", "Mia Maker");
    seller.logged_in(&app).await;
    let (_, out, _) = seller.run(&app, &["seller", "onboard", "--no-browser"]).await;
    let link = out.lines().last().expect("link").trim().to_owned();
    let opened =
        tokio::process::Command::new(seller.dir.path().join("browser")).arg(&link).status();
    assert!(opened.await.expect("browser").success());
    for (name, price) in [("mcp-notes", "0"), ("mcp-pro", "9")] {
        let folder = skill_folder(seller.dir.path(), name, "Helps.");
        let dir = folder.to_str().expect("path");
        let (code, out, err) = seller.run(&app, &["publish", "--dir", dir, "--price", price]).await;
        assert_eq!(code, 0, "{out}{err}");
    }

    let user = Home::of("uma@example.com", "Uma User");
    let mut mcp = Session::start(&user, &app).await;
    let listed = mcp.request("tools/list", json!({})).await;
    let tools = listed["result"]["tools"].as_array().expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().expect("name")).collect();
    let expected = [
        "search_marketplace",
        "search_skills",
        "get_skill_details",
        "get_categories",
        "get_platforms",
        "get_seller_profile",
        "get_skill_reviews",
        "get_security_results",
        "login_account",
        "logout_account",
        "whoami_account",
        "get_account_profile",
        "list_purchases",
        "start_checkout",
        "check_purchase_status",
        "install_skill",
        "uninstall_skill",
        "check_installed",
        "check_for_updates",
        "write_review",
    ];
    assert_eq!(names, expected);
    let schema =
        |name: &str| tools.iter().find(|t| t["name"] == name).expect(name)["inputSchema"].clone();
    assert_eq!(schema("get_skill_details")["required"], json!(["slug"]));
    assert_eq!(schema("get_skill_reviews")["required"], json!(["skill_slug"]));
    assert_eq!(schema("write_review")["required"], json!(["skill_slug", "rating"]));
    let install = schema("install_skill");
    for key in ["slug", "target_tool", "license_code", "wait_for_completion", "global"] {
        assert!(install["properties"][key].is_object(), "install_skill.{key}");
    }
    assert_eq!(
        schema("search_marketplace")["properties"]["type"]["enum"],
        json!(["skill", "agent"])
    );
    assert!(schema("check_installed")["properties"]["target_tool"]["enum"][0] == "all");

    // Signed out: the catalog answers, the account does not.
    let found = mcp.json("search_marketplace", json!({"query": "mcp", "max_results": 5})).await;
    let slugs: Vec<&str> = found["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["slug"].as_str().expect("slug"))
        .collect();
    assert!(slugs.contains(&"mcp-notes") && slugs.contains(&"mcp-pro"), "{found}");
    let all = mcp.json("search_skills", json!({"type": "skill"})).await;
    assert_eq!(all["total"], 2);
    let (failed, text) = mcp.call("whoami_account", json!({})).await;
    assert!(failed && text.contains("Not authenticated"), "{text}");
    let detail = mcp.json("get_skill_details", json!({"slug": "mcp-notes"})).await;
    assert_eq!(detail["price_cents"], 0);
    let seller_slug =
        detail["author"]["display_name_slug"].as_str().expect("seller slug").to_owned();
    let profile = mcp.json("get_seller_profile", json!({"seller_slug": seller_slug})).await;
    assert_eq!(profile["skills"]["total"], 2, "{profile}");
    assert!(mcp.json("get_categories", json!({})).await.to_string().contains("development"));
    assert!(mcp.json("get_platforms", json!({})).await.to_string().contains("claude-code"));
    let scan = mcp.json("get_security_results", json!({"skill_slug": "mcp-notes"})).await;
    assert_eq!(scan["status"], "pass");
    let (failed, text) = mcp.call("get_skill_details", json!({"slug": "../x"})).await;
    assert!(failed && text.contains("Invalid slug"), "{text}");
    let unknown = mcp.request("tools/call", json!({"name": "no_such_tool", "arguments": {}})).await;
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");

    // Signed in through the browser (the stand-in opened by the tool); the token lands in
    // the auth.json the command-line tool reads.
    let me = mcp.json("login_account", json!({"timeout_sec": 60})).await;
    assert_eq!(me["email"], "uma@example.com");
    let (code, out, _) = user.run(&app, &["whoami"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("uma@example.com"), "{out}");
    let me = mcp.json("whoami_account", json!({})).await;
    assert_eq!(me["email"], "uma@example.com");
    let profile = mcp.json("get_account_profile", json!({})).await;
    assert_eq!(profile["display_name"], "Uma User");
    let (failed, text) = mcp.call("install_skill", json!({"slug": "mcp-notes"})).await;
    assert!(!failed, "{text}");
    let folder = user.dir.path().join(".claude/skills/mcp-notes");
    assert_eq!(text, format!("Installed 'mcp-notes' to {}", folder.display()));
    assert_eq!(user.pins()["mcp-notes"]["version"], "1.0.0");
    let installed = mcp.json("check_installed", json!({})).await;
    assert_eq!(installed[0]["slug"], "mcp-notes");
    assert_eq!(installed[0]["tool"], "claude-code");
    assert_eq!(installed[0]["edited"], false);
    let updates = mcp.json("check_for_updates", json!({"target_tool": "claude-code"})).await;
    assert_eq!(
        updates,
        json!([{"slug": "mcp-notes", "status": "up_to_date", "installed_version": "1.0.0"}])
    );
    let review = mcp
        .json("write_review", json!({"skill_slug": "mcp-notes", "rating": 5, "text": "Nice"}))
        .await;
    assert_eq!(review["rating"], 5);
    let (failed, text) =
        mcp.call("write_review", json!({"skill_slug": "mcp-notes", "rating": 7})).await;
    assert!(failed && text.contains("from 1 to 5"), "{text}");
    let reviews =
        mcp.json("get_skill_reviews", json!({"skill_slug": "mcp-notes", "limit": 5})).await;
    assert_eq!(reviews["items"][0]["text"], "Nice");

    // A new version shows as an update.
    let body = seller.dir.path().join("mcp-notes/SKILL.md");
    let text = std::fs::read_to_string(&body).expect("SKILL.md");
    std::fs::write(&body, format!("{text}\nMore.\n")).expect("change");
    let dir = seller.dir.path().join("mcp-notes");
    let (code, _, err) = seller.run(&app, &["publish", "--dir", dir.to_str().expect("path")]).await;
    assert_eq!(code, 0, "{err}");
    let updates = mcp.json("check_for_updates", json!({})).await;
    assert_eq!(updates[0]["status"], "update_available", "{updates}");
    assert_eq!(updates[0]["latest_version"], "1.0.1");

    // A paid skill not owned: install_skill starts the checkout.
    let started =
        mcp.json("install_skill", json!({"slug": "mcp-pro", "auto_open_browser": false})).await;
    assert_eq!(started["status"], "checkout_started", "{started}");
    assert!(started["checkout_url"].as_str().expect("url").contains("/sandbox/checkout/"));

    // A paid skill: checkout (the stand-in browser pays), wait, install.
    let started = mcp.json("start_checkout", json!({"slug": "mcp-pro"})).await;
    let session_id = started["session_id"].as_str().expect("session").to_owned();
    let settled = mcp
        .json(
            "check_purchase_status",
            json!({
                "session_id": session_id, "wait_for_completion": true, "poll_interval_sec": 0.2,
                "auto_install": true, "include_download_url": true, "timeout_sec": 120,
            }),
        )
        .await;
    assert_eq!(settled["status"], "completed", "{settled}");
    assert_eq!(settled["download"]["slug"], "mcp-pro", "{settled}");
    assert!(settled["download"]["download_url"].as_str().expect("link").contains("/v1/files/"));
    let paid_folder = user.dir.path().join(".claude/skills/mcp-pro");
    assert_eq!(settled["installed_to"], paid_folder.to_str().expect("path"));
    let purchases = mcp.json("list_purchases", json!({"status": "completed"})).await;
    assert_eq!(purchases["items"][0]["skill_slug"], "mcp-pro", "{purchases}");
    let (failed, text) = mcp
        .call("install_skill", json!({"slug": "mcp-pro", "target_tool": "codex", "global": true}))
        .await;
    assert!(!failed && text.contains(".codex/skills/mcp-pro"), "{text}");

    // Uninstall from every tool.
    let (failed, text) =
        mcp.call("uninstall_skill", json!({"slug": "mcp-pro", "target_tool": "all"})).await;
    assert!(
        !failed
            && text.contains(".claude/skills/mcp-pro")
            && text.contains(".codex/skills/mcp-pro"),
        "{text}"
    );
    assert!(!paid_folder.exists());
    let (failed, _) = mcp.call("uninstall_skill", json!({"slug": "mcp-pro"})).await;
    assert!(failed, "nothing left to remove");
    let installed = mcp.json("check_installed", json!({"target_tool": "all"})).await;
    assert_eq!(installed.as_array().expect("list").len(), 1, "{installed}");

    // Logging out revokes the token and forgets it, for both tools.
    let (failed, text) = mcp.call("logout_account", json!({})).await;
    assert!(!failed && text == "Logged out.", "{text}");
    let (failed, text) = mcp.call("whoami_account", json!({})).await;
    assert!(failed && text.contains("Not authenticated"), "{text}");
    let (code, _, _) = user.run(&app, &["whoami"]).await;
    assert_eq!(code, 1);
}
