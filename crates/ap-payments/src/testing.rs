//! A fake Stripe for tests (feature `test-support`): a local HTTP server answering the
//! calls the gateway makes (`POST /v1/checkout/sessions`, `GET /v1/checkout/sessions/{id}`,
//! accounts, balances, payouts, `POST /v1/refunds`) with objects shaped like Stripe's,
//! honouring idempotency keys, and recording every request so tests can assert the form
//! fields sent. Tests make a session paid or expired, make the next call fail with one of
//! Stripe's error bodies, and sign webhook deliveries with [`crate::signature::sign`].

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use actix_web::dev::ServerHandle;
use actix_web::web::{self, Bytes, Data};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{Value, json};

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// `POST /v1/checkout/sessions` or `GET /v1/checkout/sessions/cs_…`.
    pub route: String,
    /// The decoded form fields (`payment_intent_data[application_fee_amount]` → `"45"`).
    pub form: HashMap<String, String>,
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
    /// The `Stripe-Version` header.
    pub stripe_version: Option<String>,
}

/// A connected account's balance: available, pending, and the next payout (arrival in
/// Unix seconds, amount).
type Balance = (i64, i64, Option<(i64, i64)>);

#[derive(Debug, Default)]
struct State {
    accounts: HashMap<String, Value>,
    balances: HashMap<String, Balance>,
    sessions: HashMap<String, Value>,
    refunds: HashMap<String, Value>,
    payout_intervals: HashMap<String, String>,
    by_key: HashMap<String, String>,
    requests: Vec<Recorded>,
    fail_next: Option<(u16, Value)>,
    counter: u64,
}

/// A running fake Stripe.
pub struct FakeStripe {
    /// Its base URL, to give the gateway as `api_base`.
    pub url: String,
    state: Arc<Mutex<State>>,
    handle: ServerHandle,
}

impl std::fmt::Debug for FakeStripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeStripe").field("url", &self.url).finish_non_exhaustive()
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn session_object(id: &str, form: &HashMap<String, String>, created: i64) -> Value {
    let field = |name: &str| form.get(name).cloned().map_or(Value::Null, Value::String);
    let metadata: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix("metadata[")?.strip_suffix(']')?;
            Some((key.to_owned(), Value::String(v.clone())))
        })
        .collect();
    json!({
        "id": id,
        "object": "checkout.session",
        "amount_subtotal": form.get("line_items[0][price_data][unit_amount]").and_then(|a| a.parse::<i64>().ok()),
        "amount_total": form.get("line_items[0][price_data][unit_amount]").and_then(|a| a.parse::<i64>().ok()),
        "automatic_tax": {"enabled": false, "liability": null, "provider": null, "status": null},
        "cancel_url": field("cancel_url"),
        "client_reference_id": field("client_reference_id"),
        "created": created,
        "currency": field("line_items[0][price_data][currency]"),
        "custom_fields": [],
        "custom_text": {"after_submit": null, "shipping_address": null, "submit": null, "terms_of_service_acceptance": null},
        "customer_email": field("customer_email"),
        "expires_at": created + 86_400,
        "livemode": false,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": null,
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "shipping_options": [],
        "status": "open",
        "success_url": field("success_url"),
        "url": format!("https://checkout.stripe.test/c/pay/{id}"),
    })
}

async fn create_session(
    req: HttpRequest,
    state: Data<Arc<Mutex<State>>>,
    body: Bytes,
) -> HttpResponse {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let header =
        |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let key = header("idempotency-key");
    let mut state = lock(&state);
    state.requests.push(Recorded {
        route: "POST /v1/checkout/sessions".to_owned(),
        form: form.clone(),
        idempotency_key: key.clone(),
        stripe_version: header("stripe-version"),
    });
    if let Some((status, body)) = state.fail_next.take() {
        return error_response(status, body);
    }
    if let Some(existing) = key.as_ref().and_then(|k| state.by_key.get(k)).cloned() {
        return HttpResponse::Ok().json(&state.sessions[&existing]);
    }
    state.counter += 1;
    let id = format!("cs_test_{:08}", state.counter);
    let session = session_object(&id, &form, 1_700_000_000 + state.counter as i64);
    state.sessions.insert(id.clone(), session.clone());
    if let Some(key) = key {
        state.by_key.insert(key, id);
    }
    HttpResponse::Ok().json(session)
}

async fn get_session(
    req: HttpRequest,
    state: Data<Arc<Mutex<State>>>,
    id: web::Path<String>,
) -> HttpResponse {
    let mut state = lock(&state);
    state.requests.push(Recorded {
        route: format!("GET /v1/checkout/sessions/{id}"),
        form: HashMap::new(),
        idempotency_key: None,
        stripe_version: req
            .headers()
            .get("stripe-version")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    if let Some((status, body)) = state.fail_next.take() {
        return error_response(status, body);
    }
    match state.sessions.get(id.as_str()) {
        Some(session) => HttpResponse::Ok().json(session),
        None => error_response(
            404,
            json!({"type": "invalid_request_error", "code": "resource_missing", "message": "No such checkout.session"}),
        ),
    }
}

fn record(state: &mut State, req: &HttpRequest, route: String, form: HashMap<String, String>) {
    let header =
        |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    state.requests.push(Recorded {
        route,
        form,
        idempotency_key: header("idempotency-key"),
        stripe_version: header("stripe-version"),
    });
}

async fn create_account(
    req: HttpRequest,
    state: Data<Arc<Mutex<State>>>,
    body: Bytes,
) -> HttpResponse {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let mut state = lock(&state);
    record(&mut state, &req, "POST /v1/accounts".to_owned(), form.clone());
    let key = state.requests.last().and_then(|r| r.idempotency_key.clone());
    if let Some(existing) = key.as_ref().and_then(|k| state.by_key.get(k)).cloned() {
        return HttpResponse::Ok().json(&state.accounts[&existing]);
    }
    state.counter += 1;
    let id = format!("acct_test_{:08}", state.counter);
    let account = json!({
        "id": id, "object": "account", "type": form.get("type"), "email": form.get("email"),
        "charges_enabled": false, "payouts_enabled": false, "details_submitted": false,
    });
    state.accounts.insert(id.clone(), account.clone());
    if let Some(key) = key {
        state.by_key.insert(key, id);
    }
    HttpResponse::Ok().json(account)
}

async fn get_account(
    req: HttpRequest,
    state: Data<Arc<Mutex<State>>>,
    id: web::Path<String>,
) -> HttpResponse {
    let mut state = lock(&state);
    record(&mut state, &req, format!("GET /v1/accounts/{id}"), HashMap::new());
    match state.accounts.get(id.as_str()) {
        Some(account) => HttpResponse::Ok().json(account),
        None => error_response(
            404,
            json!({"type": "invalid_request_error", "message": "No such account"}),
        ),
    }
}

async fn update_account(
    req: HttpRequest,
    state: Data<Arc<Mutex<State>>>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let interval = form.get("settings[payouts][schedule][interval]").cloned();
    let mut state = lock(&state);
    record(&mut state, &req, format!("POST /v1/accounts/{id}"), form);
    if let Some((status, body)) = state.fail_next.take() {
        return error_response(status, body);
    }
    let Some(account) = state.accounts.get(id.as_str()).cloned() else {
        return error_response(
            404,
            json!({"type": "invalid_request_error", "code": "resource_missing", "message": format!("No such account: '{id}'")}),
        );
    };
    if let Some(interval) = interval {
        state.payout_intervals.insert(id.into_inner(), interval);
    }
    HttpResponse::Ok().json(account)
}

async fn create_account_link(
    req: HttpRequest,
    state: Data<Arc<Mutex<State>>>,
    body: Bytes,
) -> HttpResponse {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let mut state = lock(&state);
    record(&mut state, &req, "POST /v1/account_links".to_owned(), form.clone());
    state.counter += 1;
    let created = 1_700_000_000 + state.counter as i64;
    HttpResponse::Ok().json(json!({
        "object": "account_link",
        "created": created,
        "expires_at": created + 300,
        "url": format!("https://connect.stripe.test/setup/e/{}/{}", form.get("account").cloned().unwrap_or_default(), state.counter),
    }))
}

fn connected_account(req: &HttpRequest) -> String {
    req.headers().get("stripe-account").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

async fn get_balance(req: HttpRequest, state: Data<Arc<Mutex<State>>>) -> HttpResponse {
    let mut state = lock(&state);
    let account = connected_account(&req);
    record(&mut state, &req, format!("GET /v1/balance for {account}"), HashMap::new());
    let (available, pending, _) = state.balances.get(&account).copied().unwrap_or((0, 0, None));
    HttpResponse::Ok().json(json!({
        "object": "balance", "livemode": false,
        "available": [{"amount": available, "currency": "usd"}],
        "pending": [{"amount": pending, "currency": "usd"}],
    }))
}

async fn list_payouts(req: HttpRequest, state: Data<Arc<Mutex<State>>>) -> HttpResponse {
    let mut state = lock(&state);
    let account = connected_account(&req);
    record(&mut state, &req, format!("GET /v1/payouts for {account}"), HashMap::new());
    let payouts: Vec<Value> = state
        .balances
        .get(&account)
        .and_then(|(_, _, next)| *next)
        .map(|(arrival, amount)| {
            json!({
                "id": "po_test_1", "object": "payout", "amount": amount, "arrival_date": arrival,
                "automatic": true, "created": arrival - 86_400, "currency": "usd",
                "livemode": false, "method": "standard", "reconciliation_status": "not_applicable",
                "source_type": "card", "status": "pending", "type": "bank_account",
            })
        })
        .into_iter()
        .collect();
    HttpResponse::Ok()
        .json(json!({"object": "list", "data": payouts, "has_more": false, "url": "/v1/payouts"}))
}

/// A full refund of a paid session's payment intent; a second one is refused as Stripe
/// does, unless it replays the first one's idempotency key.
async fn create_refund(
    req: HttpRequest,
    state: Data<Arc<Mutex<State>>>,
    body: Bytes,
) -> HttpResponse {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let mut state = lock(&state);
    record(&mut state, &req, "POST /v1/refunds".to_owned(), form.clone());
    if let Some((status, body)) = state.fail_next.take() {
        return error_response(status, body);
    }
    let key = state.requests.last().and_then(|r| r.idempotency_key.clone());
    let replayed =
        key.as_ref().and_then(|k| state.by_key.get(k)).and_then(|id| state.refunds.get(id));
    if let Some(refund) = replayed {
        return HttpResponse::Ok().json(refund);
    }
    let payment_intent = form.get("payment_intent").cloned().unwrap_or_default();
    let paid = state
        .sessions
        .values()
        .find(|s| s["payment_intent"] == payment_intent.as_str())
        .map(|s| (s["amount_total"].as_i64().unwrap_or_default(), s["currency"].clone()));
    let Some((amount, currency)) = paid else {
        return error_response(
            404,
            json!({"type": "invalid_request_error", "code": "resource_missing", "param": "payment_intent", "message": format!("No such payment_intent: '{payment_intent}'")}),
        );
    };
    if state.refunds.values().any(|r| r["payment_intent"] == payment_intent.as_str()) {
        return error_response(
            400,
            json!({"type": "invalid_request_error", "code": "charge_already_refunded", "message": format!("Charge for {payment_intent} has already been refunded.")}),
        );
    }
    state.counter += 1;
    let counter = state.counter;
    let id = format!("re_test_{counter:08}");
    let reversed = form.get("reverse_transfer").is_some_and(|v| v == "true");
    let refund = json!({
        "id": id, "object": "refund", "amount": amount, "currency": currency,
        "created": 1_700_000_000 + counter as i64, "metadata": {},
        "payment_intent": payment_intent, "reason": null, "status": "succeeded",
        "transfer_reversal": reversed.then(|| format!("trr_test_{counter:08}")),
    });
    state.refunds.insert(id.clone(), refund.clone());
    if let Some(key) = key {
        state.by_key.insert(key, id);
    }
    HttpResponse::Ok().json(refund)
}

fn error_response(status: u16, error: Value) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(json!({ "error": error }))
}

impl FakeStripe {
    /// Starts the fake on a free loopback port (bind first, then serve: no race).
    pub fn start() -> FakeStripe {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("bind: {e}"));
        let url = format!("http://{}/", listener.local_addr().unwrap_or_else(|e| panic!("{e}")));
        let state = Arc::new(Mutex::new(State::default()));
        let data = Data::new(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/v1/checkout/sessions", web::post().to(create_session))
                .route("/v1/checkout/sessions/{id}", web::get().to(get_session))
                .route("/v1/accounts", web::post().to(create_account))
                .route("/v1/accounts/{id}", web::get().to(get_account))
                .route("/v1/accounts/{id}", web::post().to(update_account))
                .route("/v1/account_links", web::post().to(create_account_link))
                .route("/v1/balance", web::get().to(get_balance))
                .route("/v1/payouts", web::get().to(list_payouts))
                .route("/v1/refunds", web::post().to(create_refund))
        })
        .workers(1)
        .listen(listener)
        .unwrap_or_else(|e| panic!("listen: {e}"))
        .run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        FakeStripe { url, state, handle }
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        lock(&self.state).requests.clone()
    }

    /// Makes a session paid, with a payment intent (answered; `pi_…`).
    pub fn pay(&self, session_id: &str) -> String {
        let payment_intent = format!("pi_{}", session_id.trim_start_matches("cs_"));
        let mut state = lock(&self.state);
        if let Some(session) = state.sessions.get_mut(session_id) {
            session["payment_status"] = json!("paid");
            session["status"] = json!("complete");
            session["payment_intent"] = json!(payment_intent);
        }
        payment_intent
    }

    /// Makes a session expired unpaid.
    pub fn expire(&self, session_id: &str) {
        if let Some(session) = lock(&self.state).sessions.get_mut(session_id) {
            session["status"] = json!("expired");
        }
    }

    /// Sets a connected account's flags (as finishing onboarding at Stripe would).
    pub fn set_account(&self, account_id: &str, charges: bool, payouts: bool, details: bool) {
        if let Some(account) = lock(&self.state).accounts.get_mut(account_id) {
            account["charges_enabled"] = json!(charges);
            account["payouts_enabled"] = json!(payouts);
            account["details_submitted"] = json!(details);
        }
    }

    /// A connected account's balance (available, pending) and its next pending payout
    /// (arrival as Unix seconds, amount).
    pub fn set_balance(
        &self,
        account_id: &str,
        available: i64,
        pending: i64,
        next: Option<(i64, i64)>,
    ) {
        lock(&self.state).balances.insert(account_id.to_owned(), (available, pending, next));
    }

    /// Whether a payment intent was refunded.
    pub fn refunded(&self, payment_intent: &str) -> bool {
        lock(&self.state).refunds.values().any(|r| r["payment_intent"] == payment_intent)
    }

    /// A connected account's payout schedule interval, once it was updated (`manual`:
    /// payouts paused, `daily`: resumed).
    pub fn payout_interval(&self, account_id: &str) -> Option<String> {
        lock(&self.state).payout_intervals.get(account_id).cloned()
    }

    /// How many connected accounts exist.
    pub fn account_count(&self) -> usize {
        lock(&self.state).accounts.len()
    }

    /// The next call answers `status` with Stripe's error body `{"error": error}`.
    pub fn fail_next(&self, status: u16, error: Value) {
        lock(&self.state).fail_next = Some((status, error));
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A Stripe event delivery body.
pub fn event(id: &str, kind: &str, object: Value) -> String {
    json!({"id": id, "object": "event", "type": kind, "data": {"object": object}}).to_string()
}
