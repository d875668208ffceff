//! `cargo xtask bench files`: the signed download of a 50 KB archive against a bare
//! handler that reads the same file from disk (same binary, same run, same method as the
//! catalog benchmark), then the same signed download from S3-compatible storage when
//! `AP_TEST_S3_URL` names a server (the local one the tests use; `AWS_*` credentials as
//! for the tests), then the scan's throughput for a typical skill and for a 10 MB
//! archive. Results go to `target/bench/files.md`.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use ap_market::blobs::{BlobStore, LocalBlobs, Staged};
use ap_market::signing::UrlSigner;
use ap_market::{Market, MarketConfig, Outside};
use ap_store::models::NewUser;
use ap_store::{Db, DbConfig, publish};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zip::write::SimpleFileOptions;

use crate::bench::{self, Measurement};

const SLUG: &str = "bench-download";
/// Compressed size of the downloaded archive.
const DOWNLOAD_BYTES: usize = 50 * 1024;
/// Compressed size of the large scanned archive (under the 10 MiB cap).
const LARGE_BYTES: usize = 10_000_000;

/// Lines of text of random lowercase "words" (compresses about as well as prose).
fn random_text(rng: &mut StdRng, bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 80);
    while text.len() < bytes {
        for _ in 0..10 {
            let len = rng.random_range(2..10);
            text.extend((0..len).map(|_| char::from(b'a' + rng.random_range(0..26u8))));
            text.push(' ');
        }
        text.push('\n');
    }
    text
}

fn zip(files: &[(String, String)], method: zip::CompressionMethod) -> anyhow::Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(method);
    for (path, text) in files {
        writer.start_file(path.as_str(), options)?;
        writer.write_all(text.as_bytes())?;
    }
    Ok(writer.finish()?.into_inner())
}

const MANIFEST: &str = "---\nname: bench-download\ndescription: \"A realistic skill used to measure downloads and scans.\"\n---\n\n# Bench download\n\nFollow the steps in reference.md.\n";

/// A skill package of about `target` compressed bytes: a manifest and reference files.
fn package(rng: &mut StdRng, target: usize) -> anyhow::Result<Vec<u8>> {
    let mut files = vec![("SKILL.md".to_owned(), MANIFEST.to_owned())];
    loop {
        let bytes = zip(&files, zip::CompressionMethod::Deflated)?;
        if bytes.len() >= target {
            return Ok(bytes);
        }
        let chunk = ((target - bytes.len()) * 2).clamp(256, 16 * 1024);
        files.push((format!("reference/part-{}.md", files.len()), random_text(rng, chunk)));
    }
}

/// A typical skill: manifest, a reference, a script and an example (about 20 KB of text).
fn typical_skill(rng: &mut StdRng) -> anyhow::Result<Vec<u8>> {
    let files = vec![
        ("SKILL.md".to_owned(), format!("{MANIFEST}\n{}", random_text(rng, 4_000))),
        ("reference.md".to_owned(), random_text(rng, 8_000)),
        ("scripts/check.py".to_owned(), format!("import sys\n\n# {}", random_text(rng, 3_000))),
        ("examples/example.md".to_owned(), random_text(rng, 5_000)),
    ];
    zip(&files, zip::CompressionMethod::Deflated)
}

/// A 10 MB archive: 50 text files stored without compression.
fn large_archive(rng: &mut StdRng) -> anyhow::Result<Vec<u8>> {
    let mut files = vec![("SKILL.md".to_owned(), MANIFEST.to_owned())];
    let per_file = LARGE_BYTES / 50 - 200;
    for i in 0..49 {
        files.push((format!("reference/part-{i}.md"), random_text(rng, per_file)));
    }
    zip(&files, zip::CompressionMethod::Stored)
}

/// Publishes the benchmark archive through `Publisher`; answers its SHA-256.
fn publish_archive(db: &Db, blobs: Arc<dyn BlobStore>, bytes: Vec<u8>) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async {
        let now = chrono::Utc::now().naive_utc();
        let user = NewUser {
            display_name: Some("Bench Publisher".to_owned()),
            display_name_slug: Some("bench-publisher".to_owned()),
            ..NewUser::new("bench", "bench-publisher", None, None, now)
        };
        let owner = ap_domain::UserId::from(user.id.clone());
        db.run(move |c| publish::insert_user(c, &user)).await?;
        let clock = Arc::new(ap_domain::clock::SystemClock);
        let signer = UrlSigner::new(b"bench".repeat(8));
        let gateway = Arc::new(ap_payments::SandboxGateway::new("http://127.0.0.1"));
        let outside = Outside { blobs, signer, clock, gateway };
        let market = Market::new(db.clone(), outside, MarketConfig::default())?;
        let publisher = market.publisher();
        let body = serde_json::json!({
            "slug": SLUG, "title": "Bench download", "category": "development",
            "description": "A realistic skill used to measure downloads and scans.",
        });
        let body = body.as_object().cloned().context("object")?;
        publisher.create(owner.clone(), body, None).await?;
        let target = publisher.upload_target(owner.clone(), SLUG.to_owned(), None, None).await?;
        let staged = Staged::from_bytes(&publisher.blobs().staging_dir(), &bytes)?;
        let result = publisher.upload(owner, target, staged).await?;
        anyhow::ensure!(result.security_score == 10, "bench archive not clean: {result:?}");
        Ok(result.archive_sha256)
    })
}

/// Scan throughput of `archive`: median of five rounds of at least a second each.
fn scan_rate(archive: &[u8]) -> (f64, f64) {
    let limits = ap_scan::Limits::default();
    let mut rates = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut scans = 0u32;
        while started.elapsed() < Duration::from_secs(1) {
            let report = ap_scan::scan(archive, ap_scan::PackageKind::Skill, &limits);
            assert!(report.content_hash.is_some());
            scans += 1;
        }
        rates.push(f64::from(scans) / started.elapsed().as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    let per_sec = rates[2];
    (per_sec, per_sec * archive.len() as f64 / 1_000_000.0)
}

/// `cargo xtask bench files`.
pub fn files(workspace: &Path) -> anyhow::Result<()> {
    bench::ensure_wrk()?;
    let binary = bench::release_server(workspace)?;
    let dir = bench::tempfile_dir()?;
    let db_url = format!("sqlite://{}", dir.join("bench.db").display());
    let db = Db::open(&DbConfig::new(&db_url))?;
    db.migrate()?;
    let mut rng = StdRng::seed_from_u64(50);
    let archive = package(&mut rng, DOWNLOAD_BYTES)?;
    let blobs: Arc<dyn BlobStore> = Arc::new(LocalBlobs::new(dir.join("archives")));
    let sha = publish_archive(&db, blobs, archive.clone())?;
    drop(db);

    let key = hex_key(&mut rng);
    let env = [
        ("AP_STORAGE__URL_SIGNING_KEY", key.as_str()),
        ("AP_STORAGE__DOWNLOAD_LINK_SECS", "86400"),
    ];
    let mut server = bench::start_server(&binary, &db_url, &dir, 10, &env)?;
    let (status, body) = bench::http_get(&format!("/v1/skills/{SLUG}/download"))?;
    anyhow::ensure!(status == 200, "download link: {status} {body}");
    let link: serde_json::Value = serde_json::from_str(&body)?;
    let url = link["url"].as_str().context("url")?;
    let path = url.split_once(bench::ADDRESS).map(|(_, p)| p.to_owned()).context("path")?;
    let mut results = vec![
        bench::measure(&server, "yardstick: bare file read", &format!("/_bench/file/{sha}"), None)?,
        bench::measure(&server, "signed download /v1/files/…", &path, None)?,
        bench::measure(
            &server,
            "download link (counts)",
            &format!("/v1/skills/{SLUG}/download"),
            None,
        )?,
    ];
    let _ = server.kill();
    let _ = server.wait();
    match s3_download(&binary, &db_url, &dir, &env, &archive, &path)? {
        Some(measured) => results.push(measured),
        None => eprintln!("AP_TEST_S3_URL unset: the download from S3 is not measured"),
    }

    let typical = typical_skill(&mut rng)?;
    let large = large_archive(&mut rng)?;
    let scans = [
        ("typical skill", typical.len(), scan_rate(&typical)),
        ("10 MB archive", large.len(), scan_rate(&large)),
    ];
    let report = render(&results, archive.len(), &scans);
    println!("{report}");
    let out = workspace.join("target/bench");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("files.md"), &report)?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The same signed download served from an S3 bucket (the archive put there under a
/// fresh prefix, the server started with `storage.backend = s3`); `None` without a server.
fn s3_download(
    binary: &Path,
    db_url: &str,
    dir: &Path,
    env: &[(&str, &str)],
    archive: &[u8],
    path: &str,
) -> anyhow::Result<Option<Measurement>> {
    let Ok(endpoint) = std::env::var("AP_TEST_S3_URL") else { return Ok(None) };
    let endpoint = endpoint.trim_end_matches('/').to_owned();
    // The bucket the tests use (a local server accepts an unsigned create).
    let created = std::process::Command::new("curl")
        .args(["-fsS", "-o", "/dev/null", "-X", "PUT", &format!("{endpoint}/ap-test")])
        .status()
        .context("curl")?;
    anyhow::ensure!(created.success(), "creating the bucket at {endpoint}");
    let settings = ap_s3::S3Settings {
        bucket: "ap-test".to_owned(),
        prefix: format!("bench-{}", uuid::Uuid::new_v4().simple()),
        endpoint: Some(endpoint),
        region: Some("us-east-1".to_owned()),
        staging_dir: dir.join("s3-staging"),
    };
    let store = ap_s3::S3Blobs::new(settings.clone())?;
    let staged = Staged::from_bytes(&store.staging_dir(), archive)?;
    store.put(staged)?;
    let endpoint = settings.endpoint.clone().unwrap_or_default();
    let region = settings.region.clone().unwrap_or_default();
    let mut s3_env = vec![
        ("AP_STORAGE__BACKEND", "s3"),
        ("AP_STORAGE__S3_BUCKET", settings.bucket.as_str()),
        ("AP_STORAGE__S3_PREFIX", settings.prefix.as_str()),
        ("AP_STORAGE__S3_ENDPOINT", endpoint.as_str()),
        ("AP_STORAGE__S3_REGION", region.as_str()),
    ];
    s3_env.extend_from_slice(env);
    let mut server = bench::start_server(binary, db_url, dir, 10, &s3_env)?;
    let measured = bench::measure(&server, "signed download, archive in S3 (moto)", path, None);
    let _ = server.kill();
    let _ = server.wait();
    Ok(Some(measured?))
}

fn hex_key(rng: &mut StdRng) -> String {
    (0..32).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
}

fn render(results: &[Measurement], archive: usize, scans: &[(&str, usize, (f64, f64))]) -> String {
    let bare = results.first().map_or(1.0, |m| m.requests_per_sec);
    let mut out = format!(
        "Archive of {archive} bytes; server on core 0 (1 worker), wrk -t1 -c64 -d10s on core 1 after 3 s of the same load.\n\n\
         | endpoint | req/s | × bare file read | MB/s | p50 ms | p99 ms | non-2xx | other CPU % |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for m in results {
        let megabytes = if m.name.contains("link") {
            "–".to_owned()
        } else {
            format!("{:.1}", m.requests_per_sec * archive as f64 / 1_000_000.0)
        };
        out.push_str(&format!(
            "| {} | {:.0} | {:.2} | {megabytes} | {:.2} | {:.2} | {} | {:.0} |\n",
            m.name,
            m.requests_per_sec,
            m.requests_per_sec / bare,
            m.p50_ms,
            m.p99_ms,
            m.errors,
            m.others_cpu_pct
        ));
    }
    out.push_str(
        "\n| scan (one thread) | archive bytes | archives/s | MB/s |\n|---|---:|---:|---:|\n",
    );
    for (name, bytes, (per_sec, mb)) in scans {
        out.push_str(&format!("| {name} | {bytes} | {per_sec:.1} | {mb:.1} |\n"));
    }
    out
}
