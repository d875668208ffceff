//! `ap mcp`: a Model Context Protocol server over standard input and output (the official
//! Rust SDK, `rmcp`), for Claude Code, Claude Desktop, Codex and any MCP client. It offers
//! the tools of the two existing AgentPowers plugins under their names and with their
//! arguments, plus `write_review`, and shares `~/.agentpowers/auth.json` and `pins.json`
//! with the command-line tool (the token is read on every call, so `ap login` in a
//! terminal takes effect at once).
//!
//! Answers are JSON text (the server's own shapes) or a sentence for an action; a
//! refusal is a tool error (`isError`) carrying the server's message and code.

use std::sync::Arc;
use std::time::Duration;

use ap_client::{Client, ListQuery, PurchaseDelivery, SearchQuery};
use ap_domain::commerce::PurchaseStatus;
use ap_domain::listing::{ListingType, SecurityStatus};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Value, json};

use crate::buyer::{Checkout, settle};
use crate::installs::{self, Plan};
use crate::{local, state};

/// Serves MCP on standard input and output until the client closes it.
pub async fn serve(client: Client) -> anyhow::Result<()> {
    let running = Marketplace { client }.serve(rmcp::transport::stdio()).await?;
    running.waiting().await?;
    Ok(())
}

/// The server: a client of the marketplace, signed in per call from `auth.json`.
struct Marketplace {
    client: Client,
}

/// What a tool answers: text for the model, or a refusal in words.
type Answer = anyhow::Result<String>;

impl ServerHandler for Marketplace {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("agentpowers", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "The AgentPowers marketplace of skills and agents for AI coding tools: search, \
                 read details, reviews and security scans, buy, install, update and review. \
                 Sign in with `ap login` in a terminal.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = Args(request.arguments.unwrap_or_default());
        let Some(answer) = self.call(&request.name, &args).await else {
            return Err(ErrorData::invalid_params(format!("Unknown tool: {}", request.name), None));
        };
        let result = match answer {
            Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
            Err(error) => CallToolResult::error(vec![ContentBlock::text(format!(
                "Tool {} failed: {}",
                request.name,
                crate::commands::explain(&error)
            ))]),
        };
        Ok(result.into())
    }
}

/// A tool's arguments, read leniently as the plugins read them (numbers and booleans may
/// arrive as strings).
struct Args(JsonObject);

impl Args {
    fn text(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn required(&self, key: &str) -> anyhow::Result<String> {
        self.text(key).ok_or_else(|| anyhow::anyhow!("`{key}` is required."))
    }

    fn slug(&self, key: &str) -> anyhow::Result<String> {
        Ok(crate::commands::valid_slug(&self.required(key)?)?.to_owned())
    }

    fn number(&self, key: &str) -> Option<f64> {
        let number = match self.0.get(key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        number.filter(|n| n.is_finite())
    }

    fn flag(&self, key: &str, default: bool) -> bool {
        match self.0.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => matches!(s.trim(), "1" | "true" | "yes" | "on"),
            Some(Value::Number(n)) => n.as_f64() != Some(0.0),
            _ => default,
        }
    }

    /// A whole number in `range`, or `default`.
    fn count(&self, key: &str, default: i64, range: std::ops::RangeInclusive<i64>) -> i64 {
        self.number(key).map_or(default, |n| (n as i64).clamp(*range.start(), *range.end()))
    }

    /// `target_tool` as an install tool (the plugins' names mapped to ours); `all` only
    /// where `allow_all`.
    fn tools(&self, allow_all: bool) -> anyhow::Result<Vec<&'static str>> {
        let Some(raw) = self.text("target_tool") else {
            return Ok(if allow_all { all_tools() } else { vec![local::DEFAULT_TOOL] });
        };
        let key = raw.to_ascii_lowercase().replace(['_', ' ', '.'], "-");
        if allow_all && key == "all" {
            return Ok(all_tools());
        }
        let name = match key.as_str() {
            "claude" => "claude-code",
            "claude-cowork" => "claude-desktop",
            "gemini-cli" => "gemini",
            other => other,
        };
        let (tool, _) = local::TOOLS.iter().find(|(tool, _)| *tool == name).ok_or_else(|| {
            local::tool_folder(&raw).err().unwrap_or_else(|| anyhow::anyhow!(raw))
        })?;
        Ok(vec![tool])
    }
}

fn all_tools() -> Vec<&'static str> {
    local::TOOLS.iter().map(|(tool, _)| *tool).collect()
}

/// Pretty JSON of an answer.
fn pretty(value: &impl serde::Serialize) -> Answer {
    Ok(serde_json::to_string_pretty(value)?)
}

impl Marketplace {
    /// The client signed in, or the plugins' refusal.
    fn signed_in(&self) -> anyhow::Result<Client> {
        match state::token()? {
            Some(token) => Ok(self.client.with_token(token)),
            None => anyhow::bail!("Not authenticated. Run login_account (or `ap login`) first."),
        }
    }

    /// Runs tool `name`; `None` for a tool this server does not have.
    async fn call(&self, name: &str, args: &Args) -> Option<Answer> {
        Some(match name {
            "search_marketplace" | "search_skills" => self.search(args).await,
            "get_skill_details" => self.details(args).await,
            "get_categories" => async { pretty(&self.client.categories().await?) }.await,
            "get_platforms" => async { pretty(&self.client.platforms().await?) }.await,
            "get_seller_profile" => self.seller(args).await,
            "get_skill_reviews" => self.reviews(args).await,
            "get_security_results" => {
                async { pretty(&self.client.security_results(&args.slug("skill_slug")?).await?) }
                    .await
            }
            "login_account" => self.login(args).await,
            "logout_account" => {
                async {
                    crate::login::sign_out(&self.client).await?;
                    Ok("Logged out.".to_owned())
                }
                .await
            }
            "whoami_account" => async { pretty(&self.signed_in()?.me().await?) }.await,
            "get_account_profile" => async { pretty(&self.signed_in()?.profile().await?) }.await,
            "list_purchases" => self.purchases(args).await,
            "start_checkout" => self.checkout(args).await,
            "check_purchase_status" => self.purchase_status(args).await,
            "install_skill" => self.install(args).await,
            "uninstall_skill" => self.uninstall(args),
            "check_installed" => self.installed(args),
            "check_for_updates" => self.updates(args).await,
            "write_review" => self.write_review(args).await,
            _ => return None,
        })
    }

    /// The browser sign-in of `ap login` (the address is also written to standard error);
    /// answers who signed in.
    async fn login(&self, args: &Args) -> Answer {
        let wait =
            Duration::from_secs_f64(args.number("timeout_sec").unwrap_or(240.0).clamp(5.0, 900.0));
        tokio::time::timeout(wait, crate::login::sign_in(&self.client, false))
            .await
            .map_err(|_| anyhow::anyhow!("The sign-in did not finish in time."))??;
        pretty(&self.signed_in()?.me().await?)
    }

    async fn search(&self, args: &Args) -> Answer {
        let kind = args
            .text("type")
            .map(|t| if t == "agent" { ListingType::Agent } else { ListingType::Skill });
        let limit = args.number("max_results").or_else(|| args.number("limit"));
        let limit = Some(limit.map_or(10, |n| (n as i64).clamp(1, 100)));
        let category = args.text("category");
        let page = match args.text("query") {
            Some(q) => {
                let query = SearchQuery { q, kind, category, limit, offset: None };
                self.client.search(&query).await?
            }
            None => {
                let query = ListQuery { kind, category, limit, ..ListQuery::default() };
                self.client.list(&query).await?
            }
        };
        pretty(&page)
    }

    async fn details(&self, args: &Args) -> Answer {
        crate::commands::only_ours(args.text("source").as_deref())?;
        pretty(&self.client.detail(&args.slug("slug")?).await?)
    }

    async fn seller(&self, args: &Args) -> Answer {
        let slug = args.required("seller_slug")?;
        let profile = self.client.seller(&slug).await?;
        let listings = self.client.seller_listings(&slug, Some(100), None).await?;
        pretty(&json!({ "profile": profile, "skills": listings }))
    }

    async fn reviews(&self, args: &Args) -> Answer {
        let slug = args.slug("skill_slug")?;
        pretty(&self.client.reviews(&slug, Some(args.count("limit", 10, 1..=100)), None).await?)
    }

    async fn purchases(&self, args: &Args) -> Answer {
        let status = match args.text("status") {
            Some(s) => Some(
                [
                    PurchaseStatus::Pending,
                    PurchaseStatus::Completed,
                    PurchaseStatus::Failed,
                    PurchaseStatus::Expired,
                    PurchaseStatus::Refunded,
                ]
                .into_iter()
                .find(|p| p.as_str() == s)
                .ok_or_else(|| anyhow::anyhow!("Unknown status '{s}'."))?,
            ),
            None => None,
        };
        let limit = args.count("limit", 100, 1..=100);
        pretty(&self.signed_in()?.purchases(status, Some(limit), None).await?)
    }

    async fn checkout(&self, args: &Args) -> Answer {
        let slug = args.slug("slug")?;
        let client = self.signed_in()?;
        let (success, cancel) = (args.text("success_url"), args.text("cancel_url"));
        let started =
            client.checkout_returning(&slug, success.as_deref(), cancel.as_deref()).await?;
        if args.flag("auto_open_browser", true) {
            crate::login::open(&started.checkout_url);
        }
        let mut answer = serde_json::to_value(&started)?;
        answer["next"] = format!(
            "Pay at checkout_url, then call check_purchase_status with session_id \
             {} and auto_install true.",
            started.session_id
        )
        .into();
        pretty(&answer)
    }

    /// Waits (when asked) for a checkout to settle; installs it when asked and paid.
    async fn purchase_status(&self, args: &Args) -> Answer {
        let client = self.signed_in()?;
        let session = args.text("session_id");
        let purchase = args.text("purchase_id");
        let checkout = match (&session, &purchase) {
            (Some(session), _) => Checkout::Session(session),
            (None, Some(purchase)) => Checkout::Purchase(purchase),
            (None, None) => anyhow::bail!("Give `session_id` or `purchase_id`."),
        };
        let timeout = if args.flag("wait_for_completion", false) {
            args.number("timeout_sec").unwrap_or(300.0).clamp(1.0, 1800.0)
        } else {
            0.0
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(timeout);
        let every = args.number("poll_interval_sec").unwrap_or(3.0).clamp(0.2, 60.0);
        let state = settle(&client, checkout, deadline, Duration::from_secs_f64(every)).await?;
        let mut answer = serde_json::to_value(&state)?;
        if state.status == PurchaseStatus::Completed {
            if let (Some(session), true) = (&session, args.flag("include_download_url", false)) {
                // A link that cannot be had now does not stand in the way of the install.
                match client.purchase_download(session).await {
                    Ok(PurchaseDelivery::Ready(delivery)) => {
                        answer["download"] = serde_json::to_value(&delivery)?;
                    }
                    Ok(PurchaseDelivery::NotPaid(_)) => {}
                    Err(error) => answer["download_error"] = error.to_string().into(),
                }
            }
            if args.flag("auto_install", false) {
                let tool = args.tools(false)?[0];
                let global = args.flag("global", false);
                let dest = self.install_now(&state.skill_slug, tool, global).await?;
                answer["installed_to"] = dest.into();
            }
        }
        pretty(&answer)
    }

    /// Installs a listing the caller may download (the token is sent for a paid one);
    /// answers the folder.
    async fn install_now(&self, slug: &str, tool: &str, global: bool) -> anyhow::Result<String> {
        let detail = installs::find_listing(&self.client, slug).await?;
        self.install_listing(&detail, tool, global).await
    }

    /// [`Marketplace::install_now`] of a listing already read.
    async fn install_listing(
        &self,
        detail: &ap_domain::wire::ListingDetail,
        tool: &str,
        global: bool,
    ) -> anyhow::Result<String> {
        let slug = &detail.summary.slug;
        if detail.summary.security_status == SecurityStatus::Block {
            anyhow::bail!("Skill '{slug}' has been blocked due to security concerns.");
        }
        let base = local::install_base(global, tool)?;
        let dest = installs::download_and_install(&self.client, detail, &base).await?;
        Ok(dest.display().to_string())
    }

    /// Free or owned: installs. With a license code: redeems it, then installs. A paid
    /// listing not owned: starts the checkout (and with `wait_for_completion` waits for the
    /// payment and installs).
    async fn install(&self, args: &Args) -> Answer {
        let slug = args.slug("slug")?;
        crate::commands::only_ours(args.text("source").as_deref())?;
        let tool = args.tools(false)?[0];
        let global = args.flag("global", false);
        let detail = installs::find_listing(&self.client, &slug).await?;
        let warning = match detail.summary.security_status {
            SecurityStatus::Warn => " (its security scan has warnings: see get_security_results)",
            _ => "",
        };
        if let Some(code) = args.text("license_code") {
            self.signed_in()?.redeem(&code).await?;
        }
        match self.install_listing(&detail, tool, global).await {
            Ok(dest) => return Ok(format!("Installed '{slug}' to {dest}{warning}")),
            Err(error) if error.downcast_ref::<installs::NotOwned>().is_none() => {
                return Err(error);
            }
            Err(_) => {} // Paid and not owned: on to the checkout.
        }
        let started = self.signed_in()?.checkout(&slug).await?;
        if args.flag("auto_open_browser", true) {
            crate::login::open(&started.checkout_url);
        }
        if !args.flag("wait_for_completion", false) {
            return pretty(&json!({
                "status": "checkout_started",
                "checkout_url": started.checkout_url,
                "purchase_id": started.purchase_id,
                "session_id": started.session_id,
                "next": "Pay at checkout_url, then call check_purchase_status with this \
                         session_id and auto_install true.",
            }));
        }
        let mut waiting = args.0.clone();
        waiting.insert("session_id".to_owned(), started.session_id.into());
        waiting.insert("auto_install".to_owned(), true.into());
        self.purchase_status(&Args(waiting)).await
    }

    fn uninstall(&self, args: &Args) -> Answer {
        let slug = args.slug("slug")?;
        let removed = installs::remove(&slug, &args.tools(true)?)?;
        let places: Vec<String> = removed.iter().map(|p| p.display().to_string()).collect();
        Ok(if places.is_empty() {
            format!("Uninstalled '{slug}' (its pin; no folder was left).")
        } else {
            format!("Uninstalled '{slug}' from {}.", places.join(", "))
        })
    }

    fn installed(&self, args: &Args) -> Answer {
        pretty(&installs::installed(&args.tools(true)?, true)?)
    }

    /// Each installed marketplace listing against its latest version (nothing applied).
    async fn updates(&self, args: &Args) -> Answer {
        let tools = args.tools(true)?;
        let listed: std::collections::BTreeSet<String> =
            installs::installed(&tools, false)?.into_iter().map(|i| i.slug).collect();
        let mut report = Vec::new();
        for (slug, pin) in local::pins()? {
            if pin.source != ap_domain::wire::NATIVE_SOURCE || !listed.contains(&slug) {
                continue;
            }
            let row = match installs::plan(&self.client, &slug, Some(&pin)).await {
                Ok(Plan::UpToDate) => json!({"slug": slug, "status": "up_to_date"}),
                Ok(Plan::Blocked(version)) => {
                    json!({"slug": slug, "status": "blocked", "latest_version": version})
                }
                Ok(Plan::Install { detail, behind, edited }) => json!({
                    "slug": slug,
                    "status": if behind { "update_available" } else { "edited" },
                    "latest_version": installs::latest(&detail),
                    "edited": edited,
                }),
                Err(error) => {
                    json!({"slug": slug, "status": "unknown", "error": format!("{error:#}")})
                }
            };
            let mut row = row;
            row["installed_version"] = installs::version_of(Some(&pin)).into();
            report.push(row);
        }
        pretty(&report)
    }

    async fn write_review(&self, args: &Args) -> Answer {
        let slug = args.slug("skill_slug")?;
        let rating =
            args.number("rating").ok_or_else(|| anyhow::anyhow!("`rating` (1–5) is required."))?;
        if rating.fract() != 0.0 || !(1.0..=5.0).contains(&rating) {
            anyhow::bail!("`rating` must be a whole number from 1 to 5.");
        }
        let text = args.text("text");
        pretty(&self.signed_in()?.write_review(&slug, rating as u8, text.as_deref()).await?)
    }
}

/// A JSON Schema object of `properties` with `required` names.
fn schema(properties: Value, required: &[&str]) -> Arc<JsonObject> {
    let mut object = JsonObject::new();
    object.insert("type".to_owned(), "object".into());
    object.insert("properties".to_owned(), properties);
    if !required.is_empty() {
        object.insert("required".to_owned(), json!(required));
    }
    Arc::new(object)
}

/// The tools, as the plugins declare them (plus `write_review`).
fn tools() -> Vec<Tool> {
    let targets: Vec<&str> = all_tools();
    let with_all: Vec<&str> = std::iter::once("all").chain(all_tools()).collect();
    let search = json!({
        "query": {"type": "string", "description": "Search query text (optional)"},
        "category": {"type": "string", "description": "Filter by category (optional)"},
        "type": {"type": "string", "enum": ["skill", "agent"], "description": "Filter by type: skill or agent (optional)"},
        "max_results": {"type": "number", "description": "Maximum number of results (default: 10)"},
        "limit": {"type": "number", "description": "Result limit (1-100)"},
    });
    let wait = json!({
        "purchase_id": {"type": "string"},
        "session_id": {"type": "string"},
        "wait_for_completion": {"type": "boolean"},
        "timeout_sec": {"type": "number"},
        "poll_interval_sec": {"type": "number"},
        "auto_install": {"type": "boolean"},
        "include_download_url": {"type": "boolean", "description": "When session_id is provided and status is completed, also fetch download URL."},
        "target_tool": {"type": "string", "enum": targets},
        "source": {"type": "string"},
        "global": {"type": "boolean"},
    });
    vec![
        Tool::new(
            "search_marketplace",
            "Search the AgentPowers marketplace for skills and agents. Returns matching results with names, descriptions, prices, and security ratings.",
            schema(search.clone(), &[]),
        ),
        Tool::new(
            "search_skills",
            "Compatibility alias for search_marketplace.",
            schema(search, &[]),
        ),
        Tool::new(
            "get_skill_details",
            "Get detailed information about a specific skill or agent by its slug: price, security status, trust level, supported platforms, and version info.",
            schema(
                json!({
                    "slug": {"type": "string", "description": "The unique slug identifier for the skill or agent"},
                    "source": {"type": "string", "description": "Filter to a specific source ('agentpowers'). Optional."},
                }),
                &["slug"],
            ),
        ),
        Tool::new(
            "get_categories",
            "List marketplace categories and counts.",
            schema(json!({}), &[]),
        ),
        Tool::new(
            "get_platforms",
            "List AI platforms supported by AgentPowers.",
            schema(json!({}), &[]),
        ),
        Tool::new(
            "get_seller_profile",
            "Get seller public profile and published skills.",
            schema(
                json!({
                    "seller_slug": {"type": "string", "description": "The seller's slug identifier"},
                }),
                &["seller_slug"],
            ),
        ),
        Tool::new(
            "get_skill_reviews",
            "Get reviews for a skill slug.",
            schema(
                json!({
                    "skill_slug": {"type": "string", "description": "The skill slug to get reviews for"},
                    "limit": {"type": "number", "description": "Maximum reviews to return (default: 10)"},
                }),
                &["skill_slug"],
            ),
        ),
        Tool::new(
            "get_security_results",
            "Get security scan results for a skill slug.",
            schema(
                json!({
                    "skill_slug": {"type": "string", "description": "The skill slug to check"},
                }),
                &["skill_slug"],
            ),
        ),
        Tool::new(
            "login_account",
            "Run browser-based AgentPowers login (equivalent to `ap login`).",
            schema(
                json!({
                    "timeout_sec": {"type": "number", "description": "Login timeout in seconds (default 240)"},
                }),
                &[],
            ),
        ),
        Tool::new(
            "logout_account",
            "Log out from AgentPowers account (equivalent to `ap logout`).",
            schema(json!({}), &[]),
        ),
        Tool::new(
            "whoami_account",
            "Show current account identity from CLI and API.",
            schema(json!({}), &[]),
        ),
        Tool::new(
            "get_account_profile",
            "Fetch authenticated account profile from AgentPowers.",
            schema(json!({}), &[]),
        ),
        Tool::new(
            "list_purchases",
            "List your purchases, licenses, and install commands.",
            schema(
                json!({
                    "status": {"type": "string", "description": "Optional status filter (completed/pending/failed/refunded)"},
                    "limit": {"type": "number", "description": "Maximum records (default 100)"},
                }),
                &[],
            ),
        ),
        Tool::new(
            "start_checkout",
            "Create checkout session for a paid skill and open payment page.",
            schema(
                json!({
                    "slug": {"type": "string", "description": "Skill slug to purchase"},
                    "auto_open_browser": {"type": "boolean", "description": "Open checkout URL in browser (default true)"},
                    "success_url": {"type": "string"},
                    "cancel_url": {"type": "string"},
                }),
                &["slug"],
            ),
        ),
        Tool::new(
            "check_purchase_status",
            "Check purchase status by purchase_id/session_id; optionally wait and auto-install on completion.",
            schema(wait, &[]),
        ),
        Tool::new(
            "install_skill",
            "Install a skill with full automation: free install, paid checkout, polling, and final install.",
            schema(
                json!({
                    "slug": {"type": "string", "description": "The skill slug to install"},
                    "target_tool": {"type": "string", "enum": all_tools(), "description": "Target AI tool (default: claude-code)"},
                    "source": {"type": "string", "description": "Optional external source"},
                    "license_code": {"type": "string", "description": "Optional explicit license code"},
                    "auto_open_browser": {"type": "boolean"},
                    "wait_for_completion": {"type": "boolean"},
                    "timeout_sec": {"type": "number"},
                    "poll_interval_sec": {"type": "number"},
                    "global": {"type": "boolean", "description": "Force global install location"},
                }),
                &["slug"],
            ),
        ),
        Tool::new(
            "uninstall_skill",
            "Uninstall a skill/agent from tool locations and remove pin metadata.",
            schema(
                json!({
                    "slug": {"type": "string", "description": "The slug to uninstall"},
                    "target_tool": {"type": "string", "enum": with_all, "description": "Target tool or 'all' (default: claude-code)"},
                }),
                &["slug"],
            ),
        ),
        Tool::new(
            "check_installed",
            "List installed skills/agents across all tool roots, with version/source/edit signal.",
            schema(
                json!({
                    "target_tool": {"type": "string", "enum": with_all, "description": "Filter by tool (default: all)"},
                }),
                &[],
            ),
        ),
        Tool::new(
            "check_for_updates",
            "Check installed marketplace skills for newer versions without applying updates.",
            schema(
                json!({
                    "target_tool": {"type": "string", "enum": with_all},
                }),
                &[],
            ),
        ),
        Tool::new(
            "write_review",
            "Write (or replace) your review of a skill you bought or installed: 1 to 5 stars and optional text.",
            schema(
                json!({
                    "skill_slug": {"type": "string", "description": "The skill slug to review"},
                    "rating": {"type": "number", "description": "Stars, a whole number from 1 to 5"},
                    "text": {"type": "string", "description": "What you think (optional)"},
                }),
                &["skill_slug", "rating"],
            ),
        ),
    ]
}
