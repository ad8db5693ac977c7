//! `stagegate journal status`: each lane's version, import state and age.

use serde_json::json;

use super::{Common, Ctx, age, open_kv};
use crate::error::{Error, Exit};
use crate::journal::lanes::Lanes;
use crate::output::table;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(ctx: &Ctx, common: &Common, _args: Args) -> Result<Exit, Error> {
    let cfg = common.load(ctx)?;
    let lanes = Lanes::new(open_kv(ctx, &cfg)?, &cfg.journal);
    let mut docs = Vec::new();
    let mut rows = Vec::new();
    for lane in lanes.names() {
        let (version, _) = lanes.assigned(lane).await?;
        let (state, _) = lanes.state(lane).await?;
        // The state belongs to the assigned version only if it is about it.
        let current = state.as_ref().filter(|s| Some(&s.version) == version.as_ref());
        docs.push(json!({
            "lane": lane,
            "version": version,
            "state": current.map(|s| s.state.as_str()),
            "at": current.map(|s| s.at),
            "owner": current.map(|s| s.owner.clone()),
            "last": state.as_ref().map(|s| json!({"version": s.version, "state": s.state.as_str(), "at": s.at})),
        }));
        let (state_text, when) = match (current, &state) {
            (Some(s), _) => (s.state.as_str().to_string(), age(s.at)),
            (None, Some(s)) if version.is_some() => {
                (format!("pending (last {} {})", s.state.as_str(), s.version), age(s.at))
            }
            (None, _) if version.is_some() => ("pending".into(), "-".into()),
            _ => ("-".into(), "-".into()),
        };
        rows.push(vec![lane.clone(), version.unwrap_or_else(|| "-".into()), state_text, when]);
    }
    if ctx.out.json() {
        ctx.out.emit(&json!({ "lanes": docs }));
    } else {
        println!("{}", table(&["LANE", "VERSION", "STATE", "AGE"], &rows));
    }
    Ok(Exit::Success)
}
