use std::process::ExitCode;

use stagegate::cli::run;
use stagegate::error::Exit;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

fn main() -> ExitCode {
    // `COMPLETE=bash stagegate …`: the shell asks for completions; answer and exit.
    clap_complete::CompleteEnv::with_factory(stagegate::cli::completion_command).complete();
    // `stagegate status | head`: once the reader has gone, printing fails and
    // `println!` panics. End quietly instead (exit 1: the output could not be
    // written). SIGPIPE itself stays ignored, as Rust sets it: with the default
    // action, a write to a TCP connection the peer closed (an S3 or Consul
    // server going away mid-request) would kill the process without a word.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = stagegate::serve::isolate::panic_message(info);
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            std::process::exit(Exit::Failed as i32);
        }
        default_hook(info);
    }));
    stagegate::tls::install();
    stagegate::github::redact::register_from_env();
    let color = stagegate::output::stderr_color();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(miette::MietteHandlerOpts::new().color(color).terminal_links(color).build())
    }));
    let cli = match stagegate::cli::parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(stagegate::cli::argument_error(e) as u8),
    };
    if let Some(t) = &cli.github_token {
        stagegate::github::redact::register(secrecy::ExposeSecret::expose_secret(t));
    }
    let json = cli.output == stagegate::output::Format::Json;
    logging(matches!(cli.command, stagegate::cli::Command::Serve(_)), color);
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stagegate: cannot start the async runtime: {e}");
            return ExitCode::from(Exit::Failed as u8);
        }
    };
    let code = match rt.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            let code = e.exit();
            if json {
                stagegate::error::print_json(&e);
            }
            let help = miette::Diagnostic::help(&e).map(|h| format!("\n{h}")).unwrap_or_default();
            stagegate::actions::alert("error", "stagegate", &format!("{e}{help}"));
            stagegate::actions::eprint_untrusted(&format!("{:?}", miette::Report::new(e)));
            code
        }
    };
    ExitCode::from(code as u8)
}

/// Logs on stderr: JSON lines for `serve` (a log collector reads them),
/// annotations under Actions, plain lines otherwise. `STAGEGATE_LOG` sets the
/// level.
fn logging(service: bool, color: bool) {
    // `STAGEGATE_LOG`: a level (`debug`) or `target=level` pairs
    // (`stagegate=debug,warn`); anything else keeps the default, and says so.
    let level = if service { tracing::Level::INFO } else { tracing::Level::WARN };
    let asked = std::env::var("STAGEGATE_LOG").ok().filter(|s| !s.trim().is_empty());
    let (filter, unread) = match asked.as_deref().map(str::parse::<Targets>) {
        Some(Ok(targets)) => (targets, None),
        Some(Err(_)) => (Targets::new().with_default(level), asked),
        None => (Targets::new().with_default(level), None),
    };
    let logs = tracing_subscriber::registry().with(filter);
    if service {
        // A service's log: one JSON object per line, with times, for a log collector.
        logs.with(fmt::layer().json().with_writer(std::io::stderr).with_target(false)).init();
    } else if stagegate::actions::active() {
        // Under Actions: warnings and errors are annotations of the run.
        logs.with(fmt::layer().with_writer(std::io::stderr).event_format(stagegate::annotate::Annotations)).init();
    } else {
        logs.with(fmt::layer().with_writer(std::io::stderr).with_ansi(color).with_target(false).without_time()).init();
    }
    if let Some(s) = unread {
        tracing::warn!(
            "STAGEGATE_LOG `{}` is not a level (debug) or a list of target=level (stagegate=debug,warn); logging at the default level",
            s.escape_debug()
        );
    }
}
