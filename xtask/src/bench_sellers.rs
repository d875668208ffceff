//! `cargo xtask bench sellers`: one seller with 100,000 sales over two years (10
//! listings, 10,000 buyers, every 20th sale refunded), written through the same store
//! functions as real sales (so the ledger is built as it would be), then the seller's
//! figures under load: earnings, a monthly revenue series over the two years, the
//! default daily series, the breakdown over two years and the first page of sales,
//! beside the primary-key yardstick of the same run. Results go to
//! `target/bench/sellers.md`.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use ap_domain::commerce::{LicenseCode, split};
use ap_store::models::{NewListing, NewListingVersion, NewUser};
use ap_store::purchases::{self, NewPurchase};
use ap_store::{Conn, Db, DbConfig, StoreError, publish, write_tx};
use chrono::{Duration, NaiveDateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::bench::{self, Measurement};

const SALES: usize = 100_000;
const LISTINGS: usize = 10;
const DAYS: i64 = 730;
const PRICE: i64 = 1_250;

fn listing(owner: &str, i: usize, at: NaiveDateTime) -> NewListing {
    NewListing {
        id: uuid::Uuid::now_v7().to_string(),
        slug: format!("seller-bench-{i}"),
        owner_id: owner.to_owned(),
        listing_type: "skill".to_owned(),
        title: format!("Seller bench {i}"),
        description: "A paid listing of the seller benchmark.".to_owned(),
        long_description: String::new(),
        category: "development".to_owned(),
        price_cents: PRICE,
        currency: "usd".to_owned(),
        download_count: 0,
        install_count: 0,
        view_count: 0,
        rating_sum: 0,
        rating_count: 0,
        created_at: at,
        updated_at: at,
    }
}

/// The seller's catalog of 10 listings, `sales` sales over two years (a buyer per 10
/// sales, every 20th refunded), in one transaction; answers the first listing's id.
pub(crate) fn seed(conn: &mut Conn, seller: &str, sales: usize) -> Result<String, StoreError> {
    let now = Utc::now().naive_utc();
    let start = now - Duration::days(DAYS);
    publish::insert_seller_account(conn, seller, "acct_bench", true, start)?;
    let mut listing_ids = Vec::new();
    for i in 0..LISTINGS {
        let row = listing(seller, i, start);
        publish::insert_listing(conn, &row)?;
        publish::insert_live_version(
            conn,
            &NewListingVersion::synthetic_live(&row.id, start),
            start,
        )?;
        listing_ids.push(row.id);
    }
    let mut buyers = Vec::new();
    for b in 0..sales.div_ceil(LISTINGS) {
        let user = NewUser::new("bench-buyers", &format!("buyer-{b}"), None, None, start);
        publish::insert_user(conn, &user)?;
        buyers.push(user.id);
    }
    let mut rng = StdRng::seed_from_u64(11);
    let money = split(PRICE);
    for i in 0..sales {
        let at = start + Duration::seconds(rng.random_range(0..DAYS * 86_400));
        let purchase = NewPurchase {
            id: uuid::Uuid::now_v7().to_string(),
            buyer_id: buyers[i / LISTINGS].clone(),
            listing_id: listing_ids[i % LISTINGS].clone(),
            amount_cents: PRICE,
            fee_cents: money.fee_cents,
            currency: "usd".to_owned(),
            status: "pending".to_owned(),
            created_at: at,
            updated_at: at,
            seller_id: seller.to_owned(),
        };
        purchases::insert(conn, &purchase)?;
        let code = LicenseCode::from_random(rng.random());
        purchases::complete(conn, &purchase.id, Some(&format!("pi_{i}")), code.as_str(), at)?;
        if i % 20 == 0 {
            purchases::refund(conn, &purchase.id, at + Duration::days(1))?;
        }
    }
    Ok(listing_ids[0].clone())
}

/// `cargo xtask bench sellers`.
pub fn sellers(workspace: &Path) -> anyhow::Result<()> {
    bench::ensure_wrk()?;
    let binary = bench::release_server(workspace)?;
    let dir = bench::tempfile_dir()?;
    let db_url = format!("sqlite://{}", dir.join("bench.db").display());
    let db = Db::open(&DbConfig::new(&db_url))?;
    db.migrate()?;
    let token = bench::cli_token(&db_url)?;
    let seller = bench::bench_user_id(&db)?;
    let started = Instant::now();
    let listing_id = db
        .run_blocking(|c| write_tx(c, |c| seed(c, &seller, SALES)))
        .context("seeding the seller's sales")?;
    let seed_secs = started.elapsed().as_secs_f64();
    eprintln!("seeded {SALES} sales in {seed_secs:.1} s");
    drop(db);

    let today = Utc::now().date_naive();
    let two_years = today - Duration::days(DAYS - 1);
    let mut server = bench::start_server(&binary, &db_url, &dir, 10, &[])?;
    let token = Some(token.as_str());
    let results = vec![
        bench::measure(
            &server,
            "yardstick: primary-key read",
            &format!("/_bench/pk/{listing_id}"),
            None,
        )?,
        bench::measure(&server, "earnings", "/v1/sellers/earnings", token)?,
        bench::measure(
            &server,
            "revenue, monthly, two years",
            &format!("/v1/sellers/revenue?period=month&from={two_years}&to={today}"),
            token,
        )?,
        bench::measure(&server, "revenue, daily, 30 days", "/v1/sellers/revenue", token)?,
        bench::measure(
            &server,
            "breakdown, two years",
            &format!("/v1/sellers/revenue/breakdown?from={two_years}&to={today}"),
            token,
        )?,
        bench::measure(&server, "sales, first page", "/v1/sellers/sales", token)?,
    ];
    let (rss, _) = bench::rss_kib(server.id());
    let _ = server.kill();
    let _ = server.wait();
    let report = render(&results, seed_secs, rss);
    println!("{report}");
    let out = workspace.join("target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("sellers.md"), &report)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn render(results: &[Measurement], seed_secs: f64, rss_kib: u64) -> String {
    let pk = results.first().map_or(1.0, |m| m.requests_per_sec);
    let mut out = format!(
        "One seller, {SALES} sales over {DAYS} days on {LISTINGS} listings (seeded in {seed_secs:.1} s); \
         server on core 0 (1 worker), wrk -t1 -c64 -d10s on core 1 after 3 s of the same load, with the seller's CLI token.\n\n\
         | endpoint | path | req/s | × PK read | p50 ms | p99 ms | non-2xx | other CPU % |\n\
         |---|---|---:|---:|---:|---:|---:|---:|\n"
    );
    for m in results {
        out.push_str(&format!(
            "| {} | `{}` | {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.0} |\n",
            m.name,
            m.path,
            m.requests_per_sec,
            m.requests_per_sec / pk,
            m.p50_ms,
            m.p99_ms,
            m.errors,
            m.others_cpu_pct
        ));
    }
    out.push_str(&format!("\nServer RSS after the runs: {:.1} MiB.\n", rss_kib as f64 / 1024.0));
    out
}
