//! `faultline analyze --format ...` on histories other tools wrote: Porcupine's published
//! files with their known verdicts, Jepsen EDN for registers and list-append, and malformed
//! input reported with its line number. No server involved.

use std::path::PathBuf;
use std::process::Command;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/porcupine-test-data")
        .join(rel)
}

fn analyze(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_faultline"))
        .arg("analyze")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A history file in the temp dir, removed when dropped.
struct TempFile(PathBuf);

impl std::ops::Deref for TempFile {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        std::fs::remove_file(&self.0).ok();
    }
}

fn temp_file(name: &str, text: &str) -> TempFile {
    let p = std::env::temp_dir().join(format!("fl-import-{}-{name}", std::process::id()));
    std::fs::write(&p, text).unwrap();
    TempFile(p)
}

#[test]
fn porcupine_files_get_their_published_verdicts() {
    let (code, out, _) = analyze(&[
        "--format",
        "porcupine-etcd",
        data("jepsen/etcd_000.log").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("verdict: invalid"));
    let (code, out, _) = analyze(&[
        "--format",
        "porcupine-etcd",
        data("jepsen/etcd_002.log").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, _, _) = analyze(&[
        "--format",
        "porcupine-kv",
        data("kv/c10-bad.txt").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    let (code, _, _) = analyze(&[
        "--format",
        "porcupine-kv",
        data("kv/c10-ok.txt").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
}

#[test]
fn jepsen_edn_registers_are_checked_for_linearizability() {
    // A read of 1 after the write of 2 completed and before anything else: stale.
    let bad = temp_file(
        "reg-bad.edn",
        "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1}\n\
         {:process 1, :type :invoke, :f :write, :value 2}\n{:process 1, :type :ok, :f :write, :value 2}\n\
         ; a stale read\n{:process 2, :type :invoke, :f :read, :value nil}\n{:process 2, :type :ok, :f :read, :value 1}\n",
    );
    let (code, out, err) = analyze(&[
        "--format",
        "jepsen-edn",
        "--workload",
        "register",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let good = temp_file(
        "reg-good.edn",
        "[{:process 0, :type :invoke, :f :write, :value 1}, {:process 0, :type :ok, :f :write, :value 1},\n\
          {:process 2, :type :invoke, :f :read, :value nil}, {:process 2, :type :ok, :f :read, :value 1}]\n",
    );
    let (code, out, err) = analyze(&[
        "--format",
        "jepsen-edn",
        "--workload",
        "register",
        good.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn jepsen_edn_list_append_finds_g1c_and_names_it() {
    // T1 appends 1 to x and reads y empty... T2 appends 1 to y and reads x empty: write skew is
    // G2; here each reads the other's write: a G1c cycle of wr edges.
    let text = "{:process 0, :type :invoke, :f :txn, :value [[:append 1 1] [:r 2 nil]]}\n\
                {:process 1, :type :invoke, :f :txn, :value [[:append 2 1] [:r 1 nil]]}\n\
                {:process 0, :type :ok, :f :txn, :value [[:append 1 1] [:r 2 [1]]]}\n\
                {:process 1, :type :ok, :f :txn, :value [[:append 2 1] [:r 1 [1]]]}\n";
    let f = temp_file("append.edn", text);
    let (code, out, err) = analyze(&[
        "--format",
        "jepsen-edn",
        "--workload",
        "append",
        "--model",
        "read-committed",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("G1c"), "{out}");
}

#[test]
fn malformed_input_names_the_line_and_exits_254() {
    let f = temp_file("broken.edn", "{:process 0, :type :invoke, :f :write, :value 1}\n{:process 0, :type :ok, :f :write, :value 1\n");
    let (code, _, err) = analyze(&[
        "--format",
        "jepsen-edn",
        "--workload",
        "register",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 254, "{err}");
    assert!(err.contains(":2") || err.contains("line 2"), "{err}");
    let (code, _, err) = analyze(&["--format", "netflix", f.to_str().unwrap()]);
    assert_eq!(code, 254);
    assert!(err.contains("porcupine-etcd"), "{err}");
}

fn fixture(dir: &str, name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../checkers/tests/fixtures")
        .join(dir)
        .join(name)
        .display()
        .to_string()
}

fn bank_fixture(name: &str) -> String {
    fixture("jepsen-bank", name)
}

#[test]
fn jepsen_set_histories_get_jepsens_verdicts() {
    // elle-cli's test.sh: set.edn valid; set_full.edn and .json invalid (the adds carry
    // [0 k] tuples and the final read bare integers: every acknowledged add is lost).
    let set = fixture("jepsen-set", "set.edn");
    let (code, out, err) = analyze(&["--format", "jepsen-edn", "--workload", "set", &set]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("3 acknowledged adds all in the final read"),
        "{out}"
    );
    for name in ["set_full.edn", "set_full.json"] {
        let full = fixture("jepsen-set", name);
        let (code, out, err) =
            analyze(&["--format", "jepsen-edn", "--workload", "set-full", &full]);
        assert_eq!(code, 1, "{name}: {out}{err}");
        assert!(out.contains("293 element(s) lost"), "{name}: {out}");
    }
    // The same history with tuples read back is valid for set-full.
    let ok = temp_file(
        "set-full-ok.edn",
        "{:type :invoke, :f :add, :value 1}\n{:type :ok, :f :add, :value 1}\n\
         {:type :invoke, :f :read}\n{:type :ok, :f :read, :value #{1}}\n",
    );
    let (code, out, err) = analyze(&[
        "--format",
        "jepsen-edn",
        "--workload",
        "set-full",
        "--linearizable",
        ok.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    // A read whose value is not a collection is refused with its line.
    let bad = temp_file(
        "set-bad.edn",
        "{:type :invoke, :f :read}\n{:type :ok, :f :read, :value 3}\n",
    );
    let (code, _, err) = analyze(&[
        "--format",
        "jepsen-edn",
        "--workload",
        "set",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(code, 254, "{err}");
    assert!(err.contains("line 2"), "{err}");
}

#[test]
fn jepsen_bank_histories_get_jepsens_verdicts() {
    // TiDB's run (elle-cli's data): Jepsen found 1731 bad reads of 1805.
    let tidb = bank_fixture("bank-tidb.edn");
    let (code, out, err) = analyze(&["--format", "jepsen-edn", "--workload", "bank", &tidb]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("1731") && out.contains("verdict: invalid"),
        "{out}"
    );
    let valid = bank_fixture("bank.json");
    let (code, out, err) = analyze(&["--format", "jepsen-json", "--workload", "bank", &valid]);
    assert_eq!(code, 0, "{out}{err}");
    // Negative balances are an anomaly unless the run allowed them.
    let neg = bank_fixture("bank-negative-balances.json");
    let (code, out, _) = analyze(&["--format", "jepsen-json", "--workload", "bank", &neg]);
    assert_eq!(code, 1, "{out}");
    let (code, out, _) = analyze(&[
        "--format",
        "jepsen-json",
        "--workload",
        "bank",
        "--negative-balances",
        &neg,
    ]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn jepsen_list_append_without_process_or_time_is_checked() {
    // Elle's G1c shape, as Jepsen users write it: no :process, no :time, keyword keys.
    let f = temp_file(
        "noproc.edn",
        "{:type :invoke :f :txn :value [[:append :x 1] [:r :y nil]]}\n\
         {:type :ok :f :txn :value [[:append :x 1] [:r :y [1]]]}\n\
         {:type :invoke :f :txn :value [[:append :y 1] [:r :x nil]]}\n\
         {:type :ok :f :txn :value [[:append :y 1] [:r :x [1]]]}\n",
    );
    let (code, out, err) = analyze(&[
        "--format",
        "jepsen-edn",
        "--workload",
        "append",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("G1c"), "{out}");
}
