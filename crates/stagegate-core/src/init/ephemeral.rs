//! The workflows of an ephemeral template: every push to a matching branch
//! deploys that branch's instance (one run at a time per instance), and
//! deleting the branch — or closing its pull request — destroys it. The
//! branch reaches stagegate only as `STAGEGATE_ARG_REF`, never in a `run:`.

use super::workflows::{Ctx, q};
use crate::config::Environment;

/// `deploy-T.yml`: a push to a branch of template `t` deploys its instance.
pub(super) fn deploy(c: &Ctx, t: &Environment) -> String {
    let branches: Vec<String> = t.branches.iter().map(|b| q(b.as_str())).collect();
    format!(
        r#"{header}name: Deploy {name} instance

on:
  push:
    branches: [{branches}]

permissions: {{}}

jobs:
  deploy:
    name: Deploy this branch's {name} instance
    runs-on: ubuntu-latest
    concurrency:
      group: stagegate-{name}-${{{{ github.ref_name }}}}
      cancel-in-progress: false
    permissions:
      contents: read
      deployments: write
    steps:
{checkout}{step}"#,
        header = c.header(&format!(
            "Deploy every push to a branch of {} to that branch's own environment (created on its first deploy).",
            t.name
        )),
        name = t.name,
        branches = branches.join(", "),
        checkout = c.checkout("      "),
        step = c.step("      ", "Deploy", None, "deploy", &[("ENV", &q(&t.name)), ("REF", "${{ github.ref }}")], &[]),
    )
}

/// `destroy-T.yml`: the branch deleted, or its pull request closed, destroys
/// its instance. A workflow's token may not delete a GitHub environment:
/// `destroy` says so and does the rest (give an admin token as the secret
/// `STAGEGATE_ADMIN_TOKEN` to delete it too).
pub(super) fn destroy(c: &Ctx, t: &Environment) -> String {
    let branches: Vec<String> = t.branches.iter().map(|b| q(b.as_str())).collect();
    format!(
        r#"{header}name: Destroy {name} instance

on:
  delete:
  pull_request:
    types: [closed]

permissions: {{}}

jobs:
  destroy:
    name: Destroy the branch's {name} instance
    if: ${{{{ github.event_name == 'pull_request' || github.event.ref_type == 'branch' }}}}
    runs-on: ubuntu-latest
    concurrency:
      group: stagegate-{name}-${{{{ github.event.ref || github.head_ref }}}}
      cancel-in-progress: false
    permissions:
      contents: read
      deployments: write
    steps:
{checkout}{step}"#,
        header = c.header(&format!(
            "Destroy a branch's {} environment when the branch is deleted or its pull request closes (branches: {}).",
            t.name,
            branches.join(", ")
        )),
        name = t.name,
        checkout = c.checkout("      "),
        step = c.step(
            "      ",
            "Destroy",
            None,
            "destroy",
            &[("ENV", &q(&t.name)), ("REF", "refs/heads/${{ github.event.ref || github.head_ref }}")],
            &[("github-token", "${{ secrets.STAGEGATE_ADMIN_TOKEN || github.token }}")]
        ),
    )
}
