//! `stagegate team @org/slug [--add USER…] [--remove USER…]`: the local forge's
//! team membership, which `@org/team` reviewers resolve to offline (on GitHub
//! the organisation's teams answer).

use serde::Serialize;

use super::Ctx;
use crate::config::Reviewer;
use crate::effects::Done;
use crate::error::{Error, Exit, InputError};
use crate::forge::{ForgeError, ForgeKind};
use crate::output::{Out, Render};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The team, as in `reviewers:` (`@acme/sre`)
    team: String,
    /// Logins to add
    #[arg(long, num_args = 1.., value_name = "USER")]
    add: Vec<String>,
    /// Logins to remove
    #[arg(long, num_args = 1.., value_name = "USER")]
    remove: Vec<String>,
}

fn login(s: &str) -> Result<String, Error> {
    let bare = s.trim_start_matches('@');
    match Reviewer::parse(bare) {
        Some(Reviewer::User(u)) => Ok(u.to_lowercase()),
        _ => Err(InputError::Invalid {
            message: format!("`{}` is not a GitHub login", s.escape_debug()),
            help: Some("a login is letters, digits and `-`, e.g. --add alice".into()),
        }
        .into()),
    }
}

pub async fn run(ctx: &Ctx, args: Args) -> Result<Exit, Error> {
    let Some(Reviewer::Team { org, slug }) = Reviewer::parse(&args.team) else {
        return Err(Error::invalid(
            format!("`{}` is not a team", args.team.escape_debug()),
            "write a team as @org/team-slug",
        ));
    };
    let add = args.add.iter().map(|u| login(u)).collect::<Result<Vec<_>, _>>()?;
    let remove = args.remove.iter().map(|u| login(u)).collect::<Result<Vec<_>, _>>()?;
    let forge = ctx.forge()?;
    let mut members = forge.team_members(&org, &slug).await?;
    let changing = !add.is_empty() || !remove.is_empty();
    if changing {
        if ctx.forge_kind != ForgeKind::Local {
            return Err(ForgeError::LocalOnly {
                what: "changing a team".into(),
                help: "on GitHub, teams are managed in the organisation's settings".into(),
            }
            .into());
        }
        members.retain(|m| !remove.contains(m));
        for a in add {
            if !members.contains(&a) {
                members.push(a);
            }
        }
        members.sort();
        forge.set_team_members(&org, &slug, &members).await?;
    }
    let team = format!("@{org}/{slug}");
    ctx.out.print(&Team { team, members, changing, done: ctx.done() });
    Ok(Exit::Success)
}

/// A team's members (after the change, if any).
#[derive(Debug, Serialize)]
struct Team {
    team: String,
    members: Vec<String>,
    #[serde(skip)]
    changing: bool,
    #[serde(flatten)]
    done: Done,
}

impl Render for Team {
    fn text(&self, _: &Out) -> String {
        if let Some(would) = self.done.would().filter(|_| self.changing) {
            would
        } else if self.members.is_empty() {
            format!("{} has no members", self.team)
        } else {
            format!("{}: {}", self.team, self.members.join(", "))
        }
    }
}
