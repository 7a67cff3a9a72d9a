//! Refused uploads: each gets its 4xx with a plain-text reason, and stores nothing.
//! A request is all-or-nothing, so a valid entry before a bad one is not stored either.

mod common;

use common::{request, upload_path, COLLECTION, PRIVATE_ZERO, PUBLIC_ZERO};
use sockstatlog_logserver::{Config, Server, Stats};

struct Case {
    name: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    reason: &'static str,
}

fn plain(name: &'static str, body: &str, status: u16, reason: &'static str) -> Case {
    Case {
        name,
        path: upload_path(),
        headers: vec![],
        body: body.as_bytes().to_vec(),
        status,
        reason,
    }
}

fn zstd(body: &str) -> Vec<u8> {
    zstd::encode_all(body.as_bytes(), 3).unwrap()
}

fn zstd_headers(orig_len: Option<&str>) -> Vec<(&'static str, String)> {
    let mut headers = vec![("Content-Encoding", "zstd".to_owned())];
    if let Some(len) = orig_len {
        headers.push(("Orig-Content-Length", len.to_owned()));
    }
    headers
}

/// Sends `case` and checks its status, reason and that nothing was stored.
fn check(server_config: Config, case: Case) {
    let server = Server::start(server_config).unwrap();
    let headers: Vec<(&str, &str)> = case.headers.iter().map(|(n, v)| (*n, v.as_str())).collect();

    let reply = request(server.addr(), "POST", &case.path, &headers, &case.body)
        .unwrap_or_else(|e| panic!("{}: {e}", case.name));

    assert_eq!(reply.status, case.status, "{}: {}", case.name, reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=utf-8"),
        "{}",
        case.name
    );
    assert_eq!(reply.body, format!("{}\n", case.reason), "{}", case.name);
    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        Vec::<String>::new(),
        "{}",
        case.name
    );
    assert_eq!(
        server.stats(),
        Stats {
            requests: 1,
            rejected: 1,
            ..Stats::default()
        },
        "{}",
        case.name
    );
}

#[test]
fn a_private_id_that_is_not_64_lowercase_hex_characters_is_400() {
    check(
        Config::in_memory(),
        Case {
            path: format!("/c/{COLLECTION}/{}", &PRIVATE_ZERO[1..]),
            ..plain(
                "short id",
                r#"[{"a":1}]"#,
                400,
                "bad log id in URL: private log id must be 64 lowercase hex characters (32 bytes), but it has 63 characters",
            )
        },
    );
    check(
        Config::in_memory(),
        Case {
            path: format!("/c/{COLLECTION}/{}", PRIVATE_ZERO.replace('0', "A")),
            ..plain(
                "uppercase id",
                r#"[{"a":1}]"#,
                400,
                "bad log id in URL: private log id must be lowercase hex (0-9, a-f), but character 0 is 'A'",
            )
        },
    );
}

#[test]
fn a_collection_outside_the_safe_alphabet_is_400() {
    check(
        Config::in_memory(),
        Case {
            path: format!("/c/a%20b/{PRIVATE_ZERO}"),
            ..plain(
                "percent in collection",
                r#"[{"a":1}]"#,
                400,
                "bad collection in URL: collection name may contain only A-Z, a-z, 0-9, '.', '_' and '-', but character 1 is '%'",
            )
        },
    );
}

#[test]
fn a_body_that_is_not_json_is_400() {
    check(
        Config::in_memory(),
        plain(
            "not json",
            "[{\"a\":1},",
            400,
            "body is not valid JSON (EOF while parsing a value at line 1 column 9); send a JSON array of objects",
        ),
    );
}

#[test]
fn a_body_that_is_not_utf8_is_400() {
    check(
        Config::in_memory(),
        Case {
            body: b"[{\"a\":\"\xff\"}]".to_vec(),
            ..plain(
                "not utf-8",
                "",
                400,
                "body is not valid UTF-8 (first bad byte at offset 7); send a JSON array of objects",
            )
        },
    );
}

#[test]
fn a_body_that_is_not_an_array_is_400() {
    check(
        Config::in_memory(),
        plain(
            "object body",
            r#"{"a":1}"#,
            400,
            "body must be a JSON array of objects, but it is an object",
        ),
    );
}

#[test]
fn an_element_that_is_not_an_object_rejects_the_whole_request() {
    check(
        Config::in_memory(),
        plain(
            "string element after a good one",
            r#"[{"good":1}, "bad"]"#,
            400,
            "entry 1 (0-based) must be a JSON object, but it is a string",
        ),
    );
}

#[test]
fn a_logtail_member_that_is_not_an_object_is_400() {
    check(
        Config::in_memory(),
        plain(
            "logtail string",
            r#"[{"good":1}, {"logtail":"2024-01-01T00:00:00Z"}]"#,
            400,
            "entry 1 (0-based): \"logtail\" must be an object, but it is a string",
        ),
    );
}

#[test]
fn a_logtail_member_with_anything_but_client_time_is_400() {
    check(
        Config::in_memory(),
        plain(
            "logtail extra member",
            r#"[{"logtail":{"client_time":"2024-01-01T00:00:00Z","proc_id":7}}]"#,
            400,
            "entry 0 (0-based): \"logtail\" may contain only \"client_time\", but it has \"proc_id\"",
        ),
    );
}

#[test]
fn an_unknown_content_encoding_is_415() {
    check(
        Config::in_memory(),
        Case {
            headers: vec![("Content-Encoding", "gzip".to_owned())],
            ..plain(
                "gzip",
                r#"[{"a":1}]"#,
                415,
                "unsupported Content-Encoding \"gzip\": send the body uncompressed or with Content-Encoding: zstd",
            )
        },
    );
}

#[test]
fn a_zstd_body_that_does_not_decode_is_400() {
    check(
        Config::in_memory(),
        Case {
            headers: zstd_headers(None),
            ..plain(
                "plain text labelled zstd",
                r#"[{"a":1}]"#,
                400,
                "Content-Encoding is zstd but the body is not a valid zstd stream: Unknown frame descriptor",
            )
        },
    );
}

#[test]
fn an_orig_content_length_that_differs_from_the_decoded_length_is_400() {
    let body = r#"[{"a":1}]"#;
    check(
        Config::in_memory(),
        Case {
            headers: zstd_headers(Some("8")),
            body: zstd(body),
            ..plain(
                "orig length mismatch",
                "",
                400,
                "Orig-Content-Length says 8 bytes, but the zstd body decodes to 9 bytes",
            )
        },
    );
    check(
        Config::in_memory(),
        Case {
            headers: zstd_headers(Some("nine")),
            body: zstd(body),
            ..plain(
                "orig length not a number",
                "",
                400,
                "Orig-Content-Length must be the decimal length of the uncompressed body, but it is \"nine\"",
            )
        },
    );
}

#[test]
fn a_body_over_the_limit_is_413_plain_or_decompressed() {
    let limited = || Config {
        body_limit: 64,
        ..Config::in_memory()
    };
    let big = format!(r#"[{{"pad":"{}"}}]"#, "x".repeat(100));
    let reason = "request body is larger than this server's limit of 64 bytes (after decompression); send smaller batches";
    check(limited(), plain("plain over limit", &big, 413, reason));
    // Compresses to well under 64 bytes but decodes to over 64.
    let compressed = zstd(&big);
    assert!(compressed.len() < 64);
    check(
        limited(),
        Case {
            headers: zstd_headers(None),
            body: compressed,
            ..plain("zstd over limit once decoded", "", 413, reason)
        },
    );
}

#[test]
fn a_zstd_bomb_is_413_under_the_default_limit() {
    // 64 MiB of spaces in a few KiB: refused at 16 MiB of output.
    let bomb = zstd::encode_all(std::io::Read::take(std::io::repeat(b' '), 64 << 20), 1).unwrap();
    assert!(bomb.len() < 64 << 10);
    check(
        Config::in_memory(),
        Case {
            headers: zstd_headers(None),
            body: bomb,
            ..plain(
                "zstd bomb",
                "",
                413,
                "request body is larger than this server's limit of 16777216 bytes (after decompression); send smaller batches",
            )
        },
    );
}
