//! `stagegate hold set|clear|list`: stop the line. A held environment takes
//! no promotion, deploy or journal promotion, and the App keeps its
//! deployments pending, until the hold is cleared or its `--until` passes; a
//! rollback still runs unless the hold was set with `--rollbacks-too`. Every
//! set and clear is a line in the audit trail and an event in `history`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Ctx, Who, known_env};
use crate::effects::Done;
use crate::error::{Error, Exit, check_text};
use crate::forge::hold::{self, clear_description};
use crate::forge::{Hold, NewHold};
use crate::human;
use crate::output::{Out, Render, table};
use crate::policy::Policy;
use crate::run::audit;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Hold an environment: promote, deploy, journal promote and the App refuse it
    Set(SetArgs),
    /// End the hold on an environment
    Clear(ClearArgs),
    /// The environments held now
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// Environment to hold
    #[arg(long)]
    env: String,
    /// Why (shown in every refusal, the audit trail and `history`)
    #[arg(long, value_name = "TEXT")]
    reason: String,
    /// It stops holding by itself at this time (RFC 3339) [default: until cleared]
    #[arg(long, value_name = "TIME", value_parser = super::values::instant)]
    until: Option<DateTime<Utc>>,
    /// Hold rollbacks too (by default they still run: they end incidents)
    #[arg(long)]
    rollbacks_too: bool,
    #[command(flatten)]
    who: Who,
}

#[derive(Debug, clap::Args)]
pub struct ClearArgs {
    /// Environment to release
    #[arg(long)]
    env: String,
    /// Why it is over (recorded with the clear)
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    #[command(flatten)]
    who: Who,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this environment
    #[arg(long)]
    env: Option<String>,
}

/// A hold as commands show it: `{"environment", "reason", "by", "at", "until", "rollbacks_too"}`.
#[derive(Debug, Clone, Serialize)]
pub struct HoldView {
    pub environment: String,
    pub reason: String,
    pub by: String,
    pub at: String,
    pub until: Option<String>,
    pub rollbacks_too: bool,
}

impl From<&Hold> for HoldView {
    fn from(h: &Hold) -> HoldView {
        HoldView {
            environment: h.set.environment.clone(),
            reason: h.set.reason.clone(),
            by: h.set.by.clone(),
            at: human::timestamp(h.set.at),
            until: h.set.until.map(human::timestamp),
            rollbacks_too: h.set.rollbacks_too,
        }
    }
}

impl HoldView {
    /// `held by alice since 2026-12-01T10:00:00Z until …: INC-4711`.
    pub fn describe(&self) -> String {
        let until = self.until.as_ref().map_or(String::new(), |u| format!(" until {u}"));
        let rollbacks = if self.rollbacks_too { ", rollbacks too" } else { "" };
        format!("held by {} since {}{until}{rollbacks}: {}", self.by, self.at, self.reason)
    }
}

pub async fn run(ctx: &Ctx, cmd: Command) -> Result<Exit, Error> {
    match cmd {
        Command::Set(a) => set(ctx, a).await,
        Command::Clear(a) => clear(ctx, a).await,
        Command::List(a) => list(ctx, a).await,
    }
}

/// A reason as given: trimmed, not empty, no control characters.
fn reason(flag: &str, text: &str) -> Result<String, Error> {
    let r = text.trim();
    if r.is_empty() {
        return Err(Error::invalid(
            format!("{flag} is empty"),
            "say why in a few words, e.g. --reason \"INC-4711: checkout errors\"",
        ));
    }
    check_text(flag, r)?;
    Ok(r.to_owned())
}

async fn set(ctx: &Ctx, a: SetArgs) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let env = known_env(&policy, &a.env)?;
    let why = reason("--reason", &a.reason)?;
    let now = ctx.now();
    if let Some(u) = a.until.filter(|u| *u <= now) {
        return Err(Error::invalid(
            format!("--until {} is not in the future", human::timestamp(u)),
            "give a later time, or leave --until out to hold until `hold clear`",
        ));
    }
    let by = a.who.actor()?;
    let forge = ctx.forge()?;
    let before = hold::current(forge.as_ref(), &env.name, now).await?;
    let new = NewHold {
        environment: env.name.clone(),
        reason: why,
        by,
        until: a.until,
        rollbacks_too: a.rollbacks_too,
        at: now,
    };
    let made = forge.set_hold(&new).await?;
    // The newest hold decides: the one it replaces is ended on the forge too.
    if let Some(old) = before {
        let d = format!("replaced by a new hold of {}: {}", new.by, new.reason);
        forge.clear_hold(&old, &d, now).await?;
    }
    record(ctx, "hold set", &new.environment, &new.by, &a.who.run_id, &new.reason, "held")?;
    ctx.out.print(&Changed { hold: HoldView::from(&made), cleared: false, done: ctx.done() });
    Ok(Exit::Success)
}

async fn clear(ctx: &Ctx, a: ClearArgs) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let env = known_env(&policy, &a.env)?;
    let why = a.reason.as_deref().map(|r| reason("--reason", r)).transpose()?;
    let by = a.who.actor()?;
    let forge = ctx.forge()?;
    let now = ctx.now();
    let Some(h) = hold::current(forge.as_ref(), &env.name, now).await? else {
        ctx.out.print(&NotHeld { environment: env.name.clone(), hold: None, cleared: false });
        return Ok(Exit::Success);
    };
    let description = clear_description(&by, why.as_deref());
    forge.clear_hold(&h, &description, now).await?;
    record(ctx, "hold clear", &env.name, &by, &a.who.run_id, why.as_deref().unwrap_or(""), "cleared")?;
    ctx.out.print(&Changed { hold: HoldView::from(&h), cleared: true, done: ctx.done() });
    Ok(Exit::Success)
}

async fn list(ctx: &Ctx, a: ListArgs) -> Result<Exit, Error> {
    let cfg = ctx.load_config()?;
    let policy = Policy::new(&cfg);
    let names: Vec<&str> = match &a.env {
        Some(e) => vec![known_env(&policy, e)?.name.as_str()],
        None => policy.graph.ordered(),
    };
    let forge = ctx.forge()?;
    let mut holds = Vec::new();
    for name in names {
        if let Some(h) = hold::current(forge.as_ref(), name, ctx.now()).await? {
            holds.push(HoldView::from(&h));
        }
    }
    ctx.out.print(&Holds { holds });
    Ok(Exit::Success)
}

/// One line in the audit trail: who set or cleared which hold, when, why.
fn record(ctx: &Ctx, command: &str, env: &str, by: &str, run_id: &str, why: &str, outcome: &str) -> Result<(), Error> {
    if ctx.writes().is_dry_run() {
        return Ok(());
    }
    audit::check(&ctx.state)?;
    let entry = audit::Entry {
        at: ctx.now(),
        actor: by.to_owned(),
        run_id: run_id.to_owned(),
        command: command.to_owned(),
        env: env.to_owned(),
        from: None,
        release: None,
        sha: None,
        git_ref: None,
        approvals: Vec::new(),
        freeze_override: None,
        reason: (!why.is_empty()).then(|| why.to_owned()),
        outcome: outcome.to_owned(),
        message: format!("{command} on {env} by {by}"),
        steps: Vec::new(),
    };
    audit::append(&ctx.state, &entry)?;
    Ok(())
}

/// `hold set` and `hold clear`: the hold set, or the one ended.
#[derive(Debug, Serialize)]
struct Changed {
    hold: HoldView,
    cleared: bool,
    #[serde(flatten)]
    done: Done,
}

impl Render for Changed {
    fn text(&self, o: &Out) -> String {
        let h = &self.hold;
        if let Some(would) = self.done.would() {
            return would;
        }
        if self.cleared {
            format!("{} {} is no longer held (was {})", o.good("✓"), h.environment, h.describe())
        } else {
            format!("{} {} is {}", o.bad("■"), h.environment, h.describe())
        }
    }
}

/// `hold clear` on an environment nobody holds.
#[derive(Debug, Serialize)]
struct NotHeld {
    environment: String,
    hold: Option<HoldView>,
    cleared: bool,
}

impl Render for NotHeld {
    fn text(&self, _: &Out) -> String {
        format!("{} is not held: nothing to clear", self.environment)
    }
}

/// `hold list`.
#[derive(Debug, Serialize)]
struct Holds {
    holds: Vec<HoldView>,
}

impl Render for Holds {
    fn text(&self, _: &Out) -> String {
        if self.holds.is_empty() {
            return "no environment is held".into();
        }
        let rows: Vec<Vec<String>> = self
            .holds
            .iter()
            .map(|h| {
                vec![
                    h.environment.clone(),
                    h.by.clone(),
                    h.at.clone(),
                    h.until.clone().unwrap_or_else(|| "cleared by hand".into()),
                    if h.rollbacks_too { "held".into() } else { "run".into() },
                    h.reason.clone(),
                ]
            })
            .collect();
        table(&["ENVIRONMENT", "BY", "SINCE", "UNTIL", "ROLLBACKS", "REASON"], &rows)
    }
}
