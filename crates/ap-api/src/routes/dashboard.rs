//! The seller's dashboard (`/dashboard`): onboarding state with the way to continue it,
//! earnings, a revenue chart by day, week or month (an SVG drawn here, readable without
//! JavaScript: every bar has its figures as a title, and the same figures are in a table
//! by period for screen readers and copying), figures per listing, recent sales and
//! activity, and the newest listings with their state, scan verdict and counts. Signed
//! out, the page sends the browser to sign in and back.

use actix_web::http::StatusCode;
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse};
use ap_domain::analytics::{DateRange, Period};
use ap_domain::page::PageRequest;
use ap_domain::wire::{Revenue, RevenuePoint};
use askama::Template;

use crate::openapi::ErrorBody;
use crate::pages::{self, html, signed_in};
use crate::query::{RawQuery, param};
use crate::routes::site::{price, price_label};
use crate::state::AppState;

/// Rows of the sales, activity and listings tables.
const ROWS: i64 = 20;
/// Size of the chart's drawing area.
const CHART_WIDTH: i64 = 720;
const CHART_HEIGHT: i64 = 180;

/// One bar of the revenue chart.
struct Bar {
    x: i64,
    y: i64,
    width: i64,
    height: i64,
    title: String,
}

/// The chart of `revenue`'s net figures, one bar per period (oldest first), scaled to
/// the largest.
fn bars(revenue: &Revenue) -> Vec<Bar> {
    let count = revenue.series.len().max(1) as i64;
    let slot = (CHART_WIDTH / count).max(1);
    let largest = revenue.series.iter().map(|p| p.net_cents).max().unwrap_or(0).max(1);
    revenue
        .series
        .iter()
        .enumerate()
        .map(|(i, point)| {
            let height = if point.net_cents > 0 {
                (point.net_cents * (CHART_HEIGHT - 10) / largest).max(2)
            } else {
                0
            };
            let start = point.period_start.map(|d| d.to_string()).unwrap_or_default();
            Bar {
                x: i as i64 * slot + 1,
                y: CHART_HEIGHT - height,
                width: (slot - 2).max(1),
                height,
                title: format!(
                    "{start}: {} net from {} sale{}",
                    money(point.net_cents),
                    point.sales_count,
                    if point.sales_count == 1 { "" } else { "s" }
                ),
            }
        })
        .collect()
}

fn money(cents: i64) -> String {
    if cents < 0 { format!("-{}", price(-cents, "usd")) } else { price(cents, "usd") }
}

/// A period link of the chart.
struct PeriodLink {
    label: &'static str,
    href: &'static str,
    current: bool,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    onboarded: bool,
    onboarding_started: bool,
    earnings: Vec<(&'static str, String)>,
    periods: Vec<PeriodLink>,
    period: &'static str,
    chart_width: i64,
    chart_height: i64,
    bars: Vec<Bar>,
    by_period: Vec<(String, String, i64)>,
    chart_summary: String,
    per_listing: Vec<(String, String, i64, String, String)>,
    sales: Vec<(String, String, String, String, &'static str)>,
    activity: Vec<(String, String, String)>,
    listings: Vec<OwnRow>,
}

/// One of the seller's listings in the table (a link only when it is live).
struct OwnRow {
    href: Option<String>,
    title: String,
    kind: &'static str,
    status: String,
    version: String,
    scan: &'static str,
    price: String,
    downloads: i64,
    installs: i64,
}

fn totals_summary(period: &str, totals: &RevenuePoint) -> String {
    format!(
        "Net revenue by {period}: {} in all from {} {}",
        money(totals.net_cents),
        totals.sales_count,
        if totals.sales_count == 1 { "sale" } else { "sales" }
    )
}

/// `GET /dashboard?period=`: the seller's dashboard.
#[utoipa::path(
    method(get, head),
    path = "/dashboard",
    tag = "pages",
    params(
        ("period" = Option<String>, Query,
            description = "The chart's bars: `day` (the default, the last 30 days), `week` or \
                `month` (the periods touching the last 84 or 366 days, as `GET \
                /v1/sellers/revenue` by default); another value is the default"),
        ("__session" = Option<String>, Cookie, description = "The session JWT that sign-in set"),
    ),
    responses(
        (status = 200, description = "Onboarding state, earnings, the revenue chart (SVG) and \
            per-listing figures, recent sales and activity, and the 20 newest listings with \
            their state, scan verdict and counts", content_type = "text/html", body = String),
        (status = 303, description = "Not signed in: to the sign-in page, which continues back \
            here", headers(("Location" = String, description = "The sign-in page"))),
        (status = "default", description = "A refusal: an HTML page (401: not signed in and no \
            sign-in page is configured; 503: the figures could not be read); other errors \
            (rate limiting) in the contract's envelope",
            content((ErrorBody = "application/json"), (String = "text/html"))),
    )
)]
pub async fn dashboard(req: HttpRequest, state: Data<AppState>, query: RawQuery) -> HttpResponse {
    let Some(caller) = signed_in(&req, &state).await else {
        let back = format!("{}/dashboard", state.config().public_url);
        return pages::to_sign_in(&state, &back, "Sign in to see your dashboard.");
    };
    let period = param(&query, "period").and_then(Period::parse).unwrap_or(Period::Day);
    match dashboard_page(&state, caller.user_id.as_str(), period).await {
        Ok(page) => html(StatusCode::OK, &page),
        Err(error) => {
            tracing::warn!(%error, "dashboard");
            pages::unreadable("Your figures")
        }
    }
}

async fn dashboard_page(
    state: &AppState,
    user: &str,
    period: Period,
) -> Result<DashboardPage, ap_market::sellers::SellerError> {
    let sellers = state.market().sellers();
    let user = || ap_domain::UserId::from(user.to_owned());
    let today = sellers.today_utc();
    let range = |days: i64| DateRange { from: today - chrono::Days::new(days as u64), to: today };
    let first = PageRequest { limit: ROWS, offset: 0 };
    let status = sellers.status(user()).await?;
    let earnings = sellers.earnings(user()).await?;
    let revenue = sellers.revenue(user(), period, range(period.default_days())).await?;
    let breakdown = sellers.breakdown(user(), range(period.default_days())).await?;
    let sales = sellers.sales(user(), range(365), None, first).await?;
    let activity = sellers.activity(user(), first).await?;
    let listings = sellers.listings(user(), first).await?;
    let period_name = period.as_str();
    Ok(DashboardPage {
        onboarded: status.charges_enabled && status.payouts_enabled,
        onboarding_started: status.onboarding_started,
        earnings: vec![
            ("Net earnings", money(earnings.net_cents)),
            ("Last 30 days", money(earnings.last_30_days_net_cents)),
            ("Pending", money(earnings.pending_cents)),
            ("Gross sales", money(earnings.gross_cents)),
            ("Fees", money(earnings.fee_cents)),
            ("Refunded", money(earnings.refunded_cents)),
            ("Sales", earnings.sales_count.to_string()),
        ],
        periods: [("Days", "day"), ("Weeks", "week"), ("Months", "month")]
            .into_iter()
            .map(|(label, value)| PeriodLink {
                label,
                href: match value {
                    "week" => "/dashboard?period=week",
                    "month" => "/dashboard?period=month",
                    _ => "/dashboard",
                },
                current: value == period_name,
            })
            .collect(),
        period: period_name,
        chart_width: CHART_WIDTH,
        chart_height: CHART_HEIGHT,
        bars: bars(&revenue),
        by_period: revenue
            .series
            .iter()
            .map(|p| {
                let start = p.period_start.map(|d| d.to_string()).unwrap_or_default();
                (start, money(p.net_cents), p.sales_count)
            })
            .collect(),
        chart_summary: totals_summary(period_name, &revenue.totals),
        per_listing: breakdown
            .items
            .iter()
            .map(|l| {
                let href = format!("/skills/{}", l.skill_slug);
                let (gross, net) = (money(l.gross_cents), money(l.net_cents));
                (href, l.skill_title.clone(), l.sales_count, gross, net)
            })
            .collect(),
        sales: sales
            .items
            .iter()
            .map(|s| {
                (
                    s.purchased_at.format("%Y-%m-%d").to_string(),
                    s.skill_title.clone(),
                    money(s.amount_cents),
                    money(s.net_cents),
                    s.status.as_str(),
                )
            })
            .collect(),
        activity: activity
            .items
            .iter()
            .map(|a| (a.at.format("%Y-%m-%d %H:%M").to_string(), a.kind.clone(), a.summary.clone()))
            .collect(),
        listings: listings
            .items
            .iter()
            .map(|l| OwnRow {
                href: (l.status == "live")
                    .then(|| format!("/{}s/{}", l.listing_type.as_str(), l.slug)),
                title: l.title.clone(),
                kind: l.listing_type.as_str(),
                status: l.status.clone(),
                version: l.version.clone().unwrap_or_else(|| "–".to_owned()),
                scan: l.security_status.as_str(),
                price: price_label(l.price_cents, "usd"),
                downloads: l.download_count,
                installs: l.install_count,
            })
            .collect(),
    })
}
