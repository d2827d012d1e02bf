//! `--notify URL` on a single run: a run that ends invalid posts one Slack-shaped message
//! (verdict, anomaly, seed, replay command without the URL, report) to a receiver the test
//! runs on loopback; a valid run posts nothing; an unreachable URL changes no exit code.
//! Server-free: the runner's in-process atom system with its planted stale reads.

use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const STALE: [&str; 14] = [
    "--db",
    "atom",
    "--time-limit",
    "5",
    "--concurrency",
    "6",
    "--keys",
    "1",
    "--nemesis",
    "partition_one",
    "--nemesis-interval",
    "1",
    "--nemesis-duration",
    "2",
];

fn run(store: &std::path::Path, extra: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .args(["run", "atom-register", "--"])
        .args(STALE)
        .arg("--store")
        .arg(store)
        .args(extra)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn an_invalid_run_tells_the_receiver_and_a_valid_one_does_not() {
    let store = std::env::temp_dir().join(format!("fl-notify-{}", std::process::id()));
    // The receiver answers on its own thread (the run waits for its answer) and hands
    // each (method, body) over.
    let receiver = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/hook/T0KEN",
        receiver.server_addr().to_ip().unwrap()
    );
    let (tx, rx) = std::sync::mpsc::channel::<(String, String)>();
    std::thread::spawn(move || {
        for mut req in receiver.incoming_requests() {
            let mut body = String::new();
            req.as_reader().read_to_string(&mut body).unwrap();
            let method = req.method().to_string();
            req.respond(tiny_http::Response::from_string("ok")).ok();
            if tx.send((method, body)).is_err() {
                return;
            }
        }
    });

    let (code, out) = run(
        &store,
        &["--atom-stale-reads", "--seed", "3", "--notify", &url],
    );
    assert_eq!(code, 1, "{out}");
    let (method, body) = rx
        .recv_timeout(Duration::from_secs(5))
        .expect("one message for the invalid run");
    assert_eq!(method, "POST");
    let m: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(m["text"], "faultline atom-register: invalid");
    let section = m["blocks"][1]["text"]["text"].as_str().unwrap();
    println!("{section}");
    assert!(
        section.starts_with("*atom-register* invalid\nlinearizable: not linearizable"),
        "{section}"
    );
    assert!(section.contains("\nseed: 3\n"), "{section}");
    let replay = format!(
        "replay: `faultline run atom-register -- {} --store {} --atom-stale-reads --seed 3`",
        STALE.join(" "),
        store.display()
    );
    assert!(section.contains(&replay), "{section}\nwanted {replay}");
    assert!(section.contains("report.html"), "{section}");
    assert!(
        !body.contains("T0KEN"),
        "the webhook URL leaked into the message"
    );
    let test_json = std::fs::read_to_string(store.join("latest/test.json")).unwrap();
    assert!(!test_json.contains("T0KEN"), "the webhook URL was stored");

    // A valid run: nothing is posted.
    let (code, out) = run(&store, &["--seed", "3", "--notify", &url]);
    assert_eq!(code, 0, "{out}");
    assert!(
        rx.recv_timeout(Duration::from_secs(2)).is_err(),
        "a valid run posted"
    );

    // Nobody listening: logged, and the verdict's exit code stands.
    let (code, out) = run(
        &store,
        &[
            "--atom-stale-reads",
            "--seed",
            "3",
            "--notify",
            "http://127.0.0.1:1/x",
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the notification to http://127.0.0.1:1/x failed"),
        "{out}"
    );
    std::fs::remove_dir_all(&store).ok();
}
