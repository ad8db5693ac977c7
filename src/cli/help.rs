//! What `--help` shows below each command's options: two or three examples
//! and what its exit codes mean for that command. Kept in one table, so the
//! test that runs every example through the argument parser sees them all.

use clap::{Command, CommandFactory};

use super::Cli;

/// One command's help epilogue: its path (`journal watch`), examples, and
/// its exit codes (each a code and what it means here).
pub struct Epilogue {
    pub path: &'static str,
    pub examples: &'static [&'static str],
    pub exits: &'static [(u8, &'static str)],
}

const INPUT: (u8, &str) = (2, "invalid input: bad config, flag, environment name or id");

pub const EPILOGUES: &[Epilogue] = &[
    Epilogue {
        path: "check",
        examples: &["stagegate check", "stagegate check -c deploy/stagegate.yml --output json"],
        exits: &[
            (0, "the config is valid (warnings may be printed)"),
            (2, "the config has errors; each is shown with its line"),
        ],
    },
    Epilogue {
        path: "graph",
        examples: &["stagegate graph", "stagegate graph --output json"],
        exits: &[(0, "drawn"), INPUT],
    },
    Epilogue {
        path: "can-deploy",
        examples: &[
            "stagegate can-deploy --env prod --ref refs/tags/26.12.01.4",
            "stagegate can-deploy --env dev-int --ref main",
        ],
        exits: &[(0, "the ref may deploy there"), INPUT, (3, "the environment's branch rules refuse the ref")],
    },
    Epilogue {
        path: "plan",
        examples: &[
            "stagegate plan --from staging --to prod --release 26.12.01.4",
            "stagegate plan --from uat --to prod",
            "stagegate plan --from staging --to prod --release 26.12.01.4 --change CHG0031337 --output json",
        ],
        exits: &[(0, "allowed (approvals may still be pending)"), INPUT, (3, "refused: the reasons say which rule")],
    },
    Epilogue {
        path: "promote",
        examples: &[
            "stagegate promote --from staging --to prod --release 26.12.01.4",
            "stagegate promote --from staging --to prod --release 26.12.01.4 --dry-run",
            "stagegate promote --from uat --to staging --release 26.12.01.4 --wait 30m",
        ],
        exits: &[
            (0, "promoted and healthy"),
            (1, "deploy or health check failed (rolled back when it could be)"),
            INPUT,
            (3, "refused: path, branch rules, approvals, freeze, soak, change or another run"),
        ],
    },
    Epilogue {
        path: "deploy",
        examples: &[
            "stagegate deploy --env dev-int --ref main",
            "stagegate deploy --env future --ref refs/heads/release/v1 --sha 4f1c2ab",
        ],
        exits: &[(0, "deployed and healthy"), (1, "deploy or health check failed"), INPUT, (3, "refused by policy")],
    },
    Epilogue {
        path: "rollback",
        examples: &[
            "stagegate rollback --env prod --reason 'INC-4711 checkout errors'",
            "stagegate rollback --env prod --to 26.11.30.2 --dry-run",
        ],
        exits: &[
            (0, "rolled back"),
            (1, "the redeploy failed"),
            INPUT,
            (3, "refused: approvals, freeze or nothing to return to"),
        ],
    },
    Epilogue {
        path: "destroy",
        examples: &[
            "stagegate destroy --env feature --ref feature/login",
            "stagegate destroy --env feature --ref feature/login --reason 'pull request closed' --dry-run",
        ],
        exits: &[
            (0, "destroyed (the GitHub environment too, where the token may delete it)"),
            (1, "the destroy hook failed; the environment is kept"),
            INPUT,
            (3, "another run holds the instance"),
        ],
    },
    Epilogue {
        path: "prune",
        examples: &[
            "stagegate prune --env feature --older-than 14d",
            "stagegate prune --env feature --older-than 30d --dry-run",
        ],
        exits: &[(0, "every stale instance destroyed (or none was stale)"), (1, "a destroy failed"), INPUT],
    },
    Epilogue {
        path: "hold",
        examples: &[
            "stagegate hold set --env prod --reason 'INC-4711 checkout errors'",
            "stagegate hold list --output json",
            "stagegate hold clear --env prod --reason 'fixed by 26.12.01.3'",
        ],
        exits: &[(0, "done"), (1, "the forge could not be read or written"), INPUT],
    },
    Epilogue {
        path: "hold set",
        examples: &[
            "stagegate hold set --env prod --reason 'INC-4711 checkout errors'",
            "stagegate hold set --env prod --reason 'year-end close' --until 2027-01-04T08:00:00Z",
            "stagegate hold set --env prod --reason 'data migration' --rollbacks-too",
        ],
        exits: &[(0, "held"), (1, "the forge could not be written"), INPUT],
    },
    Epilogue {
        path: "hold clear",
        examples: &[
            "stagegate hold clear --env prod --reason 'fixed by 26.12.01.3'",
            "stagegate hold clear --env prod --dry-run",
        ],
        exits: &[(0, "cleared, or nothing was held"), (1, "the forge could not be written"), INPUT],
    },
    Epilogue {
        path: "hold list",
        examples: &["stagegate hold list", "stagegate hold list --env prod --output json"],
        exits: &[(0, "shown"), (1, "the forge could not be read"), INPUT],
    },
    Epilogue {
        path: "status",
        examples: &["stagegate status", "stagegate status --env prod --no-health", "stagegate status --output json"],
        exits: &[(0, "shown"), (1, "the forge could not be read"), INPUT],
    },
    Epilogue {
        path: "history",
        examples: &[
            "stagegate history",
            "stagegate history --env prod --since 30d",
            "stagegate history --release 26.12.01.4 --output json",
        ],
        exits: &[(0, "shown"), (1, "the forge could not be read"), INPUT],
    },
    Epilogue {
        path: "audit",
        examples: &["stagegate audit export --since 30d", "stagegate audit export --env prod --format csv"],
        exits: &[(0, "exported"), (1, "the forge or the journal store could not be read"), INPUT],
    },
    Epilogue {
        path: "audit export",
        examples: &[
            "stagegate audit export --since 2026-12-01 --until 2026-12-07",
            "stagegate audit export --env prod --since 90d --format csv",
        ],
        exits: &[(0, "exported"), (1, "the forge or the journal store could not be read"), INPUT],
    },
    Epilogue {
        path: "metrics",
        examples: &["stagegate metrics", "stagegate metrics --env prod --since 90d", "stagegate metrics --output json"],
        exits: &[(0, "shown"), (1, "the forge could not be read"), INPUT],
    },
    Epilogue {
        path: "compare",
        examples: &["stagegate compare staging prod", "stagegate compare uat staging --output json"],
        exits: &[(0, "compared"), (1, "the forge could not be read"), INPUT],
    },
    Epilogue {
        path: "gate",
        examples: &["stagegate gate --env prod", "stagegate gate --env prod --run-id 123456789 --actor alice"],
        exits: &[(0, "the approvals satisfy the policy"), INPUT, (3, "approvals missing, rejected or not counted")],
    },
    Epilogue {
        path: "calendar",
        examples: &["stagegate calendar --env prod", "stagegate calendar --env prod --days 90 --output json"],
        exits: &[(0, "shown"), (2, "invalid input: bad config, environment name, or --days outside 1 to 366")],
    },
    Epilogue {
        path: "approve",
        examples: &[
            "stagegate approve --env prod --as bob",
            "stagegate approve --env prod --as carol --reject --comment 'not during the sale'",
        ],
        exits: &[(0, "recorded (a warning says when it cannot count)"), INPUT],
    },
    Epilogue {
        path: "release",
        examples: &[
            "stagegate release next",
            "stagegate release tag --dry-run",
            "stagegate release publish 26.12.01.4",
        ],
        exits: &[(0, "done"), (1, "the forge could not be read or written"), INPUT],
    },
    Epilogue {
        path: "release next",
        examples: &["stagegate release next", "stagegate release next --date 2026-12-01 --tz Europe/Zurich"],
        exits: &[(0, "printed"), (1, "the tags could not be read"), INPUT],
    },
    Epilogue {
        path: "release tag",
        examples: &["stagegate release tag", "stagegate release tag --sha 4f1c2ab --dry-run"],
        exits: &[(0, "tagged"), (1, "the tag could not be created"), INPUT],
    },
    Epilogue {
        path: "release draft",
        examples: &["stagegate release draft --tag 26.12.01.4", "stagegate release draft --target main"],
        exits: &[(0, "drafted (or found the draft a rerun made)"), (1, "the release could not be created"), INPUT],
    },
    Epilogue {
        path: "release publish",
        examples: &["stagegate release publish 26.12.01.4", "stagegate release publish 26.12.01.4 --dry-run"],
        exits: &[(0, "published"), (1, "the release could not be published"), INPUT],
    },
    Epilogue {
        path: "release list",
        examples: &["stagegate release list", "stagegate release list --output json"],
        exits: &[(0, "shown"), (1, "the forge could not be read"), INPUT],
    },
    Epilogue {
        path: "release view",
        examples: &["stagegate release view 26.12.01.4", "stagegate release view 1234567 --output json"],
        exits: &[
            (0, "shown"),
            (1, "the forge could not be read"),
            (2, "invalid input: bad config, or no such release"),
        ],
    },
    Epilogue {
        path: "environments",
        examples: &["stagegate environments diff", "stagegate environments sync --dry-run"],
        exits: &[
            (0, "in line with the config"),
            (1, "the forge could not be read or written"),
            INPUT,
            (3, "diff: drift"),
        ],
    },
    Epilogue {
        path: "environments diff",
        examples: &["stagegate environments diff", "stagegate environments diff --output json"],
        exits: &[(0, "the forge matches the config"), (1, "the forge could not be read"), INPUT, (3, "drift")],
    },
    Epilogue {
        path: "environments sync",
        examples: &["stagegate environments sync --dry-run", "stagegate environments sync"],
        exits: &[(0, "in line with the config"), (1, "an environment could not be written"), INPUT],
    },
    Epilogue {
        path: "init",
        examples: &[
            "stagegate init --action my-org/stagegate@0123456789abcdef0123456789abcdef01234567",
            "stagegate init --check",
            "stagegate init --skip release --dry-run",
        ],
        exits: &[(0, "written, or no drift"), INPUT, (3, "--check: a workflow is missing or differs")],
    },
    Epilogue {
        path: "team",
        examples: &["stagegate team @acme/release-managers", "stagegate team @acme/release-managers --add bob carol"],
        exits: &[(0, "shown or updated"), INPUT],
    },
    Epilogue {
        path: "journal",
        examples: &[
            "stagegate journal status",
            "stagegate journal versions --output json",
            "stagegate journal promote --from dev --to qa --dry-run",
        ],
        exits: &[(0, "done"), (1, "the store or KV failed"), INPUT, (3, "refused (see each command)")],
    },
    Epilogue {
        path: "journal upload",
        examples: &[
            "stagegate journal upload --cluster dev-modelling exports/journal-0042.jnl",
            "stagegate journal upload --cluster dev-modelling --endpoint-url http://127.0.0.1:9000 exports/journal-0042.jnl",
        ],
        exits: &[
            (0, "stored and verified"),
            (1, "upload failed after retries; the file stays"),
            INPUT,
            (3, "not a writer cluster, or the change is not approved"),
        ],
    },
    Epilogue {
        path: "journal watch-dir",
        examples: &[
            "stagegate journal watch-dir --cluster dev-modelling exports/",
            "stagegate journal watch-dir --cluster dev-modelling exports/ --once",
        ],
        exits: &[
            (0, "every stable journal is stored"),
            (1, "an upload failed; it is retried next time"),
            INPUT,
            (3, "not a writer cluster"),
        ],
    },
    Epilogue {
        path: "journal versions",
        examples: &["stagegate journal versions", "stagegate journal versions --output json"],
        exits: &[(0, "listed"), (1, "the store could not be read"), INPUT],
    },
    Epilogue {
        path: "journal seed",
        examples: &["stagegate journal seed --dry-run", "stagegate journal seed"],
        exits: &[(0, "the lanes are set"), (1, "the store or KV could not be reached"), INPUT],
    },
    Epilogue {
        path: "journal watch",
        examples: &[
            "stagegate journal watch --lane qa --exec ./import.sh",
            "stagegate journal watch --lane qa --exec ./import.sh --once",
            "stagegate journal watch --lane qa --exec ./import.sh --once --retry-failed",
        ],
        exits: &[(0, "imported, or nothing new"), (1, "download, verification or import failed"), INPUT],
    },
    Epilogue {
        path: "journal promote",
        examples: &[
            "stagegate journal promote --from dev --to qa",
            "stagegate journal promote --from qa --to dit --dry-run",
        ],
        exits: &[
            (0, "promoted"),
            (1, "the KV could not be written"),
            INPUT,
            (3, "the source lane has no successful import, or lost a race"),
        ],
    },
    Epilogue {
        path: "journal status",
        examples: &["stagegate journal status", "stagegate journal status --output json"],
        exits: &[(0, "shown"), (1, "the KV could not be read"), INPUT],
    },
    Epilogue {
        path: "completions",
        examples: &["stagegate completions bash", "stagegate completions zsh"],
        exits: &[(0, "printed"), INPUT],
    },
    Epilogue {
        path: "serve",
        examples: &[
            "stagegate serve --app-id 123456 --private-key-file app.pem --webhook-secret-file secret",
            "stagegate serve --listen 127.0.0.1:8080 --kv consul://127.0.0.1:8500",
        ],
        exits: &[(0, "stopped on a signal"), (1, "could not listen or authenticate"), INPUT],
    },
    Epilogue {
        path: "app",
        examples: &[
            "stagegate app manifest --webhook-url https://gate.example.com/webhook",
            "stagegate app manifest --webhook-url https://gate.example.com/webhook --output json",
        ],
        exits: &[(0, "printed"), INPUT],
    },
    Epilogue {
        path: "app manifest",
        examples: &[
            "stagegate app manifest --webhook-url https://gate.example.com/webhook",
            "stagegate app manifest --webhook-url https://gate.example.com/webhook --team-reviewers",
        ],
        exits: &[(0, "printed"), INPUT],
    },
    Epilogue {
        path: "config",
        examples: &["stagegate config schema", "stagegate config schema --output json"],
        exits: &[(0, "printed"), INPUT],
    },
    Epilogue {
        path: "config schema",
        examples: &["stagegate config schema", "stagegate config schema --output json"],
        exits: &[(0, "printed"), INPUT],
    },
];

fn render(e: &Epilogue) -> String {
    let mut s = String::from("Examples:\n");
    for x in e.examples {
        s.push_str(&format!("  {x}\n"));
    }
    s.push_str("\nExit codes:\n");
    for (code, what) in e.exits {
        s.push_str(&format!("  {code}  {what}\n"));
    }
    s.pop();
    s
}

/// The command line with every command's epilogue attached.
pub fn command() -> Command {
    let mut cmd = Cli::command();
    for e in EPILOGUES {
        let mut path = e.path.split(' ');
        let first = path.next().unwrap_or_default();
        let text = render(e);
        cmd = cmd.mut_subcommand(first, |sub| match path.next() {
            Some(second) => sub.mut_subcommand(second, |leaf| leaf.after_help(text)),
            None => sub.after_help(text),
        });
    }
    super::now_flag::document(cmd)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits an example like a shell would (words; '…' quotes one word).
    fn words(example: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (i, part) in example.split('\'').enumerate() {
            if i % 2 == 1 {
                out.push(part.to_string());
            } else {
                out.extend(part.split_whitespace().map(str::to_string));
            }
        }
        out
    }

    /// Every command: the groups (`release`, `journal`, …) and what is in them.
    fn leaves(cmd: &Command, prefix: &str, out: &mut Vec<String>) {
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let path =
                if prefix.is_empty() { sub.get_name().to_string() } else { format!("{prefix} {}", sub.get_name()) };
            out.push(path.clone());
            leaves(sub, &path, out);
        }
    }

    #[test]
    fn every_command_has_examples_and_exit_codes() {
        let mut all = Vec::new();
        leaves(&Cli::command(), "", &mut all);
        for path in &all {
            let e = EPILOGUES.iter().find(|e| e.path == path).unwrap_or_else(|| panic!("`{path}` has no examples"));
            assert!((2..=3).contains(&e.examples.len()), "`{path}`: two or three examples");
            assert!(
                e.exits.iter().any(|(c, _)| *c == 0) && e.exits.iter().any(|(c, _)| *c == 2),
                "`{path}`: exit codes"
            );
        }
        for e in EPILOGUES {
            assert!(all.iter().any(|p| p == e.path), "`{}` is not a command", e.path);
        }
    }

    /// Every example parses, and names only environments, lanes and clusters
    /// of the embedded default config, so a user can paste it.
    #[test]
    fn every_example_parses_and_names_what_the_default_config_has() {
        let cfg = crate::config::parse_bytes("default", crate::config::EMBEDDED_DEFAULT.as_bytes()).config.unwrap();
        for e in EPILOGUES {
            for x in e.examples {
                let argv = words(x);
                assert_eq!(argv[0], "stagegate");
                assert!(argv[1..].join(" ").starts_with(e.path), "{x} is not an example of {}", e.path);
                if let Err(err) = crate::cli::parse_from(&argv) {
                    panic!("{x}: {err}");
                }
                let journal = e.path.starts_with("journal");
                // The default config has no ephemeral environment: these name ETNA's.
                let ephemeral = matches!(e.path, "destroy" | "prune");
                for pair in argv.windows(2) {
                    let (flag, value) = (pair[0].as_str(), pair[1].as_str());
                    let known = match flag {
                        "--env" if ephemeral => value == "feature",
                        "--env" | "--from" | "--to" if !journal && e.path != "rollback" => cfg.env(value).is_some(),
                        "--env" => cfg.env(value).is_some(),
                        "--from" | "--to" | "--lane" if journal => cfg.journal.lanes.iter().any(|l| l == value),
                        "--cluster" => cfg.journal.writers.iter().any(|w| w.cluster == value),
                        _ => true,
                    };
                    assert!(known, "{x}: `{value}` ({flag}) is not in the default config");
                }
                if e.path == "compare" {
                    assert!(argv[2..4].iter().all(|n| cfg.env(n).is_some()), "{x}");
                }
            }
        }
    }
}
