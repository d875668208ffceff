//! Stored listing details (`ap_store::documents`): each live listing's detail kept as the
//! JSON `GET /v1/skills/{slug}` answers, so a detail nobody asked for lately costs one
//! lookup by slug instead of a join.
//!
//! The store's triggers drop a document in the transaction of any change it shows and
//! name its listing as due; [`build_due`] rebuilds what is due with [`render`], the
//! route's own serialization. The server builds every due document at start-up (before
//! it listens) and on every follow of the catalog; a listing whose document is not built
//! yet is answered from the join.

use ap_store::catalog::DetailParts;
use ap_store::{Conn, StoreError, documents};

use crate::present;

/// The document of a listing's detail: the JSON `GET /v1/skills/{slug}` answers.
pub fn render(parts: &DetailParts) -> Result<String, StoreError> {
    let detail = present::detail(&parts.card, &parts.extra, &parts.author, &parts.versions)?;
    Ok(serde_json::to_string(&detail)?)
}

/// Builds the document of every due listing; answers how many listings it settled.
pub fn build_due(conn: &mut Conn) -> Result<usize, StoreError> {
    documents::build_due(conn, render)
}
