//! Routes, one module per resource, one function per action.

pub mod auth;
pub mod bench;
pub mod catalog;
pub mod categories;
pub mod detail;
pub mod downloads;
pub mod health;
pub mod installations;
pub mod login;
pub mod platforms;
pub mod publish;
pub mod search;
pub mod security;
pub mod sellers;
pub mod users;

use actix_web::{Route, guard, web};

/// A route answering GET and HEAD (HEAD gets the same headers and no body).
fn read() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

/// Registers the benchmark yardsticks (only when configured).
pub fn configure_bench(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/_bench/bare").route(read().to(bench::get_bare)))
        .service(web::resource("/_bench/pk/{id}").route(read().to(bench::get_pk)))
        .service(web::resource("/_bench/file/{sha256}").route(read().to(bench::get_file)));
}

/// Registers every route. Resources list their methods explicitly, so a wrong method
/// answers 405 and an unknown path 404 (both enveloped by the middleware).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/health").route(read().to(health::get_health)))
        .service(
            web::resource("/v1/skills")
                .route(read().to(catalog::list_skills))
                .route(web::post().to(publish::create_skill)),
        )
        .service(
            web::resource("/v1/skills/{slug}")
                .route(read().to(catalog::get_skill))
                .route(web::patch().to(publish::change_skill)),
        )
        .service(
            web::resource("/v1/skills/{slug}/upload").route(web::post().to(publish::upload_skill)),
        )
        .service(
            web::resource("/v1/skills/{slug}/unpublish")
                .route(web::post().to(publish::unpublish_skill)),
        )
        .service(
            web::resource("/v1/skills/{slug}/republish")
                .route(web::post().to(publish::republish_skill)),
        )
        .service(
            // GET only: a download link counts a download, so HEAD is no probe for it.
            web::resource("/v1/skills/{slug}/download")
                .route(web::get().to(downloads::download_skill)),
        )
        .service(
            web::resource("/v1/agents")
                .route(read().to(catalog::list_agents))
                .route(web::post().to(publish::create_agent)),
        )
        .service(
            web::resource("/v1/agents/{slug}")
                .route(read().to(catalog::get_agent))
                .route(web::patch().to(publish::change_agent)),
        )
        .service(
            web::resource("/v1/agents/{slug}/upload").route(web::post().to(publish::upload_agent)),
        )
        .service(
            web::resource("/v1/agents/{slug}/unpublish")
                .route(web::post().to(publish::unpublish_agent)),
        )
        .service(
            web::resource("/v1/agents/{slug}/republish")
                .route(web::post().to(publish::republish_agent)),
        )
        .service(
            web::resource("/v1/agents/{slug}/download")
                .route(web::get().to(downloads::download_agent)),
        )
        .service(
            web::resource("/v1/files/{version_id}/{file_name}")
                .route(read().to(downloads::get_file)),
        )
        .service(
            web::resource("/v1/installations")
                .route(web::post().to(installations::record_installation)),
        )
        .service(
            web::resource("/v1/security/check/{content_hash}")
                .route(read().to(security::check_hash)),
        )
        .service(
            web::resource("/v1/security/scan-package")
                .route(web::post().to(security::scan_package)),
        )
        .service(web::resource("/v1/security/results/{slug}").route(read().to(security::results)))
        .service(web::resource("/v1/search").route(read().to(search::search_listings)))
        .service(web::resource("/v1/detail/{slug}").route(read().to(detail::get_detail)))
        .service(web::resource("/v1/categories").route(read().to(categories::list_categories)))
        .service(web::resource("/v1/platforms").route(read().to(platforms::list_platforms)))
        .service(web::resource("/v1/sellers").route(read().to(sellers::list_sellers)))
        .service(web::resource("/v1/sellers/{slug}").route(read().to(sellers::get_seller)))
        .service(
            web::resource("/v1/sellers/{slug}/skills")
                .route(read().to(sellers::list_seller_skills)),
        )
        .service(web::resource("/v1/auth/cli-token").route(web::post().to(auth::create_cli_token)))
        .service(
            web::resource("/v1/auth/revoke-cli-token")
                .route(web::post().to(auth::revoke_cli_token)),
        )
        .service(web::resource("/v1/auth/me").route(read().to(auth::get_me)))
        .service(
            web::resource("/v1/users/profile")
                .route(read().to(users::get_profile))
                .route(web::patch().to(users::update_profile)),
        )
        .service(web::resource("/auth/cli-callback").route(read().to(login::cli_callback)))
        .service(
            web::resource("/sign-in")
                .route(read().to(login::sign_in_form))
                .route(web::post().to(login::sign_in)),
        );
}
