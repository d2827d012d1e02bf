//! The repository's suites as Argo objects: valid against Argo's CRD schemas, one step per
//! case and repeat running exactly that case's command line, and a nightly CronWorkflow
//! that runs the template.

use crate::schemas::errors;
use faultline_k8s::argo::{cron_workflow, template_name, workflow, workflow_template, ArgoOptions};
use faultline_nightly::Suite;
use std::path::Path;

fn suite(file: &str) -> Suite {
    Suite::read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../suites")
            .join(file),
    )
    .unwrap()
}

#[test]
fn the_suites_render_to_workflows_the_argo_schemas_accept() {
    for file in ["nightly.toml", "smoke.toml"] {
        let s = suite(file);
        let o = ArgoOptions {
            namespace: "faultline".into(),
            keep_on_failure: true,
            ..ArgoOptions::default()
        };
        let wt = workflow_template(&s, &o);
        let cron = cron_workflow(&s, &o);
        let once = workflow(&s, &o);
        for obj in [&wt, &cron, &once] {
            let errs = errors(obj);
            assert!(errs.is_empty(), "{file}: {errs:#?}");
        }
        assert_eq!(
            once["spec"]["workflowTemplateRef"]["name"],
            template_name(&s)
        );
        assert_eq!(once["spec"]["arguments"]["parameters"][0]["value"], "true");
        assert_eq!(
            cron["spec"]["workflowSpec"]["workflowTemplateRef"]["name"],
            template_name(&s)
        );
        assert_eq!(cron["spec"]["schedules"][0], "0 2 * * *");

        // One step per case and repeat, each running that case's own command line.
        let templates = wt["spec"]["templates"].as_array().unwrap();
        let steps = templates[0]["steps"].as_array().unwrap();
        let runs: u32 = s.cases.iter().map(|c| c.repeat).sum();
        assert_eq!(steps.len(), runs as usize, "{file}");
        let mut k = 0;
        for case in &s.cases {
            for i in 0..case.repeat {
                let step = &steps[k][0];
                assert_eq!(step["continueOn"]["failed"], true);
                let t = templates
                    .iter()
                    .find(|t| t["name"] == step["template"])
                    .expect("the step's template");
                let args: Vec<&str> = t["container"]["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap())
                    .collect();
                let argv = case.argv(&s, Path::new("/store"), i);
                let mut expected = vec!["run".to_string(), case.workload.clone(), "--".into()];
                expected.extend(argv[1..].iter().map(|a| a.to_string_lossy().into_owned()));
                assert_eq!(args, expected, "{file} case {}", case.name());
                assert_eq!(t["outputs"]["artifacts"][0]["path"], "/store");
                k += 1;
            }
        }
        // The exit handler keeps the scene of a failed night when asked to.
        assert_eq!(wt["spec"]["onExit"], "cleanup");
        assert_eq!(wt["spec"]["arguments"]["parameters"][0]["value"], "true");
        let cleanup = templates.iter().find(|t| t["name"] == "cleanup").unwrap();
        assert!(cleanup["steps"][0][0]["when"]
            .as_str()
            .unwrap()
            .contains("keep-on-failure"));
        // ... and otherwise deletes what faultline labelled and waits for its recovery.
        let delete = templates
            .iter()
            .find(|t| t["name"] == cleanup["steps"][0][0]["template"])
            .unwrap();
        assert_eq!(
            delete["container"]["command"],
            serde_json::json!(["faultline"])
        );
        assert_eq!(
            delete["container"]["args"],
            serde_json::json!(["k8s", "clean", "--namespace", "faultline", "--all"])
        );
    }
}

#[test]
fn a_misspelt_field_would_be_caught() {
    let s = suite("smoke.toml");
    let mut wt = workflow_template(&s, &ArgoOptions::default());
    wt["spec"]["entrypoints"] = serde_json::json!("suite");
    assert!(!errors(&wt).is_empty());
}
