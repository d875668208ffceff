//! The buyer's commands: `purchases`, `reviews`, `review`.

use ap_client::Client;

use crate::commands::{json_out, price};

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
