//! Deployment reads over GitHub's GraphQL API: an environment's deployments
//! with their statuses and payloads, 100 a request, up to ten environments a
//! query (one alias each). Over REST the same read costs a request per
//! deployment (its statuses) on top of the list.
//!
//! Pages stay bounded: a page is asked for at most 100 deployments and 20
//! statuses each, and what a server sends beyond what was asked is not read.
//! `errors` in a 200 (GitHub's way of refusing a query it accepted, rate
//! limits included) become [`ForgeError::GraphQl`].

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::GitHubForge;
use super::api::error;
use super::deployments::{GhDeployment, Login, state_of};
use crate::forge::{Deployment, DeploymentId, DeploymentStatus, ForgeError, MAX_WINDOW, Window};

/// Deployments a page asks for (GitHub's most).
const PAGE: usize = 100;
/// Statuses read of each deployment: a run sets a handful.
const STATUSES: usize = 20;
/// Environments one query reads (aliases).
const ENVS_PER_QUERY: usize = 10;

const FIELDS: &str = "databaseId task payload environment description ref { name } commitOid createdAt \
     creator { login } statuses(first: $statuses) { nodes { state description createdAt } }";

/// The query reading `n` environments, one alias (`e0`…) each, every alias
/// with its own page size (`$f0`…) and cursor (`$a0`…).
fn query(n: usize) -> String {
    let mut vars = String::from("$owner: String!, $name: String!, $statuses: Int!");
    let mut body = String::new();
    for i in 0..n {
        vars.push_str(&format!(", $e{i}: String!, $f{i}: Int!, $a{i}: String"));
        body.push_str(&format!(
            " e{i}: deployments(environments: [$e{i}], first: $f{i}, after: $a{i}, \
             orderBy: {{field: CREATED_AT, direction: DESC}}) {{ nodes {{ {FIELDS} }} pageInfo {{ hasNextPage endCursor }} }}"
        ));
    }
    format!("query({vars}) {{ repository(owner: $owner, name: $name) {{{body} }} }}")
}

#[derive(Deserialize)]
struct Answer {
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<GqlError>,
}

#[derive(Deserialize)]
struct GqlError {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Connection {
    #[serde(default)]
    nodes: Vec<Option<Node>>,
    #[serde(rename = "pageInfo")]
    page_info: PageInfo,
}

#[derive(Deserialize)]
struct PageInfo {
    #[serde(rename = "hasNextPage")]
    has_next_page: bool,
    #[serde(rename = "endCursor")]
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    database_id: Option<u64>,
    task: Option<String>,
    payload: Option<String>,
    environment: Option<String>,
    description: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<RefName>,
    commit_oid: String,
    created_at: DateTime<Utc>,
    creator: Option<Login>,
    statuses: Option<Statuses>,
}

#[derive(Deserialize)]
struct RefName {
    name: String,
}

#[derive(Deserialize)]
struct Statuses {
    #[serde(default)]
    nodes: Vec<Option<Status>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    state: String,
    description: Option<String>,
    created_at: DateTime<Utc>,
}

impl Node {
    /// The deployment as the REST read makes it (same record, same fallbacks).
    fn into_deployment(self) -> Option<Deployment> {
        // Task `deploy` only: holds (task `stagegate:hold`) are not deployments.
        if self.task.as_deref().is_some_and(|t| t != "deploy") {
            return None;
        }
        let id = self.database_id?;
        let mut statuses: Vec<DeploymentStatus> = self
            .statuses
            .map(|s| s.nodes)
            .unwrap_or_default()
            .into_iter()
            .flatten()
            .take(STATUSES)
            .map(|s| DeploymentStatus {
                state: state_of(&s.state.to_ascii_lowercase()),
                description: s.description.unwrap_or_default(),
                created_at: s.created_at,
            })
            .collect();
        statuses.sort_by_key(|s| s.created_at);
        let gh = GhDeployment {
            id,
            git_ref: self.git_ref.map_or_else(|| self.commit_oid.clone(), |r| r.name),
            sha: self.commit_oid,
            environment: self.environment.unwrap_or_default(),
            payload: self.payload.and_then(|p| serde_json::from_str(&p).ok()).unwrap_or(Value::Null),
            description: self.description,
            creator: self.creator,
            created_at: self.created_at,
        };
        Some(Deployment { id: DeploymentId::Recorded(id), request: gh.request(), statuses })
    }
}

/// One environment's read: what it has, where its next page starts.
struct Reading<'a> {
    env: &'a str,
    got: Vec<Deployment>,
    /// `None` once it needs nothing more.
    next: Option<Option<String>>,
}

impl GitHubForge {
    /// Deployments of `environments` cut to `window`, one list each, in order.
    pub(super) async fn gql_deployments(
        &self,
        environments: &[&str],
        window: Window,
    ) -> Result<Vec<Vec<Deployment>>, ForgeError> {
        let at_most = window.at_most.min(MAX_WINDOW);
        let mut readings: Vec<Reading> = environments
            .iter()
            .map(|env| Reading { env, got: Vec::new(), next: (at_most > 0).then_some(None) })
            .collect();
        // Pages that held only other tasks (holds) count too: bounded however
        // the history is made.
        for _ in 0..MAX_WINDOW / PAGE {
            let open: Vec<usize> =
                (0..readings.len()).filter(|&i| readings[i].next.is_some()).take(ENVS_PER_QUERY).collect();
            if open.is_empty() {
                break;
            }
            let mut vars = Map::new();
            vars.insert("owner".into(), json!(self.ctx.owner));
            vars.insert("name".into(), json!(self.ctx.repo));
            vars.insert("statuses".into(), json!(STATUSES));
            for (k, &i) in open.iter().enumerate() {
                let r = &readings[i];
                vars.insert(format!("e{k}"), json!(r.env));
                vars.insert(format!("f{k}"), json!((at_most - r.got.len()).min(PAGE)));
                vars.insert(format!("a{k}"), json!(r.next.clone().flatten()));
            }
            let what = format!(
                "read the deployments of {}",
                open.iter().map(|&i| readings[i].env).collect::<Vec<_>>().join(", ")
            );
            let mut repo = self.graphql(&query(open.len()), Value::Object(vars), &what).await?;
            for (k, &i) in open.iter().enumerate() {
                let r = &mut readings[i];
                let conn: Connection =
                    serde_json::from_value(repo[format!("e{k}")].take()).map_err(|e| unreadable(&what, &e))?;
                let asked = (at_most - r.got.len()).min(PAGE);
                r.got.extend(conn.nodes.into_iter().flatten().take(asked).filter_map(Node::into_deployment));
                let older = window.since.is_some_and(|s| r.got.last().is_some_and(|d| d.request.at < s));
                let done = r.got.len() >= at_most || older || !conn.page_info.has_next_page;
                r.next = match conn.page_info.end_cursor {
                    Some(c) if !done => Some(Some(c)),
                    _ => None,
                };
            }
        }
        Ok(readings.into_iter().map(|r| window.apply(r.got)).collect())
    }

    /// Posts a query; `data.repository`, or why not.
    async fn graphql(&self, query: &str, variables: Value, what: &str) -> Result<Value, ForgeError> {
        let body = json!({"query": query, "variables": variables});
        let answer: Answer =
            self.octo.post("/graphql", Some(&body)).await.map_err(|e| error(what, "deployments: read", e))?;
        if let Some(e) = answer.errors.into_iter().next() {
            return Err(refused(what, e));
        }
        match answer.data.map(|mut d| d["repository"].take()) {
            Some(repo) if repo.is_object() => Ok(repo),
            _ => Err(ForgeError::NotFound {
                what: format!("repository {}/{}", self.ctx.owner, self.ctx.repo),
                help: "check GITHUB_REPOSITORY (or --repo) and that the token can read it".into(),
            }),
        }
    }
}

fn refused(what: &str, e: GqlError) -> ForgeError {
    let kind = e.kind.unwrap_or_default();
    let help = match kind.as_str() {
        "RATE_LIMITED" => "GitHub's GraphQL rate limit (points per hour) is spent: wait for it to reset and run again",
        "NOT_FOUND" => "check GITHUB_REPOSITORY (or --repo) and that the token can read it (`contents: read`)",
        "FORBIDDEN" => "the token may lack `deployments: read`: add it to the job's `permissions:`",
        _ => "GitHub refused stagegate's query: report this as a bug, with the message",
    };
    ForgeError::GraphQl {
        action: what.into(),
        kind,
        message: super::redact::server_text(&e.message),
        help: help.into(),
    }
}

fn unreadable(what: &str, e: &serde_json::Error) -> ForgeError {
    ForgeError::GraphQl {
        action: what.into(),
        kind: "UNREADABLE".into(),
        message: format!("the answer is not GitHub's deployment connection: {e}"),
        help: "check GITHUB_API_URL: it should be GitHub's API".into(),
    }
}
