//! Checks a history file with the Elle checker and prints the verdict and explanations.
//!
//! `cargo run -p faultline-checkers --example elle_check -- FILE [append|rw-register] [MODEL]`
//! FILE is our history.jsonl, or a Jepsen EDN history when it ends in `.edn`.
//! `... --example elle_check -- --generate N FILE` writes a generated list-append history.

use faultline_checkers::elle::{gen, import, ElleChecker, Workload};
use faultline_core::Checker;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--generate") {
        let n: usize = args.get(1).ok_or("--generate N FILE")?.parse()?;
        let path = args.get(2).ok_or("--generate N FILE")?;
        let opts = gen::GenOptions {
            txns: n,
            plants: gen::Plant::ALL.to_vec(),
            ..Default::default()
        };
        let ops = gen::write_jsonl(&opts, std::path::Path::new(path))?;
        println!("wrote {ops} ops to {path} (with one of each planted anomaly)");
        return Ok(());
    }
    let path = args
        .first()
        .ok_or("usage: elle_check FILE [workload] [model]")?;
    let workload: Workload = args.get(1).map_or("append", String::as_str).parse()?;
    let model = args.get(2).map_or("strict-serializable", String::as_str);
    let checker = ElleChecker::new(workload, model)?;
    let result = if path.ends_with(".edn") {
        checker.check(&import::jepsen_edn(
            &std::fs::read_to_string(path)?,
            workload,
        )?)
    } else {
        checker.check_file(std::path::Path::new(path))?
    };
    println!("{}", result.summary);
    if let Some(classes) = result.details["anomalies"].as_object() {
        for (class, list) in classes {
            for a in list.as_array().into_iter().flatten().take(1) {
                println!("\n{class}:");
                for s in a["explanation"].as_array().into_iter().flatten() {
                    println!("  - {}", s.as_str().unwrap_or_default());
                }
            }
        }
    }
    std::process::exit(result.valid.exit_code());
}
