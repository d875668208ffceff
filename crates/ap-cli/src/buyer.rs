//! The buyer's commands: `buy`, `purchases`, `reviews`, `review`.

use std::time::Duration;

use ap_client::{Client, Error};
use ap_domain::code::Code;
use ap_domain::commerce::PurchaseStatus;
use ap_domain::wire::PurchaseState;

use crate::commands::{json_out, price, valid_slug};
use crate::installs::{Target, accept_scan, download_and_install, find_listing};

/// How long `buy` waits for the payment.
const PAYMENT_WAIT: Duration = Duration::from_secs(15 * 60);

/// `ap buy <slug>`: starts the checkout, opens the payment page, waits until the payment
/// settles and installs the listing (a free or already bought one is installed at once).
pub async fn buy(
    client: &Client,
    slug: &str,
    target: &Target,
    no_browser: bool,
    yes: bool,
) -> anyhow::Result<()> {
    let slug = valid_slug(slug)?;
    let base = target.base()?;
    let detail = find_listing(client, slug).await?;
    if !accept_scan(&detail, yes)? {
        say!("Purchase cancelled.");
        return Ok(());
    }
    if detail.summary.price_cents > 0 {
        match client.checkout(slug).await {
            Err(Error::Api { code: Code::AlreadyPurchased, .. }) => {
                say!("You already own '{slug}'.");
            }
            started => {
                let started = started?;
                say!(
                    "Pay {} for '{slug}' at:\n  {}",
                    price(detail.summary.price_cents),
                    started.checkout_url
                );
                if !no_browser {
                    crate::login::open(&started.checkout_url);
                }
                say!("Waiting for the payment (Ctrl-C to stop; `ap purchases` shows it later)…");
                let code = wait_for_payment(client, &started.session_id).await?;
                say!("Paid. License code: {}", code.as_deref().unwrap_or("-"));
            }
        }
    }
    let dest = download_and_install(client, &detail, &base).await?;
    say!("Installed '{slug}' to {}", dest.display());
    Ok(())
}

/// Asks the server to settle the checkout from the payment provider until it is paid (the
/// license code) or has failed.
async fn wait_for_payment(client: &Client, session_id: &str) -> anyhow::Result<Option<String>> {
    let deadline = tokio::time::Instant::now() + PAYMENT_WAIT;
    let state =
        settle(client, Checkout::Session(session_id), deadline, Duration::from_millis(250)).await?;
    match state.status {
        PurchaseStatus::Completed => Ok(state.license_code),
        PurchaseStatus::Pending => anyhow::bail!(
            "No payment after 15 minutes; run `ap buy {}` again once paid.",
            state.skill_slug
        ),
        other => {
            anyhow::bail!("The payment did not go through: the purchase is {}.", other.as_str())
        }
    }
}

/// A checkout to follow: by its payment session (which also settles it from the payment
/// provider) or by our purchase id.
#[derive(Debug, Clone, Copy)]
pub enum Checkout<'a> {
    /// `GET /v1/purchases/confirm?session_id=`.
    Session(&'a str),
    /// `GET /v1/purchases/{id}/status`.
    Purchase(&'a str),
}

/// Follows a checkout until it is no longer pending or `deadline` passes (then answers it
/// pending), asking after `pause`, doubling up to 7 s. These reads count against the
/// signed-in budget (10 a minute): a 429 waits its `Retry-After`, and a dropped connection
/// is asked again, until the deadline.
pub async fn settle(
    client: &Client,
    checkout: Checkout<'_>,
    deadline: tokio::time::Instant,
    mut pause: Duration,
) -> anyhow::Result<PurchaseState> {
    let longest = pause.max(Duration::from_secs(7));
    let mut pending = None;
    loop {
        let asked = match checkout {
            Checkout::Session(session) => client.confirm_purchase(session).await,
            Checkout::Purchase(purchase) => client.purchase_status(purchase).await,
        };
        let (wait, failure) = match asked {
            Ok(state) if state.status != PurchaseStatus::Pending => return Ok(state),
            Ok(state) => {
                pending = Some(state);
                (pause, None)
            }
            Err(Error::RateLimited { retry_after }) => {
                (retry_after, Some(Error::RateLimited { retry_after }))
            }
            Err(Error::Transport(error)) => (pause, Some(Error::Transport(error))),
            Err(error) => return Err(error.into()),
        };
        if tokio::time::Instant::now() + wait > deadline {
            // The last pending state; without one, why there was none.
            return match (pending, failure) {
                (Some(state), _) => Ok(state),
                (None, failure) => {
                    Err(failure.map_or_else(|| anyhow::anyhow!("No answer in time."), Into::into))
                }
            };
        }
        tokio::time::sleep(wait).await;
        pause = (pause * 2).min(longest);
    }
}

/// `ap purchases`: what the account bought, with license codes.
pub async fn purchases(client: &Client, json: bool) -> anyhow::Result<()> {
    let page = client.purchases(None, Some(100), None).await?;
    if json {
        return json_out(&page.items);
    }
    if page.items.is_empty() {
        say!("No purchases yet.");
    }
    for item in &page.items {
        let code = item.license_code.as_deref().unwrap_or("-");
        say!(
            "{:<24} {:>8}  {:<9}  {}  {code}",
            item.slug,
            price(item.amount_cents),
            item.status.as_str(),
            item.purchased_at.format("%Y-%m-%d"),
        );
        if let Some(notice) = &item.notice {
            say!("  {notice}");
        }
    }
    Ok(())
}

/// `ap reviews <slug>`: the newest reviews and the average.
pub async fn reviews(client: &Client, slug: &str, json: bool) -> anyhow::Result<()> {
    let page = client.reviews(slug, Some(20), None).await?;
    if json {
        return json_out(&page);
    }
    match page.average_rating {
        Some(average) => say!("{average:.1} of 5 from {} ratings", page.rating_count),
        None => say!("Not rated yet."),
    }
    for review in &page.items {
        let stars = "★".repeat(review.rating.clamp(0, 5) as usize);
        let who = &review.author_display_name;
        let bought = if review.verified_purchase { " (bought it)" } else { "" };
        say!("\n{stars:<5} {who}{bought}, {}", review.updated_at.format("%Y-%m-%d"));
        if let Some(text) = &review.text {
            say!("  {text}");
        }
    }
    Ok(())
}

/// `ap review <slug> --rating N [--text T]`: writes (or replaces) the account's review.
pub async fn review(
    client: &Client,
    slug: &str,
    rating: u8,
    text: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let review = client.write_review(slug, rating, text).await?;
    if json {
        return json_out(&review);
    }
    say!("Review saved: {} of 5 for {slug}.", review.rating);
    Ok(())
}
