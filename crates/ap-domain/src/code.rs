//! The error codes of the wire contract, each with its HTTP status.
//!
//! Every error the server raises carries one of these codes in
//! `{"detail": {"detail": "...", "code": "..."}}`. The table is data: the HTTP layer
//! reads the status from here instead of deciding it at each call site.

use serde::{Deserialize, Serialize};

/// A machine-readable error code (serialised in `SCREAMING_SNAKE_CASE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    /// Malformed request that is not a field-validation failure.
    BadRequest,
    /// Missing, unknown, malformed, expired or revoked credentials.
    Unauthorized,
    /// A CLI token that a newer login replaced.
    TokenRevoked,
    /// The endpoint needs a browser session, not a CLI token.
    SessionRequired,
    /// Authenticated, but not allowed.
    Forbidden,
    /// The account is suspended by an administrator.
    AccountSuspended,
    /// No such route, or an object the caller may not see.
    NotFound,
    /// No skill or agent with that slug is visible to the caller.
    SkillNotFound,
    /// No seller with that display-name slug.
    SellerNotFound,
    /// The route exists but not for this method.
    MethodNotAllowed,
    /// The client stopped sending its request body before it was complete.
    RequestTimeout,
    /// A uniqueness rule was violated.
    Conflict,
    /// The version (or the whole listing) was withdrawn by the marketplace.
    VersionWithdrawn,
    /// The slug belongs to an existing listing.
    SlugTaken,
    /// The request body is larger than the route accepts.
    PayloadTooLarge,
    /// The request body has a content type the route does not read.
    UnsupportedMediaType,
    /// A field failed validation (coded form, used outside request extraction).
    ValidationError,
    /// Publishing needs a display name on the profile.
    DisplayNameRequired,
    /// A paid listing needs a seller whose payouts are set up.
    SellerOnboardingRequired,
    /// The listing belongs to another seller.
    SkillNotOwner,
    /// A paid listing needs a completed purchase.
    PurchaseRequired,
    /// A download link whose signature does not match.
    LinkInvalid,
    /// A download link past its expiry.
    LinkExpired,
    /// The listing is unpublished.
    SkillArchived,
    /// The listing is not unpublished.
    SkillNotArchived,
    /// A version is already waiting for its upload.
    SkillVersionPending,
    /// That version is already live (versions are immutable).
    VersionExists,
    /// The listing text failed the security scan (with findings).
    ListingTextRejected,
    /// Too many requests for the caller's tier.
    RateLimited,
    /// A free listing cannot be bought.
    NotForSale,
    /// A Stripe webhook whose signature does not verify (or is stale).
    WebhookSignatureInvalid,
    /// The payment method was declined.
    PaymentDeclined,
    /// One's own listing (buying or reviewing it).
    OwnSkill,
    /// The caller already owns the listing.
    AlreadyPurchased,
    /// The seller cannot take payments yet.
    SellerNotReady,
    /// The license code was claimed by another account already.
    LicenseAlreadyRedeemed,
    /// The purchase was refunded.
    PurchaseRefunded,
    /// The payment provider refused a request of ours.
    PaymentProviderError,
    /// The payment provider is unreachable or overloaded.
    PaymentProviderUnavailable,
    /// Reviewing a free listing needs an install recorded while signed in.
    InstallRequired,
    /// The review text failed the security scan (with findings).
    ReviewTextRejected,
    /// A report's note has a block-worthy prompt-injection finding.
    ReportTextRejected,
    /// Unexpected failure; the cause is in the log under the request id.
    Internal,
    /// A dependency (the database) is unavailable.
    ServiceUnavailable,
}

impl Code {
    /// Every code, in the order of the table in `docs/API.md`.
    pub const ALL: [Code; 44] = [
        Code::BadRequest,
        Code::DisplayNameRequired,
        Code::NotForSale,
        Code::WebhookSignatureInvalid,
        Code::Unauthorized,
        Code::TokenRevoked,
        Code::PaymentDeclined,
        Code::SessionRequired,
        Code::Forbidden,
        Code::AccountSuspended,
        Code::SellerOnboardingRequired,
        Code::SkillNotOwner,
        Code::PurchaseRequired,
        Code::InstallRequired,
        Code::LinkInvalid,
        Code::LinkExpired,
        Code::OwnSkill,
        Code::NotFound,
        Code::SkillNotFound,
        Code::SellerNotFound,
        Code::MethodNotAllowed,
        Code::RequestTimeout,
        Code::Conflict,
        Code::SlugTaken,
        Code::SkillArchived,
        Code::SkillNotArchived,
        Code::SkillVersionPending,
        Code::VersionExists,
        Code::AlreadyPurchased,
        Code::SellerNotReady,
        Code::LicenseAlreadyRedeemed,
        Code::PurchaseRefunded,
        Code::VersionWithdrawn,
        Code::PayloadTooLarge,
        Code::UnsupportedMediaType,
        Code::ValidationError,
        Code::ListingTextRejected,
        Code::ReviewTextRejected,
        Code::ReportTextRejected,
        Code::RateLimited,
        Code::Internal,
        Code::PaymentProviderError,
        Code::ServiceUnavailable,
        Code::PaymentProviderUnavailable,
    ];

    /// The HTTP status answered with this code.
    pub const fn http_status(self) -> u16 {
        match self {
            Code::BadRequest
            | Code::DisplayNameRequired
            | Code::NotForSale
            | Code::WebhookSignatureInvalid => 400,
            Code::Unauthorized | Code::TokenRevoked => 401,
            Code::PaymentDeclined => 402,
            Code::SessionRequired
            | Code::Forbidden
            | Code::AccountSuspended
            | Code::SellerOnboardingRequired
            | Code::SkillNotOwner
            | Code::PurchaseRequired
            | Code::LinkInvalid
            | Code::LinkExpired
            | Code::OwnSkill
            | Code::InstallRequired => 403,
            Code::NotFound | Code::SkillNotFound | Code::SellerNotFound => 404,
            Code::MethodNotAllowed => 405,
            Code::Conflict
            | Code::SlugTaken
            | Code::SkillArchived
            | Code::SkillNotArchived
            | Code::SkillVersionPending
            | Code::VersionExists
            | Code::AlreadyPurchased
            | Code::SellerNotReady
            | Code::LicenseAlreadyRedeemed
            | Code::PurchaseRefunded => 409,
            Code::RequestTimeout => 408,
            Code::VersionWithdrawn => 410,
            Code::PayloadTooLarge => 413,
            Code::UnsupportedMediaType => 415,
            Code::ValidationError
            | Code::ListingTextRejected
            | Code::ReviewTextRejected
            | Code::ReportTextRejected => 422,
            Code::RateLimited => 429,
            Code::Internal => 500,
            Code::PaymentProviderError => 502,
            Code::ServiceUnavailable | Code::PaymentProviderUnavailable => 503,
        }
    }

    /// The wire spelling, e.g. `SKILL_NOT_FOUND`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::BadRequest => "BAD_REQUEST",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::TokenRevoked => "TOKEN_REVOKED",
            Code::SessionRequired => "SESSION_REQUIRED",
            Code::Forbidden => "FORBIDDEN",
            Code::NotFound => "NOT_FOUND",
            Code::SkillNotFound => "SKILL_NOT_FOUND",
            Code::SellerNotFound => "SELLER_NOT_FOUND",
            Code::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Code::RequestTimeout => "REQUEST_TIMEOUT",
            Code::Conflict => "CONFLICT",
            Code::SlugTaken => "SLUG_TAKEN",
            Code::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Code::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Code::ValidationError => "VALIDATION_ERROR",
            Code::DisplayNameRequired => "DISPLAY_NAME_REQUIRED",
            Code::SellerOnboardingRequired => "SELLER_ONBOARDING_REQUIRED",
            Code::SkillNotOwner => "SKILL_NOT_OWNER",
            Code::PurchaseRequired => "PURCHASE_REQUIRED",
            Code::LinkInvalid => "LINK_INVALID",
            Code::LinkExpired => "LINK_EXPIRED",
            Code::SkillArchived => "SKILL_ARCHIVED",
            Code::SkillNotArchived => "SKILL_NOT_ARCHIVED",
            Code::SkillVersionPending => "SKILL_VERSION_PENDING",
            Code::VersionExists => "VERSION_EXISTS",
            Code::ListingTextRejected => "LISTING_TEXT_REJECTED",
            Code::RateLimited => "RATE_LIMITED",
            Code::Internal => "INTERNAL",
            Code::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Code::NotForSale => "NOT_FOR_SALE",
            Code::WebhookSignatureInvalid => "WEBHOOK_SIGNATURE_INVALID",
            Code::PaymentDeclined => "PAYMENT_DECLINED",
            Code::OwnSkill => "OWN_SKILL",
            Code::AlreadyPurchased => "ALREADY_PURCHASED",
            Code::SellerNotReady => "SELLER_NOT_READY",
            Code::LicenseAlreadyRedeemed => "LICENSE_ALREADY_REDEEMED",
            Code::PurchaseRefunded => "PURCHASE_REFUNDED",
            Code::PaymentProviderError => "PAYMENT_PROVIDER_ERROR",
            Code::PaymentProviderUnavailable => "PAYMENT_PROVIDER_UNAVAILABLE",
            Code::InstallRequired => "INSTALL_REQUIRED",
            Code::ReviewTextRejected => "REVIEW_TEXT_REJECTED",
            Code::ReportTextRejected => "REPORT_TEXT_REJECTED",
            Code::AccountSuspended => "ACCOUNT_SUSPENDED",
            Code::VersionWithdrawn => "VERSION_WITHDRAWN",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_spelling_matches_serde() {
        for code in Code::ALL {
            let json = serde_json::to_value(code).expect("serialise");
            assert_eq!(json, serde_json::Value::String(code.as_str().to_owned()));
        }
    }

    #[test]
    fn the_api_doc_lists_every_code_in_order() {
        let doc = include_str!("../../../docs/API.md");
        let listed: Vec<&str> = doc
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split_once('`').map(|(code, _)| code))
            .filter(|code| code.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .collect();
        let codes: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(listed, codes, "docs/API.md's error table is out of date");
        for code in Code::ALL {
            let row = format!("| `{}` | {} |", code.as_str(), code.http_status());
            assert!(doc.contains(&row), "{row}");
        }
    }

    #[test]
    fn statuses_are_errors() {
        for code in Code::ALL {
            assert!((400..600).contains(&code.http_status()), "{code}");
        }
    }
}
