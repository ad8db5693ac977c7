use std::process::ExitCode;

use clap::Parser;
use stagegate::cli::{Cli, run};
use stagegate::error::Exit;

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, so `stagegate status | head` would panic on the
    // closed pipe; end quietly instead, as other command-line tools do.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    stagegate::tls::install();
    let cli = Cli::parse();
    let json = cli.output == stagegate::output::Format::Json;
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STAGEGATE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
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
            eprintln!("{:?}", miette::Report::new(e));
            code
        }
    };
    ExitCode::from(code as u8)
}
