//! Money and purchases: the platform fee split (integer cents only), purchase states and
//! license codes.

use serde::{Deserialize, Serialize};

/// The platform's share of every sale, in percent.
pub const PLATFORM_FEE_PERCENT: i64 = 15;

/// How a price divides between the platform and the seller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// The platform fee: 15 % of the price, rounded half up to a whole cent.
    pub fee_cents: i64,
    /// The seller's share: the price less the fee, exactly.
    pub seller_cents: i64,
}

/// Splits a non-negative price in cents: the fee is 15 % rounded half up (a fee of
/// 52.5 cents is 53), and the seller gets the rest, so the two always add up to the price.
pub fn split(price_cents: i64) -> Split {
    let price = price_cents.max(0);
    let fee_cents = (price * PLATFORM_FEE_PERCENT + 50) / 100;
    Split { fee_cents, seller_cents: price - fee_cents }
}

/// Where a purchase stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PurchaseStatus {
    /// Checkout started, not paid (yet).
    Pending,
    /// Paid: the buyer (and a redeemer of its code) may download.
    Completed,
    /// The payment failed.
    Failed,
    /// The checkout expired unpaid.
    Expired,
    /// Paid, then refunded: access is gone.
    Refunded,
}

impl PurchaseStatus {
    /// The wire and database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PurchaseStatus::Pending => "pending",
            PurchaseStatus::Completed => "completed",
            PurchaseStatus::Failed => "failed",
            PurchaseStatus::Expired => "expired",
            PurchaseStatus::Refunded => "refunded",
        }
    }

    /// Parses the wire and database spelling.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(PurchaseStatus::Pending),
            "completed" => Some(PurchaseStatus::Completed),
            "failed" => Some(PurchaseStatus::Failed),
            "expired" => Some(PurchaseStatus::Expired),
            "refunded" => Some(PurchaseStatus::Refunded),
            _ => None,
        }
    }
}

/// A license code: three groups of 8 uppercase hex digits (96 bits) when issued; redeem
/// accepts groups of 4 to 8 (codes of the hosted product).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LicenseCode(String);

impl LicenseCode {
    /// The code of 12 random bytes (the caller draws them from a CSPRNG).
    pub fn from_random(bytes: [u8; 12]) -> Self {
        let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
        Self(format!("{}-{}-{}", &hex[..8], &hex[8..16], &hex[16..]))
    }

    /// Parses a code as typed by a person: surrounding blanks ignored, any case; three
    /// groups of 4 to 8 hex digits separated by `-`.
    pub fn parse(text: &str) -> Option<Self> {
        let code = text.trim().to_ascii_uppercase();
        let groups: Vec<&str> = code.split('-').collect();
        let valid = groups.len() == 3
            && groups
                .iter()
                .all(|g| (4..=8).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_hexdigit()));
        valid.then_some(Self(code))
    }

    /// The code as stored and shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_fee_rounds_half_up() {
        assert_eq!(split(0), Split { fee_cents: 0, seller_cents: 0 });
        assert_eq!(split(300), Split { fee_cents: 45, seller_cents: 255 });
        // 15 % of 350 is 52.5: up to 53.
        assert_eq!(split(350), Split { fee_cents: 53, seller_cents: 297 });
        // 15 % of 310 is 46.5 → 47; of 303 is 45.45 → 45.
        assert_eq!(split(310).fee_cents, 47);
        assert_eq!(split(303).fee_cents, 45);
        assert_eq!(split(100_000), Split { fee_cents: 15_000, seller_cents: 85_000 });
    }

    proptest! {
        #[test]
        fn fee_and_share_add_up_and_the_fee_is_rounded_half_up(price in 1i64..=1_000_000) {
            let Split { fee_cents, seller_cents } = split(price);
            prop_assert_eq!(fee_cents + seller_cents, price);
            // Exact rational fee = price * 15 / 100; rounded half up means
            // fee - 1/2 <= exact < fee + 1/2, i.e. in hundredths:
            let exact_hundredths = price * 15;
            prop_assert!(fee_cents * 100 - 50 <= exact_hundredths);
            prop_assert!(exact_hundredths < fee_cents * 100 + 50);
            prop_assert!(seller_cents >= 0);
        }
    }

    #[test]
    fn license_codes_have_the_issued_and_the_redeemable_shapes() {
        let code = LicenseCode::from_random([0xab; 12]);
        assert_eq!(code.as_str(), "ABABABAB-ABABABAB-ABABABAB");
        assert_eq!(LicenseCode::parse(" ababABAB-abababab-ABABABAB "), Some(code));
        assert!(LicenseCode::parse("ABCD-1234-EF00").is_some(), "short hosted codes");
        for bad in ["", "ABC-1234-EF00", "ABCDEFABC-1234-EF00", "ABCD-1234", "GHIJ-1234-EF00"] {
            assert_eq!(LicenseCode::parse(bad), None, "{bad}");
        }
    }
}
