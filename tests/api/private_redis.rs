//! A redis-server of the test's own (scripts/test installs the binary when missing), plain or
//! TLS-only, that a test can stop and start again on the same port.

use crate::certs::TestCa;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PrivateRedis {
    child: Option<Child>,
    port: u16,
    /// The TLS arguments when it listens only over TLS.
    tls_args: Vec<String>,
    /// Where a durable one keeps its append-only file across restarts.
    data_dir: Option<std::path::PathBuf>,
}

impl PrivateRedis {
    /// A plain redis-server on a free port.
    pub fn start() -> PrivateRedis {
        PrivateRedis::start_with(Vec::new(), None)
    }

    /// A redis-server that writes every command to its append-only file and fsyncs it before
    /// answering, so that what it acknowledged survives a kill and a restart.
    pub fn start_durable() -> PrivateRedis {
        PrivateRedis::start_with(Vec::new(), Some(crate::process::empty_dir()))
    }

    /// A redis-server that listens only over TLS, with a certificate of `ca`.
    pub fn start_tls(ca: &TestCa) -> PrivateRedis {
        let cert = ca.server("redis", &["127.0.0.1"]);
        let path = |p: &std::path::Path| p.to_string_lossy().into_owned();
        PrivateRedis::start_with(
            vec![
                "--tls-auth-clients".into(),
                "no".into(),
                "--tls-cert-file".into(),
                path(&cert.cert_file),
                "--tls-key-file".into(),
                path(&cert.key_file),
                "--tls-ca-cert-file".into(),
                path(&ca.ca_file),
            ],
            None,
        )
    }

    fn start_with(tls_args: Vec<String>, data_dir: Option<std::path::PathBuf>) -> PrivateRedis {
        let port = crate::process::free_port();
        let mut redis = PrivateRedis {
            child: None,
            port,
            tls_args,
            data_dir,
        };
        redis.start_again();
        redis
    }

    /// Starts it (again) on its port and waits until it listens.
    pub fn start_again(&mut self) {
        let port = self.port.to_string();
        let listen = if self.tls_args.is_empty() {
            vec!["--port", &port]
        } else {
            vec!["--port", "0", "--tls-port", &port]
        };
        let persistence: Vec<String> = match &self.data_dir {
            None => vec!["--appendonly".into(), "no".into()],
            Some(dir) => vec![
                "--appendonly".into(),
                "yes".into(),
                "--appendfsync".into(),
                "always".into(),
                "--dir".into(),
                dir.to_string_lossy().into_owned(),
            ],
        };
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", ""])
            .args(&persistence)
            .args(listen)
            .args(&self.tls_args)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it, as a crash or an outage would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        let scheme = if self.tls_args.is_empty() {
            "redis"
        } else {
            "rediss"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }
}

impl crate::broker_load::Broker for PrivateRedis {
    fn kill(&mut self) {
        self.stop();
    }

    fn start_again(&mut self) {
        PrivateRedis::start_again(self);
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
