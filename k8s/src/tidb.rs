//! `--db k8s-tidb://[USER[:PASSWORD]@]NAMESPACE?cluster=NAME`: a TidbCluster run by TiDB
//! Operator, TiPocket's own setting. Its nodes are the cluster's pods (PD, TiKV, TiDB: the
//! operator's label `app.kubernetes.io/instance=NAME`), its clients speak MySQL to the
//! `NAME-tidb` Service (port 4000, user `root`, database `test` unless the URL says), and
//! `kill_pd_leader` asks PD which member leads (`GET /pd/api/v1/leader` on the `NAME-pd`
//! Service's port 2379, through the API server's service proxy: no port-forward needed);
//! the operator names PD members after their pods. Every other parameter of `k8s://`
//! (address, volume_path, run_id, timeout) works here too.

use crate::client::KubeApi;
use crate::recipe::{K8sDb, K8sUrl};
use async_trait::async_trait;
use faultline_core::db::{Capability, DbError, DbResult, Leader, NodeId};
use faultline_harness::{BadArgs, Plan, Recipe, Sut, SystemArgs};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The k8s:// URL a k8s-tidb:// URL stands for, and the cluster's name.
pub fn expand(raw: &str) -> Result<(K8sUrl, String), BadArgs> {
    let masked = faultline_core::mask_url_passwords(raw);
    let url = url::Url::parse(raw).map_err(|e| BadArgs(format!("--db {masked}: {e}")))?;
    let mut cluster = None;
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    let mut has = BTreeSet::new();
    for (k, v) in url.query_pairs() {
        if k == "cluster" {
            cluster = Some(v.into_owned());
        } else {
            has.insert(k.to_string());
            pairs.append_pair(&k, &v);
        }
    }
    let cluster = cluster.filter(|c| !c.is_empty()).ok_or_else(|| {
        BadArgs(format!(
            "--db {masked}: name the TidbCluster: k8s-tidb://NAMESPACE?cluster=NAME"
        ))
    })?;
    if has.contains("selector") || has.contains("service") {
        return Err(BadArgs(
            "k8s-tidb:// finds the pods and the Service from cluster=NAME: drop selector / service (or use k8s://)".into(),
        ));
    }
    pairs.append_pair("selector", &format!("app.kubernetes.io/instance={cluster}"));
    pairs.append_pair("service", &format!("{cluster}-tidb:4000"));
    let user = match url.username() {
        "" => "root".to_string(),
        u => match url.password() {
            Some(p) => format!("{u}:{p}"),
            None => u.to_string(),
        },
    };
    let host = url.host_str().unwrap_or("");
    let k8s = format!("k8s://{user}@{host}?{}", pairs.finish());
    let mut parsed = K8sUrl::parse(&k8s)?;
    parsed.raw = raw.to_string();
    Ok((parsed, cluster))
}

/// PD's own answer to "who leads": its HTTP API through the `NAME-pd` Service.
pub struct PdLeader {
    pub api: Arc<KubeApi>,
    pub namespace: String,
    pub cluster: String,
}

#[async_trait]
impl Leader for PdLeader {
    async fn leader(&self, role: &str) -> DbResult<NodeId> {
        if role != "pd" {
            return Err(DbError::new(format!(
                "a TidbCluster has no {role} leader to ask"
            )));
        }
        let service = format!("{}-pd", self.cluster);
        let text = self
            .api
            .service_get(&self.namespace, &service, 2379, "pd/api/v1/leader")
            .await
            .map_err(|e| DbError::new(e.to_string()))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| DbError::new(format!("PD's leader answer {text:?}: {e}")))?;
        v["name"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| DbError::new(format!("PD names no leader: {text}")))
    }
}

pub struct TidbK8sRecipe;

impl Recipe for TidbK8sRecipe {
    fn name(&self) -> &'static str {
        "k8s-tidb://"
    }
    fn about(&self) -> &'static str {
        "a TidbCluster on Kubernetes: k8s-tidb://[user:pass@]NAMESPACE?cluster=NAME (faults: Chaos Mesh; kill_pd_leader asks PD)"
    }
    fn accepts(&self, db: &str) -> bool {
        db.starts_with("k8s-tidb://")
    }
    fn plan(&self, args: &SystemArgs, _m: &clap::ArgMatches) -> Result<Box<dyn Plan>, BadArgs> {
        let (url, cluster) = expand(&args.db)?;
        Ok(Box::new(TidbK8sPlan {
            url,
            cluster,
            nodes: args.nodes,
        }))
    }
}

pub struct TidbK8sPlan {
    pub url: K8sUrl,
    pub cluster: String,
    pub nodes: usize,
}

/// The TidbCluster's system under test: the pods, Chaos Mesh, and PD for its leader.
pub async fn connect(api: Arc<KubeApi>, url: &K8sUrl, cluster: &str) -> anyhow::Result<K8sDb> {
    let leader = PdLeader {
        api: api.clone(),
        namespace: url.namespace.clone(),
        cluster: cluster.to_string(),
    };
    K8sDb::connect(api, url, Some(Box::new(leader))).await
}

#[async_trait]
impl Plan for TidbK8sPlan {
    fn nodes(&self) -> usize {
        self.nodes
    }
    fn options(&self) -> Value {
        json!({ "url": self.url.masked(), "cluster": self.cluster })
    }
    async fn start(&self, _needs: &BTreeSet<Capability>) -> anyhow::Result<Sut> {
        let api = Arc::new(KubeApi::from_env().await?);
        let db = connect(api, &self.url, &self.cluster).await?;
        let endpoints = db.endpoints.clone();
        Ok(Sut::new(Arc::new(db), endpoints))
    }
}
