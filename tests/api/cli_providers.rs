//! The binary outside the repository: built-in providers for `sign`, `providers`, `serve` and
//! `check-config`; `sign --send`; secret and unset-variable checks of `check-config`.

use crate::helpers::*;
use crate::process::{ServeProcess, empty_dir, hookgate, temp_file};
use std::path::Path;

/// Runs hookgate in `dir`: whether it succeeded, its standard output and standard error.
fn run_in(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let output = hookgate().current_dir(dir).args(args).output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The test config with no `providers_dir`: only the built-in providers.
fn config_without_providers_dir(database_url: &str) -> String {
    let line = format!("providers_dir = \"{}\"\n", providers_dir().display());
    let text = default_config_text(database_url);
    assert!(text.contains(&line), "the test config sets providers_dir");
    text.replace(&line, "")
}

#[test]
fn sign_and_providers_work_without_a_providers_directory() {
    let dir = empty_dir();
    let (ok, stdout, stderr) = run_in(
        &dir,
        &["sign", "--provider", "stripe", "--secret", secrets::STRIPE],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("Stripe-Signature: t="), "{stdout}");
    assert!(stdout.contains("curl -i -X POST"), "{stdout}");

    let args = ["sign", "--provider", "stripe", "--secret", "s"];
    let (ok, stdout, stderr) = run_in(&dir, &[&args[..], &["--timestamp", "1700000000"]].concat());
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("Stripe-Signature: t=1700000000,v1="),
        "{stdout}"
    );

    let (ok, _, stderr) = run_in(&dir, &["sign", "--provider", "strip", "--secret", "s"]);
    assert!(!ok);
    assert!(
        stderr.contains(r#"unknown provider "strip"; did you mean "stripe"?"#),
        "{stderr}"
    );

    let (ok, stdout, stderr) = run_in(&dir, &["providers"]);
    assert!(ok, "{stderr}");
    let stripe = stdout.lines().find(|line| line.starts_with("stripe "));
    let stripe = stripe.unwrap_or_else(|| panic!("no stripe in {stdout}"));
    assert!(
        stripe.contains(" hmac ") && stripe.ends_with(" built-in"),
        "{stdout}"
    );

    let (ok, stdout, stderr) = run_in(&dir, &["providers", "show", "stripe"]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout, include_str!("../../providers/stripe.toml"));
    let (ok, _, stderr) = run_in(&dir, &["providers", "show", "no-such-provider-at-all"]);
    assert!(!ok);
    assert!(stderr.contains("(known: alchemy, basic-auth, "), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_providers_directory_adds_and_overrides_built_ins() {
    let dir = empty_dir();
    let github = include_str!("../../providers/github.toml");
    std::fs::write(dir.join("stripe.toml"), github).unwrap();
    std::fs::write(dir.join("acme.toml"), github).unwrap();
    let dir_arg = dir.to_string_lossy().into_owned();
    let (ok, stdout, stderr) = run_in(&dir, &["providers", "--providers-dir", &dir_arg]);
    assert!(ok, "{stderr}");
    let line = |name: &str| {
        let prefix = format!("{name} ");
        stdout
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap()
            .to_string()
    };
    assert!(line("acme").ends_with("acme.toml"), "{stdout}");
    assert!(
        line("stripe").ends_with("stripe.toml (overrides the built-in)"),
        "{stdout}"
    );
    let args = ["sign", "--provider", "stripe", "--secret", "s"];
    let (ok, stdout, stderr) = run_in(&dir, &[&args[..], &["--providers-dir", &dir_arg]].concat());
    assert!(ok, "{stderr}");
    assert!(stdout.contains("X-Hub-Signature-256: sha256="), "{stdout}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_check_config_and_sign_send_work_outside_the_repository() {
    let dir = empty_dir();
    let database = create_database(&server_url()).await;
    let text = config_without_providers_dir(&database);
    let config = temp_file(&text);
    let (ok, stdout, stderr) = run_in(
        &dir,
        &["check-config", "--config", config.to_str().unwrap()],
    );
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("ok (9 sources, 2 destinations)"),
        "{stdout}"
    );

    let process = ServeProcess::start_in(&dir, &text);
    let url = format!("{}/webhooks/stripe", process.ingest);
    let sign = ["sign", "--provider", "stripe", "--secret"];
    let (ok, stdout, stderr) = run_in(
        &dir,
        &[&sign[..], &[secrets::STRIPE, "--send", &url]].concat(),
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains("\n202 Accepted\n"), "{stdout}");
    assert!(!stdout.contains("curl"), "{stdout}");

    let (ok, stdout, stderr) = run_in(
        &dir,
        &[&sign[..], &["whsec_wrong", "--url", &url, "--send"]].concat(),
    );
    assert!(!ok, "a rejected webhook fails the command");
    assert!(stdout.contains("\n401 Unauthorized\n"), "{stdout}");
    assert!(stdout.contains("signature_mismatch"), "{stdout}");
    assert!(stderr.contains("answered 401 Unauthorized"), "{stderr}");
    drop(process);
    let _ = std::fs::remove_file(config);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn check_config_warns_about_an_api_key_where_the_signing_secret_belongs() {
    let api_key = "sk_test_4eC39HqLyjWDarjtT1zdp7dc";
    let text =
        default_config_text("postgres://x@127.0.0.1/db").replacen(secrets::STRIPE, api_key, 1);
    let config = temp_file(&text);
    let (ok, stdout, stderr) = run_in(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["check-config", "--config", config.to_str().unwrap()],
    );
    let _ = std::fs::remove_file(config);
    assert!(ok, "a warning does not fail the check: {stderr}");
    assert!(stdout.contains(": ok ("), "{stdout}");
    assert!(
        stderr.contains(
            r#"warning: "#
        ) && stderr.contains(
            r#"sources[0] ("stripe").secrets[0]: starts with sk_: this looks like a Stripe secret API key, not the webhook signing secret (which starts with whsec_)"#
        ),
        "{stderr}"
    );
    assert!(
        !stderr.contains(api_key) && !stderr.contains("4eC39"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("warning:").count(), 1, "{stderr}");
}

#[test]
fn check_config_names_unset_variables_and_can_validate_without_them() {
    let dir = empty_dir();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("hookgate.example.toml");
    let example = example.to_str().unwrap();
    let (ok, _, stderr) = run_in(&dir, &["check-config", "--config", example]);
    assert!(!ok);
    assert!(
        stderr.contains("environment variable DATABASE_URL is not set (used by database.url)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("line"),
        "not reported as a parse error: {stderr}"
    );

    let (ok, stdout, stderr) = run_in(
        &dir,
        &["check-config", "--allow-unset-env", "--config", example],
    );
    assert!(ok, "{stderr}");
    assert!(stdout.contains(": ok ("), "{stdout}");
    assert!(
        stderr.contains("note: ")
            && stderr
                .contains("environment variable DATABASE_URL is not set (used by database.url)"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn each_cause_is_printed_once() {
    let (ok, _, stderr) = run_in(
        Path::new("/"),
        &["check-config", "--config", "/nonexistent/hookgate.toml"],
    );
    assert!(!ok);
    assert!(
        stderr.contains("cannot read config file /nonexistent/hookgate.toml"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );

    let text = default_config_text("postgres://x@127.0.0.1/db").replace(
        &providers_dir().display().to_string(),
        "/nonexistent/providers",
    );
    let config = temp_file(&text);
    let (ok, _, stderr) = run_in(
        Path::new("/"),
        &["check-config", "--config", config.to_str().unwrap()],
    );
    let _ = std::fs::remove_file(config);
    assert!(!ok);
    assert!(stderr.contains("/nonexistent/providers"), "{stderr}");
    assert!(stderr.contains("only the built-in providers"), "{stderr}");
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
}
