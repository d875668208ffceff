//! Tokens: the CLI token lifecycle, session-JWT verification, the auth table, storage
//! and logs free of secrets, and profiles.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{ISSUER, Listing, TestApp, keys};

fn unauthorized_body() -> Value {
    json!({"detail": {"detail": "Invalid or missing credentials", "code": "UNAUTHORIZED"}})
}

async fn cli_token_lifetime_follows_the_clock(app: TestApp) {
    let token = app.cli_token("alice").await;
    assert!(token.starts_with("ap_cli_"));
    let me = app.get_as("/v1/auth/me", &token).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json["email"], "alice@example.com");
    let expires =
        chrono::DateTime::parse_from_rfc3339(me.json["token_expires_at"].as_str().expect("expiry"))
            .expect("RFC 3339");
    let issued = ap_auth::Clock::now(&app.clock);
    let lifetime = expires.with_timezone(&chrono::Utc) - issued;
    // PostgreSQL keeps microseconds: the stored expiry may be a fraction of a second early.
    assert!(
        lifetime <= chrono::Duration::days(90)
            && lifetime > chrono::Duration::days(90) - chrono::Duration::seconds(1),
        "{lifetime}"
    );

    app.clock.advance(chrono::Duration::days(90) - chrono::Duration::seconds(1));
    assert_eq!(
        app.get_as("/v1/auth/me", &token).await.status,
        200,
        "accepted at 90 days minus 1 s"
    );
    app.clock.advance(chrono::Duration::seconds(1));
    let expired = app.get_as("/v1/auth/me", &token).await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.json, unauthorized_body(), "rejected at 90 days");
}

async fn a_new_login_revokes_the_previous_token(app: TestApp) {
    let first = app.cli_token("bob").await;
    let second = app.cli_token("bob").await;
    assert_ne!(first, second);
    let old = app.get_as("/v1/auth/me", &first).await;
    old.assert_coded(401, "TOKEN_REVOKED");
    assert_eq!(app.get_as("/v1/auth/me", &second).await.status, 200);
    // Another user's login does not touch Bob's token.
    app.cli_token("carol").await;
    assert_eq!(app.get_as("/v1/auth/me", &second).await.status, 200);
}

async fn concurrent_mints_leave_one_active_token(app: TestApp) {
    let session = app.provider_jwt(&keys().0, "dave", json!({}));
    // The user exists before the race (created on first sight).
    assert_eq!(app.get_as("/v1/auth/me", &session).await.status, 200);
    let (a, b) = futures_util::future::join(
        app.post_as("/v1/auth/cli-token", &session),
        app.post_as("/v1/auth/cli-token", &session),
    )
    .await;
    let minted: Vec<String> = [a, b]
        .into_iter()
        .filter(|r| r.status == 201)
        .map(|r| r.json["token"].as_str().expect("token").to_owned())
        .collect();
    assert!(!minted.is_empty());
    let mut working = 0;
    for token in &minted {
        if app.get_as("/v1/auth/me", token).await.status == 200 {
            working += 1;
        }
    }
    assert_eq!(working, 1, "exactly one of {} minted tokens is active", minted.len());
}

async fn revoking_is_final_and_harmless_twice(app: TestApp) {
    let token = app.cli_token("erin").await;
    let res = app.post_as("/v1/auth/revoke-cli-token", &token).await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert_eq!(res.json, json!({"revoked": true}));
    let after = app.get_as("/v1/auth/me", &token).await;
    assert_eq!((after.status, after.json.clone()), (401, unauthorized_body()));
    let again = app.post_as("/v1/auth/revoke-cli-token", &token).await;
    assert_eq!((again.status, again.json.clone()), (401, unauthorized_body()));

    // With a session: revokes the user's active token; twice is fine.
    let token = app.cli_token("erin").await;
    // Used twice, so its lookup is cached: revocation must still take effect at once.
    assert_eq!(app.get_as("/v1/auth/me", &token).await.status, 200);
    assert_eq!(app.get_as("/v1/auth/me", &token).await.status, 200);
    let session = app.provider_jwt(&keys().0, "erin", json!({}));
    assert_eq!(
        app.post_as("/v1/auth/revoke-cli-token", &session).await.json,
        json!({"revoked": true})
    );
    assert_eq!(app.post_as("/v1/auth/revoke-cli-token", &session).await.status, 200);
    assert_eq!(app.get_as("/v1/auth/me", &token).await.status, 401);
}

async fn bad_tokens_get_one_answer(app: TestApp) {
    let revoked = app.cli_token("frank").await;
    app.post_as("/v1/auth/revoke-cli-token", &revoked).await;
    let expiring = app.cli_token("gina").await;
    let unknown = ap_auth::cli_token::CliToken::generate().expect("token");
    let mut bad = vec![
        unknown.expose().to_owned(),
        "ap_cli_not-a-token".to_owned(),
        format!("{}x", &revoked[..revoked.len() - 1]),
        "garbage".to_owned(),
        revoked,
    ];
    for token in &bad {
        let res = app.get_as("/v1/auth/me", token).await;
        assert_eq!((res.status, res.json.clone()), (401, unauthorized_body()), "{token}");
    }
    app.clock.advance(chrono::Duration::days(91));
    bad.push(expiring);
    let res = app.get_as("/v1/auth/me", bad.last().expect("token")).await;
    assert_eq!((res.status, res.json), (401, unauthorized_body()), "expired");
    for header in ["Basic Zm9vOmJhcg==", "Bearer", "Bearer    ", "Token abc"] {
        let res = app
            .send(
                app.client.get(format!("{}/v1/auth/me", app.base)).header("Authorization", header),
            )
            .await;
        assert_eq!((res.status, res.json.clone()), (401, unauthorized_body()), "{header}");
    }
}

async fn a_cli_token_cannot_mint_another(app: TestApp) {
    let token = app.cli_token("hank").await;
    app.post_as("/v1/auth/cli-token", &token).await.assert_coded(403, "SESSION_REQUIRED");
    assert_eq!(app.get_as("/v1/auth/me", &token).await.status, 200, "and it still works");
}

fn unsigned(header: Value, claims: Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

async fn session_jwts_are_verified_strictly(app: TestApp) {
    let (k1, k2) = keys();
    let valid = app.provider_jwt(k1, "ivy", json!({}));
    let me = app.get_as("/v1/auth/me", &valid).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json["token_expires_at"], Value::Null);
    assert_eq!(me.json["name"], "User ivy");
    assert_eq!(app.jwks.fetch_count(), 1);

    let now = ap_auth::Clock::now(&app.clock).timestamp();
    let claims = json!({"iss": ISSUER, "aud": "agentpowers-test", "sub": "ivy", "exp": now + 600});
    let mut hs_header = Header::new(Algorithm::HS256);
    hs_header.kid = Some("k1".to_owned());
    let confused = jsonwebtoken::encode(
        &hs_header,
        &claims,
        &EncodingKey::from_secret(k1.public_pem.as_bytes()).expect("key"),
    )
    .expect("sign");
    let parts: Vec<&str> = valid.split('.').collect();
    let tampered_claims =
        json!({"iss": ISSUER, "aud": "agentpowers-test", "sub": "admin", "exp": now + 600});
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(tampered_claims.to_string()),
        parts[2]
    );
    let rejected = [
        ("alg none", unsigned(json!({"alg": "none", "typ": "JWT"}), claims.clone())),
        ("HS256 signed with the public key", confused),
        ("wrong issuer", app.provider_jwt(k1, "ivy", json!({"iss": "https://evil.example"}))),
        ("wrong audience", app.provider_jwt(k1, "ivy", json!({"aud": "someone-else"}))),
        ("expired", app.provider_jwt(k1, "ivy", json!({"exp": now - 31}))),
        ("missing exp", app.provider_jwt(k1, "ivy", json!({"exp": null}))),
        ("numeric sub", app.provider_jwt(k1, "ivy", json!({"sub": 42}))),
        ("not yet valid", app.provider_jwt(k1, "ivy", json!({"nbf": now + 3600}))),
        ("tampered payload", tampered),
        (
            "dev issuer name on a provider key",
            app.provider_jwt(k1, "ivy", json!({"iss": app.dev.issuer()})),
        ),
    ];
    for (what, token) in &rejected {
        let res = app.get_as("/v1/auth/me", token).await;
        assert_eq!((res.status, res.json.clone()), (401, unauthorized_body()), "{what}");
    }
    assert_eq!(
        app.get_as("/v1/auth/me", &app.provider_jwt(k1, "ivy", json!({"exp": now - 10})))
            .await
            .status,
        200,
        "within leeway"
    );

    // An unknown kid: one refresh of the key set (after the cooldown), then 401.
    app.clock.advance(chrono::Duration::seconds(61));
    let unknown = app.provider_jwt(k2, "ivy", json!({}));
    assert_eq!(app.get_as("/v1/auth/me", &unknown).await.status, 401);
    assert_eq!(app.jwks.fetch_count(), 2, "refreshed once for the unknown kid");
    assert_eq!(app.get_as("/v1/auth/me", &unknown).await.status, 401);
    assert_eq!(app.jwks.fetch_count(), 2, "no refresh storm");
    // Rotation: once k2 is published, it is picked up at the next refresh.
    app.jwks.rotate();
    app.clock.advance(chrono::Duration::seconds(61));
    let rotated = app.provider_jwt(k2, "ivy", json!({}));
    assert_eq!(app.get_as("/v1/auth/me", &rotated).await.status, 200);
    assert_eq!(app.jwks.fetch_count(), 3);

    // Development sessions verify with the server's own key.
    assert_eq!(app.get_as("/v1/auth/me", &app.dev_jwt("dev-user")).await.status, 200);
}

async fn nothing_secret_is_stored(app: TestApp) {
    let tokens =
        [app.cli_token("jane").await, app.cli_token("jane").await, app.cli_token("kate").await];
    let session = app.provider_jwt(&keys().0, "kate", json!({}));
    let rows = ap_store::testing::dump_rows(app.db());
    let dump = rows.join("\n");
    assert!(dump.contains("jane@example.com"), "the dump holds the data");
    let mut values = std::collections::BTreeSet::new();
    for row in &rows {
        let row: Value = serde_json::from_str(row).expect("row JSON");
        for value in row.as_object().expect("object").values() {
            if let Some(text) = value.as_str().filter(|t| t.len() >= 16) {
                values.insert(text.to_owned());
            }
        }
    }
    for token in tokens.iter().chain([&session]) {
        assert!(!dump.contains(token.as_str()), "a plaintext token is stored");
        assert!(!dump.contains(&token["ap_cli_".len()..]), "a token body is stored");
    }
    for value in &values {
        let res = app.get_as("/v1/auth/me", value).await;
        assert_eq!(res.status, 401, "stored value authenticates: {value}");
    }
}

/// Route × (anonymous, valid token, bad token): the contract's auth table.
async fn the_auth_table_is_enforced(app: TestApp) {
    let owner = app.seller("Table Owner").await;
    app.listing(&owner, Listing::skill("table-skill", "Table Skill")).await;
    let token = app.cli_token("lara").await;
    let bad = "ap_cli_bad";
    // (method, path, expected anonymous, expected with a valid CLI token)
    let table: &[(&str, &str, u16, u16)] = &[
        ("GET", "/v1/skills", 200, 200),
        ("GET", "/v1/skills/table-skill", 200, 200),
        ("GET", "/v1/agents", 200, 200),
        ("GET", "/v1/search?q=table", 200, 200),
        ("GET", "/v1/categories", 200, 200),
        ("GET", "/v1/detail/table-skill", 200, 200),
        ("GET", "/v1/platforms", 200, 200),
        ("GET", "/v1/sellers", 200, 200),
        ("GET", "/v1/sellers/table-owner", 200, 200),
        ("GET", "/v1/sellers/table-owner/skills", 200, 200),
        ("GET", "/v1/auth/me", 401, 200),
        ("GET", "/v1/users/profile", 401, 200),
        ("POST", "/v1/auth/cli-token", 401, 403),
        ("POST", "/v1/auth/revoke-cli-token", 401, 200),
    ];
    for (method, path, anonymous, valid) in table {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let url = format!("{}{path}", app.base);
        let anon = app.send(app.client.request(method.clone(), &url)).await;
        assert_eq!(anon.status, *anonymous, "{method} {path} anonymous: {}", anon.text);
        let bad_res = app.send(app.client.request(method.clone(), &url).bearer_auth(bad)).await;
        assert_eq!(
            (bad_res.status, bad_res.json.clone()),
            (401, unauthorized_body()),
            "{method} {path} bad token"
        );
        let ok = app.send(app.client.request(method.clone(), &url).bearer_auth(&token)).await;
        assert_eq!(ok.status, *valid, "{method} {path} valid token: {}", ok.text);
    }
    assert_eq!(app.get("/health").await.status, 200);
    let health = app.send(app.client.get(format!("{}/health", app.base)).bearer_auth(bad)).await;
    assert_eq!(health.status, 200, "health ignores credentials");
}

async fn profile_patch_accepts_only_its_fields(app: TestApp) {
    let token = app.cli_token("mona").await;
    let before = app.get_as("/v1/users/profile", &token).await;
    assert_eq!(before.status, 200);
    for key in [
        "id",
        "email",
        "display_name",
        "display_name_slug",
        "github_username",
        "bio",
        "website_url",
        "github_url",
        "linkedin_url",
        "twitter_url",
        "avatar_url",
        "joined_at",
        "created_at",
        "account_status",
        "deletion_scheduled_at",
    ] {
        assert!(before.json.get(key).is_some(), "{key}");
    }
    let patch = |body: Value| {
        app.send(
            app.client
                .patch(format!("{}/v1/users/profile", app.base))
                .bearer_auth(&token)
                .json(&body),
        )
    };
    for forbidden in [
        json!({"email": "x@evil.example"}),
        json!({"id": "other"}),
        json!({"is_admin": true}),
        json!({"account_status": "active", "bio": "fine"}),
        json!({"stripe_account_id": "acct_1"}),
        json!({"display_name": "Mona", "verified": true}),
    ] {
        let res = patch(forbidden.clone()).await;
        assert_eq!(res.status, 422, "{forbidden}: {}", res.text);
        assert_eq!(res.json["detail"][0]["loc"][0], "body");
    }
    for invalid in [
        json!({"website_url": "javascript:alert(1)"}),
        json!({"github_url": "ftp://example.com"}),
        json!({"twitter_url": format!("https://x.com/{}", "a".repeat(500))}),
        json!({"display_name": "M"}),
        json!({"display_name": "x".repeat(51)}),
        json!({"bio": "b".repeat(2001)}),
        json!({"bio": 5}),
    ] {
        assert_eq!(patch(invalid.clone()).await.status, 422, "{invalid}");
    }
    let after = app.get_as("/v1/users/profile", &token).await;
    assert_eq!(after.json, before.json, "nothing changed");

    let ok = patch(
        json!({"display_name": "John Doe", "bio": "Hi", "website_url": "https://john.example"}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["display_name_slug"], "john-doe");
    assert_eq!(ok.json["bio"], "Hi");
    let second = app.cli_token("nina").await;
    let third = app.cli_token("omar").await;
    let rename = |token: String| {
        let body = json!({"display_name": "John  Doe!"});
        app.send(
            app.client
                .patch(format!("{}/v1/users/profile", app.base))
                .bearer_auth(token)
                .json(&body),
        )
    };
    assert_eq!(rename(second).await.json["display_name_slug"], "john-doe-2");
    assert_eq!(rename(third).await.json["display_name_slug"], "john-doe-3");
    let cleared = patch(json!({"website_url": null})).await;
    assert_eq!(cleared.json["website_url"], Value::Null);
    let text = app
        .send(
            app.client
                .patch(format!("{}/v1/users/profile", app.base))
                .bearer_auth(&token)
                .header("Content-Type", "text/plain")
                .body("display_name=x"),
        )
        .await;
    text.assert_coded(415, "UNSUPPORTED_MEDIA_TYPE");
}

async fn an_unknown_token_is_remembered_briefly(app: TestApp) {
    use ap_auth::store::{IdentityStore, NewCliToken};
    let first = app.cli_token("uma").await;
    let me = app.get_as("/v1/auth/me", &first).await;
    let user_id = me.json["id"].as_str().expect("id").to_owned();
    // Uma has no active token when the new one appears, so its appearance revokes
    // nothing (a revocation anywhere would drop this instance's cache, rightly).
    assert_eq!(app.post_as("/v1/auth/revoke-cli-token", &first).await.status, 200);
    app.state.auth().follow_revocations().await.expect("follow");
    app.state.auth().follow_revocations().await.expect("follow");
    let token = ap_auth::cli_token::CliToken::generate().expect("token");
    app.get_as("/v1/auth/me", token.expose()).await.assert_coded(401, "UNAUTHORIZED");
    // The token comes to exist behind this instance's back (as if minted on another).
    let now = ap_auth::Clock::now(&app.clock);
    let record = NewCliToken {
        id: uuid::Uuid::new_v4().to_string(),
        user_id,
        token_hash: token.hash(),
        created_at: now,
        expires_at: now + chrono::Duration::days(90),
    };
    app.db().replace_cli_token(record).await.expect("stored");
    // Remembered as unknown: refused again without asking the store...
    app.get_as("/v1/auth/me", token.expose()).await.assert_coded(401, "UNAUTHORIZED");
    // ...for as long as a known token's lookup is reused, then asked again.
    app.clock.advance(chrono::Duration::seconds(10));
    let me = app.get_as("/v1/auth/me", token.expose()).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json["email"], "uma@example.com");
}

/// A token revoked through one instance is refused by another at its next follow of the
/// revocations (every 200 ms), not after the token cache's 10 seconds; replacing a
/// token by a new login is a revocation too.
async fn another_instance_learns_of_a_revocation_at_once(app: TestApp) {
    let other = app.beside(None);
    // Where the revocations stand when it starts (its follower's first look).
    other.state.auth().follow_revocations().await.expect("follow");
    let token = app.cli_token("roaming").await;
    // The first use records it as used (and re-reads it); the second is cached.
    for _ in 0..2 {
        assert_eq!(other.get_as("/v1/auth/me", &token).await.status, 200, "cached on the other");
    }
    assert_eq!(app.post_as("/v1/auth/revoke-cli-token", &token).await.status, 200);
    other.state.auth().follow_revocations().await.expect("follow");
    other.get_as("/v1/auth/me", &token).await.assert_coded(401, "UNAUTHORIZED");

    let first = app.cli_token("relogin").await;
    for _ in 0..2 {
        assert_eq!(other.get_as("/v1/auth/me", &first).await.status, 200);
    }
    let second = app.cli_token("relogin").await;
    other.state.auth().follow_revocations().await.expect("follow");
    other.get_as("/v1/auth/me", &first).await.assert_coded(401, "TOKEN_REVOKED");
    assert_eq!(other.get_as("/v1/auth/me", &second).await.status, 200);
}

both_backends!(
    another_instance_learns_of_a_revocation_at_once,
    an_unknown_token_is_remembered_briefly,
    cli_token_lifetime_follows_the_clock,
    a_new_login_revokes_the_previous_token,
    concurrent_mints_leave_one_active_token,
    revoking_is_final_and_harmless_twice,
    bad_tokens_get_one_answer,
    a_cli_token_cannot_mint_another,
    session_jwts_are_verified_strictly,
    nothing_secret_is_stored,
    the_auth_table_is_enforced,
    profile_patch_accepts_only_its_fields,
);
