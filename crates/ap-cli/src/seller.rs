//! The seller's commands: `unpublish`, `republish` and `seller status|onboard|earnings|
//! sales|revenue` (revenue as a bar chart in the terminal).

use ap_client::Client;
use ap_domain::listing::ListingType;

use crate::SellerCommand;
use crate::commands::{confirm, json_out, price};

/// `ap unpublish <slug>` / `ap republish <slug>`, after a confirmation unless `yes`.
pub async fn archive(client: &Client, slug: &str, hide: bool, yes: bool) -> anyhow::Result<()> {
    let question = if hide {
        format!(
            "Are you sure you want to unpublish '{slug}'? Existing purchasers will keep access."
        )
    } else {
        format!("Are you sure you want to republish '{slug}'?")
    };
    if !yes && !confirm(&question)? {
        anyhow::bail!("Aborted.");
    }
    let state = if hide {
        client.unpublish(ListingType::Skill, slug).await?
    } else {
        client.republish(ListingType::Skill, slug).await?
    };
    say!("{}", state.message);
    Ok(())
}

/// `ap seller …`.
pub async fn run(client: &Client, command: SellerCommand) -> anyhow::Result<()> {
    match command {
        SellerCommand::Status { json } => {
            let status = client.seller_status().await?;
            if json {
                return json_out(&status);
            }
            let yes = |b: bool| if b { "yes" } else { "no" };
            say!("Seller:            {}", yes(status.is_seller));
            say!(
                "Onboarding:        {}",
                if status.details_submitted {
                    "submitted"
                } else if status.onboarding_started {
                    "started, not finished (ap seller onboard)"
                } else {
                    "not started (ap seller onboard)"
                }
            );
            say!("Charges enabled:   {}", yes(status.charges_enabled));
            say!("Payouts enabled:   {}", yes(status.payouts_enabled));
        }
        SellerCommand::Onboard { no_browser } => {
            let link = client.connect_seller().await?;
            say!("Continue onboarding at:\n  {}", link.url);
            if !no_browser {
                crate::login::open(&link.url);
            }
        }
        SellerCommand::Earnings { json } => {
            let e = client.earnings().await?;
            if json {
                return json_out(&e);
            }
            for (name, cents) in [
                ("Net earnings", e.net_cents),
                ("Last 30 days", e.last_30_days_net_cents),
                ("Pending", e.pending_cents),
                ("Available", e.available_cents),
                ("Gross sales", e.gross_cents),
                ("Fees", e.fee_cents),
                ("Refunded", e.refunded_cents),
            ] {
                say!("{name:<14} {:>12}", price(cents));
            }
            say!("{:<14} {:>12}", "Sales", e.sales_count);
        }
        SellerCommand::Sales { days, json } => {
            let days = days.days();
            let page = client.sales(days, None, Some(100), None).await?;
            if json {
                return json_out(&page);
            }
            if page.items.is_empty() {
                say!("No sales in these days.");
            }
            for sale in &page.items {
                say!(
                    "{}  {:<24} {:>9} {:>9} net  {}",
                    sale.purchased_at.format("%Y-%m-%d"),
                    sale.skill_slug,
                    price(sale.amount_cents),
                    price(sale.net_cents),
                    sale.status.as_str()
                );
            }
            if page.total > page.items.len() as i64 {
                say!("… the newest 100 of {} sales shown", page.total);
            }
        }
        SellerCommand::Revenue { period, days, json } => {
            let days = days.days();
            let revenue = client.revenue(period.as_deref(), days).await?;
            if json {
                return json_out(&revenue);
            }
            let most = revenue.series.iter().map(|p| p.net_cents).max().unwrap_or(0).max(1);
            let width = crate::commands::terminal_width().saturating_sub(36).clamp(10, 60);
            for point in &revenue.series {
                let day = point.period_start.map(|d| d.to_string()).unwrap_or_default();
                let bar = "█".repeat((point.net_cents.max(0) * width as i64 / most) as usize);
                say!("{day}  {:>10}  {bar}", price(point.net_cents));
            }
            say!(
                "Net {} from {} sales by {}",
                price(revenue.totals.net_cents),
                revenue.totals.sales_count,
                revenue.period
            );
        }
    }
    Ok(())
}
