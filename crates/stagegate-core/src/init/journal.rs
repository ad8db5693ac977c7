//! The journal pipeline's workflow templates: uploads from the modelling
//! clusters, imports on the execution lanes, both on self-hosted runners.

use super::AWS_CREDENTIALS;
use super::workflows::Ctx;

fn aws(indent: &str) -> String {
    format!(
        "{indent}- name: AWS credentials (OIDC)\n{indent}  uses: {AWS_CREDENTIALS}\n{indent}  with:\n{indent}    role-to-assume: ${{{{ vars.STAGEGATE_JOURNAL_ROLE_ARN }}}}\n{indent}    aws-region: ${{{{ vars.AWS_REGION }}}}\n"
    )
}

pub(super) fn upload(c: &Ctx) -> String {
    let clusters: Vec<String> = c.cfg.journal.writers.iter().map(|w| w.cluster.clone()).collect();
    format!(
        r#"{header}name: Journal upload

on:
  schedule:
    - cron: "*/10 * * * *"
  workflow_dispatch:
{change}
permissions: {{}}

jobs:
  upload:
    name: Upload journals from ${{{{ matrix.cluster }}}}
    strategy:
      fail-fast: false
      matrix:
        cluster: [{clusters}]
    runs-on: [self-hosted, "${{{{ matrix.cluster }}}}"]
    concurrency:
      group: stagegate-journal-upload-${{{{ matrix.cluster }}}}
      cancel-in-progress: false
    permissions:
      contents: read
      id-token: write
    steps:
{checkout}{aws}{step}"#,
        header = c.header("Upload exported journals to the store, retried, never deleting the source.\n# Runs on the modelling clusters' self-hosted runners (labels = cluster names)."),
        clusters = clusters.join(", "),
        change = if c.uploads_need_a_change() {
            format!("    inputs:\n{}", c.change_input("the journals (else the STAGEGATE_JOURNAL_CHANGE variable)"))
        } else {
            String::new()
        },
        checkout = c.checkout("      "),
        aws = aws("      "),
        step = c.step(
            "      ",
            "Upload",
            None,
            "journal watch-dir",
            &[&[("CLUSTER", "${{ matrix.cluster }}")][..], &c.upload_args()].concat(),
            &[("args", "|\n            ${{ vars.STAGEGATE_JOURNAL_DIR }}\n            --once")]
        ),
    )
}

pub(super) fn import(c: &Ctx) -> String {
    format!(
        r#"{header}name: Journal import

on:
  schedule:
    - cron: "*/5 * * * *"
  workflow_dispatch:

permissions: {{}}

jobs:
  import:
    name: Import the journal assigned to ${{{{ matrix.lane }}}}
    strategy:
      fail-fast: false
      matrix:
        lane: [{lanes}]
    runs-on: [self-hosted, "${{{{ matrix.lane }}}}"]
    concurrency:
      group: stagegate-journal-${{{{ matrix.lane }}}}
      cancel-in-progress: false
    permissions:
      contents: read
      id-token: write
    steps:
{checkout}{aws}{step}"#,
        header = c.header("Each execution lane imports exactly the journal version assigned to it, once, verified.\n# Runs on the lanes' self-hosted runners (labels = lane names)."),
        lanes = c.cfg.journal.lanes.join(", "),
        checkout = c.checkout("      "),
        aws = aws("      "),
        step = c.step("      ", "Import", None, "journal watch", &[("LANE", "${{ matrix.lane }}")], &[("args", "--once")]),
    )
}
