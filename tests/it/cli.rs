//! The command line: keygen, start-up errors that say what to do next, and `open` on hostile
//! bundles.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn keygen_writes_a_private_identity_and_refuses_to_overwrite() {
    let dir = TempDir::new("keygen");
    let id = dir.path().join("id.txt");
    let recipient = keygen(&id);
    assert!(
        recipient.starts_with("age1") && recipient.len() == 62,
        "{recipient}"
    );
    let text = std::fs::read_to_string(&id).unwrap();
    assert!(text.contains("AGE-SECRET-KEY-1") && text.contains(&recipient));
    assert_eq!(
        std::fs::metadata(&id).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let again = run(&["keygen", "-o", id.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(stderr(&again).starts_with("error: "), "{}", stderr(&again));
    assert!(stderr(&again).contains("hint: "), "{}", stderr(&again));
    assert_eq!(
        std::fs::read_to_string(&id).unwrap(),
        text,
        "keygen overwrote an identity"
    );
}

fn serve_error(setup: &Setup) -> String {
    match Server::try_start(setup, &[]) {
        Ok(_) => panic!("the server started with a bad configuration"),
        Err(log) => log,
    }
}

#[test]
fn bad_recipients_files_are_refused_with_file_line_and_hint() {
    let cases = [
        (
            "age1yubikey1qwt50d05nh5vutpdzmlg5wn80xq5negm4uj9ghv0snvdd3yysf5yw3rhl3t\n",
            "recipients.txt:1:",
            "plugin",
        ),
        (
            "# team key\nage1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n\nnot a key\n",
            "recipients.txt:4:",
            "not an age recipient",
        ),
        ("", "holds no recipients", "add at least one recipient"),
        (
            "# only comments\n\n",
            "holds no recipients",
            "sealdrop keygen",
        ),
    ];
    for (content, place, words) in cases {
        let setup = Setup::new(1, "");
        std::fs::write(setup.dir.path().join("keys/recipients.txt"), content).unwrap();
        let log = serve_error(&setup);
        assert!(log.contains("error: ") && log.contains(place), "{log}");
        assert!(log.contains("hint: "), "{log}");
        assert!(log.contains(words), "{log}");
    }
}

#[test]
fn unknown_config_keys_are_refused_naming_the_key() {
    let setup = Setup::new(1, "[limits]\nmax_file_sise = 5\n");
    let log = serve_error(&setup);
    assert!(
        log.contains("max_file_sise") && log.contains("sealdrop.toml"),
        "{log}"
    );
    assert!(log.contains("hint: "), "{log}");
}

#[test]
fn admin_commands_without_a_server_say_how_to_start_one() {
    let setup = Setup::new(1, "");
    let o = setup.admin(&["list"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot reach the sealdrop server"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("hint: start the server"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn open_writes_hostile_names_only_inside_the_output_folder() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let names = [
        "../../escaped.txt",
        "/tmp/sealdrop-absolute.txt",
        "invoice\u{202E}fdp.exe",
        "..",
        "same.txt",
        "same.txt",
    ];
    let files = names
        .iter()
        .enumerate()
        .map(|(i, n)| file(n, bytes(100 + i, i as u64)))
        .collect();
    let resp = post_form(server.addr, &form(files), "");
    assert_eq!(resp.status, 201, "{}", resp.text());
    let bundle = setup.export(resp.json()["case"].as_str().unwrap());

    let root = setup.dir.path().join("deep/a/b");
    std::fs::create_dir_all(&root).unwrap();
    let out = root.join("out");
    let o = open(&bundle, &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!setup.dir.path().join("deep/escaped.txt").exists());
    assert!(!root.join("escaped.txt").exists());
    assert!(!Path::new("/tmp/sealdrop-absolute.txt").exists());
    let mut written: Vec<String> = std::fs::read_dir(out.join("files"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            "escaped.txt",
            "file-003",
            "invoicefdp.exe",
            "same (2).txt",
            "same.txt",
            "sealdrop-absolute.txt"
        ]
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["files"][0]["original_name"], "../../escaped.txt");
    let txt = std::fs::read_to_string(out.join("report.txt")).unwrap();
    assert!(
        !txt.contains('\u{202E}'),
        "a bidi override reached report.txt"
    );

    // open never overwrites: a second run into the same folder is refused.
    let again = open(&bundle, &[&setup.identities[0]], &out);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("not empty") && stderr(&again).contains("hint: "));
}

#[test]
fn open_with_the_wrong_identity_explains_which_keys_are_needed() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let resp = post_form(server.addr, &form(vec![file("a", bytes(10, 1))]), "");
    let bundle = setup.export(resp.json()["case"].as_str().unwrap());
    let other = setup.dir.path().join("other.txt");
    keygen(&other);
    let out = setup.dir.path().join("out");
    let o = open(&bundle, &[&other], &out);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot decrypt manifest.age"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("hint: "), "{}", stderr(&o));
}

#[test]
fn open_refuses_crafted_bundles_and_writes_nothing_outside() {
    let dir = TempDir::new("hostile");
    let id = dir.path().join("id.txt");
    keygen(&id);
    let crafted: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "traversal",
            tar_entry("../escaped.age", b'0', "", b"x"),
            "unexpected bundle entry",
        ),
        (
            "symlink",
            tar_entry("index.json", b'2', "/etc/passwd", b""),
            "not a regular file",
        ),
        (
            "garbage index",
            tar_entry("index.json", b'0', "", b"{\"format\": 1"),
            "not a sealdrop index",
        ),
        (
            "huge index",
            tar_entry("index.json", b'0', "", &vec![b' '; 2 << 20]),
            "implausibly large",
        ),
        (
            "not a tar",
            b"hello, I am not a tar file at all".repeat(40),
            "bundle",
        ),
    ];
    for (what, mut tar, expected) in crafted {
        tar.extend_from_slice(&[0u8; 1024]);
        let bundle = dir.path().join(format!("{}.tar", what.replace(' ', "-")));
        std::fs::write(&bundle, &tar).unwrap();
        let out = dir.path().join(format!("out-{}", what.replace(' ', "-")));
        let o = open(&bundle, &[&id], &out);
        assert!(
            !o.status.success(),
            "{what}: open accepted a crafted bundle"
        );
        assert!(
            stderr(&o).contains(expected) || what == "not a tar",
            "{what}: {}",
            stderr(&o)
        );
        assert!(stderr(&o).starts_with("error: "), "{what}: {}", stderr(&o));
        assert!(!dir.path().join("escaped.age").exists());
        assert_eq!(
            all_files(&out).len(),
            0,
            "{what}: files were left in the output folder"
        );
    }
}

#[test]
fn open_detects_a_truncated_or_altered_bundle() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let resp = post_form(
        server.addr,
        &form(vec![file("a", bytes(200_000, 1)), file("b", bytes(10, 2))]),
        "",
    );
    let bundle = setup.export(resp.json()["case"].as_str().unwrap());
    let good = std::fs::read(&bundle).unwrap();

    let truncated = setup.dir.path().join("truncated.tar");
    std::fs::write(&truncated, &good[..good.len() - 2048]).unwrap();
    let o = open(
        &truncated,
        &[&setup.identities[0]],
        &setup.dir.path().join("o1"),
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("truncated"), "{}", stderr(&o));
    assert_eq!(all_files(&setup.dir.path().join("o1")).len(), 0);

    let mut altered = good.clone();
    let at = altered.len() / 2;
    altered[at] ^= 0x55;
    let altered_path = setup.dir.path().join("altered.tar");
    std::fs::write(&altered_path, &altered).unwrap();
    let o = open(
        &altered_path,
        &[&setup.identities[0]],
        &setup.dir.path().join("o2"),
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("damaged") || stderr(&o).contains("verification failed"),
        "{}",
        stderr(&o)
    );
    assert_eq!(all_files(&setup.dir.path().join("o2")).len(), 0);
}

#[test]
fn a_failed_open_removes_the_folders_it_created_and_empties_one_that_existed() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let resp = post_form(
        server.addr,
        &form(vec![file("a", bytes(200_000, 1)), file("b", bytes(10, 2))]),
        "",
    );
    assert_eq!(resp.status, 201, "{}", resp.text());
    let bundle = setup.export(resp.json()["case"].as_str().unwrap());
    let good = std::fs::read(&bundle).unwrap();
    // Cut inside the second file: the first one is decrypted and written before the failure.
    let truncated = setup.dir.path().join("truncated.tar");
    std::fs::write(&truncated, &good[..good.len() - 2048]).unwrap();
    let stranger = setup.dir.path().join("stranger.txt");
    keygen(&stranger);

    let root = TempDir::new("open-cleanup");
    for (what, bundle, identity) in [
        ("wrong identity", &bundle, &stranger),
        ("truncated", &truncated, &setup.identities[0]),
    ] {
        // A new folder (and the parents open made for it) is removed.
        let parent = root.path().join(format!("new-{}", what.replace(' ', "-")));
        let o = open(bundle, &[identity], &parent.join("a/out"));
        assert!(!o.status.success(), "{what}: open succeeded");
        assert!(stderr(&o).contains("hint: "), "{what}: {}", stderr(&o));
        assert!(!parent.exists(), "{what}: open left {}", parent.display());

        // A folder that existed (empty) stays, and is empty again.
        let existing = root
            .path()
            .join(format!("existing-{}", what.replace(' ', "-")));
        std::fs::create_dir(&existing).unwrap();
        let o = open(bundle, &[identity], &existing);
        assert!(!o.status.success(), "{what}: open succeeded");
        assert!(
            existing.is_dir(),
            "{what}: open removed a folder it did not make"
        );
        let left: Vec<_> = std::fs::read_dir(&existing).unwrap().collect();
        assert!(left.is_empty(), "{what}: open left {left:?}");
    }
    // And the same folders work for the next try.
    let out = root.path().join("existing-truncated");
    assert!(
        open(&bundle, &[&setup.identities[0]], &out)
            .status
            .success()
    );
    assert!(std::fs::read(out.join("files/a")).unwrap() == bytes(200_000, 1));
}

/// Runs the binary with `args` under `umask 000`, where a file created without an explicit mode
/// is readable and writable by everyone.
fn under_umask_000(args: &[&str]) -> std::process::Output {
    std::process::Command::new("sh")
        .args(["-c", "umask 000 && exec \"$0\" \"$@\""])
        .arg(bin())
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn files_the_cli_writes_for_the_team_are_0600_even_under_umask_000() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let r = post_form(server.addr, &form(vec![file("a.txt", bytes(5000, 3))]), "");
    assert_eq!(r.status, 201, "{}", r.text());
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let dir = setup.dir.path();
    let config = setup.config.to_str().unwrap();
    let [export, backup, rekeyed, shared] =
        ["export.tar", "backup.tar", "rekeyed.tar", "shared.tar"]
            .map(|n| dir.join(n).to_str().unwrap().to_owned());
    let third = keygen(&dir.join("third.txt"));
    let id = setup.identities[0].to_str().unwrap();
    let runs: [&[&str]; 4] = [
        &["admin", "--config", config, "export", &case, "-o", &export],
        &["admin", "--config", config, "backup", "-o", &backup],
        &["rekey", &export, "-i", id, "-r", &third, "-o", &rekeyed],
        &["share", &export, "-i", id, "-r", &third, "-o", &shared],
    ];
    for args in runs {
        let o = under_umask_000(args);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    }
    for name in ["export.tar", "backup.tar", "rekeyed.tar", "shared.tar"] {
        let mode = std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777;
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
}

#[test]
fn the_demo_folder_and_its_secrets_are_private_to_their_owner() {
    let root = TempDir::new("demo-modes");
    let demo = root.path().join("demo");
    // Under the common umask 022 everything would be readable by others unless the demo asks
    // for private modes itself.
    let o = std::process::Command::new("sh")
        .args(["-c", "umask 022 && exec \"$0\" \"$@\""])
        .arg(bin())
        .args(["demo", "--dir", demo.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--setup-only"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&demo), 0o700, "the demo folder");
    assert_eq!(mode(&demo.join("keys")), 0o700, "keys/");
    for secret in ["identity.txt", "key.pem"] {
        assert_eq!(mode(&demo.join(secret)), 0o600, "{secret}");
    }
    let files = all_files(&demo);
    assert!(files.len() >= 5, "{files:?}");
    for f in &files {
        assert_eq!(mode(f) & 0o077, 0, "{} is open to others", f.display());
    }
}

#[test]
fn a_duration_without_its_unit_is_refused_with_a_hint_before_anything_is_sent() {
    // No server is needed: the command line refuses these before it connects.
    for args in [
        ["admin", "invite", "--expires", "7"],
        ["admin", "list", "--due-within", "48"],
        ["admin", "invite", "--expires", "2 fortnights"],
    ] {
        let o = run(&args);
        assert!(!o.status.success(), "{args:?} was accepted");
        let err = stderr(&o);
        assert!(err.starts_with("error: invalid value"), "{args:?}: {err}");
        assert!(err.contains("unit"), "{args:?}: {err}");
        assert!(
            err.contains("hint: write durations with a unit, e.g. 7d or 48h"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("cannot reach"), "{args:?}: {err}");
    }
}

#[test]
fn states_categories_decisions_and_formats_are_listed_and_a_typo_gets_a_suggestion() {
    let help = String::from_utf8(run(&["admin", "status", "--help"]).stdout).unwrap();
    for state in [
        "acknowledged",
        "assessed",
        "in-progress",
        "resolved",
        "rejected",
    ] {
        assert!(help.contains(&format!("- {state}:")), "{help}");
    }
    assert!(!help.contains("- received:"), "{help}");
    let typos = [
        (
            ["admin", "status", "2026-0001", "acknowleged"],
            "'acknowledged'",
        ),
        (
            ["admin", "list", "--category", "data_breach"],
            "'data-breach'",
        ),
        (
            ["admin", "list", "--status", "in_progress"],
            "'in-progress'",
        ),
        (["admin", "authority", "2026-0001", "notifed"], "'notified'"),
        (["admin", "register", "--format", "jsn"], "'json'"),
    ];
    for (args, suggestion) in typos {
        let o = run(&args);
        assert!(!o.status.success(), "{args:?} was accepted");
        let err = stderr(&o);
        assert!(err.contains("possible values"), "{args:?}: {err}");
        assert!(
            err.contains(&format!("a similar value exists: {suggestion}")),
            "{args:?}: {err}"
        );
    }
}

/// Every subcommand's path, as its man page names it: `sealdrop-admin-list`, ….
fn subcommand_pages(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("{prefix}-{}", sub.get_name());
        subcommand_pages(sub, &name, out);
        out.push(name);
    }
}

#[test]
fn the_man_pages_cover_every_subcommand_and_render_without_warnings() {
    use clap::CommandFactory;
    let dir = TempDir::new("man");
    let o = run(&["manpage", "-o", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut pages = Vec::new();
    subcommand_pages(&sealdrop::cli::Cli::command(), "sealdrop", &mut pages);
    let root = std::fs::read_to_string(dir.path().join("sealdrop.1")).unwrap();
    for top in sealdrop::cli::Cli::command().get_subcommands() {
        assert!(
            // roff escapes every hyphen, also those inside a name such as verify-receipt.
            root.contains(&format!(
                "sealdrop\\-{}(1)",
                top.get_name().replace('-', "\\-")
            )),
            "sealdrop.1 does not list {}",
            top.get_name()
        );
    }
    pages.push("sealdrop".into());
    let mut written: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut want: Vec<String> = pages.iter().map(|p| format!("{p}.1")).collect();
    want.sort();
    assert_eq!(written, want);
    // man(1) renders each page (groff's warnings on); without it, the pages are at least there.
    if std::process::Command::new("man")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("man is not installed: rendering not checked");
        return;
    }
    for page in &pages {
        let r = std::process::Command::new("man")
            .args(["--warnings", "-l"])
            .arg(dir.path().join(format!("{page}.1")))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&r.stdout);
        assert!(
            r.status.success() && r.stderr.is_empty(),
            "{page}: {}",
            stderr(&r)
        );
        assert!(
            text.contains("NAME") && text.contains(page.as_str()),
            "{page}: {text}"
        );
    }
}

#[test]
fn completions_are_written_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F _sealdrop"),
        ("zsh", "#compdef sealdrop"),
        ("fish", "complete -c sealdrop"),
    ] {
        let o = run(&["completions", shell]);
        assert!(o.status.success(), "{shell}: {}", stderr(&o));
        let script = String::from_utf8(o.stdout).unwrap();
        assert!(script.contains(marker), "{shell}: {script}");
        // The values clap knows are offered too.
        assert!(script.contains("in-progress"), "{shell}");
    }
    let o = run(&["completions", "tcsh"]);
    assert!(!o.status.success() && stderr(&o).contains("possible values"));
    // The bash script is valid bash.
    let script = run(&["completions", "bash"]).stdout;
    let dir = TempDir::new("completions");
    let file = dir.path().join("sealdrop.bash");
    std::fs::write(&file, script).unwrap();
    if let Ok(o) = std::process::Command::new("bash")
        .arg("-n")
        .arg(&file)
        .output()
    {
        assert!(o.status.success(), "{}", stderr(&o));
    }
}
