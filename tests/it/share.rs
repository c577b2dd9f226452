//! Sharing a case with a third party (the IBD) offline: `sealdrop share` writes a bundle that
//! opens with the third party's identity and not with the team's, holds no contact details or
//! credit name (scanned after decrypting), keeps the files byte-identical, and decrypts with
//! the stock `age` CLI; `admin shared` records it in the history, `admin show` and the register.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::path::Path;

const CONTACT: &str = "Jane Reporter, jane.reporter@example.net, +31 6 1234 5678";

fn share(bundle: &Path, identity: &Path, recipient: &str, out: &Path, extra: &[&str]) -> String {
    reseal("share", bundle, identity, recipient, out, extra)
}

/// Every byte `open` wrote, and the stock age decryption of every `.age` in the share.
fn everything_readable(opened: &Path, share: &Path, identity: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for f in all_files(opened) {
        all.extend(std::fs::read(f).unwrap());
    }
    let tmp = opened.with_extension("entries");
    std::fs::create_dir_all(&tmp).unwrap();
    for (name, data) in tar_entries(&std::fs::read(share).unwrap()) {
        all.extend(&data);
        if name.ends_with(".age") {
            let path = tmp.join(&name);
            std::fs::write(&path, &data).unwrap();
            all.extend(age_decrypt(identity, &path));
        }
    }
    all
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn a_share_opens_for_the_third_party_only_without_contact_details_and_byte_identical() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let (a, b) = (bytes(70_000, 1), bytes(1234, 2));
    let parts = vec![
        text("category", "data-breach"),
        text(
            "message",
            "The export on the open share holds citizen records.",
        ),
        text("contact", CONTACT),
        text("credit", "Handle McCreditface"),
        file("records.csv", a.clone()),
        file("screenshot.png", b.clone()),
    ];
    let resp = post_form(server.addr, &parts, "");
    assert_eq!(resp.status, 201, "{}", resp.text());
    let case = resp.json()["case"].as_str().unwrap().to_owned();
    let bundle = setup.export(&case);
    let dir = setup.dir.path();
    let ibd_id = dir.join("ibd.txt");
    let ibd = keygen(&ibd_id);
    let out = dir.join("share.tar");
    let said = share(&bundle, &setup.identities[0], &ibd, &out, &[]);
    assert!(said.contains("without contact details"), "{said}");
    assert!(
        said.contains(&format!("sealdrop admin shared {case}")),
        "{said}"
    );

    // The team's own export does hold the contact details (the scan below can find them).
    let team_open = dir.join("team-opened");
    assert!(
        open(&bundle, &[&setup.identities[0]], &team_open)
            .status
            .success()
    );
    let team_sees = everything_readable(&team_open, &bundle, &setup.identities[0]);
    assert!(contains(&team_sees, "jane.reporter") && contains(&team_sees, "McCreditface"));
    let team_report = std::fs::read_to_string(team_open.join("report.txt")).unwrap();
    assert!(
        team_report.contains(
            "Credit (asked to be named as the discoverer):\n  Handle McCreditface\n\nMessage:"
        ),
        "{team_report}"
    );

    let not_team = dir.join("not-team");
    let o = open(&out, &[&setup.identities[0]], &not_team);
    assert!(!o.status.success(), "the team's identity opened the share");
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot decrypt"));

    let opened = dir.join("ibd-opened");
    let o = open(&out, &[&ibd_id], &opened);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(opened.join("files/records.csv")).unwrap(), a);
    assert_eq!(
        std::fs::read(opened.join("files/screenshot.png")).unwrap(),
        b
    );
    let report = std::fs::read_to_string(opened.join("report.txt")).unwrap();
    assert!(
        report.contains("citizen records"),
        "the message is kept: {report}"
    );
    let all = everything_readable(&opened, &out, &ibd_id);
    for piece in [
        "Jane Reporter",
        "jane.reporter",
        "1234 5678",
        "example.net",
        "McCreditface",
    ] {
        assert!(!contains(&all, piece), "{piece:?} is in the share");
    }
    // Stock age decrypts the files of the share to the originals.
    let entries = tar_entries(&std::fs::read(&out).unwrap());
    let age_file = dir.join("000.age");
    std::fs::write(
        &age_file,
        &entries.iter().find(|(n, _)| n == "000.age").unwrap().1,
    )
    .unwrap();
    assert_eq!(age_decrypt(&ibd_id, &age_file), a);

    // Recorded on the server: history, show, register.
    let said = admin_ok(
        &setup,
        &[
            "shared",
            &case,
            "--with",
            "IBD",
            "--note",
            "without contact",
        ],
    );
    assert!(said.contains("shared with IBD"), "{said}");
    let shown = admin_ok(&setup, &["show", &case]);
    assert!(
        shown.contains("shared with IBD – without contact"),
        "{shown}"
    );
    let v = show(&setup, &case);
    let last = v["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["shared_with"], "IBD");
    let csv = admin_ok(&setup, &["register"]);
    let header = csv.lines().next().unwrap();
    assert!(header.contains(",shared_with"), "{header}");
    let row = csv.lines().nth(1).unwrap();
    assert!(row.contains(",IBD@"), "{row}");
    let bad = setup.admin(&["shared", &case, "--with", ""]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("hint: "));
    drop(server);
}

#[test]
fn a_share_can_leave_out_the_message_and_keep_chosen_files_and_with_contact_keeps_them() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let (a, b) = (bytes(5000, 3), bytes(6000, 4));
    let mut parts = form(vec![file("one.bin", a), file("two.bin", b.clone())]);
    parts[2] = text("contact", CONTACT);
    let resp = post_form(server.addr, &parts, "");
    assert_eq!(resp.status, 201, "{}", resp.text());
    let case = resp.json()["case"].as_str().unwrap().to_owned();
    let bundle = setup.export(&case);
    let dir = setup.dir.path();
    let third_id = dir.join("third.txt");
    let third = keygen(&third_id);

    // A share never replaces the case, even one the team's own key opens: without the contact
    // details it would lose them.
    let to_team = dir.join("to-team.tar");
    share(
        &bundle,
        &setup.identities[0],
        &setup.recipients[0],
        &to_team,
        &[],
    );
    let o = setup.admin(&["import", to_team.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("a share for a third party"),
        "{err}"
    );
    let team_copy = dir.join("team-copy");
    assert!(
        open(&setup.export(&case), &[&setup.identities[0]], &team_copy)
            .status
            .success()
    );
    assert!(
        std::fs::read_to_string(team_copy.join("report.txt"))
            .unwrap()
            .contains("jane.reporter")
    );

    let out = dir.join("only-two.tar");
    share(
        &bundle,
        &setup.identities[0],
        &third,
        &out,
        &["--file", "1", "--without-message"],
    );
    let opened = dir.join("only-two");
    assert!(open(&out, &[&third_id], &opened).status.success());
    let files = all_files(&opened.join("files"));
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(std::fs::read(opened.join("files/two.bin")).unwrap(), b);
    let all = everything_readable(&opened, &out, &third_id);
    assert!(!contains(&all, "test message") && !contains(&all, "jane.reporter"));

    let out = dir.join("with-contact.tar");
    share(
        &bundle,
        &setup.identities[0],
        &third,
        &out,
        &["--with-contact"],
    );
    let opened = dir.join("with-contact");
    assert!(open(&out, &[&third_id], &opened).status.success());
    let report = std::fs::read_to_string(opened.join("report.txt")).unwrap();
    assert!(report.contains("jane.reporter@example.net"), "{report}");

    let o = run(&[
        "share",
        bundle.to_str().unwrap(),
        "-i",
        setup.identities[0].to_str().unwrap(),
        "-r",
        &third,
        "-o",
        dir.join("none.tar").to_str().unwrap(),
        "--file",
        "7",
    ]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no file [007]") && err.contains("hint: "),
        "{err}"
    );
    assert!(!dir.join("none.tar").exists());
    drop(server);
}
