//! The traffic view: the index of logs, a log's page and its JSON, served by the real
//! server from uploaded events.

mod common;

use common::{get, post_json, upload_path, COLLECTION, PUBLIC_ZERO};
use sockstatlog_logserver::{Config, Server};

/// Ten seconds of events from 1,700,000,000,000 ms: label 8 every 100 ms for
/// the first 4 s, cellular from 2 s; label 11 once; a text line; then a 4 s
/// gap and one more event of label 200.
fn session() -> String {
    let mut entries = Vec::new();
    for i in 0..40 {
        let c = if i >= 20 { r#""c":1,"# } else { "" };
        entries.push(format!(
            r#"{{"logtail":{{"client_time":"2023-11-14T22:13:20Z"}},"t":{},"d":100,{c}"s":{{"8":[100,1000]}}}}"#,
            1_700_000_000_000i64 + i * 100
        ));
    }
    entries.push(r#"{"t":1700000001000,"d":100,"s":{"11":[5,7]}}"#.to_owned());
    entries.push(r#"{"text":"app backgrounded"}"#.to_owned());
    entries.push(r#"{"t":1700000009900,"d":100,"s":{"200":[1,2]}}"#.to_owned());
    format!("[{}]", entries.join(","))
}

fn page_path() -> String {
    format!("/logs/{COLLECTION}/{PUBLIC_ZERO}")
}

#[test]
fn the_index_lists_each_log_with_its_events_and_links_to_its_page() {
    let server = Server::start(Config::in_memory()).unwrap();
    assert!(get(server.addr(), "/").body.contains("No logs yet"));
    assert_eq!(
        post_json(server.addr(), &upload_path(), &session()).status,
        200
    );

    let index = get(server.addr(), "/");

    assert_eq!(index.status, 200);
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        index.body.contains(&format!(r#"href="{}""#, page_path())),
        "{}",
        index.body
    );
    assert!(
        index.body.contains("<td>42</td><td>43</td>"),
        "events, lines: {}",
        index.body
    );
    assert!(index.body.contains("2023-11-14 22:13:20 UTC"));
}

#[test]
fn the_json_has_the_totals_cellular_periods_and_gaps_of_the_uploaded_events() {
    let server = Server::start(Config::in_memory()).unwrap();
    post_json(server.addr(), &upload_path(), &session());

    let reply = get(
        server.addr(),
        &format!("/api/logs/{COLLECTION}/{PUBLIC_ZERO}?buckets=10"),
    );

    assert_eq!(reply.status, 200);
    let json: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(json["window"]["from_ms"], 1_700_000_000_000i64);
    assert_eq!(json["window"]["to_ms"], 1_700_000_010_000i64);
    let labels: Vec<i64> = json["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_i64().unwrap())
        .collect();
    assert_eq!(labels, [8, 11, 200]);
    assert_eq!(json["series"][0]["name"], "MagicsockConnUDP4");
    assert_eq!(json["series"][0]["total_tx"], 4_000);
    assert_eq!(json["series"][0]["total_rx"], 40_000);
    assert_eq!(json["series"][0]["cellular_bytes"], 22_000);
    assert_eq!(json["series"][2]["name"], "label 200");
    assert_eq!(
        json["cellular"],
        serde_json::json!([[1_700_000_002_000i64, 1_700_000_004_000i64]])
    );
    assert_eq!(
        json["gaps"],
        serde_json::json!([[1_700_000_004_000i64, 1_700_000_009_000i64]])
    );
    assert_eq!(json["issues"]["other_lines"], 1);
    assert_eq!(json["events_in_window"], 42);
}

#[test]
fn the_page_draws_one_lane_per_label_shades_cellular_and_zooms_by_query() {
    let server = Server::start(Config::in_memory()).unwrap();
    post_json(server.addr(), &upload_path(), &session());

    let page = get(server.addr(), &page_path());
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches(r#"<g class="series""#).count(), 3);
    assert_eq!(page.body.matches(r#"<rect class="cellular""#).count(), 1);
    assert!(page
        .body
        .contains(r#"<tr data-label="8" data-tx="4000" data-rx="40000">"#));
    assert!(
        !page.body.contains("src=")
            && !page.body.contains("href=\"http")
            && !page.body.contains("<script"),
        "the page fetches nothing and needs no script"
    );

    let zoomed = get(
        server.addr(),
        &format!("{}?from=1700000000000&to=1700000001000", page_path()),
    );
    assert_eq!(zoomed.status, 200);
    assert!(zoomed
        .body
        .contains(r#"data-from="1700000000000" data-to="1700000001000""#));
    assert_eq!(
        zoomed.body.matches(r#"<g class="series""#).count(),
        1,
        "only label 8 in the first second"
    );
    assert_eq!(zoomed.body.matches(r#"<rect class="cellular""#).count(), 0);
    assert!(zoomed.body.contains("zoom in</a>"));
    assert!(
        zoomed
            .body
            .contains("43 lines: 42 events (10 in this range), 1 other lines"),
        "the events outside the window are counted, though not read: {}",
        zoomed.body
    );
    let empty = get(
        server.addr(),
        &format!("{}?from=1600000000000&to=1600000001000", page_path()),
    );
    assert!(
        empty
            .body
            .contains("No events in this range; the log&#39;s 42 events lie elsewhere"),
        "{}",
        empty.body
    );
}

#[test]
fn bad_queries_and_unknown_logs_get_a_clear_answer() {
    let server = Server::start(Config::in_memory()).unwrap();
    post_json(server.addr(), &upload_path(), &session());

    let bad = get(server.addr(), &format!("{}?from=yesterday", page_path()));
    assert_eq!(bad.status, 400);
    assert!(
        bad.body
            .contains("from=\"yesterday\": from must be an integer"),
        "{}",
        bad.body
    );
    let reversed = get(server.addr(), &format!("{}?from=5&to=4", page_path()));
    assert_eq!(
        (reversed.status, reversed.body.as_str()),
        (400, "bad query: to (4) must be after from (5)\n")
    );
    let unknown = get(
        server.addr(),
        &format!("/logs/{COLLECTION}/{}", "ab".repeat(32)),
    );
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("/ lists the logs it holds"));
}

#[test]
fn a_log_with_only_text_lines_says_there_is_nothing_to_draw() {
    let server = Server::start(Config::in_memory()).unwrap();
    post_json(
        server.addr(),
        &upload_path(),
        r#"[{"text":"a"},{"text":"b"}]"#,
    );

    let page = get(server.addr(), &page_path());

    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("This log holds 2 lines but no events: nothing to draw"),
        "{}",
        page.body
    );
    assert!(page.body.contains("No events in this range</text>"));
}
