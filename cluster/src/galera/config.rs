//! my.cnf for one node of the local cluster.

use std::fmt::Write;
use std::net::Ipv4Addr;
use std::path::Path;

pub const MYSQL_PORT: u16 = 3306;
pub const GCOMM_PORT: u16 = 4567;
pub const IST_PORT: u16 = 4568;
pub const SST_PORT: u16 = 4444;

/// Everything that differs between nodes.
pub struct NodeConfig<'a> {
    pub name: &'a str,
    pub dir: &'a Path,
    pub address: Ipv4Addr,
    /// The gcomm addresses of every node, or `None` for a plain MariaDB server.
    pub peers: Option<&'a [Ipv4Addr]>,
    pub cluster_name: &'a str,
    pub server_options: &'a [(String, String)],
    /// The data dir is a FUSE passthrough (disk faults).
    pub data_on_fuse: bool,
}

impl NodeConfig<'_> {
    pub fn render(&self) -> String {
        let d = self.dir.display();
        let a = self.address;
        let mut s = String::new();
        let _ = writeln!(s, "# written by faultline for node {}", self.name);
        let _ = writeln!(s, "[mysqld]");
        let lines = [
            "user=mysql".to_string(),
            format!("datadir={d}/data"),
            format!("socket={d}/mysqld.sock"),
            format!("pid-file={d}/mysqld.pid"),
            format!("log-error={d}/error.log"),
            // Private temp dir: parallel bootstraps in a shared /tmp trip over each other's
            // `#sql-temptable-*` files (seen: "Can't find file ... .MAI", install aborts).
            format!("tmpdir={d}/tmp"),
            format!("port={MYSQL_PORT}"),
            format!("bind-address={a}"),
            "skip-name-resolve".into(),
            "performance_schema=OFF".into(),
            "max_connections=200".into(),
            "innodb_buffer_pool_size=64M".into(),
            "innodb_log_file_size=32M".into(),
            "key_buffer_size=1M".into(),
            "binlog_format=ROW".into(),
            "default_storage_engine=InnoDB".into(),
            "innodb_autoinc_lock_mode=2".into(),
            // Bounded server-side waits: a client timeout does not stop server work.
            "innodb_lock_wait_timeout=5".into(),
        ];
        for l in lines {
            let _ = writeln!(s, "{l}");
        }
        if self.data_on_fuse {
            // FUSE serves neither O_DIRECT (InnoDB's default flush method) nor native AIO
            // the way a block device does: plain buffered writes and fsync instead.
            let _ = writeln!(s, "innodb_flush_method=fsync");
            let _ = writeln!(s, "innodb_use_native_aio=0");
        }
        if let Some(peers) = self.peers {
            let cluster: Vec<String> = peers.iter().map(|p| format!("{p}:{GCOMM_PORT}")).collect();
            let galera = [
                "wsrep_on=ON".to_string(),
                format!("wsrep_provider={}", crate::preflight::GALERA_PROVIDER),
                format!("wsrep_cluster_name={}", self.cluster_name),
                format!("wsrep_cluster_address=gcomm://{}", cluster.join(",")),
                format!("wsrep_node_name={}", self.name),
                format!("wsrep_node_address={a}:{GCOMM_PORT}"),
                format!("wsrep_node_incoming_address={a}:{MYSQL_PORT}"),
                // Faster failure detection than the defaults (PT5S/PT15S), so faults show
                // their effect within a short run; it changes timing, not semantics.
                format!(
                    "wsrep_provider_options=\"gmcast.listen_addr=tcp://{a}:{GCOMM_PORT};ist.recv_addr={a}:{IST_PORT};gcache.size=64M;gcs.fc_limit=64;evs.suspect_timeout=PT2S;evs.inactive_timeout=PT4S;evs.keepalive_period=PT0.5S;evs.inactive_check_period=PT0.5S\""
                ),
                "wsrep_sst_method=rsync".into(),
                format!("wsrep_sst_receive_address={a}:{SST_PORT}"),
                "wsrep_slave_threads=2".into(),
            ];
            for l in galera {
                let _ = writeln!(s, "{l}");
            }
        }
        for (name, value) in self.server_options {
            let _ = writeln!(s, "{name}={value}");
        }
        let _ = writeln!(
            s,
            "[client]\nuser=root\nsocket={d}/mysqld.sock\nprotocol=socket"
        );
        s
    }
}
