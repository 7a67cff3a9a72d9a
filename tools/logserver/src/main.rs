//! `sockstatlog-logserver`: run the log server until killed. See `--help`.

mod cli;

use std::io::Write;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use sockstatlog_logserver::{Server, Storage};

fn main() -> ExitCode {
    let (mut config, seed_given) = match cli::parse(std::env::args().skip(1)) {
        Ok(cli::Command::Help) => {
            print!("{}", cli::HELP);
            return ExitCode::SUCCESS;
        }
        Ok(cli::Command::Run { config, seed_given }) => (config, seed_given),
        Err(error) => {
            eprintln!("sockstatlog-logserver: {error}");
            return ExitCode::from(2);
        }
    };
    if !seed_given {
        config.faults.seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
    }
    let faults = config.faults.clone();
    let storage = config.storage.clone();
    let server = match Server::start(config) {
        Ok(server) => server,
        Err(error) => {
            eprintln!("sockstatlog-logserver: {error}");
            return ExitCode::FAILURE;
        }
    };
    match storage {
        Storage::Memory => eprintln!("storage: in memory (lost on exit)"),
        Storage::Sqlite(path) => eprintln!("storage: SQLite file {}", path.display()),
    }
    if faults.any() {
        eprintln!(
            "fault mode: 500 {} / 429 {} (Retry-After {}s) / reset {} / slow {} ({} ms); seed {}",
            faults.fail_500,
            faults.fail_429,
            faults.retry_after_secs,
            faults.fail_reset,
            faults.slow,
            faults.slow_delay.as_millis(),
            faults.seed
        );
    }
    // The first line on stdout is the URL, for scripts that start the server.
    println!("listening on {}", server.base_url());
    let _ = std::io::stdout().flush();
    server.wait();
    ExitCode::FAILURE
}
