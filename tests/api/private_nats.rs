//! A nats-server with JetStream of the test's own (scripts/test installs the binary when
//! missing), storing on disk, that a test can kill and start again on the same port and store.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct PrivateNats {
    child: Option<Child>,
    port: u16,
    store: PathBuf,
}

impl PrivateNats {
    pub fn start() -> PrivateNats {
        let port = crate::process::free_port();
        let mut nats = PrivateNats {
            child: None,
            port,
            store: crate::process::empty_dir(),
        };
        nats.start_again();
        nats
    }

    /// Starts it (again) on its port and store, and waits until it listens.
    pub fn start_again(&mut self) {
        let child = Command::new("nats-server")
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (scripts/test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl crate::broker_load::Broker for PrivateNats {
    fn kill(&mut self) {
        PrivateNats::kill(self);
    }

    fn start_again(&mut self) {
        PrivateNats::start_again(self);
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.kill();
    }
}
