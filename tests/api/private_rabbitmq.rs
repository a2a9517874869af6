//! A RabbitMQ node of the test's own (Debian's rabbitmq-server, which scripts/test installs
//! when missing), on ports of its own with its own data directory and no plugins, that a test
//! can kill -9 and start again on the same data, as a crash and a restart would.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server itself: `/usr/sbin/rabbitmq-server` is a wrapper that switches to the
/// `rabbitmq` user and the system node's configuration.
const SERVER: &str = "/usr/lib/rabbitmq/bin/rabbitmq-server";

pub struct PrivateRabbitMq {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
}

impl PrivateRabbitMq {
    pub fn start() -> PrivateRabbitMq {
        let dir = crate::process::empty_dir();
        let port = crate::process::free_port();
        std::fs::write(dir.join("enabled_plugins"), "[].").unwrap();
        std::fs::write(
            dir.join("rabbitmq.conf"),
            format!("listeners.tcp.default = 127.0.0.1:{port}\n"),
        )
        .unwrap();
        std::fs::write(dir.join("rabbitmq-env.conf"), "").unwrap();
        let mut rabbit = PrivateRabbitMq {
            child: None,
            port,
            dir,
        };
        rabbit.start_again();
        rabbit
    }

    /// Starts the node (again) on its port and data, and waits until it accepts connections.
    pub fn start_again(&mut self) {
        let dir = &self.dir;
        let node = format!("hookgate{}@localhost", self.port);
        let child = Command::new(SERVER)
            .current_dir(dir)
            .env("HOME", dir)
            .env("RABBITMQ_NODENAME", node)
            .env("RABBITMQ_CONF_ENV_FILE", dir.join("rabbitmq-env.conf"))
            .env("RABBITMQ_CONFIG_FILE", dir.join("rabbitmq.conf"))
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", dir.join("enabled_plugins"))
            .env("RABBITMQ_MNESIA_BASE", dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", dir.join("log"))
            .env("RABBITMQ_PID_FILE", dir.join("pid"))
            .env("RABBITMQ_NODE_PORT", self.port.to_string())
            .env(
                "RABBITMQ_DIST_PORT",
                crate::process::free_port().to_string(),
            )
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            // Its own process group, so that a kill reaches the Erlang VM under the script.
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("rabbitmq-server (scripts/test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "rabbitmq-server did not listen on {} (logs in {})",
                self.port,
                self.dir.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the node with SIGKILL, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &group])
                .status();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }
}

impl crate::broker_load::Broker for PrivateRabbitMq {
    fn kill(&mut self) {
        PrivateRabbitMq::kill(self);
    }

    fn start_again(&mut self) {
        PrivateRabbitMq::start_again(self);
    }
}

impl Drop for PrivateRabbitMq {
    fn drop(&mut self) {
        self.kill();
    }
}
