//! A throwaway PostgreSQL cluster of the test's own, so a test can crash and restart it
//! without disturbing the shared server other tests use.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// Extra `-c name=value` server settings.
    settings: String,
}

fn server_binaries() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql (scripts/test installs them)")
        .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL version with pg_ctl")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// Runs a PostgreSQL tool, as the `postgres` user when we are root (initdb refuses root).
fn run(bin: &Path, tool: &str, args: &[&str]) {
    let program = bin.join(tool);
    let status = if is_root() {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&program)
            .args(args)
            .stdout(Stdio::null())
            .status()
    } else {
        Command::new(&program)
            .args(args)
            .stdout(Stdio::null())
            .status()
    }
    .unwrap_or_else(|err| panic!("cannot run {tool}: {err}"));
    assert!(status.success(), "{tool} {args:?} failed: {status}");
}

impl PrivatePostgres {
    /// Creates and starts a cluster in a fresh directory on a free port.
    pub fn start() -> PrivatePostgres {
        let pg = PrivatePostgres::init();
        pg.start_again();
        pg
    }

    /// A cluster that accepts TCP connections only over TLS (`hostssl` in pg_hba.conf),
    /// serving `cert_pem` with `key_pem`.
    pub fn start_tls_only(cert_pem: &str, key_pem: &str) -> PrivatePostgres {
        let mut pg = PrivatePostgres::init();
        pg.write_owned("server.crt", cert_pem, 0o644);
        pg.write_owned("server.key", key_pem, 0o600);
        pg.write_owned(
            "pg_hba.conf",
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
            0o600,
        );
        pg.settings = "-c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key".into();
        pg.start_again();
        pg
    }

    /// Writes a file into the data directory, owned by the server's user as it requires of
    /// its key.
    fn write_owned(&self, name: &str, contents: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.data.join(name);
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&path)
                .status()
                .unwrap();
            assert!(ok.success());
        }
    }

    /// An initialised, stopped cluster.
    fn init() -> PrivatePostgres {
        let bin = server_binaries();
        let data =
            std::env::temp_dir().join(format!("hookgate-pg-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&data).unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&data)
                .status()
                .unwrap();
            assert!(ok.success());
        }
        let data_arg = data.to_str().unwrap();
        run(
            &bin,
            "initdb",
            &[
                "-D",
                data_arg,
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        PrivatePostgres {
            bin,
            data,
            port: crate::process::free_port(),
            settings: String::new(),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Kills the server the way a crash would (`-m immediate`: no checkpoint).
    pub fn crash(&self) {
        run(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    /// Starts the (stopped) server again; it recovers from its WAL.
    pub fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 {}",
            self.port,
            self.data.display(),
            self.settings
        );
        let log = self.data.join("server.log");
        run(
            &self.bin,
            "pg_ctl",
            &[
                "-D",
                self.data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.data.to_str().unwrap().to_owned();
        let program = self.bin.join("pg_ctl");
        let args = ["-D", data.as_str(), "-m", "immediate", "stop"];
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&program)
                .args(args)
                .output()
        } else {
            Command::new(&program).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.data);
    }
}
