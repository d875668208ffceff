//! Query-string access. Clients form-encode query strings and send integers as strings,
//! so handlers read raw values and parse them with the domain parsers, which report each
//! failure as a 422 entry located at `["query", name]`. Unknown parameters are ignored.

use std::collections::HashMap;

use actix_web::web;

/// The decoded query string of a request.
pub type RawQuery = web::Query<HashMap<String, String>>;

/// The value of `name`, if present.
pub fn param<'a>(query: &'a RawQuery, name: &str) -> Option<&'a str> {
    query.get(name).map(String::as_str)
}
