//! The suite's junit.xml: one test suite per run of a case, one test case per checker (as a
//! run's own junit.xml), and a `harness` test case in error when the run itself failed.

use crate::run::SuiteOutcome;
use faultline_core::Validity;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

fn status(valid: Validity, message: &str) -> TestCaseStatus {
    let mut status = match valid {
        Validity::Valid => return TestCaseStatus::success(),
        Validity::Invalid => TestCaseStatus::non_success(NonSuccessKind::Failure),
        Validity::Unknown => TestCaseStatus::non_success(NonSuccessKind::Error),
    };
    status.set_message(message);
    status
}

pub fn render(outcome: &SuiteOutcome) -> String {
    let mut report = Report::new(format!("faultline suite {}", outcome.suite));
    for run in &outcome.runs {
        let mut suite = TestSuite::new(format!("{}#{}", run.case, run.repeat));
        if let Some(seed) = run.seed {
            suite.add_property(("seed", seed.to_string().as_str()));
        }
        if let Some(dir) = &run.run {
            suite.add_property(("store", dir.display().to_string().as_str()));
        }
        if let Some(e) = &run.error {
            suite.add_test_case(TestCase::new("harness", status(Validity::Unknown, e)));
        }
        for r in &run.results {
            suite.add_test_case(TestCase::new(
                r.checker.as_str(),
                status(r.valid, &r.summary),
            ));
        }
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}
