//! The HTTP service: `POST /webhook` (also `/`) for GitHub's deliveries,
//! `GET /healthz`; a timer that decides pending requests again and retries
//! answers GitHub did not take; graceful shutdown on SIGTERM or Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Utc;
use serde_json::json;

use super::auth::App;
use super::decide::{self, Outcome};
use super::isolate;
use super::store::{Answer, Entry, Request, Store};
use super::webhook::{self, Event};
use super::{Clock, Options, ServeError};
use crate::github::app::Answered;

/// GitHub's deliveries are at most 25 MB; the App's events are a few KiB.
const MAX_BODY: usize = 1 << 20;
/// Answer attempts in a row before the timer takes over.
const ATTEMPTS: u32 = 5;
/// How often the timer looks for due requests.
const TICK: Duration = Duration::from_secs(1);
/// GitHub fails a deployment whose protection rule has not answered within
/// 30 days; a request older than that can no longer be answered.
const GITHUB_TIMEOUT_DAYS: i64 = 30;

pub struct Service {
    pub(super) opts: Options,
    pub(super) app: App,
    pub(super) store: Store,
    pub(super) clock: Clock,
}

pub(super) type Shared = Arc<Service>;

pub async fn run(opts: Options) -> Result<(), ServeError> {
    super::isolate::log_panics();
    let app = App::new(&opts)?;
    let store = Store::open(&opts.kv, &opts.kv_prefix)?;
    match store.migrate().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(requests = n, "moved the pending requests into one key each"),
        Err(e) => {
            tracing::error!(error = %e, "cannot move the pending requests into one key each; trying at the next start")
        }
    }
    let limits = super::conn::Limits::at_start();
    let listener = tokio::net::TcpListener::bind(opts.listen)
        .await
        .map_err(|source| ServeError::Listen { addr: opts.listen.to_string(), source })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Listen { addr: opts.listen.to_string(), source })?;
    let clock = Clock::new(opts.fixed_now);
    let svc: Shared = Arc::new(Service { opts, app, store, clock });
    tracing::info!(
        addr = %addr,
        kv = %svc.store.describe(),
        app_id = svc.opts.app_id,
        max_connections = limits.connections,
        "listening"
    );
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/webhook", post(webhook))
        .route("/", post(webhook))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(svc.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let timer = tokio::spawn(timer(svc.clone(), stop_rx));
    super::conn::serve(listener, router, limits, shutdown()).await;
    let _ = stop_tx.send(true);
    let _ = timer.await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            tokio::signal::ctrl_c().await.ok();
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

async fn healthz(State(svc): State<Shared>) -> Response {
    match svc.store.all().await {
        Ok(all) => {
            let pending = all.iter().filter(|e| e.answer.is_none()).count();
            axum::Json(json!({"status": "ok", "pending": pending, "undelivered": all.len() - pending})).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "the KV store cannot be read");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "kv unavailable"}))).into_response()
        }
    }
}

fn reply(status: StatusCode, what: &str) -> Response {
    (status, axum::Json(json!({"status": what}))).into_response()
}

async fn webhook(State(svc): State<Shared>, headers: HeaderMap, body: axum::body::Body) -> Response {
    let Some(body) = super::conn::read_body(body, MAX_BODY).await else {
        return reply(StatusCode::REQUEST_TIMEOUT, "body too slow or too large");
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if !webhook::verify(&svc.opts.webhook_secret, &body, header("x-hub-signature-256")) {
        tracing::warn!("refused a delivery with a missing or wrong signature");
        return reply(StatusCode::UNAUTHORIZED, "bad signature");
    }
    let event = header("x-github-event").unwrap_or_default().to_owned();
    // GitHub's delivery ids are GUIDs: a bounded, plain alphabet keeps the
    // list of seen ids under the KV's value limit.
    let plain = |d: &&str| !d.is_empty() && d.len() <= 100 && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let Some(delivery) = header("x-github-delivery").filter(plain) else {
        return reply(StatusCode::BAD_REQUEST, "no X-GitHub-Delivery");
    };
    let delivery = delivery.to_owned();
    match svc.store.first_delivery(&delivery).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(delivery = %delivery, event = %event, "replayed delivery: ignored");
            return reply(StatusCode::OK, "duplicate");
        }
        Err(e) => {
            tracing::error!(error = %e, "the KV store cannot be written");
            return reply(StatusCode::SERVICE_UNAVAILABLE, "kv unavailable");
        }
    }
    let parsed = match webhook::parse(&event, &body, svc.clock.now()) {
        Ok(p) => p,
        Err(why) => {
            tracing::warn!(delivery = %delivery, why = %why, "malformed delivery");
            return reply(StatusCode::BAD_REQUEST, "malformed");
        }
    };
    tracing::info!(delivery = %delivery, event = %event, "delivery");
    accept(svc, parsed).await
}

/// Records what the delivery asks and decides in the background: GitHub wants
/// an answer to the delivery within seconds, the decision may take longer.
async fn accept(svc: Shared, event: Event) -> Response {
    match event {
        Event::Requested(req) => {
            let key = req.key();
            if let Err(e) = svc.store.add(req).await {
                tracing::error!(error = %e, "the KV store cannot be written");
                return reply(StatusCode::SERVICE_UNAVAILABLE, "kv unavailable");
            }
            tokio::spawn(isolate::decide(svc, key));
            reply(StatusCode::ACCEPTED, "pending")
        }
        Event::Reviewed { owner, repo, run_id } => {
            let all = match svc.store.all().await {
                Ok(a) => a,
                Err(e) => {
                    tracing::error!(error = %e, "the KV store cannot be read");
                    return reply(StatusCode::SERVICE_UNAVAILABLE, "kv unavailable");
                }
            };
            for e in all.into_iter().filter(|e| {
                let r = &e.request;
                e.answer.is_none() && r.owner == owner && r.repo == repo && r.run_id == run_id
            }) {
                tokio::spawn(isolate::decide(svc.clone(), e.request.key()));
            }
            reply(StatusCode::ACCEPTED, "re-deciding")
        }
        Event::Ignored(what) => {
            tracing::debug!(event = %what, "ignored");
            reply(StatusCode::OK, "ignored")
        }
    }
}

async fn entry(svc: &Service, key: &str) -> Option<Entry> {
    match svc.store.get(key).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "the KV store cannot be read");
            None
        }
    }
}

/// Decides the pending request `key` now; answers GitHub when decided. Runs
/// in a task of its own ([`isolate::decide`]).
pub(super) async fn decide_key(svc: Shared, key: String) {
    let Some(e) = entry(&svc, &key).await.filter(|e| e.answer.is_none()) else { return };
    let req = e.request;
    let now = svc.clock.now();
    let outcome = match svc.app.forge(req.installation, &req.owner, &req.repo).await {
        Ok(forge) => decide::decide(&forge, &req, &svc.opts.config_path, now, svc.opts.servicenow.as_ref()).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(outcome) => settle(svc, key, outcome).await,
        Err(e) => {
            let next = now + chrono::Duration::seconds(30);
            tracing::warn!(request = %key, error = %e, "cannot decide now; trying again");
            if let Err(e) = svc.store.reschedule(&key, Some(next), &format!("GitHub to answer: {e}")).await {
                tracing::error!(request = %key, error = %e, "the KV store cannot be written");
            }
        }
    }
}

/// Keeps a request pending until its next check, or claims and delivers its answer.
pub(super) async fn settle(svc: Shared, key: String, outcome: Outcome) {
    let now = svc.clock.now();
    let result = match outcome {
        Outcome::Pending { until, why } => {
            let periodic = chrono::Duration::from_std(svc.opts.recheck)
                .ok()
                .and_then(|d| now.checked_add_signed(d))
                .unwrap_or(chrono::DateTime::<Utc>::MAX_UTC);
            let next = until.map_or(periodic, |u| u.min(periodic));
            tracing::info!(request = %key, waiting_for = %why, next_check = %next, "pending");
            svc.store.reschedule(&key, Some(next), &why).await
        }
        Outcome::Answer { state, comment } => {
            let answer = Answer { state, comment, attempts: 0, retry_at: None };
            match svc.store.claim(&key, answer.clone()).await {
                Ok(true) => {
                    tracing::info!(request = %key, state = ?state, "decided");
                    if let Some(e) = entry(&svc, &key).await {
                        deliver(&svc, &e.request, answer).await;
                    }
                    Ok(())
                }
                Ok(false) => Ok(()),
                Err(e) => Err(e),
            }
        }
    };
    if let Err(e) = result {
        tracing::error!(request = %key, error = %e, "the KV store cannot be written");
    }
}

/// Answers on the run's protection rule, retrying GitHub's failures with
/// exponential backoff; the timer takes over after [`ATTEMPTS`].
async fn deliver(svc: &Service, req: &Request, answer: Answer) {
    let key = req.key();
    let forge = match svc.app.forge(req.installation, &req.owner, &req.repo).await {
        Ok(f) => f,
        Err(e) => return failed(svc, &key, &e.to_string()).await,
    };
    let mut wait = svc.opts.retry_base;
    for attempt in 1..=ATTEMPTS {
        match forge.review_protection_rule(req.run_id, &req.environment, answer.state, &answer.comment).await {
            Answered::Done => {
                tracing::info!(request = %key, state = ?answer.state, attempt, "answered");
                if let Err(e) = svc.store.done(&key).await {
                    tracing::error!(request = %key, error = %e, "the KV store cannot be written");
                }
                return;
            }
            Answered::Refused(why) => {
                tracing::error!(request = %key, why = %why, "GitHub refused the answer; giving up");
                let _ = svc.store.done(&key).await;
                return;
            }
            Answered::Retry(why) if attempt < ATTEMPTS => {
                tracing::warn!(request = %key, why = %why, attempt, wait_ms = wait.as_millis() as u64, "answer failed; retrying");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Answered::Retry(why) => return failed(svc, &key, &why).await,
        }
    }
}

async fn failed(svc: &Service, key: &str, why: &str) {
    tracing::warn!(request = %key, why = %why, "answer not delivered; the timer tries again in a minute");
    let at = Utc::now() + chrono::Duration::minutes(1);
    if let Err(e) = svc.store.delivery_failed(key, at).await {
        tracing::error!(request = %key, error = %e, "the KV store cannot be written");
    }
}

/// Drops a request GitHub has timed out, so pending requests never pile up.
async fn forget_expired(svc: &Service, e: &super::store::Entry) {
    let key = e.request.key();
    tracing::warn!(
        request = %key,
        received_at = %e.request.received_at,
        "GitHub times a protection rule out after 30 days; forgetting the request"
    );
    if let Err(err) = svc.store.done(&key).await {
        tracing::error!(request = %key, error = %err, "the KV store cannot be written");
    }
}

/// Every [`TICK`]: decides the pending requests that are due and retries
/// answers not delivered. At start, a request never decided and an answer not
/// yet delivered are due (a restart picks up where the last process left);
/// the rest keep their next check, so a restart with thousands pending does
/// not ask GitHub about all of them at once.
async fn timer(svc: Shared, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut first = true;
    loop {
        if !first {
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = stop.changed() => return,
            }
        }
        let all = match svc.store.all().await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = %e, "the KV store cannot be read");
                continue;
            }
        };
        let now = svc.clock.now();
        let real_now = Utc::now();
        for e in all {
            if now - e.request.received_at > chrono::Duration::days(GITHUB_TIMEOUT_DAYS) {
                forget_expired(&svc, &e).await;
                continue;
            }
            match &e.answer {
                None if e.next_check.map_or(first, |t| t <= now) => {
                    isolate::decide(svc.clone(), e.request.key()).await;
                }
                Some(a) if first || a.retry_at.is_some_and(|t| t <= real_now) => {
                    deliver(&svc, &e.request, a.clone()).await;
                }
                _ => {}
            }
        }
        first = false;
    }
}
