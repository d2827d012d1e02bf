//! A two-case suite: a valid noop run and the atom system's planted stale read behind a
//! partition; the suite is as bad as its worst run, and its summary says which was which.

use faultline_core::Validity;
use faultline_nightly::{run_suite, Suite, SuiteOptions};

const SUITE: &str = r#"
name = "two"
args = ["--time-limit", "6"]

[[case]]
name = "quiet"
workload = "noop"
args = ["--concurrency", "2"]

[[case]]
name = "stale"
workload = "atom-register"
args = ["--atom-stale-reads", "--concurrency", "6", "--keys", "1", "--nemesis", "partition_one",
        "--nemesis-interval", "1", "--nemesis-duration", "2"]
seed = 3
"#;

fn store() -> std::path::PathBuf {
    std::env::temp_dir().join(format!(
        "fl-nightly-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suite_is_as_bad_as_its_worst_case() {
    let registry = faultline_harness::testkit::registry();
    let suite = Suite::parse(SUITE).unwrap();
    let store = store();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let options = SuiteOptions {
        store: store.clone(),
        parallel: 2,
    };
    let outcome = run_suite(&registry, &suite, &options, cancel)
        .await
        .unwrap();
    assert_eq!(outcome.verdict, Validity::Invalid);
    let by_case = |c: &str| outcome.runs.iter().find(|r| r.case == c).unwrap();
    assert_eq!(by_case("quiet").verdict, Validity::Valid);
    let stale = by_case("stale");
    assert_eq!(stale.verdict, Validity::Invalid);
    assert_eq!(stale.seed, Some(3));
    // Each run is stored as a run is.
    for r in &outcome.runs {
        let dir = r.run.as_ref().unwrap();
        assert!(
            dir.starts_with(&store) && dir.join("results.json").is_file(),
            "{dir:?}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(outcome.dir.join("suite.json")).unwrap())
            .unwrap();
    assert_eq!(json["verdict"], "invalid");
    assert_eq!(json["runs"].as_array().unwrap().len(), 2);
    let xml = std::fs::read_to_string(outcome.dir.join("junit.xml")).unwrap();
    assert!(xml.contains(r#"<testsuite name="quiet#0""#), "{xml}");
    assert!(xml.contains(r#"<testsuite name="stale#0""#), "{xml}");
    // One test case per checker; the linearizability checker of the stale case failed.
    let stale_xml = &xml[xml.find("stale#0").unwrap()..];
    assert!(
        stale_xml.contains(r#"<testcase name="linearizable""#),
        "{xml}"
    );
    assert!(stale_xml.contains("<failure"), "{xml}");

    // The index links every run's report, newest first, and names the anomaly.
    let (index, listed) = faultline_nightly::index::write_index(&store).unwrap();
    assert_eq!(listed, 2);
    let html = std::fs::read_to_string(index).unwrap();
    for r in &outcome.runs {
        let rel = r.run.as_ref().unwrap().strip_prefix(&store).unwrap();
        let href = format!("href=\"{}/report.html\"", rel.display());
        assert!(html.contains(&href), "{href} missing in {html}");
        assert!(store.join(rel).join("report.html").is_file());
    }
    let row = html
        .lines()
        .find(|l| l.contains("<tr class=\"invalid\">"))
        .unwrap();
    assert!(
        row.contains("atom-register")
            && row.contains("partition_one")
            && row.contains("linearizable"),
        "{row}"
    );
    assert!(row.contains("<td>3</td>"), "the seed: {row}");

    // The team is told: a receiver on loopback gets exactly the expected message.
    let receiver = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", receiver.server_addr().to_ip().unwrap());
    let got = std::thread::spawn(move || {
        let mut req = receiver.recv().unwrap();
        let mut body = String::new();
        req.as_reader().read_to_string(&mut body).unwrap();
        let (method, path) = (req.method().to_string(), req.url().to_string());
        req.respond(tiny_http::Response::from_string("ok")).unwrap();
        (method, path, body)
    });
    assert!(faultline_nightly::notify::notify(&url, &outcome));
    let (method, path, body) = got.join().unwrap();
    assert_eq!((method.as_str(), path.as_str()), ("POST", "/hook"));
    let linearizable = stale
        .results
        .iter()
        .find(|c| c.checker == "linearizable")
        .unwrap();
    let text = "faultline suite two: invalid (1 of 2 runs not valid)";
    let expected = serde_json::json!({
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "section", "text": {"type": "mrkdwn", "text": format!(
                "*stale#0* invalid\nlinearizable: {}\nseed: 3\nreplay: `faultline run atom-register -- \
                 --time-limit 6 --atom-stale-reads --concurrency 6 --keys 1 --nemesis partition_one \
                 --nemesis-interval 1 --nemesis-duration 2 --store {} --seed 3`\nreport: {}",
                linearizable.summary,
                store.display(),
                stale.run.as_ref().unwrap().join("report.html").display()
            )}}
        ]
    });
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        expected
    );
    // Nobody listening: logged, not fatal.
    assert!(!faultline_nightly::notify::notify(
        "http://127.0.0.1:1/hook",
        &outcome
    ));
    std::fs::remove_dir_all(&store).unwrap();
}

#[tokio::test]
async fn a_bad_case_is_refused_before_any_run() {
    let registry = faultline_harness::testkit::registry();
    let suite = Suite::parse(
        "name = \"bad\"\n[[case]]\nworkload = \"noop\"\n[[case]]\nworkload = \"noop\"\nname = \"b\"\nargs = [\"--no-such-flag\"]\n",
    )
    .unwrap();
    let store = store();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let options = SuiteOptions {
        store: store.clone(),
        parallel: 1,
    };
    let e = run_suite(&registry, &suite, &options, cancel)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("case b:") && e.contains("--no-such-flag"),
        "{e}"
    );
    assert!(!store.exists(), "nothing ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_repositorys_smoke_suite_passes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites");
    let suite = Suite::read(&root.join("smoke.toml")).unwrap();
    let store = store();
    let (_tx, cancel) = tokio::sync::watch::channel(false);
    let options = SuiteOptions {
        store: store.clone(),
        parallel: 3,
    };
    let registry = faultline_harness::testkit::registry();
    let outcome = run_suite(&registry, &suite, &options, cancel)
        .await
        .unwrap();
    assert_eq!(outcome.verdict, Validity::Valid, "{:?}", outcome.runs);
    assert_eq!(outcome.runs.len(), suite.cases.len());
    // The nightly parses too (it needs the local cluster to run: the workloads' own tests).
    let nightly = Suite::read(&root.join("nightly.toml")).unwrap();
    assert!(nightly.cases.len() >= 5);
    std::fs::remove_dir_all(&store).unwrap();
}
