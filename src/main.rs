use std::process::ExitCode;

use stagegate::annotate::LogWriter;
use stagegate::cli::run;
use stagegate::console::{self, Stream};
use stagegate::error::Exit;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt;
use tracing_subscriber::prelude::*;

fn main() -> ExitCode {
    // `COMPLETE=bash stagegate …`: the shell asks for completions; answer and exit.
    clap_complete::CompleteEnv::with_factory(stagegate::cli::completion_command).complete();
    // `stagegate status | head`: once the reader has gone, an answer cannot be
    // written and the process ends with exit 1 (the one writer sees to it).
    // SIGPIPE itself stays ignored, as Rust sets it: with the default action, a
    // write to a TCP connection the peer closed (an S3 or Consul server going
    // away mid-request) would kill the process without a word.
    std::panic::set_hook(Box::new(panicked));
    stagegate::tls::install();
    stagegate::github::redact::register_from_env();
    let color = stagegate::output::stderr_color();
    let _ = miette::set_hook(Box::new(move |_| {
        Box::new(miette::MietteHandlerOpts::new().color(color).terminal_links(false).build())
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
            console::print(Stream::Err, &format!("stagegate: cannot start the async runtime: {e}"));
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
            console::print(Stream::Err, &format!("{:?}", miette::Report::new(e)));
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
        logs.with(fmt::layer().json().with_writer(LogWriter { json: true }).with_target(false)).init();
    } else if stagegate::actions::active() {
        // Under Actions: warnings and errors are annotations of the run.
        logs.with(fmt::layer().with_writer(LogWriter { json: false }).event_format(stagegate::annotate::Annotations))
            .init();
    } else {
        let plain = fmt::layer().with_writer(LogWriter { json: false }).with_ansi(color);
        logs.with(plain.with_target(false).without_time()).init();
    }
    if let Some(s) = unread {
        tracing::warn!(
            "STAGEGATE_LOG `{}` is not a level (debug) or a list of target=level (stagegate=debug,warn); logging at the default level",
            s.escape_debug()
        );
    }
}

/// A panic's report, through the one writer: its message may quote record
/// text (a string sliced in the wrong place), so it is escaped and fenced
/// like any other. `RUST_BACKTRACE` adds the backtrace, as Rust's own hook does.
fn panicked(info: &std::panic::PanicHookInfo<'_>) {
    let message = info
        .payload()
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| info.payload().downcast_ref::<&str>().copied())
        .unwrap_or("Box<dyn Any>");
    let at = info.location().map(|l| format!(" at {l}")).unwrap_or_default();
    let backtrace = std::backtrace::Backtrace::capture();
    let trace = match backtrace.status() {
        std::backtrace::BacktraceStatus::Captured => format!("\n{backtrace}"),
        _ => "\nnote: run with `RUST_BACKTRACE=1` to display a backtrace".to_string(),
    };
    console::print(Stream::Err, &format!("stagegate panicked{at}:\n{message}{trace}"));
}
