//! Installations (docs/API.md, Downloads and Installations): a client reports an install. Counted once per (user, or
//! anonymous host) and listing; repeats answer the first record. Anonymous installs of
//! external sources are accepted and not recorded.

use std::sync::Arc;

use ap_domain::clock::Clock;
use ap_domain::validation::body_text_len;
use ap_domain::wire::{InstallationRecorded, NATIVE_SOURCE};
use ap_domain::{Code, ErrorCode, FieldError, FieldErrors, UserId};
use ap_store::usage::{self, NewInstallation};
use ap_store::{Db, StoreError, UnitError, catalog, write_tx};
use serde_json::{Map, Value};

const PLATFORMS: [&str; 5] = ["code", "cowork", "web", "cli", "mcp"];
const SOURCES: [&str; 2] = [NATIVE_SOURCE, "clawhub"];

/// Why an installation was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A native slug that was never published.
    #[error("Skill not found")]
    NotFound,
    /// The body's fields are invalid.
    #[error(transparent)]
    Invalid(#[from] FieldErrors),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl UnitError for InstallError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            InstallError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl ErrorCode for InstallError {
    fn code(&self) -> Code {
        match self {
            InstallError::NotFound => Code::SkillNotFound,
            InstallError::Invalid(e) => e.code(),
            InstallError::Store(e) => e.code(),
        }
    }

    fn public_message(&self) -> String {
        match self {
            InstallError::Store(e) => e.public_message(),
            other => other.to_string(),
        }
    }

    fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            InstallError::Invalid(errors) => Some(errors),
            _ => None,
        }
    }
}

struct Install {
    source_slug: String,
    hostname: String,
    platform: String,
    source: String,
}

fn choice(
    body: &Map<String, Value>,
    name: &str,
    allowed: &[&str],
    default: Option<&str>,
) -> Result<String, FieldError> {
    let value = body.get(name).unwrap_or(&Value::Null);
    if value.is_null()
        && let Some(default) = default
    {
        return Ok(default.to_owned());
    }
    let text = body_text_len(name, value, 1, 64)?.to_ascii_lowercase();
    if allowed.contains(&text.as_str()) {
        Ok(text)
    } else {
        Err(FieldError::body(
            name,
            "enum",
            format!("Input should be one of: {}", allowed.join(", ")),
        ))
    }
}

fn parse(body: &Map<String, Value>) -> Result<Install, FieldErrors> {
    let mut errors = FieldErrors::default();
    for name in body.keys() {
        if !matches!(name.as_str(), "source_slug" | "hostname" | "platform" | "source") {
            errors.push(FieldError::body(
                name,
                "extra_forbidden",
                "Extra inputs are not permitted",
            ));
        }
    }
    let null = Value::Null;
    let source_slug = errors.check(body_text_len(
        "source_slug",
        body.get("source_slug").unwrap_or(&null),
        1,
        200,
    ));
    let hostname =
        errors.check(body_text_len("hostname", body.get("hostname").unwrap_or(&null), 1, 255));
    let platform = errors.check(choice(body, "platform", &PLATFORMS, None));
    let source = errors.check(choice(body, "source", &SOURCES, Some(NATIVE_SOURCE)));
    match (source_slug, hostname, platform, source) {
        (Some(source_slug), Some(hostname), Some(platform), Some(source))
            if errors.0.is_empty() =>
        {
            Ok(Install { source_slug, hostname, platform, source })
        }
        _ => Err(errors),
    }
}

/// Installation records.
#[derive(Debug, Clone)]
pub struct Installations {
    db: Db,
    clock: Arc<dyn Clock>,
}

impl Installations {
    /// Installations over `db`, stamped by `clock`.
    pub fn new(db: Db, clock: Arc<dyn Clock>) -> Self {
        Self { db, clock }
    }

    /// `POST /v1/installations`.
    pub async fn record(
        &self,
        caller: Option<UserId>,
        body: &Map<String, Value>,
    ) -> Result<InstallationRecorded, InstallError> {
        let install = parse(body)?;
        let now = self.clock.now().naive_utc();
        let installer_key = match &caller {
            Some(user) => format!("user:{user}"),
            None => format!("host:{}", install.hostname.to_lowercase()),
        };
        let native = install.source == NATIVE_SOURCE;
        let recorded = if !native && caller.is_none() {
            // Anonymous installs of external listings are not kept.
            uuid::Uuid::now_v7().to_string()
        } else {
            let slug = install.source_slug.clone();
            let mut record = NewInstallation {
                id: uuid::Uuid::now_v7().to_string(),
                listing_id: None,
                source: install.source.clone(),
                source_slug: install.source_slug.clone(),
                user_id: caller.map(UserId::into_string),
                installer_key,
                hostname: install.hostname.clone(),
                platform: install.platform.clone(),
                created_at: now,
            };
            self.db
                .run(move |conn| {
                    write_tx(conn, |conn| {
                        if native {
                            // Installs of listings that were ever published count,
                            // archived ones too (buyers keep them).
                            match catalog::listing_by_slug(conn, &slug, None)? {
                                Some((card, _)) if card.live_version_id.is_some() => {
                                    record.listing_id = Some(card.id.into_string())
                                }
                                _ => return Err(InstallError::NotFound),
                            }
                        }
                        Ok(usage::record_installation(conn, &record)?)
                    })
                })
                .await?
        };
        Ok(InstallationRecorded {
            id: recorded,
            source_slug: install.source_slug,
            hostname: install.hostname,
            platform: install.platform,
            source: install.source,
            message: "Installation recorded".to_owned(),
        })
    }
}
