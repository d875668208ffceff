//! `cargo xtask bench pages`: the storefront's pages on the demo marketplace (the data of
//! `make run`), plus a signed-in seller with 300 sales over two years for the account and
//! dashboard pages. Each page is asked for again and again over one connection, so its
//! latency is the server's own time per page (plus the loopback hop); the server is pinned
//! to core 0 (1 worker) and wrk to core 1. Results go to `target/bench/pages.md`.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use ap_auth::session::DevIssuer;
use ap_domain::clock::ManualClock;
use ap_store::{Db, DbConfig, write_tx};
use api_server::{Config, run};

use crate::bench::{self, ADDRESS, Measurement};
use crate::{bench_sellers, demo, seed};

/// The signed-in seller's sales.
const SALES: usize = 300;
/// The development issuer's key of the benchmark server (a throwaway).
const SESSION_KEY: &str = "bench-pages-development-session-key-0123456789";

/// `cargo xtask bench pages`.
pub fn pages(workspace: &Path, config: &Config) -> anyhow::Result<()> {
    bench::ensure_wrk()?;
    let binary = bench::release_server(workspace)?;
    let dir = bench::tempfile_dir()?;
    let db_url = format!("sqlite://{}", dir.join("bench.db").display());
    let mut config = config.clone();
    config.database.url = db_url.clone();
    config.storage.data_dir = dir.clone();
    let db = Db::open(&DbConfig::new(&db_url))?;
    db.migrate()?;
    let clock = ManualClock::new(chrono::Utc::now());
    let market = run::market(&config, db.clone(), Arc::new(clock.clone()), None)?;
    seed::demo(&db, &market, &clock).context("seeding the demo marketplace")?;

    // A seller signed in through the development issuer, as the sign-in page does.
    let public_url = format!("http://{ADDRESS}");
    let issuer = DevIssuer::new(
        format!("{public_url}/dev-sign-in"),
        SESSION_KEY.as_bytes().to_vec(),
        chrono::Duration::hours(2),
    );
    let now = chrono::Utc::now();
    let session = issuer.sign("bench-seller", Some("seller@example.com"), Some("Sam"), now)?;
    let identity = ap_store::users::Identity {
        issuer: issuer.issuer().to_owned(),
        subject: "bench-seller".to_owned(),
        email: Some("seller@example.com".to_owned()),
        name: Some("Sam".to_owned()),
        signed_in_at: Some(now.naive_utc()),
    };
    let seller =
        db.run_blocking(move |c| ap_store::users::upsert(c, &identity, now.naive_utc()))?;
    db.run_blocking(move |c| write_tx(c, |c| bench_sellers::seed(c, &seller, SALES)))
        .context("the seller's sales")?;
    drop(db);

    let (skill, agent, seller_slug) = demo_pages();
    let cookie = format!("__session={session}");
    let env = [("AP_AUTH__DEV_SIGNING_KEY", SESSION_KEY), ("AP_SERVER__PUBLIC_URL", &public_url)];
    let mut server = bench::start_server(&binary, &db_url, &dir, 10, &env)?;
    let pages: [(&'static str, String, Option<&str>); 11] = [
        ("yardstick: bare JSON", "/_bench/bare".to_owned(), None),
        ("home", "/".to_owned(), None),
        ("home, search", "/?q=git+commit".to_owned(), None),
        (
            "home, category, sorted, paid",
            "/?category=development&sort=price_desc&price=paid".to_owned(),
            None,
        ),
        ("listing (skill)", format!("/skills/{skill}"), None),
        ("listing (agent)", format!("/agents/{agent}"), None),
        ("seller", format!("/sellers/{seller_slug}"), None),
        ("sign-in", "/sign-in".to_owned(), None),
        ("account", "/account".to_owned(), Some(cookie.as_str())),
        ("dashboard", "/dashboard".to_owned(), Some(cookie.as_str())),
        ("dashboard, by month", "/dashboard?period=month".to_owned(), Some(cookie.as_str())),
    ];
    let mut results = Vec::new();
    for (name, path, cookie) in &pages {
        let (status, _) = bench::http_get_with(path, *cookie)?;
        anyhow::ensure!(status == 200, "{path} answered {status}");
        results.push(bench::measure_one_by_one(&server, name, path, *cookie)?);
    }
    let _ = server.kill();
    let _ = server.wait();
    let report = render(&results);
    println!("{report}");
    let out = workspace.join("target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("pages.md"), &report)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// A paid demo skill with reviews, a demo agent, and the seller of the skill.
fn demo_pages() -> (&'static str, &'static str, &'static str) {
    let skill = demo::LISTINGS.iter().find(|l| l.4 == "skill" && l.5 > 0).expect("a paid skill");
    let agent = demo::LISTINGS.iter().find(|l| l.4 == "agent").expect("an agent");
    (skill.0, agent.0, demo::SELLERS[skill.6].1)
}

fn render(results: &[Measurement]) -> String {
    let mut out = format!(
        "The demo marketplace ({} listings) and a signed-in seller with {SALES} sales; server on \
         core 0 (1 worker), wrk -t1 -c1 on core 1 (after 3 s of the same load): one request at a time, so p50 is the \
         server's time per page plus the loopback hop.\n\n\
         | page | path | p50 ms | p99 ms | req/s (one connection) | non-2xx |\n\
         |---|---|---:|---:|---:|---:|\n",
        demo::LISTINGS.len()
    );
    for m in results {
        out.push_str(&format!(
            "| {} | `{}` | {:.2} | {:.2} | {:.0} | {} |\n",
            m.name, m.path, m.p50_ms, m.p99_ms, m.requests_per_sec, m.errors
        ));
    }
    out
}
