//! `cargo xtask bench catalog`: seeds 100,000 listings into a fresh SQLite file, starts a
//! release server pinned to core 0, and loads it with `wrk` pinned to core 1.
//!
//! Each measurement is the second of two runs of the same load: the first, of
//! [`WARMUP_SECS`], fills the caches and the kernel's page cache, so a row shows the steady
//! state its name says (a row with caches on that started from empty caches would be mostly
//! the first pass's misses, which the rows with caches off measure on their own). Before
//! the measured run it waits for the machine to be idle, and afterwards reports the CPU
//! that other processes used meanwhile (this machine is shared and noisy) and the server's
//! own CPU time per request. Two yardsticks served by the same binary are measured in the
//! same run: a bare JSON handler and a bare primary-key read through the same pool. The
//! primary-key read is measured again right before each mix and on each server the suite
//! restarts, and each row is compared with the yardstick measured last before it: on a
//! machine whose speed drifts by a third within minutes, a yardstick from another server
//! several minutes earlier is no measure. Results are printed as a Markdown table and
//! written to `target/bench/catalog.md`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ap_market::blobs::LocalBlobs;
use ap_store::{Db, DbConfig};

use crate::seed;

const LISTINGS: usize = 100_000;
pub(crate) const ADDRESS: &str = "127.0.0.1:18080";
const DURATION_SECS: u64 = 10;
/// The unmeasured run of the same load before each measured one.
const WARMUP_SECS: u64 = 3;
const CONNECTIONS: u32 = 64;

/// One load run.
pub(crate) struct Measurement {
    pub(crate) name: &'static str,
    pub(crate) path: String,
    pub(crate) requests_per_sec: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) errors: u64,
    pub(crate) others_cpu_pct: f64,
    /// The server's own CPU time (user + system) per answered request, in µs: with the
    /// server on one core, the cost of a request whatever else slowed the run.
    pub(crate) server_us_per_request: f64,
}

/// What one `wrk` run reports.
struct WrkFigures {
    requests_per_sec: f64,
    requests: u64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// CPU counters in clock ticks.
#[derive(Clone, Copy)]
struct CpuSnapshot {
    busy_all: u64,
    server: u64,
    children: u64,
}

fn read_proc_stat_busy() -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string("/proc/stat")?;
    let line = stat.lines().next().context("empty /proc/stat")?;
    let fields: Vec<u64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    Ok(total - idle)
}

/// utime + stime (fields 14, 15 of `/proc/<pid>/stat`) or, for `children`, cutime +
/// cstime (16, 17: the CPU of waited-for children, here `wrk`).
fn process_ticks(pid: &str, children: bool) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).context("bad stat")?;
    // After the name, field 3 (state) is token 0, so field N is token N - 3.
    let tokens: Vec<&str> = after_name.split_whitespace().collect();
    let (a, b) = if children { (13, 14) } else { (11, 12) };
    let tick = |i: usize| tokens.get(i).and_then(|t| t.parse::<u64>().ok()).unwrap_or(0);
    Ok(tick(a) + tick(b))
}

fn snapshot(server: &Child) -> anyhow::Result<CpuSnapshot> {
    Ok(CpuSnapshot {
        busy_all: read_proc_stat_busy()?,
        server: process_ticks(&server.id().to_string(), false)?,
        children: process_ticks("self", true)? + process_ticks("self", false)?,
    })
}

/// Waits (up to a minute) until the whole machine is below 15 % of one core busy.
pub(crate) fn wait_for_idle() -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let before = read_proc_stat_busy()?;
        std::thread::sleep(Duration::from_secs(1));
        let busy = read_proc_stat_busy()? - before;
        if busy < 15 {
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(60) {
            eprintln!("machine still busy ({busy} ticks/s) after 60 s; measuring anyway");
            return Ok(());
        }
    }
}

fn parse_duration_ms(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// How a run loads the server.
struct Load<'a> {
    /// Connections kept open (64: throughput; 1: the server's own time per request).
    connections: u32,
    /// A header every request carries (`Name: value`).
    header: Option<String>,
    /// A wrk script choosing each request's path.
    script: Option<&'a Path>,
}

fn run_wrk(url: &str, load: &Load, seconds: u64) -> anyhow::Result<WrkFigures> {
    let mut command = Command::new("taskset");
    command.args([
        "-c",
        "1",
        "wrk",
        "-t1",
        &format!("-c{}", load.connections),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(header) = &load.header {
        command.args(["-H", header]);
    }
    if let Some(script) = load.script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(url).output().context("running wrk")?;
    let text = String::from_utf8_lossy(&output.stdout);
    let mut figures =
        WrkFigures { requests_per_sec: 0.0, requests: 0, p50_ms: 0.0, p99_ms: 0.0, errors: 0 };
    for line in text.lines().map(str::trim) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            ["Requests/sec:", value] => figures.requests_per_sec = value.parse().unwrap_or(0.0),
            [n, "requests", "in", ..] => figures.requests = n.parse().unwrap_or(0),
            ["50%", value] => figures.p50_ms = parse_duration_ms(value).unwrap_or(0.0),
            ["99%", value] => figures.p99_ms = parse_duration_ms(value).unwrap_or(0.0),
            ["Non-2xx", "or", "3xx", "responses:", n] => figures.errors = n.parse().unwrap_or(0),
            _ => {}
        }
    }
    if figures.requests_per_sec == 0.0 || figures.requests == 0 {
        bail!("wrk produced no figures for {url}:\n{text}");
    }
    Ok(figures)
}

pub(crate) fn measure(
    server: &Child,
    name: &'static str,
    path: &str,
    token: Option<&str>,
) -> anyhow::Result<Measurement> {
    let header = token.map(|token| format!("Authorization: Bearer {token}"));
    measure_load(server, name, path, Load { connections: CONNECTIONS, header, script: None })
}

/// One connection asking for `path` again and again (with `cookie` when given): its
/// latency is the server's own time per request, plus the loopback hop.
pub(crate) fn measure_one_by_one(
    server: &Child,
    name: &'static str,
    path: &str,
    cookie: Option<&str>,
) -> anyhow::Result<Measurement> {
    let header = cookie.map(|cookie| format!("Cookie: {cookie}"));
    measure_load(server, name, path, Load { connections: 1, header, script: None })
}

/// Loads the server with requests spread over `paths` (each request draws one at
/// random): traffic that a cache of one URL cannot absorb. `label` names the mix.
pub(crate) fn measure_mix(
    server: &Child,
    name: &'static str,
    label: &str,
    paths: &[String],
    dir: &Path,
) -> anyhow::Result<Measurement> {
    let script = dir.join("mix.lua");
    let list: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
    std::fs::write(
        &script,
        format!(
            "local paths = {{{}}}\nmath.randomseed(7)\n\
             request = function()\n  return wrk.format(\"GET\", paths[math.random(#paths)])\nend\n",
            list.join(",\n")
        ),
    )?;
    let load = Load { connections: CONNECTIONS, header: None, script: Some(&script) };
    measure_load(server, name, label, load)
}

fn measure_load(
    server: &Child,
    name: &'static str,
    path: &str,
    load: Load,
) -> anyhow::Result<Measurement> {
    let url = if load.script.is_some() {
        format!("http://{ADDRESS}/")
    } else {
        format!("http://{ADDRESS}{path}")
    };
    run_wrk(&url, &load, WARMUP_SECS)?;
    wait_for_idle()?;
    let before = snapshot(server)?;
    let started = Instant::now();
    let figures = run_wrk(&url, &load, DURATION_SECS)?;
    let elapsed = started.elapsed().as_secs_f64();
    let after = snapshot(server)?;
    let server_ticks = after.server - before.server;
    let ours = server_ticks + (after.children - before.children);
    let others = (after.busy_all - before.busy_all).saturating_sub(ours);
    // Ticks are 1/100 s: ticks per second = % of a core; one tick = 10,000 µs.
    let others_cpu_pct = others as f64 / elapsed;
    let server_us_per_request = server_ticks as f64 * 10_000.0 / figures.requests as f64;
    let m = Measurement {
        name,
        path: path.to_owned(),
        requests_per_sec: figures.requests_per_sec,
        p50_ms: figures.p50_ms,
        p99_ms: figures.p99_ms,
        errors: figures.errors,
        others_cpu_pct,
        server_us_per_request,
    };
    eprintln!(
        "{:<28} {:>9.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  non-2xx {}  others {:.0} %  server {:.1} µs/req",
        m.name,
        m.requests_per_sec,
        m.p50_ms,
        m.p99_ms,
        m.errors,
        m.others_cpu_pct,
        m.server_us_per_request
    );
    Ok(m)
}

/// A plain HTTP/1.1 GET to the benchmark server: status and body.
pub(crate) fn http_get(path: &str) -> anyhow::Result<(u16, String)> {
    http_get_with(path, None)
}

/// A plain HTTP/1.1 GET to the benchmark server, with `cookie` when given.
pub(crate) fn http_get_with(path: &str, cookie: Option<&str>) -> anyhow::Result<(u16, String)> {
    let mut stream = TcpStream::connect(ADDRESS)?;
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {ADDRESS}\r\n{cookie}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.get(9..12).and_then(|s| s.parse().ok()).context("no status line")?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

fn http_get_ok(path: &str) -> bool {
    matches!(http_get(path), Ok((200, _)))
}

pub(crate) fn start_server(
    binary: &Path,
    db_url: &str,
    data_dir: &Path,
    cache_ttl: u64,
    extra_env: &[(&str, &str)],
) -> anyhow::Result<Child> {
    let child = Command::new("taskset")
        .args(["-c", "0"])
        .arg(binary)
        .arg("serve")
        .env("AP_DATABASE__URL", db_url)
        .env("AP_STORAGE__DATA_DIR", data_dir)
        .env("AP_SERVER__BIND", ADDRESS)
        .env("AP_SERVER__WORKERS", "1")
        .env("AP_SERVER__BENCH_ROUTES", "true")
        .env("AP_CACHE__TTL_SECS", cache_ttl.to_string())
        .env("AP_LOG__LEVEL", "error")
        .env("AP_RATE_LIMIT__ENABLED", "false")
        .envs(extra_env.iter().copied())
        .stdout(Stdio::null())
        .spawn()
        .context("starting the server")?;
    let started = Instant::now();
    while !http_get_ok("/health") {
        if started.elapsed() > Duration::from_secs(60) {
            bail!("server did not answer /health within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(child)
}

pub(crate) fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

pub(crate) fn ensure_wrk() -> anyhow::Result<()> {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    eprintln!("wrk is missing; installing it with apt-get");
    let status = Command::new("apt-get").args(["install", "-y", "-qq", "wrk"]).status();
    match status {
        Ok(s) if s.success() => Ok(()),
        _ => bail!("wrk is needed: apt-get install wrk"),
    }
}

/// `cargo xtask bench catalog`.
/// The catalog suite on SQLite, or on a scratch database of the PostgreSQL server at
/// `postgres` (its own primary-key yardstick; the figures go to `catalog-postgres.md`).
pub fn catalog(workspace: &Path, postgres: Option<&str>) -> anyhow::Result<()> {
    ensure_wrk()?;
    let binary = release_server(workspace)?;
    let dir = tempfile_dir()?;
    let scratch = match postgres {
        Some(admin) => Some(ap_store::scratch::ScratchDatabase::create(
            admin,
            &format!("ap_bench_{}", std::process::id()),
        )?),
        None => None,
    };
    let (db_url, backend) = match &scratch {
        Some(scratch) => (scratch.url.clone(), "PostgreSQL"),
        None => (format!("sqlite://{}", dir.join("bench.db").display()), "SQLite"),
    };
    let db = Db::open(&DbConfig::new(&db_url))?;
    db.migrate()?;
    let started = Instant::now();
    seed::scale(&db, &LocalBlobs::new(dir.join("archives")), LISTINGS)?;
    let seed_secs = started.elapsed().as_secs_f64();
    eprintln!("seeded {LISTINGS} listings in {seed_secs:.1} s");
    let pk_id = db
        .run_blocking(|c| ap_store::catalog::listing_by_slug(c, "bench-50000", None))?
        .context("seeded listing")?
        .0
        .id;
    let categories: Vec<String> = db
        .run_blocking(ap_store::catalog::category_slugs)?
        .into_iter()
        .filter(|c| !c.ends_with("-agents"))
        .collect();
    drop(db);

    let starting = Instant::now();
    let mut server = start_server(&binary, &db_url, &dir, 10, &[])?;
    let start_secs = starting.elapsed().as_secs_f64();
    eprintln!(
        "server answered after {start_secs:.1} s (the search index is built before it listens)"
    );
    let deepest = ap_domain::page::MAX_OFFSET;
    let token = cli_token(&db_url)?;
    let yardstick = format!("/_bench/pk/{pk_id}");
    let targets: Vec<(&'static str, String, Option<&str>)> = vec![
        ("yardstick: bare JSON", "/_bench/bare".to_owned(), None),
        (PK_YARDSTICK, yardstick.clone(), None),
        ("detail /v1/skills/{slug}", "/v1/skills/bench-50000".to_owned(), None),
        ("detail, CLI token", "/v1/skills/bench-50000".to_owned(), Some(token.as_str())),
        ("list, first page", "/v1/skills".to_owned(), None),
        ("list, first page, CLI token", "/v1/skills".to_owned(), Some(token.as_str())),
        ("list, deepest page", format!("/v1/skills?offset={deepest}"), None),
        ("search, narrow (zephyr)", "/v1/search?q=zephyr".to_owned(), None),
        ("search, broad (toolkit)", "/v1/search?q=toolkit".to_owned(), None),
    ];
    let mixes = Mixes::new(&categories);
    let mut results = Vec::new();
    for (name, path, token) in &targets {
        results.push(measure(&server, name, path, *token)?);
    }
    for (name, label, paths) in mixes.with_cache() {
        results.push(measure(&server, PK_YARDSTICK, &yardstick, None)?);
        results.push(measure_mix(&server, name, label, paths, &dir)?);
    }
    let (rss, hwm) = rss_kib(server.id());
    let _ = server.kill();
    let _ = server.wait();

    // With caching off: the cost of queries nobody asked before, each beside a yardstick
    // measured on the same server just before it.
    let mut cold = start_server(&binary, &db_url, &dir, 0, &[])?;
    results.push(measure(&cold, PK_YARDSTICK, &yardstick, None)?);
    results.push(measure(&cold, "search, broad, cache off", "/v1/search?q=toolkit", None)?);
    for (name, label, paths) in mixes.without_cache() {
        results.push(measure(&cold, PK_YARDSTICK, &yardstick, None)?);
        results.push(measure_mix(&cold, name, label, paths, &dir)?);
    }
    let _ = cold.kill();
    let _ = cold.wait();

    // The same public read through each rate limiter, with quotas too large to refuse.
    let huge = [
        ("AP_RATE_LIMIT__ENABLED", "true"),
        ("AP_RATE_LIMIT__PUBLIC_READ_PER_MINUTE", "1000000000"),
    ];
    let redis_url =
        std::env::var("AP_BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let limiters: [(&'static str, &[(&str, &str)]); 3] = [
        ("detail, in-memory limiter", &[("AP_RATE_LIMIT__BACKEND", "memory")]),
        (
            "detail, Redis limiter",
            &[("AP_RATE_LIMIT__BACKEND", "redis"), ("AP_RATE_LIMIT__REDIS_URL", &redis_url)],
        ),
        // Beside the in-memory limiter row: the cost of recording and exposing metrics.
        (
            "detail, in-memory limiter, metrics on",
            &[("AP_RATE_LIMIT__BACKEND", "memory"), ("AP_METRICS__BIND", "127.0.0.1:9091")],
        ),
    ];
    for (name, env) in limiters {
        let env: Vec<(&str, &str)> = huge.iter().chain(env.iter()).copied().collect();
        match start_server(&binary, &db_url, &dir, 10, &env) {
            Ok(mut limited) => {
                results.push(measure(&limited, PK_YARDSTICK, &yardstick, None)?);
                results.push(measure(&limited, name, "/v1/skills/bench-50000", None)?);
                let _ = limited.kill();
                let _ = limited.wait();
            }
            Err(error) => eprintln!("{name}: not measured ({error})"),
        }
    }

    let report = render(&results, backend, (seed_secs, start_secs), rss, hwm);
    println!("{report}");
    let out = workspace.join("target/bench");
    std::fs::create_dir_all(&out)?;
    let file = if scratch.is_some() { "catalog-postgres.md" } else { "catalog.md" };
    std::fs::write(out.join(file), &report)?;
    drop(scratch);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The name of the primary-key yardstick's rows; every row is compared with the last one
/// measured before it.
const PK_YARDSTICK: &str = "yardstick: primary-key read";

/// Traffic mixes drawn with a fixed seed: what people browse and type, not one hot URL.
struct Mixes {
    browse: Vec<String>,
    details: Vec<String>,
    searches: Vec<String>,
}

impl Mixes {
    fn new(categories: &[String]) -> Self {
        use rand::rngs::StdRng;
        use rand::{Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(13);
        let sorts = ["popular", "newest", "rating", "price_asc", "price_desc"];
        let browse = (0..2_000)
            .map(|_| {
                let category = &categories[rng.random_range(0..categories.len())];
                let sort = sorts[rng.random_range(0..sorts.len())];
                let offset = 20 * rng.random_range(0..=49);
                format!("/v1/skills?category={category}&sort={sort}&offset={offset}")
            })
            .collect();
        let details = (0..5_000)
            .map(|_| format!("/v1/skills/bench-{}", rng.random_range(0..LISTINGS)))
            .collect();
        // 1–3 words of the catalog's vocabulary; half the time the last is still being
        // typed (a prefix of at least three letters).
        let searches = (0..5_000)
            .map(|_| {
                let count = rng.random_range(1..=3);
                let mut words: Vec<String> = (0..count)
                    .map(|_| seed::WORDS[rng.random_range(0..seed::WORDS.len())].to_owned())
                    .collect();
                if rng.random_bool(0.5)
                    && let Some(last) = words.last_mut()
                    && last.len() > 3
                {
                    let keep = rng.random_range(3..last.len());
                    last.truncate(keep);
                }
                format!("/v1/search?q={}", words.join("+"))
            })
            .collect();
        Self { browse, details, searches }
    }

    fn with_cache(&self) -> [(&'static str, &'static str, &[String]); 3] {
        [
            ("browse mix", "2,000 category × sort × offset pages", &self.browse),
            ("detail mix", "5,000 random slugs", &self.details),
            ("search mix", "5,000 queries of 1–3 words", &self.searches),
        ]
    }

    fn without_cache(&self) -> [(&'static str, &'static str, &[String]); 3] {
        [
            ("browse mix, cache off", "2,000 category × sort × offset pages", &self.browse),
            ("detail mix, cache off", "5,000 random slugs", &self.details),
            ("search mix, cache off", "5,000 queries of 1–3 words", &self.searches),
        ]
    }
}

/// Builds the release server; answers its path.
pub(crate) fn release_server(workspace: &Path) -> anyhow::Result<PathBuf> {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
        .args(["build", "--release", "--package", "api-server"])
        .current_dir(workspace)
        .status()?;
    if !status.success() {
        bail!("release build failed");
    }
    Ok(workspace.join("target/release/api-server"))
}

/// A CLI token of a benchmark user, stored as the server stores tokens.
pub(crate) fn cli_token(db_url: &str) -> anyhow::Result<String> {
    use ap_auth::cli_token::{self, CliToken};
    use ap_auth::store::{IdentityStore, NewCliToken};
    let db = Db::open(&DbConfig::new(db_url))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let now = chrono::Utc::now();
        let identity = ap_store::users::Identity {
            issuer: "bench".to_owned(),
            subject: "bench-user".to_owned(),
            email: None,
            name: None,
            signed_in_at: None,
        };
        let user_id =
            db.run(move |c| ap_store::users::upsert(c, &identity, now.naive_utc())).await?;
        let token = CliToken::generate()?;
        db.replace_cli_token(NewCliToken {
            id: format!("bench-token-{}", std::process::id()),
            user_id,
            token_hash: token.hash(),
            created_at: now,
            expires_at: now + cli_token::lifetime(),
        })
        .await?;
        Ok(token.expose().to_owned())
    })
}

/// The id of the user `cli_token` signs in.
pub(crate) fn bench_user_id(db: &Db) -> anyhow::Result<String> {
    let identity = ap_store::users::Identity {
        issuer: "bench".to_owned(),
        subject: "bench-user".to_owned(),
        email: None,
        name: None,
        signed_in_at: None,
    };
    let now = chrono::Utc::now().naive_utc();
    Ok(db.run_blocking(|c| ap_store::users::upsert(c, &identity, now))?)
}

pub(crate) fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("ap-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn render(
    results: &[Measurement],
    backend: &str,
    (seed_secs, start_secs): (f64, f64),
    rss_kib: u64,
    hwm_kib: u64,
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{LISTINGS} listings on {backend} (seeded in {seed_secs:.1} s; the server answers {start_secs:.1} s after it starts, its search index and listing documents built); server on core 0 (1 worker), wrk -t1 -c{CONNECTIONS} -d{DURATION_SECS}s on core 1, each run after {WARMUP_SECS} s of the same load.\n\n"
    ));
    out.push_str(
        "× PK read: req/s against the primary-key yardstick measured last before the row (on the same server); × PK CPU: the yardstick's server CPU per request over the row's (the server's own process only: on PostgreSQL the database's work is not in it).\n\n",
    );
    out.push_str(
        "| endpoint | path | req/s | × PK read | server µs/req | × PK CPU | p50 ms | p99 ms | non-2xx | other CPU % |\n",
    );
    out.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    let mut pk = results.iter().find(|m| m.name == PK_YARDSTICK);
    for m in results {
        if m.name == PK_YARDSTICK {
            pk = Some(m);
        }
        let (rps_ratio, cpu_ratio) = pk.map_or((f64::NAN, f64::NAN), |pk| {
            (
                m.requests_per_sec / pk.requests_per_sec,
                pk.server_us_per_request / m.server_us_per_request,
            )
        });
        out.push_str(&format!(
            "| {} | `{}` | {:.0} | {:.2} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {:.0} |\n",
            m.name,
            m.path,
            m.requests_per_sec,
            rps_ratio,
            m.server_us_per_request,
            cpu_ratio,
            m.p50_ms,
            m.p99_ms,
            m.errors,
            m.others_cpu_pct
        ));
    }
    out.push_str(&format!(
        "\nServer memory after the cached runs: RSS {:.1} MiB, peak {:.1} MiB.\n",
        rss_kib as f64 / 1024.0,
        hwm_kib as f64 / 1024.0
    ));
    out
}
