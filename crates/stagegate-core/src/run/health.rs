//! Health checks (`health:` of an environment): an HTTP GET that must answer
//! the expected status. After a deploy each check is retried until it passes
//! or the startup timeout runs out (by default 30 s per try, 5 min in all).

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::config::HealthCheck;

/// Pause between tries of a failing check: short at first (a service that
/// is starting answers soon), then doubling up to a couple of seconds.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub url: String,
    pub expect: u16,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub ok: bool,
    pub tries: u32,
}

impl Probe {
    /// What the last try got: `503`, `connection refused`, `no answer`.
    pub fn got(&self) -> String {
        match (self.status, &self.error) {
            (Some(s), _) => s.to_string(),
            (None, Some(e)) => e.clone(),
            (None, None) => "no answer".into(),
        }
    }

    /// "GET URL → 200 (expected 200)", or what went wrong.
    pub fn describe(&self) -> String {
        let got = self.got();
        let tries = if self.tries > 1 { format!(" after {} tries", self.tries) } else { String::new() };
        format!("GET {} → {got} (expected {}){tries}", self.url, self.expect)
    }
}

fn client() -> reqwest::Client {
    crate::tls::install();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("stagegate/", env!("CARGO_PKG_VERSION")))
        .build()
        .unwrap_or_default()
}

/// The innermost cause: reqwest wraps "connection refused" several levels deep.
fn cause(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return "timed out".into();
    }
    let mut src: &dyn std::error::Error = e;
    while let Some(s) = src.source() {
        src = s;
    }
    src.to_string()
}

async fn once(client: &reqwest::Client, check: &HealthCheck, timeout: Duration) -> (Option<u16>, Option<String>) {
    match client.get(&check.http).timeout(timeout).send().await {
        Ok(r) => (Some(r.status().as_u16()), None),
        Err(e) => (None, Some(cause(&e))),
    }
}

/// One try of every check (for `status` and `compare`): health *now*.
pub async fn probe_all(checks: &[HealthCheck], default_timeout: Duration, cap: Duration) -> Vec<Probe> {
    let client = client();
    let tries = checks.iter().map(|c| {
        let client = &client;
        async move {
            let (status, error) = once(client, c, c.timeout.unwrap_or(default_timeout).min(cap)).await;
            Probe { url: c.http.clone(), expect: c.expect, ok: status == Some(c.expect), status, error, tries: 1 }
        }
    });
    let mut out = Vec::new();
    for t in tries {
        out.push(t.await);
    }
    out
}

/// Retries one check until it answers as expected or `deadline` passes;
/// `progress` hears of every try that did not, and how long is left.
pub async fn wait_for(
    check: &HealthCheck,
    default_timeout: Duration,
    deadline: Instant,
    mut progress: impl FnMut(&Probe, Duration),
) -> Probe {
    let client = client();
    let mut pause = FIRST_RETRY;
    let mut probe =
        Probe { url: check.http.clone(), expect: check.expect, status: None, error: None, ok: false, tries: 0 };
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let timeout = check.timeout.unwrap_or(default_timeout).min(left.max(Duration::from_millis(100)));
        (probe.status, probe.error) = once(&client, check, timeout).await;
        probe.tries += 1;
        probe.ok = probe.status == Some(check.expect);
        let left = deadline.saturating_duration_since(Instant::now());
        if probe.ok || left.is_zero() {
            return probe;
        }
        progress(&probe, left);
        // The last try comes right at the deadline.
        tokio::time::sleep(pause.min(left)).await;
        pause = (pause * 2).min(MAX_RETRY);
    }
}

/// What the probes say, for the check registry: all pass (how many), or the
/// first that does not.
pub fn summary(probes: &[Probe]) -> crate::checks::Health {
    match probes.iter().find(|p| !p.ok) {
        Some(bad) => crate::checks::Health::Failing(bad.describe()),
        None => crate::checks::Health::Passing(probes.len()),
    }
}
