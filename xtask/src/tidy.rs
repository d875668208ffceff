//! `cargo xtask tidy`: checks workspace invariants that otherwise live only in prose
//! (docs/ARCHITECTURE.md and README.md) and prints one line per violation.
//!
//! - The pure crates (`ap-domain`, `ap-auth`, …) reach neither diesel nor actix-web; the
//!   service crate `ap-market` does not reach actix-web; only `ap-store` depends on diesel
//!   directly; only `ap-payments` (with `api-server` and `xtask` above it) reaches a
//!   Stripe crate. Normal dependency edges of `cargo metadata`'s resolved graph.
//! - No package in that graph is licensed under the GPL family without a non-GPL choice,
//!   and every package outside the workspace states a `license`.
//! - `migrations/sqlite/` and `migrations/postgres/` hold the same folder names.
//! - The README's configuration table and `api-server --help` list the same settings (the
//!   settings part of the help is `api_server::config::SETTINGS_HELP`, read in process
//!   rather than by building and running the server).
//!
//! The checks are pure functions over parsed inputs; [`run`] gathers the inputs.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use serde_json::Value;

/// Crates that must reach neither diesel nor actix-web (checked when they exist).
const PURE_CRATES: [&str; 7] =
    ["ap-domain", "ap-auth", "ap-ratelimit", "ap-scan", "ap-search", "ap-client", "ap-cli"];

/// Crates that use the store (and so reach diesel through it) but must not reach the
/// HTTP server, nor use diesel themselves.
const SERVICE_CRATES: [&str; 2] = ["ap-market", "ap-s3"];

/// The one workspace member that may depend on diesel directly: only it knows SQL.
const SQL_CRATE: &str = "ap-store";

/// What the pure crates must not reach: SQL and the HTTP server.
const SQL_AND_HTTP: [&str; 2] = ["diesel", "actix-web"];

/// Name prefixes of the Stripe client crates.
const STRIPE_PREFIXES: [&str; 2] = ["async-stripe", "stripe"];

/// The workspace members allowed to reach a Stripe crate.
const STRIPE_USERS: [&str; 3] = ["ap-payments", "api-server", "xtask"];

/// The object-storage client crate.
const OBJECT_STORE: &str = "object_store";

/// The workspace members allowed to reach it: `ap-s3` and those above it.
const OBJECT_STORE_USERS: [&str; 3] = ["ap-s3", "api-server", "xtask"];

/// Runs every check over the workspace at `workspace`; fails when any is violated.
pub fn run(workspace: &Path) -> anyhow::Result<()> {
    let metadata = cargo_metadata(workspace)?;
    let mut violations = dependency_violations(&metadata);
    violations.extend(license_violations(&metadata));
    let sqlite = folder_names(&workspace.join("migrations/sqlite"))?;
    let postgres = folder_names(&workspace.join("migrations/postgres"))?;
    violations.extend(migration_violations(&sqlite, &postgres));
    let readme =
        std::fs::read_to_string(workspace.join("README.md")).context("reading README.md")?;
    violations.extend(settings_violations(&readme, api_server::config::SETTINGS_HELP));
    if violations.is_empty() {
        println!("tidy: ok");
        return Ok(());
    }
    for violation in &violations {
        eprintln!("tidy: {violation}");
    }
    bail!("tidy: {} violation(s)", violations.len())
}

// ---------------------------------------------------------------------------------------
// Gathering the inputs.

/// The cargo that runs us (`CARGO`), else `cargo` from the path.
fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"))
}

/// Runs `cargo <args>` in the workspace; answers its standard output.
fn cargo_stdout(workspace: &Path, args: &[&str]) -> anyhow::Result<Vec<u8>> {
    let output = Command::new(cargo())
        .args(args)
        .current_dir(workspace)
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !output.status.success() {
        bail!("cargo {} failed ({})", args.join(" "), output.status);
    }
    Ok(output.stdout)
}

/// `cargo metadata` with the resolved dependency graph.
fn cargo_metadata(workspace: &Path) -> anyhow::Result<Value> {
    let stdout = cargo_stdout(workspace, &["metadata", "--format-version", "1"])?;
    serde_json::from_slice(&stdout).context("parsing the output of cargo metadata")
}

/// Names of the folders directly inside `dir`.
fn folder_names(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(names)
}

// ---------------------------------------------------------------------------------------
// Reading `cargo metadata`.

/// The array at `key`, or an empty one.
fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value.get(key).and_then(Value::as_array).map_or(&[][..], Vec::as_slice)
}

/// The string at `key`, or "".
fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The ids of the workspace members.
fn members(metadata: &Value) -> Vec<&str> {
    array(metadata, "workspace_members").iter().filter_map(Value::as_str).collect()
}

/// The nodes of the resolved graph (empty when cargo metadata ran with `--no-deps`).
fn nodes(metadata: &Value) -> &[Value] {
    metadata.get("resolve").map_or(&[][..], |resolve| array(resolve, "nodes"))
}

/// Whether a `resolve.nodes[].deps[]` entry is a normal dependency (not dev, not build).
/// A platform-specific normal dependency counts: it is normal somewhere.
fn is_normal(dep: &Value) -> bool {
    let kinds = array(dep, "dep_kinds");
    kinds.is_empty() || kinds.iter().any(|kind| kind.get("kind").is_none_or(Value::is_null))
}

/// The resolved graph: package names by id, and each package's normal dependencies.
struct Graph<'a> {
    names: HashMap<&'a str, &'a str>,
    edges: HashMap<&'a str, Vec<&'a str>>,
}

impl<'a> Graph<'a> {
    fn new(metadata: &'a Value) -> Self {
        let names = array(metadata, "packages")
            .iter()
            .map(|package| (text(package, "id"), text(package, "name")))
            .collect();
        let edges = nodes(metadata)
            .iter()
            .map(|node| {
                let deps = array(node, "deps").iter().filter(|dep| is_normal(dep));
                (text(node, "id"), deps.map(|dep| text(dep, "pkg")).collect())
            })
            .collect();
        Graph { names, edges }
    }

    /// The package name of `id` (the id itself when the package is unknown).
    fn name(&self, id: &'a str) -> &'a str {
        self.names.get(id).copied().unwrap_or(id)
    }

    /// Every package `start` reaches, in breadth-first order, each with the package it
    /// was reached from.
    fn reach(&self, start: &'a str) -> Vec<(&'a str, &'a str)> {
        let mut seen = HashSet::from([start]);
        let mut queue = VecDeque::from([start]);
        let mut reached = Vec::new();
        while let Some(id) = queue.pop_front() {
            for &dep in self.edges.get(id).map_or(&[][..], Vec::as_slice) {
                if seen.insert(dep) {
                    reached.push((dep, id));
                    queue.push_back(dep);
                }
            }
        }
        reached
    }

    /// Whether `id` has a normal dependency named `name`.
    fn depends_directly(&self, id: &'a str, name: &str) -> bool {
        self.edges.get(id).is_some_and(|deps| deps.iter().any(|&dep| self.name(dep) == name))
    }

    /// Lines naming each package matching `forbidden` that `start` reaches, with the
    /// chain of packages that leads there.
    fn forbidden_paths(&self, start: &'a str, forbidden: impl Fn(&str) -> bool) -> Vec<String> {
        let reached = self.reach(start);
        let parents: HashMap<&str, &str> = reached.iter().copied().collect();
        let from = self.name(start);
        reached
            .iter()
            .filter(|&&(id, _)| forbidden(self.name(id)))
            .map(|&(id, _)| {
                let chain = self.chain(&parents, start, id);
                format!("dependencies: {from} must not reach {}: {chain}", self.name(id))
            })
            .collect()
    }

    /// "a -> b -> c": the names from `start` to `end` along `parents`.
    fn chain(&self, parents: &HashMap<&str, &'a str>, start: &str, end: &'a str) -> String {
        let mut names = vec![self.name(end)];
        let mut id = end;
        while id != start {
            let Some(&parent) = parents.get(id) else { break };
            names.push(self.name(parent));
            id = parent;
        }
        names.reverse();
        names.join(" -> ")
    }
}

fn is_stripe(name: &str) -> bool {
    STRIPE_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

// ---------------------------------------------------------------------------------------
// Check 1: forbidden dependencies.

/// Pure crates reaching diesel or actix-web, service crates reaching actix-web, members
/// other than `ap-payments` (and those above it) reaching a Stripe crate, and members
/// other than `ap-s3` (and those above it) reaching `object_store`, over normal
/// dependency edges.
pub fn dependency_violations(metadata: &Value) -> Vec<String> {
    if nodes(metadata).is_empty() {
        return vec!["cargo metadata: no resolved dependency graph (`resolve.nodes`)".to_owned()];
    }
    let graph = Graph::new(metadata);
    let mut violations = Vec::new();
    for id in members(metadata) {
        let name = graph.name(id);
        if PURE_CRATES.contains(&name) {
            violations.extend(graph.forbidden_paths(id, |dep| SQL_AND_HTTP.contains(&dep)));
        }
        if SERVICE_CRATES.contains(&name) {
            violations.extend(graph.forbidden_paths(id, |dep| dep == "actix-web"));
        }
        if name != SQL_CRATE && graph.depends_directly(id, "diesel") {
            violations
                .push(format!("dependencies: only {SQL_CRATE} may depend on diesel: {name} does"));
        }
        if !STRIPE_USERS.contains(&name) {
            violations.extend(graph.forbidden_paths(id, is_stripe));
        }
        if !OBJECT_STORE_USERS.contains(&name) {
            violations.extend(graph.forbidden_paths(id, |dep| dep == OBJECT_STORE));
        }
    }
    violations
}

// ---------------------------------------------------------------------------------------
// Check 2: licences.

/// Packages of the resolved graph whose licence leaves no choice without the GPL family,
/// whose licence cannot be read, or (outside the workspace) that state none.
pub fn license_violations(metadata: &Value) -> Vec<String> {
    let members: HashSet<&str> = members(metadata).into_iter().collect();
    let resolved: HashSet<&str> = nodes(metadata).iter().map(|node| text(node, "id")).collect();
    let mut violations = Vec::new();
    for package in array(metadata, "packages") {
        let id = text(package, "id");
        if !resolved.is_empty() && !resolved.contains(id) {
            continue;
        }
        let what = format!("license: {} {}", text(package, "name"), text(package, "version"));
        match package.get("license").and_then(Value::as_str) {
            None if members.contains(id) => {}
            None => violations.push(format!("{what} states no `license` (look at its files)")),
            Some(expression) => match has_choice_without_gpl(expression) {
                Ok(true) => {}
                Ok(false) => violations.push(format!("{what} is `{expression}`: GPL family")),
                Err(error) => {
                    violations.push(format!("{what}: cannot read `{expression}`: {error}"))
                }
            },
        }
    }
    violations
}

/// Whether the SPDX-style `expression` (AND, OR, `/` for OR, WITH, parentheses) can be
/// satisfied by choosing only licences outside the GPL family (GPL, LGPL, AGPL).
pub fn has_choice_without_gpl(expression: &str) -> Result<bool, String> {
    let tokens = license_tokens(expression);
    let mut rest = tokens.as_slice();
    let free = any_of(&mut rest)?;
    match rest.first() {
        None => Ok(free),
        Some(token) => Err(format!("unexpected `{token}`")),
    }
}

/// Words, parentheses and slashes of a licence expression.
fn license_tokens(expression: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut word = String::new();
    for c in expression.chars() {
        if c.is_whitespace() || matches!(c, '(' | ')' | '/') {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
        } else {
            word.push(c);
        }
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    tokens
}

/// Consumes the next token when it is `word` (operators in any case).
fn eat(rest: &mut &[String], word: &str) -> bool {
    match rest.split_first() {
        Some((first, tail)) if first.eq_ignore_ascii_case(word) => {
            *rest = tail;
            true
        }
        _ => false,
    }
}

fn is_operator(token: &str) -> bool {
    ["AND", "OR", "WITH", "(", ")", "/"].iter().any(|op| token.eq_ignore_ascii_case(op))
}

/// `all_of (OR all_of)*`: free when any alternative is.
fn any_of(rest: &mut &[String]) -> Result<bool, String> {
    let mut free = all_of(rest)?;
    while eat(rest, "OR") || eat(rest, "/") {
        let next = all_of(rest)?;
        free = free || next;
    }
    Ok(free)
}

/// `term (AND term)*`: free when every part is.
fn all_of(rest: &mut &[String]) -> Result<bool, String> {
    let mut free = term(rest)?;
    while eat(rest, "AND") {
        let next = term(rest)?;
        free = free && next;
    }
    Ok(free)
}

/// `( any_of )` or `licence [WITH exception]`: a licence is free unless it names GPL.
fn term(rest: &mut &[String]) -> Result<bool, String> {
    if eat(rest, "(") {
        let free = any_of(rest)?;
        return if eat(rest, ")") { Ok(free) } else { Err("missing `)`".to_owned()) };
    }
    let license = identifier(rest)?;
    if eat(rest, "WITH") {
        identifier(rest)?;
    }
    Ok(!license.to_ascii_uppercase().contains("GPL"))
}

/// Consumes a licence or exception identifier.
fn identifier(rest: &mut &[String]) -> Result<String, String> {
    match rest.split_first() {
        Some((token, tail)) if !is_operator(token) => {
            *rest = tail;
            Ok(token.clone())
        }
        Some((token, _)) => Err(format!("unexpected `{token}`")),
        None => Err("the expression ends early".to_owned()),
    }
}

// ---------------------------------------------------------------------------------------
// Check 3: migration folders.

/// Migration folder names present for one backend but not the other.
pub fn migration_violations(sqlite: &[String], postgres: &[String]) -> Vec<String> {
    let sqlite: BTreeSet<&String> = sqlite.iter().collect();
    let postgres: BTreeSet<&String> = postgres.iter().collect();
    let only_sqlite = sqlite
        .difference(&postgres)
        .map(|name| format!("migrations: `{name}` is in migrations/sqlite/ but not postgres/"));
    let only_postgres = postgres
        .difference(&sqlite)
        .map(|name| format!("migrations: `{name}` is in migrations/postgres/ but not sqlite/"));
    only_sqlite.chain(only_postgres).collect()
}

// ---------------------------------------------------------------------------------------
// Check 4: the README's configuration table against `api-server --help`.

/// Settings `--help` lists that no README row covers (by name, or by a `*` pattern such
/// as `auth.*`), README rows naming no listed setting, and patterns matching none.
pub fn settings_violations(readme: &str, help: &str) -> Vec<String> {
    let Some(rows) = readme_settings(readme) else {
        return vec!["README.md: no configuration table (a header row `| setting | …`)".to_owned()];
    };
    let listed = help_settings(help);
    if listed.is_empty() {
        return vec!["api-server --help lists no settings (lines `  section.name  …`)".to_owned()];
    }
    let mut violations = Vec::new();
    for setting in &listed {
        if !rows.iter().any(|row| glob_matches(row, setting)) {
            violations.push(format!(
                "README.md: setting `{setting}` (in api-server --help) has no row in the settings table"
            ));
        }
    }
    for row in &rows {
        if !listed.iter().any(|setting| glob_matches(row, setting)) {
            violations.push(format!(
                "README.md: settings row `{row}` matches no setting in api-server --help"
            ));
        }
    }
    violations
}

/// The first-column names of the README table headed `| setting | …`, without their
/// backticks; `None` when there is no such table.
fn readme_settings(readme: &str) -> Option<Vec<String>> {
    let mut lines = readme.lines().skip_while(|line| first_cell(line) != Some("setting"));
    lines.next()?;
    let rows = lines.take_while(|line| line.trim_start().starts_with('|'));
    let names = rows.filter_map(|row| {
        let cell = first_cell(row)?;
        Some(cell.strip_prefix('`')?.strip_suffix('`')?.to_owned())
    });
    Some(names.collect())
}

/// The first cell of a Markdown table row, trimmed.
fn first_cell(line: &str) -> Option<&str> {
    let cells = line.trim().strip_prefix('|')?;
    cells.split('|').next().map(str::trim)
}

/// The settings `--help` lists: indented lines starting with `section.name`.
fn help_settings(help: &str) -> Vec<String> {
    help.lines()
        .filter(|line| line.starts_with(char::is_whitespace))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|word| is_setting_name(word))
        .map(str::to_owned)
        .collect()
}

/// `section.name`: two or more dot-separated lowercase words (`a-z`, digits, `_`).
fn is_setting_name(word: &str) -> bool {
    let is_part = |part: &str| {
        part.starts_with(|c: char| c.is_ascii_lowercase())
            && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    word.contains('.') && word.split('.').all(is_part)
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters.
fn glob_matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else { return rest.is_empty() };
    for part in middle {
        let Some(at) = rest.find(part) else { return false };
        rest = &rest[at + part.len()..];
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Metadata over `packages` (name, licence), the workspace `members`, and `edges`
    /// (from, to, kind: `None` for normal, else "dev" or "build").
    fn metadata(
        packages: &[(&str, Option<&str>)],
        members: &[&str],
        edges: &[(&str, &str, Option<&str>)],
    ) -> Value {
        let id = |name: &str| format!("{name}#1.0.0");
        let packages: Vec<Value> = packages
            .iter()
            .map(|&(name, license)| {
                json!({"name": name, "version": "1.0.0", "id": id(name), "license": license})
            })
            .collect();
        let nodes: Vec<Value> = packages
            .iter()
            .map(|package| {
                let name = text(package, "name");
                let deps: Vec<Value> = edges
                    .iter()
                    .filter(|(from, _, _)| *from == name)
                    .map(|&(_, to, kind)| {
                        let kinds = json!([{"kind": kind, "target": null}]);
                        json!({"name": to, "pkg": id(to), "dep_kinds": kinds})
                    })
                    .collect();
                json!({"id": id(name), "deps": deps})
            })
            .collect();
        let members: Vec<String> = members.iter().copied().map(id).collect();
        let resolve = json!({"nodes": nodes, "root": null});
        json!({"packages": packages, "workspace_members": members, "resolve": resolve})
    }

    const WORKSPACE: [&str; 7] =
        ["ap-domain", "ap-auth", "ap-store", "ap-market", "ap-api", "api-server", "ap-payments"];

    /// The workspace (Apache-2.0) plus `extra` packages, with `edges`.
    fn workspace(extra: &[(&str, Option<&str>)], edges: &[(&str, &str, Option<&str>)]) -> Value {
        let mut packages: Vec<(&str, Option<&str>)> =
            WORKSPACE.iter().map(|name| (*name, Some("Apache-2.0"))).collect();
        packages.extend_from_slice(extra);
        metadata(&packages, &WORKSPACE, edges)
    }

    /// A clean layering: only ap-store knows diesel, only ap-api actix-web, only
    /// ap-payments Stripe.
    const CLEAN: [(&str, &str, Option<&str>); 10] = [
        ("ap-domain", "serde", None),
        ("ap-auth", "ap-domain", None),
        ("ap-store", "ap-domain", None),
        ("ap-store", "diesel", None),
        ("ap-market", "ap-store", None),
        ("ap-api", "ap-market", None),
        ("ap-api", "actix-web", None),
        ("ap-payments", "async-stripe", None),
        ("api-server", "ap-api", None),
        ("api-server", "ap-payments", None),
    ];

    const LIBRARIES: [(&str, Option<&str>); 4] = [
        ("serde", Some("MIT OR Apache-2.0")),
        ("diesel", Some("MIT OR Apache-2.0")),
        ("actix-web", Some("MIT OR Apache-2.0")),
        ("async-stripe", Some("MIT OR Apache-2.0")),
    ];

    fn with(extra: &[(&'static str, &'static str, Option<&'static str>)]) -> Value {
        let mut edges = CLEAN.to_vec();
        edges.extend_from_slice(extra);
        workspace(&LIBRARIES, &edges)
    }

    #[test]
    fn clean_layering_passes() {
        let metadata = with(&[]);
        assert_eq!(dependency_violations(&metadata), Vec::<String>::new());
        assert_eq!(license_violations(&metadata), Vec::<String>::new());
    }

    #[test]
    fn pure_crate_depending_on_diesel_fails() {
        // ap-auth depends on ap-domain, so it now reaches diesel too.
        let violations = dependency_violations(&with(&[("ap-domain", "diesel", None)]));
        assert_eq!(
            violations,
            [
                "dependencies: ap-domain must not reach diesel: ap-domain -> diesel",
                "dependencies: only ap-store may depend on diesel: ap-domain does",
                "dependencies: ap-auth must not reach diesel: ap-auth -> ap-domain -> diesel",
            ]
        );
    }

    #[test]
    fn the_service_crate_uses_sql_only_through_the_store_and_never_http() {
        let violations = dependency_violations(&with(&[("ap-market", "diesel", None)]));
        assert_eq!(
            violations,
            ["dependencies: only ap-store may depend on diesel: ap-market does"]
        );
        let violations = dependency_violations(&with(&[("ap-market", "actix-web", None)]));
        assert_eq!(
            violations,
            ["dependencies: ap-market must not reach actix-web: ap-market -> actix-web"]
        );
    }

    #[test]
    fn pure_crate_reaching_actix_web_transitively_fails() {
        let violations = dependency_violations(&with(&[("ap-auth", "ap-api", None)]));
        assert!(
            violations.contains(
                &"dependencies: ap-auth must not reach actix-web: ap-auth -> ap-api -> actix-web"
                    .to_owned()
            ),
            "{violations:?}"
        );
        assert!(violations.iter().any(|v| v.contains("ap-auth must not reach diesel")));
    }

    #[test]
    fn dev_and_build_dependencies_do_not_count() {
        let metadata =
            with(&[("ap-domain", "diesel", Some("dev")), ("ap-auth", "actix-web", Some("build"))]);
        assert_eq!(dependency_violations(&metadata), Vec::<String>::new());
    }

    #[test]
    fn workspace_crate_reaching_stripe_fails() {
        // ap-market and ap-api depend on ap-store, so they now reach async-stripe too.
        let violations = dependency_violations(&with(&[("ap-store", "async-stripe", None)]));
        assert_eq!(
            violations,
            [
                "dependencies: ap-store must not reach async-stripe: ap-store -> async-stripe",
                "dependencies: ap-market must not reach async-stripe: ap-market -> ap-store -> async-stripe",
                "dependencies: ap-api must not reach async-stripe: ap-api -> ap-market -> ap-store -> async-stripe",
            ]
        );
        let violations = dependency_violations(&with(&[("ap-api", "ap-payments", None)]));
        assert_eq!(
            violations,
            [
                "dependencies: ap-api must not reach async-stripe: ap-api -> ap-payments -> async-stripe"
            ]
        );
    }

    #[test]
    fn ap_payments_and_the_server_may_reach_stripe() {
        // CLEAN has ap-payments -> async-stripe and api-server -> ap-payments.
        let metadata = with(&[("ap-payments", "stripe-types", None)]);
        assert_eq!(dependency_violations(&metadata), Vec::<String>::new());
    }

    #[test]
    fn metadata_without_a_resolved_graph_is_reported() {
        let violations = dependency_violations(&json!({"packages": [], "resolve": null}));
        assert_eq!(violations.len(), 1);
    }

    #[test]
    fn gpl_package_fails() {
        let metadata =
            workspace(&[("readline", Some("GPL-3.0"))], &[("ap-domain", "readline", None)]);
        assert_eq!(
            license_violations(&metadata),
            ["license: readline 1.0.0 is `GPL-3.0`: GPL family"]
        );
    }

    #[test]
    fn gpl_as_one_choice_passes() {
        let metadata =
            workspace(&[("dual", Some("MIT OR GPL-3.0"))], &[("ap-domain", "dual", None)]);
        assert_eq!(license_violations(&metadata), Vec::<String>::new());
    }

    #[test]
    fn missing_license_is_reported_outside_the_workspace() {
        let packages = [("mystery", None), ("ap-domain", None), ("ap-auth", Some("Apache-2.0"))];
        let metadata = metadata(&packages, &["ap-domain", "ap-auth"], &[]);
        assert_eq!(
            license_violations(&metadata),
            ["license: mystery 1.0.0 states no `license` (look at its files)"]
        );
    }

    #[test]
    fn license_expressions() {
        let free = |expression: &str| has_choice_without_gpl(expression).expect(expression);
        assert!(free("MIT"));
        assert!(free("MIT OR Apache-2.0"));
        assert!(free("MIT/Apache-2.0"));
        assert!(free("Apache-2.0 / MIT"));
        assert!(free("MIT OR GPL-3.0"));
        assert!(free("GPL-2.0 OR (MIT AND Apache-2.0)"));
        assert!(free("(MIT OR Apache-2.0) AND Unicode-3.0"));
        assert!(free("Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT"));
        assert!(free("MIT OR Apache-2.0 OR LGPL-2.1-or-later"));
        assert!(free("mit or apache-2.0"));
        assert!(!free("GPL-3.0-or-later"));
        assert!(!free("GPL-2.0+"));
        assert!(!free("AGPL-3.0"));
        assert!(!free("LGPL-2.1"));
        assert!(!free("GPL-2.0 WITH Classpath-exception-2.0"));
        assert!(!free("(MIT OR Apache-2.0) AND GPL-2.0"));
        assert!(!free("MIT AND GPL-2.0 OR GPL-3.0"));
        assert!(free("GPL-3.0 OR MIT AND Apache-2.0"), "AND binds tighter than OR");
        for broken in ["", "(MIT", "MIT)", "MIT AND", "OR MIT", "MIT Apache-2.0", "MIT WITH"] {
            assert!(has_choice_without_gpl(broken).is_err(), "{broken:?}");
        }
    }

    #[test]
    fn unreadable_license_is_reported() {
        let metadata = workspace(&[("odd", Some("MIT AND"))], &[]);
        let violations = license_violations(&metadata);
        assert_eq!(violations.len(), 1);
        assert!(violations[0].starts_with("license: odd 1.0.0: cannot read `MIT AND`"));
    }

    fn names(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn same_migration_folders_pass() {
        let folders = names(&["2026-11-29-000001_marketplace", "2026-11-29-000002_categories"]);
        let mut reversed = folders.clone();
        reversed.reverse();
        assert_eq!(migration_violations(&folders, &reversed), Vec::<String>::new());
    }

    #[test]
    fn differing_migration_folders_fail_on_each_side() {
        let sqlite = names(&["0001_marketplace", "0002_categories"]);
        let postgres = names(&["0001_marketplace", "0003_payments"]);
        assert_eq!(
            migration_violations(&sqlite, &postgres),
            [
                "migrations: `0002_categories` is in migrations/sqlite/ but not postgres/",
                "migrations: `0003_payments` is in migrations/postgres/ but not sqlite/",
            ]
        );
    }

    const README: &str = "\
# Server

## Configuration

| setting | environment | default |
|---|---|---|
| `server.bind` | `AP_SERVER__BIND` | `127.0.0.1:8080` |
| `database.url` | `AP_DATABASE__URL` or `DATABASE_URL` | `sqlite://data/agentpowers.db` |
| `auth.*` | `AP_AUTH__…` | identity provider: see [docs/AUTH.md](docs/AUTH.md) |
| `rate_limit.*_per_minute` | `AP_RATE_LIMIT__PUBLIC_READ_PER_MINUTE`, `…WRITE…` | `60`, `20` |

Other tasks: `make lint`.

| other | table |
|---|---|
| `not.a_setting` | ignored |
";

    const HELP: &str = "\
The AgentPowers marketplace API server

Usage: api-server [OPTIONS] [COMMAND]

Commands:
  serve    Apply pending migrations, then serve HTTP until SIGINT/SIGTERM (the default)
  help     Print this message or the help of the given subcommand(s)

Options:
  -c, --config <CONFIG>  TOML configuration file [env: AP_CONFIG=]
  -h, --help             Print help

Settings (defaults, then --config FILE as TOML, then environment):
  server.bind                  AP_SERVER__BIND                  address to listen on [127.0.0.1:8080]
  database.url                 AP_DATABASE__URL or DATABASE_URL sqlite://FILE or postgres://… [sqlite://data/agentpowers.db]
  auth.issuer                  AP_AUTH__ISSUER                  identity provider issuer (Clerk, OIDC) [none]
  auth.dev_sign_in             AP_AUTH__DEV_SIGN_IN             development sign-in [on when no issuer is set]
  rate_limit.public_read_per_minute AP_RATE_LIMIT__PUBLIC_READ_PER_MINUTE reads without a token, per IP [60]
  rate_limit.write_per_minute  AP_RATE_LIMIT__WRITE_PER_MINUTE  writes per user or IP [20]
";

    #[test]
    fn parses_the_table_and_the_help() {
        let rows = readme_settings(README).expect("table");
        assert_eq!(rows, ["server.bind", "database.url", "auth.*", "rate_limit.*_per_minute"]);
        assert_eq!(
            help_settings(HELP),
            [
                "server.bind",
                "database.url",
                "auth.issuer",
                "auth.dev_sign_in",
                "rate_limit.public_read_per_minute",
                "rate_limit.write_per_minute",
            ]
        );
    }

    #[test]
    fn matching_readme_and_help_pass() {
        assert_eq!(settings_violations(README, HELP), Vec::<String>::new());
    }

    #[test]
    fn setting_missing_from_the_readme_fails() {
        let help = format!(
            "{HELP}  rate_limit.redis_prefix      AP_RATE_LIMIT__REDIS_PREFIX      Redis key prefix [ap:rl:]\n"
        );
        assert_eq!(
            settings_violations(README, &help),
            [
                "README.md: setting `rate_limit.redis_prefix` (in api-server --help) has no row in the settings table"
            ]
        );
    }

    #[test]
    fn readme_row_missing_from_the_help_fails() {
        let help = HELP.replace("  server.bind ", "  server.listen ");
        let violations = settings_violations(README, &help);
        assert_eq!(
            violations,
            [
                "README.md: setting `server.listen` (in api-server --help) has no row in the settings table",
                "README.md: settings row `server.bind` matches no setting in api-server --help",
            ]
        );
    }

    #[test]
    fn pattern_row_matching_nothing_fails() {
        let help: String = HELP
            .lines()
            .filter(|line| !line.contains("auth."))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(
            settings_violations(README, &help),
            ["README.md: settings row `auth.*` matches no setting in api-server --help"]
        );
    }

    #[test]
    fn missing_table_or_settings_are_reported() {
        assert_eq!(settings_violations("# no table\n", HELP).len(), 1);
        assert_eq!(settings_violations(README, "Usage: api-server\n").len(), 1);
    }

    #[test]
    fn globs() {
        assert!(glob_matches("auth.*", "auth.issuer"));
        assert!(glob_matches("rate_limit.*_per_minute", "rate_limit.write_per_minute"));
        assert!(glob_matches("server.bind", "server.bind"));
        assert!(glob_matches("a*b*c", "a-x-b-y-c"));
        assert!(!glob_matches("server.bind", "server.bind_x"));
        assert!(!glob_matches("rate_limit.*_per_minute", "rate_limit.enabled"));
        assert!(!glob_matches("auth.*", "cache.ttl_secs"));
        assert!(!glob_matches("a*a", "a"));
    }
}
