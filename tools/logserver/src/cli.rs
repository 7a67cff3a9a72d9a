//! Command-line arguments of the `sockstatlog-logserver` binary.

use std::path::PathBuf;
use std::time::Duration;

use sockstatlog_logserver::{Config, Storage};
use thiserror::Error;

/// The listen address when `--listen` is not given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8090";

/// The database file when neither `--db` nor `--memory` is given.
pub const DEFAULT_DB: &str = "./logserver.sqlite3";

pub const HELP: &str = "\
sockstatlog-logserver: a logtail-compatible log server for tests and demos

USAGE:
    sockstatlog-logserver [OPTIONS]

OPTIONS:
    --listen ADDR          address to listen on [default: 127.0.0.1:8090]
    --allow-non-loopback   allow --listen on a non-loopback address (no authentication!)
    --db PATH              SQLite database file [default: ./logserver.sqlite3]
    --memory               keep entries in memory only (lost on exit)
    --body-limit BYTES     largest accepted body, after decompression [default: 16777216]
    --fail-500 SHARE       share (0.0-1.0) of uploads answered 500, nothing stored
    --fail-429 SHARE       share of uploads answered 429 with Retry-After, nothing stored
    --retry-after SECS     Retry-After value sent with 429 [default: 1]
    --fail-reset SHARE     share of uploads whose connection is dropped, nothing stored
    --slow SHARE           share of uploads answered only after --slow-ms
    --slow-ms MS           delay of slow uploads [default: 2000]
    --seed N               seed for choosing faulted uploads [default: random, printed]
    --quiet                do not log each request to stderr
    -h, --help             print this help

ENDPOINTS:
    POST /c/{collection}/{private_id}   upload (JSON array of objects, optionally zstd)
    GET  /c/{collection}/{public_id}    stored entries as a JSON array, in arrival order
    GET  /stats                         counters as JSON
";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Print [`HELP`] and exit.
    Help,
    /// Run a server. `seed_given` is false when the seed is to be picked at random.
    Run { config: Config, seed_given: bool },
}

/// A command-line mistake; the message names the flag.
#[derive(Debug, PartialEq, Eq, Error)]
pub enum CliError {
    #[error("unknown argument {0:?}; see --help")]
    Unknown(String),
    #[error("{0} needs a value; see --help")]
    MissingValue(&'static str),
    #[error("{flag} does not take a value")]
    UnexpectedValue { flag: &'static str },
    #[error("invalid value {value:?} for {flag}: expected {expected}")]
    BadValue {
        flag: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("--db and --memory cannot be used together")]
    DbAndMemory,
}

/// Parses the arguments after the program name. Accepts `--flag value` and `--flag=value`.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, CliError> {
    let mut config = Config {
        listen: DEFAULT_LISTEN.parse().expect("valid default address"),
        storage: Storage::Sqlite(PathBuf::from(DEFAULT_DB)),
        log_requests: true,
        ..Config::default()
    };
    let mut seed_given = false;
    let mut db_given = false;
    let mut memory = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => {
                (name.to_owned(), Some(value.to_owned()))
            }
            _ => (arg.clone(), None),
        };
        let flag = FLAGS
            .iter()
            .find(|f| f.name == name || (name == "-h" && f.name == "--help"))
            .ok_or_else(|| CliError::Unknown(arg.clone()))?;
        let value = if flag.takes_value {
            match inline {
                Some(value) => value,
                None => args.next().ok_or(CliError::MissingValue(flag.name))?,
            }
        } else if inline.is_some() {
            return Err(CliError::UnexpectedValue { flag: flag.name });
        } else {
            String::new()
        };
        let faults = &mut config.faults;
        match flag.name {
            "--help" => return Ok(Command::Help),
            "--listen" => {
                config.listen = parse_value(flag.name, &value, "an address like 127.0.0.1:8090")?
            }
            "--allow-non-loopback" => config.allow_non_loopback = true,
            "--db" => {
                db_given = true;
                config.storage = Storage::Sqlite(PathBuf::from(value));
            }
            "--memory" => memory = true,
            "--body-limit" => {
                config.body_limit = parse_value(flag.name, &value, "a number of bytes")?
            }
            "--fail-500" => faults.fail_500 = share(flag.name, &value)?,
            "--fail-429" => faults.fail_429 = share(flag.name, &value)?,
            "--retry-after" => {
                faults.retry_after_secs = parse_value(flag.name, &value, "whole seconds")?
            }
            "--fail-reset" => faults.fail_reset = share(flag.name, &value)?,
            "--slow" => faults.slow = share(flag.name, &value)?,
            "--slow-ms" => {
                faults.slow_delay =
                    Duration::from_millis(parse_value(flag.name, &value, "milliseconds")?)
            }
            "--seed" => {
                seed_given = true;
                faults.seed = parse_value(flag.name, &value, "an unsigned 64-bit integer")?;
            }
            "--quiet" => config.log_requests = false,
            other => unreachable!("flag {other} listed but not handled"),
        }
    }
    if memory {
        if db_given {
            return Err(CliError::DbAndMemory);
        }
        config.storage = Storage::Memory;
    }
    Ok(Command::Run { config, seed_given })
}

struct Flag {
    name: &'static str,
    takes_value: bool,
}

const fn flag(name: &'static str, takes_value: bool) -> Flag {
    Flag { name, takes_value }
}

const FLAGS: &[Flag] = &[
    flag("--help", false),
    flag("--listen", true),
    flag("--allow-non-loopback", false),
    flag("--db", true),
    flag("--memory", false),
    flag("--body-limit", true),
    flag("--fail-500", true),
    flag("--fail-429", true),
    flag("--retry-after", true),
    flag("--fail-reset", true),
    flag("--slow", true),
    flag("--slow-ms", true),
    flag("--seed", true),
    flag("--quiet", false),
];

fn parse_value<T: std::str::FromStr>(
    flag: &'static str,
    value: &str,
    expected: &'static str,
) -> Result<T, CliError> {
    value.parse().map_err(|_| CliError::BadValue {
        flag,
        value: value.to_owned(),
        expected,
    })
}

fn share(flag: &'static str, value: &str) -> Result<f64, CliError> {
    let expected = "a share between 0.0 and 1.0";
    let share: f64 = parse_value(flag, value, expected)?;
    if (0.0..=1.0).contains(&share) {
        Ok(share)
    } else {
        Err(CliError::BadValue {
            flag,
            value: value.to_owned(),
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<(Config, bool), CliError> {
        match parse(args.iter().map(|s| (*s).to_owned()))? {
            Command::Run { config, seed_given } => Ok((config, seed_given)),
            Command::Help => panic!("unexpected help"),
        }
    }

    #[test]
    fn no_arguments_listen_on_port_8090_with_the_default_database() {
        let (config, seed_given) = run(&[]).unwrap();
        assert_eq!(config.listen, "127.0.0.1:8090".parse().unwrap());
        assert_eq!(
            config.storage,
            Storage::Sqlite(PathBuf::from("./logserver.sqlite3"))
        );
        assert!(!config.allow_non_loopback);
        assert!(!config.faults.any());
        assert!(config.log_requests);
        assert!(!seed_given);
    }

    #[test]
    fn every_flag_is_applied() {
        let (config, seed_given) = run(&[
            "--listen",
            "[::1]:9000",
            "--db=/tmp/x.sqlite3",
            "--body-limit",
            "1024",
            "--fail-500",
            "0.1",
            "--fail-429=0.2",
            "--retry-after",
            "3",
            "--fail-reset",
            "0.3",
            "--slow",
            "0.4",
            "--slow-ms",
            "250",
            "--seed",
            "77",
            "--quiet",
            "--allow-non-loopback",
        ])
        .unwrap();
        assert_eq!(config.listen, "[::1]:9000".parse().unwrap());
        assert_eq!(
            config.storage,
            Storage::Sqlite(PathBuf::from("/tmp/x.sqlite3"))
        );
        assert_eq!(config.body_limit, 1024);
        assert_eq!(config.faults.fail_500, 0.1);
        assert_eq!(config.faults.fail_429, 0.2);
        assert_eq!(config.faults.retry_after_secs, 3);
        assert_eq!(config.faults.fail_reset, 0.3);
        assert_eq!(config.faults.slow, 0.4);
        assert_eq!(config.faults.slow_delay, Duration::from_millis(250));
        assert_eq!(config.faults.seed, 77);
        assert!(seed_given);
        assert!(!config.log_requests);
        assert!(config.allow_non_loopback);
    }

    #[test]
    fn memory_replaces_the_default_database_but_conflicts_with_db() {
        assert_eq!(run(&["--memory"]).unwrap().0.storage, Storage::Memory);
        assert_eq!(run(&["--memory", "--db", "x"]), Err(CliError::DbAndMemory));
    }

    #[test]
    fn help_wins() {
        assert_eq!(
            parse(["--seed".to_owned(), "1".to_owned(), "-h".to_owned()]),
            Ok(Command::Help)
        );
        assert_eq!(parse(["--help".to_owned()]), Ok(Command::Help));
    }

    #[test]
    fn mistakes_name_the_flag() {
        assert_eq!(
            run(&["--bogus"]),
            Err(CliError::Unknown("--bogus".to_owned()))
        );
        assert_eq!(run(&["--seed"]), Err(CliError::MissingValue("--seed")));
        assert_eq!(
            run(&["--memory=yes"]),
            Err(CliError::UnexpectedValue { flag: "--memory" })
        );
        assert_eq!(
            run(&["--fail-500", "1.5"]),
            Err(CliError::BadValue {
                flag: "--fail-500",
                value: "1.5".to_owned(),
                expected: "a share between 0.0 and 1.0"
            })
        );
        assert_eq!(
            run(&["--listen", "localhost"]).unwrap_err().to_string(),
            "invalid value \"localhost\" for --listen: expected an address like 127.0.0.1:8090"
        );
    }
}
