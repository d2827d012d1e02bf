//! Jepsen bank histories as Jepsen writes them (elle-cli's test histories, among them a
//! TiDB run), checked with Jepsen's verdicts: elle-cli's test.sh expects bank.edn,
//! bank.json and bank-neg.edn valid, bank-tidb.edn and bank-negative-balances.json
//! invalid; its bank-tidb-result.json has 1805 reads, 1731 errors, the first (wrong total
//! 105) at op 258.

use faultline_checkers::bank_import::{jepsen_bank, jepsen_bank_history, JepsenBankOptions};
use faultline_core::{Process, Validity};

fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/jepsen-bank/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn check(name: &str, negative_balances: bool) -> faultline_core::CheckResult {
    let opts = JepsenBankOptions {
        negative_balances,
        ..Default::default()
    };
    jepsen_bank(&fixture(name), &opts).unwrap().check()
}

#[test]
fn tidb_bank_history_has_jepsens_errors() {
    let bank = jepsen_bank(&fixture("bank-tidb.edn"), &JepsenBankOptions::default()).unwrap();
    assert_eq!(bank.accounts, (0..8).collect::<Vec<u64>>());
    assert_eq!(bank.total, 100);
    let r = bank.check();
    assert_eq!(r.valid, Validity::Invalid, "{}", r.summary);
    assert_eq!(r.details["ok_reads"], 1805);
    assert_eq!(r.details["bad_reads"], 1731);
    let first = &r.details["first_bad_reads"][0];
    assert_eq!(first["index"], 258);
    assert!(
        first["problems"][0]
            .as_str()
            .unwrap()
            .contains("sum to 105"),
        "{first}"
    );
    // Transfers were read as transfers, failed ones kept with Jepsen's reason.
    let t = bank.history.ops.iter().find(|o| o.f == "transfer").unwrap();
    assert_eq!(
        t.value,
        serde_json::json!({"from": 3, "to": 0, "amount": 1})
    );
    let failed = bank
        .history
        .ops
        .iter()
        .find(|o| o.f == "transfer" && o.is_fail())
        .unwrap();
    assert_eq!(failed.value, serde_json::json!(["negative", 2, -1]));
}

#[test]
fn valid_histories_are_valid_in_edn_and_json() {
    for name in ["bank.edn", "bank.json", "bank-neg.edn"] {
        let r = check(name, false);
        assert_eq!(r.valid, Validity::Valid, "{name}: {}", r.summary);
    }
    let edn = jepsen_bank_history(&fixture("bank.edn")).unwrap();
    let json = jepsen_bank_history(&fixture("bank.json")).unwrap();
    assert!(edn.ops.iter().any(|o| o.process == Process::Nemesis));
    let reads =
        |h: &faultline_core::History| h.ops.iter().filter(|o| o.f == "read" && o.is_ok()).count();
    assert!(reads(&edn) > 0 && reads(&json) > 0);
}

#[test]
fn negative_balances_are_invalid_unless_allowed() {
    let r = check("bank-negative-balances.json", false);
    assert_eq!(r.valid, Validity::Invalid, "{}", r.summary);
    assert!(r.details["first_bad_reads"][0]["problems"][0]
        .as_str()
        .unwrap()
        .contains("account 7 is negative: -1"));
    let r = check("bank-negative-balances.json", true);
    assert_eq!(r.valid, Validity::Valid, "{}", r.summary);
    assert!(r.summary.contains("negative balances allowed"));
}

#[test]
fn ops_without_process_or_time_in_a_vector() {
    let text = "[{:type :invoke, :f :read}
 {:type :ok, :f :read, :value {0 5, 1 5}}
 {:type :info, :f :start, :process :nemesis}
 {:type :invoke, :f :transfer, :value {:from 0, :to 1, :amount 2}}
 {:type :ok, :f :transfer, :value {:from 0, :to 1, :amount 2}}
 {:type :invoke, :f :read}
 {:type :ok, :f :read, :value {0 3, 1 8}}]";
    let bank = jepsen_bank(text, &JepsenBankOptions::default()).unwrap();
    assert_eq!((bank.total, bank.accounts.clone()), (10, vec![0, 1]));
    assert_eq!(bank.history.ops[6].time, 6);
    let r = bank.check();
    assert_eq!(r.valid, Validity::Invalid, "{}", r.summary);
    assert!(r.summary.contains("1 of 2 reads"), "{}", r.summary);
    // Given accounts and total win over the inferred ones.
    let opts = JepsenBankOptions {
        total: Some(11),
        ..Default::default()
    };
    assert_eq!(
        jepsen_bank(text, &opts).unwrap().check().details["bad_reads"],
        1
    );
    let e = jepsen_bank(
        "{:type :ok, :f :read, :value {:x 1}}",
        &JepsenBankOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("non-negative integers"), "{e}");
}
