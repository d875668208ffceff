//! The diesel schema, hand-written once for both backends.
//!
//! Backend-only columns are left out on purpose: SQLite's `listings.rid` (its integer
//! row id, kept because SQLite cannot drop a primary key; nothing reads it). The
//! generated columns `popularity` and `rating_average` are readable but never inserted.

diesel::table! {
    users (id) {
        id -> Text,
        identity_issuer -> Text,
        identity_subject -> Text,
        email -> Nullable<Text>,
        name -> Nullable<Text>,
        display_name -> Nullable<Text>,
        display_name_slug -> Nullable<Text>,
        github_username -> Nullable<Text>,
        bio -> Nullable<Text>,
        website_url -> Nullable<Text>,
        github_url -> Nullable<Text>,
        linkedin_url -> Nullable<Text>,
        twitter_url -> Nullable<Text>,
        avatar_url -> Nullable<Text>,
        verified -> Bool,
        account_status -> Text,
        deletion_scheduled_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        erased_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    seller_accounts (user_id) {
        user_id -> Text,
        stripe_account_id -> Text,
        charges_enabled -> Bool,
        payouts_enabled -> Bool,
        details_submitted -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    categories (slug) {
        slug -> Text,
        name -> Text,
        description -> Text,
        icon -> Text,
        sample_keywords -> Text,
        position -> Integer,
    }
}

diesel::table! {
    listings (id) {
        id -> Text,
        slug -> Text,
        owner_id -> Text,
        listing_type -> Text,
        title -> Text,
        description -> Text,
        long_description -> Text,
        category -> Text,
        price_cents -> BigInt,
        currency -> Text,
        live_version_id -> Nullable<Text>,
        current_version -> Nullable<Text>,
        security_status -> Text,
        security_score -> Nullable<Integer>,
        archived_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        download_count -> BigInt,
        install_count -> BigInt,
        view_count -> BigInt,
        rating_sum -> BigInt,
        rating_count -> BigInt,
        popularity -> BigInt,
        rating_average -> Double,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        quarantined_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    listing_versions (id) {
        id -> Text,
        listing_id -> Text,
        version -> Text,
        major -> Integer,
        minor -> Integer,
        patch -> Integer,
        status -> Text,
        changelog -> Nullable<Text>,
        archive_sha256 -> Nullable<Text>,
        content_hash -> Nullable<Text>,
        size_bytes -> Nullable<BigInt>,
        security_status -> Nullable<Text>,
        security_score -> Nullable<Integer>,
        findings -> Nullable<Text>,
        layers -> Nullable<Text>,
        scanned_at -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        upload_started_at -> Nullable<Timestamp>,
        quarantined_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    purchases (id) {
        id -> Text,
        buyer_id -> Text,
        listing_id -> Text,
        amount_cents -> BigInt,
        fee_cents -> BigInt,
        currency -> Text,
        status -> Text,
        stripe_session_id -> Nullable<Text>,
        stripe_payment_intent_id -> Nullable<Text>,
        completed_at -> Nullable<Timestamp>,
        refunded_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        seller_id -> Nullable<Text>,
    }
}

diesel::table! {
    seller_days (seller_id, day) {
        seller_id -> Text,
        day -> Date,
        gross_cents -> BigInt,
        refunded_cents -> BigInt,
        fee_cents -> BigInt,
        sales_count -> BigInt,
        refunds_count -> BigInt,
    }
}

diesel::table! {
    listing_days (listing_id, day) {
        listing_id -> Text,
        day -> Date,
        seller_id -> Text,
        gross_cents -> BigInt,
        refunded_cents -> BigInt,
        fee_cents -> BigInt,
        sales_count -> BigInt,
        refunds_count -> BigInt,
    }
}

diesel::table! {
    license_codes (code) {
        code -> Text,
        purchase_id -> Text,
        redeemed_by -> Nullable<Text>,
        redeemed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    reviews (id) {
        id -> Text,
        listing_id -> Text,
        user_id -> Text,
        rating -> Integer,
        text -> Nullable<Text>,
        verified_purchase -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    installations (id) {
        id -> Text,
        listing_id -> Nullable<Text>,
        source -> Text,
        source_slug -> Text,
        user_id -> Nullable<Text>,
        installer_key -> Text,
        hostname -> Text,
        platform -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    cli_tokens (id) {
        id -> Text,
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    payment_refunds (payment_intent_id) {
        payment_intent_id -> Text,
        refunded_at -> Timestamp,
    }
}

diesel::table! {
    stripe_events (id) {
        id -> Text,
        event_type -> Text,
        received_at -> Timestamp,
    }
}

diesel::table! {
    scan_cache (content_hash, kind) {
        content_hash -> Text,
        kind -> Text,
        security_status -> Text,
        security_score -> Integer,
        findings -> Text,
        layers -> Text,
        scanner_version -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    count_marks (listing_id, kind, visitor, day) {
        listing_id -> Text,
        kind -> Text,
        visitor -> Text,
        day -> Text,
    }
}

diesel::table! {
    catalog_changes (id) {
        id -> BigInt,
        listing_id -> Text,
        kind -> Text,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Text,
        role -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target -> Text,
        reason -> Text,
    }
}

diesel::table! {
    abuse_reports (id) {
        id -> Text,
        listing_id -> Text,
        reporter_id -> Text,
        reason -> Text,
        text -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        closed_by -> Nullable<Text>,
        resolution -> Nullable<Text>,
    }
}

diesel::table! {
    rescans (id) {
        id -> Text,
        actor -> Text,
        reason -> Text,
        scanner_version -> Text,
        status -> Text,
        total -> BigInt,
        done -> BigInt,
        changed -> BigInt,
        started_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        error -> Nullable<Text>,
    }
}

diesel::table! {
    rescan_changes (rescan_id, version_id) {
        rescan_id -> Text,
        version_id -> Text,
        listing_id -> Text,
        slug -> Text,
        version -> Text,
        before_status -> Text,
        after_status -> Text,
        before_score -> Nullable<Integer>,
        after_score -> Integer,
    }
}

diesel::table! {
    listing_documents (slug) {
        slug -> Text,
        listing_id -> Text,
        listing_type -> Text,
        format -> Text,
        body -> Text,
    }
}

diesel::table! {
    listing_documents_due (listing_id) {
        listing_id -> Text,
    }
}

diesel::joinable!(listings -> users (owner_id));
diesel::joinable!(abuse_reports -> listings (listing_id));
diesel::joinable!(listing_versions -> listings (listing_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    seller_accounts,
    payment_refunds,
    listing_days,
    seller_days,
    categories,
    listings,
    listing_versions,
    purchases,
    license_codes,
    reviews,
    installations,
    cli_tokens,
    stripe_events,
    scan_cache,
    count_marks,
    user_roles,
    audit_log,
    abuse_reports,
    rescans,
    rescan_changes,
    listing_documents,
    listing_documents_due,
);
