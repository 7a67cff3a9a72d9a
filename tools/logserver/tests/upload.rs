//! Accepted uploads: what is stored, where, and how it is read back.

mod common;

use common::{get, post_json, post_zstd, read_path, upload_path, COLLECTION, PUBLIC_ZERO};
use sockstatlog_logserver::{logid, Config, Server, Stats};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn a_plain_upload_is_stored_entry_by_entry_with_its_exact_text_in_order() {
    let server = Server::start(Config::in_memory()).unwrap();
    let body = concat!(
        "[\n",
        r#"  {"logtail":{"client_time":"2024-05-06T07:08:09.123456789Z"},"rx":1 , "tx":2},"#,
        "\n",
        r#"  {"label":"\u00e9t\u00e9",   "n":1.50}"#,
        "\n]"
    );

    let reply = post_json(server.addr(), &upload_path(), body);

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, "");
    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        strings(&[
            r#"{"logtail":{"client_time":"2024-05-06T07:08:09.123456789Z"},"rx":1 , "tx":2}"#,
            r#"{"label":"\u00e9t\u00e9",   "n":1.50}"#,
        ])
    );
}

#[test]
fn a_zstd_upload_with_a_matching_orig_content_length_is_decoded_and_stored() {
    let server = Server::start(Config::in_memory()).unwrap();
    let body = r#"[{"a":1},{"b":[2,3]}]"#;

    let reply = post_zstd(
        server.addr(),
        &upload_path(),
        body,
        Some(&body.len().to_string()),
    );

    assert_eq!(reply.status, 200);
    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        strings(&[r#"{"a":1}"#, r#"{"b":[2,3]}"#])
    );
}

#[test]
fn a_zstd_upload_without_orig_content_length_is_accepted() {
    let server = Server::start(Config::in_memory()).unwrap();

    let reply = post_zstd(server.addr(), &upload_path(), r#"[{"z":true}]"#, None);

    assert_eq!(reply.status, 200);
    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        strings(&[r#"{"z":true}"#])
    );
}

#[test]
fn successive_uploads_append_to_the_log_in_arrival_order() {
    let server = Server::start(Config::in_memory()).unwrap();

    assert_eq!(
        post_json(server.addr(), &upload_path(), r#"[{"n":1},{"n":2}]"#).status,
        200
    );
    assert_eq!(
        post_zstd(server.addr(), &upload_path(), r#"[{"n":3}]"#, Some("9")).status,
        200
    );
    assert_eq!(
        post_json(server.addr(), &upload_path(), r#"[{"n":4}]"#).status,
        200
    );

    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        strings(&[r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":3}"#, r#"{"n":4}"#])
    );
}

#[test]
fn an_empty_array_is_accepted_and_stores_nothing() {
    let server = Server::start(Config::in_memory()).unwrap();

    let reply = post_json(server.addr(), &upload_path(), "[]");

    assert_eq!(reply.status, 200);
    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        Vec::<String>::new()
    );
    assert_eq!(server.stats().accepted, 1);
    assert_eq!(server.stats().entries_stored, 0);
}

#[test]
fn the_log_is_filed_under_sha256_of_the_private_ids_bytes_and_its_collection() {
    let server = Server::start(Config::in_memory()).unwrap();
    let other_private = "01".repeat(32);

    post_json(server.addr(), &upload_path(), r#"[{"who":"zero"}]"#);
    post_json(
        server.addr(),
        &format!("/c/{COLLECTION}/{other_private}"),
        r#"[{"who":"ones"}]"#,
    );
    post_json(
        server.addr(),
        &format!("/c/other.collection/{}", "00".repeat(32)),
        r#"[{"who":"other collection"}]"#,
    );

    assert_eq!(
        logid::public_id_hex(&"00".repeat(32)).unwrap(),
        "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925"
    );
    assert_eq!(
        server.entries(COLLECTION, PUBLIC_ZERO),
        strings(&[r#"{"who":"zero"}"#])
    );
    assert_eq!(
        server.entries(COLLECTION, &logid::public_id_hex(&other_private).unwrap()),
        strings(&[r#"{"who":"ones"}"#])
    );
    assert_eq!(
        server.entries("other.collection", PUBLIC_ZERO),
        strings(&[r#"{"who":"other collection"}"#])
    );
    // Nothing is filed under the private id itself.
    assert_eq!(
        server.entries(COLLECTION, &"00".repeat(32)),
        Vec::<String>::new()
    );
}

#[test]
fn get_on_the_public_id_returns_the_entries_as_a_json_array_of_the_exact_texts() {
    let server = Server::start(Config::in_memory()).unwrap();
    post_json(server.addr(), &upload_path(), r#"[{"a" : 1}, {"b":"x"}]"#);
    post_json(server.addr(), &upload_path(), r#"[{"c":null}]"#);

    let reply = get(server.addr(), &read_path());

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.body, r#"[{"a" : 1},{"b":"x"},{"c":null}]"#);
}

#[test]
fn get_on_a_log_with_no_entries_returns_an_empty_array() {
    let server = Server::start(Config::in_memory()).unwrap();

    let reply = get(server.addr(), &read_path());

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, "[]");
}

#[test]
fn get_with_a_malformed_public_id_is_a_400_with_the_reason() {
    let server = Server::start(Config::in_memory()).unwrap();

    let reply = get(
        server.addr(),
        &format!("/c/{COLLECTION}/{}", &PUBLIC_ZERO[..10]),
    );

    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body,
        "bad log id in URL: public log id must be 64 lowercase hex characters (32 bytes), but it has 10 characters\n"
    );
}

#[test]
fn stats_count_uploads_outcomes_and_entries_and_are_served_as_json() {
    let server = Server::start(Config::in_memory()).unwrap();
    post_json(server.addr(), &upload_path(), r#"[{"a":1},{"a":2}]"#);
    post_json(server.addr(), &upload_path(), r#"{"not":"an array"}"#);
    get(server.addr(), &read_path());

    let expected = Stats {
        requests: 2,
        accepted: 1,
        rejected: 1,
        entries_stored: 2,
        ..Stats::default()
    };
    assert_eq!(server.stats(), expected);
    let reply = get(server.addr(), "/stats");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.body,
        concat!(
            r#"{"requests":2,"accepted":1,"rejected":1,"store_errors":0,"#,
            r#""fault_500":0,"fault_429":0,"fault_reset":0,"fault_slow":0,"entries_stored":2}"#
        )
    );
}

#[test]
fn unknown_paths_are_404_and_wrong_methods_are_405_with_allow() {
    let server = Server::start(Config::in_memory()).unwrap();

    assert_eq!(get(server.addr(), "/nope").status, 404);
    assert_eq!(
        get(server.addr(), &format!("{}/extra", read_path())).status,
        404
    );
    let put = common::request(server.addr(), "PUT", &upload_path(), &[], b"[]").unwrap();
    assert_eq!(put.status, 405);
    assert_eq!(put.header("allow"), Some("GET, POST"));
    let post_stats = common::request(server.addr(), "POST", "/stats", &[], b"").unwrap();
    assert_eq!(post_stats.status, 405);
    assert_eq!(post_stats.header("allow"), Some("GET"));
    assert_eq!(server.stats().requests, 0);
}

#[test]
fn base_url_names_the_loopback_port_it_listens_on() {
    let server = Server::start(Config::in_memory()).unwrap();

    assert!(server.addr().ip().is_loopback());
    assert_ne!(server.addr().port(), 0);
    assert_eq!(
        server.base_url(),
        format!("http://127.0.0.1:{}", server.addr().port())
    );
}

#[test]
fn a_non_loopback_listen_address_is_refused_unless_allowed() {
    let config = Config {
        listen: "0.0.0.0:0".parse().unwrap(),
        ..Config::in_memory()
    };

    let error = Server::start(config).unwrap_err();

    assert_eq!(
        error.to_string(),
        "refusing to listen on non-loopback address 0.0.0.0:0: this server has no authentication; allow it explicitly (--allow-non-loopback) if you really mean to"
    );
}
