//! The command line's output and errors, pinned by snapshots in `tests/cmd/*.md` (trycmd): every
//! `admin`, `keys`, `open`, `rekey` and `restore` command, and each refusal with its hint.
//!
//! The team session runs against a real server whose clock starts at a fixed instant, with fixed
//! test identities, so case numbers, dates, deadlines and key ids are the same on every run;
//! only seconds, random ids, hashes and free space are `[..]` in the snapshots. Update them with
//! `TRYCMD=overwrite cargo test --features fault-points --test snapshots` and put the wildcards
//! back by hand.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::path::Path;

/// Snapshot cases run by the real binary, with `SEALDROP_CONFIG` pointing at `config`.
fn cases(config: Option<&Path>) -> trycmd::TestCases {
    let t = trycmd::TestCases::new();
    t.register_bin("sealdrop", Path::new(bin()));
    t.env("NO_COLOR", "1");
    match config {
        Some(c) => t.env("SEALDROP_CONFIG", c.to_str().unwrap()),
        None => t.env("SEALDROP_CONFIG", "/nonexistent/sealdrop.toml"),
    };
    t
}

#[test]
fn commands_that_need_no_server_print_what_they_did_and_refuse_with_hints() {
    cases(None).case("tests/cmd/offline.md");
}

/// The team session sets the server's clock, which only builds with `fault-points` allow.
#[cfg(feature = "fault-points")]
mod team {
    use super::*;

    /// Reads the recipient (`# public key: age1…`) of a test identity in `tests/cmd/`.
    fn recipient_of(identity: &str) -> String {
        let text = std::fs::read_to_string(repo("tests/cmd").join(identity)).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("# public key: "))
            .unwrap()
            .to_owned()
    }

    /// The instant the snapshot server's clock starts at: a Tuesday, 10:00 in Amsterdam.
    const PINNED: &str = "2030-06-04T08:00:00Z";

    /// `SEALDROPTEST_CLOCK_SHIFT` that makes the server's clock read [`PINNED`] now.
    fn shift_to_pinned() -> String {
        let pinned: jiff::Timestamp = PINNED.parse().unwrap();
        let secs = pinned.as_second() - jiff::Timestamp::now().as_second();
        if secs < 0 {
            format!("-{}s", -secs)
        } else {
            format!("{secs}s")
        }
    }

    #[test]
    fn the_team_commands_print_what_they_did_and_refuse_with_hints() {
        let setup = Setup::new(0, "");
        std::fs::write(
            setup.dir.path().join("keys/recipients.txt"),
            format!(
                "# team laptop\n{}\n",
                recipient_of("team.in/team-identity.txt")
            ),
        )
        .unwrap();
        let server = Server::start(&setup, &[("SEALDROPTEST_CLOCK_SHIFT", &shift_to_pinned())]);
        let submit = |parts: Vec<Part>| {
            let r = post_form(server.addr, &parts, "");
            assert_eq!(r.status, 201, "{}", r.text());
        };
        submit(vec![
            text("category", "vulnerability"),
            text("message", "SQL injection in the search form"),
            text("contact", "reporter@example.org"),
            file("finding.txt", b"q=' OR 1=1 --\n".to_vec()),
        ]);
        submit(vec![
            text("category", "data-breach"),
            text("message", "a mail went to the wrong list"),
            text("contact", "reporter@example.org"),
        ]);
        submit(vec![
            text("category", "incident"),
            text("message", "the portal was slow"),
        ]);
        cases(Some(&setup.config)).case("tests/cmd/team.md");
    }
}
