//! hookgate as a real child process: for signals and `kill -9` drills.

use std::io::{BufRead, BufReader, Lines};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The `hookgate` binary with the environment overrides and egress proxies cleared.
pub fn hookgate() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hookgate"));
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    for name in [
        "DATABASE_URL",
        "REDIS_URL",
        "HOOKGATE_ADMIN_TOKEN",
        "HOOKGATE_CONFIG",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ] {
        command.env_remove(name);
    }
    command
}

/// Writes `text` to a fresh temporary file.
pub fn temp_file(text: &str) -> PathBuf {
    let path =
        std::env::temp_dir().join(format!("hookgate-{}.toml", uuid::Uuid::now_v7().simple()));
    std::fs::write(&path, text).unwrap();
    path
}

/// A port nothing listens on now, for a server the test starts.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A fresh empty directory, to run hookgate outside the repository (no `providers/` there).
pub fn empty_dir() -> PathBuf {
    let path = std::env::temp_dir().join(format!("hookgate-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir(&path).unwrap();
    path
}

/// A running `hookgate serve`.
pub struct ServeProcess {
    child: Child,
    /// Its standard error; `None` once the test stopped reading it (and closed the pipe).
    logs: Option<Lines<BufReader<ChildStderr>>>,
    /// The thread reading standard error, after [`ServeProcess::read_logs_in_background`].
    log_reader: Option<std::thread::JoinHandle<Vec<String>>>,
    startup_logs: Vec<String>,
    config: PathBuf,
    /// Base URL of the ingest listener (empty for a worker).
    pub ingest: String,
    /// Base URL of the admin listener.
    pub admin: String,
}

impl ServeProcess {
    /// Starts `hookgate serve` with this config and waits until it listens.
    pub fn start(config_text: &str) -> ServeProcess {
        ServeProcess::start_logging(config_text, "info")
    }

    /// Starts it with `RUST_LOG=log_filter`.
    pub fn start_logging(config_text: &str, log_filter: &str) -> ServeProcess {
        let mut command = hookgate();
        command.env("RUST_LOG", log_filter);
        ServeProcess::start_with(command, config_text)
    }

    /// Starts it with the environment variables `vars` set.
    pub fn start_with_env(config_text: &str, vars: &[(&str, &str)]) -> ServeProcess {
        let mut command = hookgate();
        command.env("RUST_LOG", "info").envs(vars.iter().copied());
        ServeProcess::start_with(command, config_text)
    }

    /// Starts `hookgate serve --role ROLE` (`ingest` or `worker`); a worker has no ingest URL.
    pub fn start_role(config_text: &str, role: &str) -> ServeProcess {
        let mut command = hookgate();
        command.env("RUST_LOG", "info");
        ServeProcess::start_with_args(command, config_text, &["--role", role])
    }

    /// Starts it in the working directory `dir`.
    pub fn start_in(dir: &Path, config_text: &str) -> ServeProcess {
        let mut command = hookgate();
        command.current_dir(dir).env("RUST_LOG", "info");
        ServeProcess::start_with(command, config_text)
    }

    fn start_with(command: Command, config_text: &str) -> ServeProcess {
        ServeProcess::start_with_args(command, config_text, &[])
    }

    fn start_with_args(mut command: Command, config_text: &str, args: &[&str]) -> ServeProcess {
        let config = temp_file(config_text);
        let mut child = command
            .args(["serve", "--config"])
            .arg(&config)
            .args(args)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut logs = BufReader::new(child.stderr.take().unwrap()).lines();
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut startup_logs = Vec::new();
        let started = loop {
            let line = logs.next().expect("hookgate logs until started").unwrap();
            startup_logs.push(line.clone());
            if line.contains("hookgate started") {
                break line;
            }
            assert!(Instant::now() < deadline, "hookgate did not start");
        };
        let ingest = if started.contains("ingest_addr=None") {
            String::new()
        } else {
            let address = started
                .split("ingest_addr=Some(")
                .nth(1)
                .and_then(|rest| rest.split(')').next())
                .unwrap_or_else(|| panic!("no ingest address in {started:?}"));
            format!("http://{address}")
        };
        let admin = started
            .split("admin_addr=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no admin address in {started:?}"));
        ServeProcess {
            admin: format!("http://{admin}"),
            child,
            logs: Some(logs),
            log_reader: None,
            startup_logs,
            config,
            ingest,
        }
    }

    /// Sends a signal (`TERM`, `KILL`, ...).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// The most memory the process has held at once (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmHWM in {status}"))
    }

    /// Waits for the process to exit.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "no exit within {within:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Everything logged after startup (call after exit).
    pub fn remaining_logs(&mut self) -> Vec<String> {
        if let Some(reader) = self.log_reader.take() {
            return reader.join().expect("log reader");
        }
        let logs = self.logs.as_mut().expect("logs are still read");
        logs.map_while(Result::ok).collect()
    }

    /// Reads its standard error on a thread from now on, so that a verbose log level cannot
    /// fill the pipe and stall the process; [`ServeProcess::all_logs`] still has every line.
    pub fn read_logs_in_background(&mut self) {
        let logs = self.logs.take().expect("logs are still read");
        self.log_reader = Some(std::thread::spawn(move || {
            logs.map_while(Result::ok).collect()
        }));
    }

    /// Closes the read end of its standard error, as when the reader of `hookgate serve | tee`
    /// dies: every later log write fails.
    pub fn stop_reading_logs(&mut self) {
        self.logs = None;
    }

    /// Everything logged, from the start (call after exit).
    pub fn all_logs(&mut self) -> Vec<String> {
        let mut logs = self.startup_logs.clone();
        logs.extend(self.remaining_logs());
        logs
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}
