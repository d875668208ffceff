//! Session JWTs: verification for an external identity provider (JWKS) and for the
//! built-in development issuer, and signing for the latter.
//!
//! Algorithms are pinned: HS256 tokens go only to the development issuer (its own secret),
//! asymmetric ones only to the external provider's configured algorithms and JWKS key by
//! `kid`. `exp`, `iss` and a string `sub` are required; expiry is checked against the
//! injected clock with an explicit leeway; `aud` is checked when configured.

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretBox};
use serde::{Deserialize, Serialize};

use crate::error::AuthError;
use crate::jwks::Jwks;

/// Who a verified session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionIdentity {
    /// The issuer (`iss`).
    pub issuer: String,
    /// The subject (`sub`), unique per issuer.
    pub subject: String,
    /// E-mail claim.
    pub email: Option<String>,
    /// Name claim.
    pub name: Option<String>,
    /// When the provider issued the session (`iat`), when it says; kept only when the
    /// request is a sign-in (see `Authenticator::authenticate_sign_in`).
    pub issued_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

/// An external identity provider: Clerk, or any OIDC provider that publishes a JWKS.
#[derive(Debug)]
pub struct ExternalProvider {
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`, when configured.
    pub audience: Option<String>,
    /// Accepted asymmetric algorithms (e.g. RS256).
    pub algorithms: Vec<Algorithm>,
    /// Its keys.
    pub jwks: Jwks,
}

/// The server's own issuer for development sign-in: HS256 with a server-held secret.
pub struct DevIssuer {
    issuer: String,
    secret: SecretBox<Vec<u8>>,
    lifetime: Duration,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer").field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl DevIssuer {
    /// An issuer named `issuer` signing with `secret` (at least 32 bytes) for `lifetime`.
    pub fn new(issuer: impl Into<String>, secret: Vec<u8>, lifetime: Duration) -> Self {
        Self { issuer: issuer.into(), secret: SecretBox::new(Box::new(secret)), lifetime }
    }

    /// The `iss` of its tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// How long its tokens live.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// Signs a session for `subject`.
    pub fn sign(
        &self,
        subject: &str,
        email: Option<&str>,
        name: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String, AuthError> {
        let claims = Claims {
            iss: self.issuer.clone(),
            sub: subject.to_owned(),
            exp: (now + self.lifetime).timestamp(),
            nbf: None,
            iat: Some(now.timestamp()),
            email: email.map(str::to_owned),
            name: name.map(str::to_owned),
        };
        let key = EncodingKey::from_secret(self.secret.expose_secret())
            .map_err(|e| AuthError::Internal(format!("session key: {e}")))?;
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key)
            .map_err(|e| AuthError::Internal(format!("signing a session: {e}")))
    }
}

/// Verifies session JWTs from the configured providers.
#[derive(Debug)]
pub struct SessionVerifier {
    external: Option<ExternalProvider>,
    dev: Option<std::sync::Arc<DevIssuer>>,
    leeway: Duration,
}

impl SessionVerifier {
    /// A verifier; `leeway` applies to `exp` and `nbf`.
    pub fn new(
        external: Option<ExternalProvider>,
        dev: Option<std::sync::Arc<DevIssuer>>,
        leeway: Duration,
    ) -> Self {
        Self { external, dev, leeway }
    }

    /// Verifies a session JWT at time `now`.
    pub async fn verify(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<SessionIdentity, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Unauthorized)?;
        let claims = match header.alg {
            Algorithm::HS256 => {
                let dev = self.dev.as_ref().ok_or(AuthError::Unauthorized)?;
                let key = DecodingKey::from_secret(dev.secret.expose_secret())
                    .map_err(|e| AuthError::Internal(format!("session key: {e}")))?;
                decode(token, &key, Algorithm::HS256, &dev.issuer, None)?
            }
            alg => {
                let provider = self.external.as_ref().ok_or(AuthError::Unauthorized)?;
                if !provider.algorithms.contains(&alg) {
                    return Err(AuthError::Unauthorized);
                }
                let jwk = provider.jwks.key(header.kid.as_deref(), now).await?;
                let key = DecodingKey::from_jwk(&jwk).map_err(|_| AuthError::Unauthorized)?;
                decode(token, &key, alg, &provider.issuer, provider.audience.as_deref())?
            }
        };
        let now = now.timestamp();
        let leeway = self.leeway.num_seconds();
        if now >= claims.exp + leeway || claims.nbf.is_some_and(|nbf| now + leeway < nbf) {
            return Err(AuthError::Unauthorized);
        }
        if claims.sub.is_empty() {
            return Err(AuthError::Unauthorized);
        }
        Ok(SessionIdentity {
            issuer: claims.iss,
            subject: claims.sub,
            email: claims.email,
            name: claims.name,
            issued_at: claims.iat.and_then(|iat| DateTime::from_timestamp(iat, 0)),
        })
    }
}

/// Signature, algorithm, issuer and audience checks; time is checked by the caller with
/// the injected clock.
fn decode(
    token: &str,
    key: &DecodingKey,
    alg: Algorithm,
    issuer: &str,
    audience: Option<&str>,
) -> Result<Claims, AuthError> {
    let mut validation = Validation::new(alg);
    validation.algorithms = vec![alg];
    validation.leeway = 0;
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    validation.set_issuer(&[issuer]);
    match audience {
        Some(audience) => validation.set_audience(&[audience]),
        None => validation.validate_aud = false,
    }
    jsonwebtoken::decode::<Claims>(token, key, &validation)
        .map(|data| data.claims)
        .map_err(|_| AuthError::Unauthorized)
}
