//! junit.xml for nightly jobs: one suite per run, one test case per checker. Invalid is a
//! failure, unknown is an error (nothing was proven either way), valid a success.

use faultline_core::{CheckResult, Validity};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

pub fn render(test: &str, results: &[CheckResult]) -> String {
    let mut suite = TestSuite::new(test);
    for r in results {
        let mut status = match r.valid {
            Validity::Valid => TestCaseStatus::success(),
            Validity::Invalid => TestCaseStatus::non_success(NonSuccessKind::Failure),
            Validity::Unknown => TestCaseStatus::non_success(NonSuccessKind::Error),
        };
        if r.valid != Validity::Valid {
            status.set_message(r.summary.as_str());
        }
        suite.add_test_case(TestCase::new(r.checker.as_str(), status));
    }
    let mut report = Report::new("faultline");
    report.add_test_suite(suite);
    report.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_checkers_are_failures() {
        let xml = render(
            "bank",
            &[
                CheckResult::new("bank", Validity::Invalid, "sum 95", serde_json::Value::Null),
                CheckResult::new("perf", Validity::Valid, "fine", serde_json::Value::Null),
            ],
        );
        assert!(xml.contains("<failure") && xml.contains("sum 95"), "{xml}");
        assert!(xml.contains("tests=\"2\""), "{xml}");
    }
}
