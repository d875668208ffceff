//! What a call can fail with: the server's answer in the contract's error envelope
//! (`{"detail": {"detail", "code"}}`, or a 422 list of refused fields), a rate limit that
//! could not be waited out, or the transport.

use std::time::Duration;

use ap_domain::code::Code;
use serde::Deserialize;

/// A failed call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server refused, with a coded error.
    #[error("{message} ({status}, {})", code.as_str())]
    Api {
        /// The HTTP status.
        status: u16,
        /// The contract's error code.
        code: Code,
        /// The server's message, for people.
        message: String,
        /// Security findings, when a scan caused the refusal.
        findings: Option<Vec<serde_json::Value>>,
    },
    /// The server refused values of the request (422), each with its place and reason.
    #[error("invalid request: {}", describe(.fields))]
    Invalid {
        /// Each refused value.
        fields: Vec<FieldProblem>,
    },
    /// Rate limited for longer than the client may wait.
    #[error("rate limited: try again in {} s", .retry_after.as_secs())]
    RateLimited {
        /// How long the server asked to wait.
        retry_after: Duration,
    },
    /// An answer outside the contract (an error without the envelope, or a body that is
    /// not the expected JSON).
    #[error("unexpected answer ({status}): {body}")]
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The request did not reach the server, or its answer did not arrive (timeouts
    /// included).
    #[error("transport: {0}")]
    Transport(#[from] reqwest::Error),
    /// The base URL, or a URL the server gave, is not a usable URL.
    #[error("bad URL: {0}")]
    Url(String),
}

impl Error {
    /// The contract code, for coded refusals.
    pub fn code(&self) -> Option<Code> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The HTTP status the server answered, when it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api { status, .. } | Error::Unexpected { status, .. } => Some(*status),
            Error::Invalid { .. } => Some(422),
            Error::RateLimited { .. } => Some(429),
            Error::Transport(error) => error.status().map(|s| s.as_u16()),
            Error::Url(_) => None,
        }
    }
}

/// One refused value of a 422: where (`["body", "price_cents"]`, `["query", "limit"]`)
/// and why.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct FieldProblem {
    /// Where the value was: its part of the request, then its name.
    pub loc: Vec<serde_json::Value>,
    /// Why it was refused.
    pub msg: String,
    /// The kind of problem.
    #[serde(rename = "type", default)]
    pub kind: String,
}

fn describe(fields: &[FieldProblem]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|f| {
            let place: Vec<String> = f
                .loc
                .iter()
                .map(|p| p.as_str().map_or_else(|| p.to_string(), str::to_owned))
                .collect();
            format!("{}: {}", place.join("."), f.msg)
        })
        .collect();
    parts.join("; ")
}

/// The envelope: `detail` is an object (coded) or a list (422).
#[derive(Deserialize)]
struct Envelope {
    detail: Detail,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Detail {
    Coded(ap_domain::wire::CodedError),
    Fields(Vec<FieldProblem>),
}

/// The error of a refused answer with `status` and `body`.
pub(crate) fn from_answer(status: u16, body: &[u8]) -> Error {
    match serde_json::from_slice::<Envelope>(body) {
        Ok(Envelope { detail: Detail::Coded(coded) }) => {
            Error::Api { status, code: coded.code, message: coded.detail, findings: coded.findings }
        }
        Ok(Envelope { detail: Detail::Fields(fields) }) => Error::Invalid { fields },
        Err(_) => unexpected(status, body),
    }
}

/// An answer outside the contract, with the start of its body.
pub(crate) fn unexpected(status: u16, body: &[u8]) -> Error {
    let text = String::from_utf8_lossy(body);
    Error::Unexpected { status, body: text.chars().take(300).collect() }
}
