//! `faultline k8s render` and `faultline suite render --argo`: the Kubernetes objects a
//! schedule or a suite would make, printed as one `v1` List that `kubectl apply -f` takes;
//! `faultline k8s clean`: every Chaos Mesh object faultline made (of one run, or all),
//! deleted and waited for; and (feature `k8s`) the Kubernetes recipes of `--db`.

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
    /// Delete every Chaos Mesh object faultline made (of one run with --run-id, or --all)
    /// and wait until Chaos Mesh has recovered each: the clean-up after a run was killed.
    /// The API server is found as kubectl finds it (KUBECONFIG, ~/.kube/config, in-cluster).
    #[command(group = clap::ArgGroup::new("which").required(true).args(["run_id", "all"]))]
    Clean {
        /// Only this namespace (default: every namespace).
        #[arg(long)]
        namespace: Option<String>,
        /// The run's id (its objects' faultline.io/run label, printed when the run started
        /// and in its test.json).
        #[arg(long)]
        run_id: Option<String>,
        /// Every object labelled app.kubernetes.io/managed-by=faultline.
        #[arg(long)]
        all: bool,
        /// Seconds to wait for Chaos Mesh to recover each object.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
}

/// Adds the Kubernetes recipes to `registry` (with the `k8s` feature).
pub fn register(registry: faultline_harness::Registry) -> faultline_harness::Registry {
    #[cfg(feature = "k8s")]
    let registry = registry
        .recipe(faultline_k8s::recipe::K8sRecipe)
        .recipe(faultline_k8s::tidb::TidbK8sRecipe);
    registry
}

pub fn k8s(action: K8sAction) -> i32 {
    let (nemesis, pods, namespace, run_id, volume_path, seed) = match action {
        K8sAction::Render {
            nemesis,
            pods,
            namespace,
            run_id,
            volume_path,
            seed,
        } => (nemesis, pods, namespace, run_id, volume_path, seed),
        K8sAction::Clean {
            namespace,
            run_id,
            all,
            timeout,
        } => return clean(namespace, run_id, all, timeout),
    };
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

#[cfg(not(feature = "k8s"))]
fn clean(_: Option<String>, _: Option<String>, _: bool, _: u64) -> i32 {
    eprintln!(
        "error: this faultline was built without the `k8s` feature: rebuild with --features k8s"
    );
    EXIT_BAD_ARGS
}

/// `faultline k8s clean`: lists each kind by label, deletes, waits until recovered.
#[cfg(feature = "k8s")]
fn clean(namespace: Option<String>, run_id: Option<String>, all: bool, timeout: u64) -> i32 {
    use faultline_k8s::objects::{managed_selector, run_selector};
    let selector = match (&run_id, all) {
        (Some(id), _) => run_selector(&faultline_k8s::Scope::new("", id).run_id),
        (None, _) => managed_selector(),
    };
    let waits = faultline_k8s::Waits {
        recovered: std::time::Duration::from_secs(timeout),
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let result = rt.block_on(async {
        let api = faultline_k8s::client::KubeApi::from_env().await?;
        faultline_k8s::chaos::clean(&api, namespace.as_deref(), &selector, Some(&waits)).await
    });
    match result {
        Ok(found) => {
            for f in &found {
                println!("deleted {} {}/{}", f.kind, f.namespace, f.name);
            }
            let where_ = namespace.as_deref().unwrap_or("every namespace");
            println!(
                "k8s clean: {} object(s) with {selector} in {where_} deleted and recovered",
                found.len()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_HARNESS_FAILURE
        }
    }
}

/// `faultline suite render --argo FILE [--once]`.
pub fn suite_render(file: &Path, opts: &ArgoOptions, once: bool) -> i32 {
    match faultline_nightly::Suite::read(file) {
        Ok(suite) => {
            let items = if once {
                vec![faultline_k8s::argo::workflow(&suite, opts)]
            } else {
                vec![workflow_template(&suite, opts), cron_workflow(&suite, opts)]
            };
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
