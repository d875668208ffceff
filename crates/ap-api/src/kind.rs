//! [`Kind`]: the listing type a scope forces, read by the listing routes.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use ap_domain::listing::ListingType;
use futures_util::future::{Ready, ready};

use crate::error::ApiError;

/// The listing type a listing route forces: none under `/v1/skills` (skills and agents
/// alike), `agent` under `/v1/agents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind(pub Option<ListingType>);

impl FromRequest for Kind {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(req.app_data::<Kind>().copied().unwrap_or(Kind(None))))
    }
}
