//! `faultline k8s render` and `faultline suite render --argo`: the Kubernetes objects a
//! schedule or a suite would make, printed as one `v1` List that `kubectl apply -f` takes.

use clap::Subcommand;
use faultline_harness::{EXIT_BAD_ARGS, EXIT_HARNESS_FAILURE};
use faultline_k8s::argo::{cron_workflow, workflow_template, ArgoOptions};
use faultline_k8s::render::{list, render, RenderOptions};
use std::io::Write;
use std::path::Path;

/// Prints `v` as JSON; a closed pipe (`| head`) is not an error.
fn print(v: &serde_json::Value) {
    let _ = writeln!(std::io::stdout(), "{v:#}");
}

#[derive(Subcommand)]
pub enum K8sAction {
    /// Print the Chaos Mesh objects the faults would create on these pods (a dry run:
    /// nothing is sent; `kubectl apply -f` takes the output).
    Render {
        /// Faults of `faultline list nemeses`, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        nemesis: Vec<String>,
        /// The pods under test (faultline's nodes), comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        pods: Vec<String>,
        /// Their namespace (the objects go there too).
        #[arg(long, default_value = "default")]
        namespace: String,
        /// The run id every object is labelled with (faultline.io/run).
        #[arg(long, default_value = "faultline")]
        run_id: String,
        /// Where the pods mount their data volume (disk faults need it).
        #[arg(long)]
        volume_path: Option<String>,
        /// Seeds the faults' choice of pods and parameters, as in a run.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

pub fn k8s(action: K8sAction) -> i32 {
    let K8sAction::Render {
        nemesis,
        pods,
        namespace,
        run_id,
        volume_path,
        seed,
    } = action;
    let opts = RenderOptions {
        namespace,
        run_id,
        pods,
        volume_path,
        seed,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    match rt.block_on(render(&nemesis, &opts)) {
        Ok(objects) => {
            print(&list(objects));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_BAD_ARGS
        }
    }
}

/// `faultline suite render --argo FILE`.
pub fn suite_render(file: &Path, opts: &ArgoOptions) -> i32 {
    match faultline_nightly::Suite::read(file) {
        Ok(suite) => {
            let items = vec![workflow_template(&suite, opts), cron_workflow(&suite, opts)];
            print(&list(items));
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            if matches!(e, faultline_nightly::SuiteError::Read { .. }) {
                EXIT_HARNESS_FAILURE
            } else {
                EXIT_BAD_ARGS
            }
        }
    }
}
