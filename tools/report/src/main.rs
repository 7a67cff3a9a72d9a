//! `sockstatlog-report`: one phone's traffic as a self-contained HTML report
//! (per-label timelines, cellular periods, gaps, totals) and, optionally, an
//! SVG of the timeline; the per-label totals go to the terminal.
//!
//! ```text
//! sockstatlog-report INPUT [--out FILE.html] [--svg FILE.svg] [--from MS] [--to MS] [--buckets N]
//! ```
//!
//! `INPUT` is a buffer directory copied off a phone (the library's segment
//! files and/or the Go original's `sockstats.log1.txt`/`.log2.txt`; read from
//! a temporary copy, never changed), a file of exported lines (one JSON
//! object per line, or a JSON array), or the address of a log on the log
//! server (`http://HOST:PORT/c/{collection}/{public_id}`).

#![deny(missing_docs)]

mod input;
mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;

use sockstatlog_logserver::traffic::aggregate::{BUCKETS_RANGE, DEFAULT_BUCKETS};
use sockstatlog_logserver::traffic::page::{self, Page};
use sockstatlog_logserver::traffic::{aggregate, format, svg, Span, Window};

const USAGE: &str = "usage: sockstatlog-report INPUT [--out FILE.html] [--svg FILE.svg] [--from MS] [--to MS] [--buckets N]

INPUT is one of:
  a buffer directory copied off a phone (also the Go original's sockstats.log1.txt/.log2.txt);
    it is read from a temporary copy and never changed
  a file of exported lines: one JSON object per line, or one JSON array
  a log on the log server: http://HOST:PORT/c/{collection}/{public_id}

--out FILE     the HTML report (default: sockstatlog-report.html)
--svg FILE     also write the timeline as an SVG file
--from, --to   the time range, Unix milliseconds (default: the whole log)
--buckets N    time buckets across the range (default 450, 10-2000)
";

#[derive(Debug)]
struct Args {
    input: String,
    out: PathBuf,
    svg: Option<PathBuf>,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
    buckets: usize,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut input = None;
    let mut parsed = Args {
        input: String::new(),
        out: PathBuf::from("sockstatlog-report.html"),
        svg: None,
        from_ms: None,
        to_ms: None,
        buckets: DEFAULT_BUCKETS,
    };
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let integer = |name: &str, text: String| {
            text.parse::<i64>()
                .map_err(|_| format!("{name} {text:?}: expected an integer"))
        };
        match arg.as_str() {
            "--help" | "-h" => return Ok(None),
            "--out" => parsed.out = value("--out")?.into(),
            "--svg" => parsed.svg = Some(value("--svg")?.into()),
            "--from" => parsed.from_ms = Some(integer("--from", value("--from")?)?),
            "--to" => parsed.to_ms = Some(integer("--to", value("--to")?)?),
            "--buckets" => {
                let n = integer("--buckets", value("--buckets")?)?;
                let (low, high) = BUCKETS_RANGE;
                if n < low as i64 || n > high as i64 {
                    return Err(format!("--buckets {n}: must be between {low} and {high}"));
                }
                parsed.buckets = n as usize;
            }
            other if other.starts_with("--") => {
                return Err(format!("unknown option {other:?}; try --help"))
            }
            other if input.is_none() => input = Some(other.to_owned()),
            other => return Err(format!("unexpected argument {other:?}: give one INPUT")),
        }
    }
    parsed.input = input.ok_or("no INPUT given; try --help")?;
    if let (Some(from), Some(to)) = (parsed.from_ms, parsed.to_ms) {
        if to <= from {
            return Err(format!("--to ({to}) must be after --from ({from})"));
        }
    }
    Ok(Some(parsed))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(error) => {
            eprintln!("sockstatlog-report: {error}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sockstatlog-report: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let input = input::read(&args.input)?;
    let lines = || input.lines.iter().map(String::as_str);
    let mut span = Span::default();
    lines().for_each(|l| span.add_line(l));
    let whole = span.window();
    let window = match (args.from_ms, args.to_ms, whole) {
        (None, None, whole) => whole,
        (from, to, whole) => {
            let whole = whole.unwrap_or(Window::new(0, 1));
            Some(Window::new(
                from.unwrap_or(whole.from_ms),
                to.unwrap_or(whole.to_ms),
            ))
        }
    };
    let traffic = aggregate(lines, window, args.buckets);

    let heading = "sockstatlog traffic report";
    let time = |t: Option<i64>| t.map_or("-".to_owned(), format::time);
    let mut facts = vec![
        ("input", input.source.clone()),
        ("lines", input.lines.len().to_string()),
        ("events", traffic.issues.events.to_string()),
        ("first event", time(whole.map(|w| w.from_ms))),
        ("last event", time(whole.map(|w| w.to_ms))),
    ];
    facts.extend(input.notes.iter().map(|n| ("note", n.clone())));
    let html = page::log_page(&Page {
        heading,
        facts,
        traffic: &traffic,
        whole,
        path: None,
        json_path: None,
    });
    let write = |path: &PathBuf, text: &str| {
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(&args.out, &html)?;
    if let Some(path) = &args.svg {
        write(path, &svg::render(&traffic))?;
    }

    print!(
        "{}",
        terminal::summary(&input.source, &input.notes, &traffic)
    );
    println!("report: {}", args.out.display());
    if let Some(path) = &args.svg {
        println!("timeline: {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_args;

    fn args(list: &[&str]) -> Result<String, String> {
        parse_args(list.iter().map(|s| s.to_string())).map(|a| format!("{a:?}"))
    }

    #[test]
    fn bad_arguments_say_what_to_do() {
        assert_eq!(args(&[]).unwrap_err(), "no INPUT given; try --help");
        assert_eq!(
            args(&["x", "--from", "now"]).unwrap_err(),
            "--from \"now\": expected an integer"
        );
        assert_eq!(
            args(&["x", "--from", "5", "--to", "5"]).unwrap_err(),
            "--to (5) must be after --from (5)"
        );
        assert_eq!(
            args(&["x", "--buckets", "1"]).unwrap_err(),
            "--buckets 1: must be between 10 and 2000"
        );
        assert_eq!(
            args(&["x", "y"]).unwrap_err(),
            "unexpected argument \"y\": give one INPUT"
        );
        assert_eq!(
            args(&["x", "--png"]).unwrap_err(),
            "unknown option \"--png\"; try --help"
        );
    }
}
