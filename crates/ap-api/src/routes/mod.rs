//! Routes, one module per resource, one function per action.
//!
//! The route table says, per resource, who may read it (docs/API.md, Endpoints at a glance), and attaches
//! authentication (a bad bearer token is 401) and the rate limit of that rule (§3: the
//! tier follows the endpoint, not the caller) to exactly the resources they govern.
//! Listing routes are registered once and mounted under both `/v1/skills` and
//! `/v1/agents`; the scope carries the listing type ([`Kind`](crate::kind::Kind)).

pub mod account;
pub mod admin;
pub mod auth;
pub mod bench;
pub mod catalog;
pub mod dashboard;
pub mod downloads;
pub mod health;
pub mod installations;
pub mod login;
pub mod publish;
pub mod purchases;
pub mod reports;
pub mod reviews;
pub mod security;
pub mod sellers;
pub mod site;
pub mod storefront;
pub mod users;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{Error, Resource, Route, guard, web};
use ap_domain::listing::ListingType;

use crate::auth::authenticate;
use crate::kind::Kind;
use crate::ratelimit::{Reads, rate_limit};

/// A route answering GET and HEAD (HEAD gets the same headers and no body).
fn read() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// The paths registered so far, as clients see them (scope prefix included): the
/// OpenAPI document must list each ([`paths`]).
type Seen = Vec<String>;

/// A resource no middleware wraps, recorded.
fn plain(seen: &mut Seen, prefix: &str, path: &str) -> Resource {
    seen.push(format!("{prefix}{path}"));
    web::resource(path)
}

/// A resource limited by the tier of its read rule (writes: the write tier), without
/// bearer authentication (browser pages, which use the session cookie); recorded.
fn limited(
    seen: &mut Seen,
    prefix: &str,
    path: &str,
    reads: Reads,
) -> Resource<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<>>,
        Error = Error,
        InitError = (),
    > + use<>,
> {
    plain(seen, prefix, path)
        .wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| rate_limit(reads, req, next)))
}

/// An API resource: rate limited by its read rule, then any bearer token resolved (a
/// bad one is 401, never silently anonymous); recorded.
fn api(
    seen: &mut Seen,
    prefix: &str,
    path: &str,
    reads: Reads,
) -> Resource<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody + use<>>,
        Error = Error,
        InitError = (),
    > + use<>,
> {
    plain(seen, prefix, path)
        .wrap(from_fn(authenticate))
        .wrap(from_fn(move |req: ServiceRequest, next: Next<BoxBody>| rate_limit(reads, req, next)))
}

/// Registers the benchmark yardsticks (only when configured; not limited).
pub fn configure_bench(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/_bench/bare").route(read().to(bench::get_bare)))
        .service(web::resource("/_bench/pk/{id}").route(read().to(bench::get_pk)))
        .service(web::resource("/_bench/file/{sha256}").route(read().to(bench::get_file)));
}

/// The listing routes, mounted under `/v1/skills` and `/v1/agents` (`prefix`).
fn listing_routes(cfg: &mut web::ServiceConfig, seen: &mut Seen, prefix: &str) {
    cfg.service(
        api(seen, prefix, "", Reads::Public)
            .route(read().to(catalog::list_listings))
            .route(web::post().to(publish::create_listing)),
    )
    .service(
        api(seen, prefix, "/{slug}", Reads::Public)
            .route(read().to(catalog::get_listing))
            .route(web::patch().to(publish::change_listing)),
    )
    .service(
        api(seen, prefix, "/{slug}/upload", Reads::Public)
            .route(web::post().to(publish::upload_archive)),
    )
    .service(
        api(seen, prefix, "/{slug}/unpublish", Reads::Public)
            .route(web::post().to(publish::unpublish_listing)),
    )
    .service(
        api(seen, prefix, "/{slug}/republish", Reads::Public)
            .route(web::post().to(publish::republish_listing)),
    )
    // GET only: a download link counts a download, so HEAD is no probe for it.
    .service(
        api(seen, prefix, "/{slug}/download", Reads::Public)
            .route(web::get().to(downloads::download_listing)),
    )
    .service(
        api(seen, prefix, "/{slug}/report", Reads::Public)
            .route(web::post().to(reports::file_report)),
    )
    .service(
        api(seen, prefix, "/{slug}/reviews", Reads::Public)
            .route(read().to(reviews::list_reviews))
            .route(web::post().to(reviews::write_review)),
    );
}

/// Registers every route. Resources list their methods explicitly, so a wrong method
/// answers 405 and an unknown path 404 (both enveloped by the middleware).
pub fn configure(cfg: &mut web::ServiceConfig) {
    register(cfg, &mut Seen::new());
}

/// Every path the route table registers, scope prefixes included (the OpenAPI coverage
/// test compares them with the document).
pub fn paths() -> Vec<String> {
    let mut seen = Seen::new();
    // Configuring an app runs the registrations at once; the app is never started.
    drop(actix_web::App::new().configure(|cfg| register(cfg, &mut seen)));
    seen
}

/// Registers every route, recording each path in `seen`.
fn register(cfg: &mut web::ServiceConfig, seen: &mut Seen) {
    use Reads::{Public, SignedIn};
    // Neither limited nor authenticated: liveness and readiness. Signed file links are
    // not authenticated (the signature is the capability) and have their own tier.
    cfg.service(plain(seen, "", "/health").route(read().to(health::get_health)))
        .service(plain(seen, "", "/ready").route(read().to(health::get_ready)))
        .service(plain(seen, "", "/openapi.json").route(read().to(crate::openapi::serve_document)))
        .service(
            limited(seen, "", "/v1/files/{version_id}/{file_name}", Reads::Files)
                .route(read().to(downloads::get_file)),
        )
        .service(
            web::scope("/v1/skills")
                .app_data(Kind(None))
                .configure(|cfg| listing_routes(cfg, seen, "/v1/skills")),
        )
        .service(
            web::scope("/v1/agents")
                .app_data(Kind(Some(ListingType::Agent)))
                .configure(|cfg| listing_routes(cfg, seen, "/v1/agents")),
        )
        // Signature-checked, not bearer-authenticated, not limited (Stripe retries).
        .service(
            plain(seen, "", "/v1/webhooks/stripe").route(web::post().to(purchases::stripe_webhook)),
        )
        .service(
            api(seen, "", "/v1/checkout", SignedIn)
                .route(web::post().to(purchases::create_checkout)),
        )
        .service(
            api(seen, "", "/v1/purchases", SignedIn).route(read().to(purchases::list_purchases)),
        )
        .service(
            api(seen, "", "/v1/purchases/confirm", SignedIn)
                .route(read().to(purchases::confirm_purchase)),
        )
        // The checkout session id is the capability.
        .service(
            api(seen, "", "/v1/purchases/download", Public)
                .route(read().to(purchases::download_purchase)),
        )
        .service(
            api(seen, "", "/v1/purchases/redeem", SignedIn)
                .route(web::post().to(purchases::redeem_code)),
        )
        .service(
            api(seen, "", "/v1/purchases/{purchase_id}/status", SignedIn)
                .route(read().to(purchases::get_purchase_status)),
        )
        .service(
            api(seen, "", "/v1/installations", Public)
                .route(web::post().to(installations::record_installation)),
        )
        .service(
            api(seen, "", "/v1/security/check/{content_hash}", Public)
                .route(read().to(security::check_hash)),
        )
        .service(
            api(seen, "", "/v1/security/scan-package", Public)
                .route(web::post().to(security::scan_package)),
        )
        .service(
            api(seen, "", "/v1/security/results/{slug}", Public)
                .route(read().to(security::results)),
        )
        .service(api(seen, "", "/v1/search", Public).route(read().to(catalog::search_listings)))
        .service(api(seen, "", "/v1/detail/{slug}", Public).route(read().to(catalog::get_detail)))
        .service(api(seen, "", "/v1/categories", Public).route(read().to(catalog::list_categories)))
        .service(api(seen, "", "/v1/platforms", Public).route(read().to(catalog::list_platforms)))
        .service(api(seen, "", "/v1/sellers", Public).route(read().to(sellers::list_sellers)))
        // The caller's own seller resources, before `/v1/sellers/{slug}`: anonymous is 401.
        .service(
            api(seen, "", "/v1/sellers/status", SignedIn)
                .route(read().to(sellers::get_seller_status)),
        )
        .service(
            api(seen, "", "/v1/sellers/connect", SignedIn)
                .route(web::post().to(sellers::connect_seller)),
        )
        .service(
            api(seen, "", "/v1/sellers/skills", SignedIn)
                .route(read().to(sellers::list_own_listings)),
        )
        .service(
            api(seen, "", "/v1/sellers/earnings", SignedIn).route(read().to(sellers::get_earnings)),
        )
        .service(api(seen, "", "/v1/sellers/sales", SignedIn).route(read().to(sellers::list_sales)))
        .service(
            api(seen, "", "/v1/sellers/revenue", SignedIn).route(read().to(sellers::get_revenue)),
        )
        .service(
            api(seen, "", "/v1/sellers/revenue/breakdown", SignedIn)
                .route(read().to(sellers::get_revenue_breakdown)),
        )
        .service(
            api(seen, "", "/v1/sellers/activity", SignedIn)
                .route(read().to(sellers::list_activity)),
        )
        .service(
            api(seen, "", "/v1/sellers/next-payout", SignedIn)
                .route(read().to(sellers::get_next_payout)),
        )
        .service(api(seen, "", "/v1/sellers/{slug}", Public).route(read().to(sellers::get_seller)))
        .service(
            api(seen, "", "/v1/sellers/{slug}/skills", Public)
                .route(read().to(sellers::list_seller_skills)),
        )
        .service(
            api(seen, "", "/v1/auth/cli-token", SignedIn)
                .route(web::post().to(auth::create_cli_token)),
        )
        .service(
            api(seen, "", "/v1/auth/revoke-cli-token", SignedIn)
                .route(web::post().to(auth::revoke_cli_token)),
        )
        .service(api(seen, "", "/v1/auth/me", SignedIn).route(read().to(auth::get_me)))
        .service(api(seen, "", "/v1/admin/audit", Reads::Admin).route(read().to(admin::list_audit)))
        .service(
            api(seen, "", "/v1/admin/reports", Reads::Admin).route(read().to(admin::list_reports)),
        )
        .service(
            api(seen, "", "/v1/admin/reports/{id}/close", Reads::Admin)
                .route(web::post().to(admin::close_report)),
        )
        .service(
            api(seen, "", "/v1/admin/listings/{slug}/quarantine", Reads::Admin)
                .route(web::post().to(admin::quarantine)),
        )
        .service(
            api(seen, "", "/v1/admin/listings/{slug}/release", Reads::Admin)
                .route(web::post().to(admin::release)),
        )
        .service(
            api(seen, "", "/v1/admin/users/{id}/suspend", Reads::Admin)
                .route(web::post().to(admin::suspend)),
        )
        .service(
            api(seen, "", "/v1/admin/users/{id}/reinstate", Reads::Admin)
                .route(web::post().to(admin::reinstate)),
        )
        .service(
            api(seen, "", "/v1/admin/purchases/{id}/refund", Reads::Admin)
                .route(web::post().to(admin::refund)),
        )
        .service(
            api(seen, "", "/v1/admin/rescans", Reads::Admin)
                .route(web::post().to(admin::start_rescan)),
        )
        .service(
            api(seen, "", "/v1/admin/rescans/{id}", Reads::Admin).route(read().to(admin::rescan)),
        )
        .service(
            api(seen, "", "/v1/users/profile", SignedIn)
                .route(read().to(users::get_profile))
                .route(web::patch().to(users::update_profile)),
        )
        .service(
            api(seen, "", "/v1/users/profile/delete", SignedIn)
                .route(web::post().to(users::delete_account)),
        )
        // Browser pages: limited, no bearer token (they read the session cookie).
        .service(plain(seen, "", "/static/site.css").route(read().to(site::stylesheet)))
        .service(plain(seen, "", "/static/site.js").route(read().to(site::script)))
        .service(limited(seen, "", "/", Public).route(read().to(storefront::home)))
        .service(limited(seen, "", "/sellers/{slug}", Public).route(read().to(storefront::seller)))
        .service(limited(seen, "", "/account", Public).route(read().to(account::account)))
        .service(
            limited(seen, "", "/account/token/revoke", Public)
                .route(web::post().to(account::revoke_token)),
        )
        .service(
            limited(seen, "", "/account/profile", Public)
                .route(web::post().to(account::save_profile)),
        )
        .service(
            limited(seen, "", "/account/download", Public).route(web::post().to(account::download)),
        )
        .service(limited(seen, "", "/dashboard", Public).route(read().to(dashboard::dashboard)))
        .service(limited(seen, "", "/skills/{slug}", Public).route(read().to(site::listing)))
        .service(
            web::scope("/agents").app_data(Kind(Some(ListingType::Agent))).service(
                limited(seen, "/agents", "/{slug}", Public).route(read().to(site::listing)),
            ),
        )
        .service(
            limited(seen, "", "/purchase/success", Public).route(read().to(site::purchase_success)),
        )
        .service(limited(seen, "", "/onboarding", Public).route(read().to(site::onboarding)))
        .service(
            limited(seen, "", "/onboarding/done", Public).route(read().to(site::onboarding_done)),
        )
        .service(
            limited(seen, "", "/sandbox/onboarding/{account_id}", Public)
                .route(read().to(site::sandbox_onboarding)),
        )
        .service(
            limited(seen, "", "/sandbox/onboarding/{account_id}/complete", Public)
                .route(web::post().to(site::sandbox_complete_onboarding)),
        )
        .service(
            limited(seen, "", "/sandbox/checkout/{session_id}", Public)
                .route(read().to(site::sandbox_checkout)),
        )
        .service(
            limited(seen, "", "/sandbox/checkout/{session_id}/pay", Public)
                .route(web::post().to(site::sandbox_pay)),
        )
        .service(
            limited(seen, "", "/sandbox/checkout/{session_id}/cancel", Public)
                .route(web::post().to(site::sandbox_cancel)),
        )
        .service(
            limited(seen, "", "/auth/cli-callback", Public).route(read().to(login::cli_callback)),
        )
        .service(
            limited(seen, "", "/sign-in", Public)
                .route(read().to(login::sign_in_form))
                .route(web::post().to(login::sign_in)),
        );
}
