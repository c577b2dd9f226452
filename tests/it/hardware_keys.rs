//! Hardware and post-quantum recipients: age1tag1… (P-256, for a key on hardware) and
//! age1tagpq1… (ML-KEM-768 + P-256) are encrypted to natively, with no plugin program; a set that
//! mixes post-quantum and classic keys is refused at start-up and by `keys add`.
#![allow(clippy::unwrap_used)]

use crate::common::*;

const TAG: &str = "age1tag1qt8lw0ual6avlwmwatk888yqnmdamm7xfd0wak53ut6elz5c4swx2yqdj4e";
const PQ: &str = "age1tagpq1m3e4wvp6hzcrn9exhy0ae3xfx2sjymp594k3tg7j4dpmj922we65vtnmrt2pyallax8669zqkr2pmfchptr4n38kug2xmcmp3adk2lnjqu00x5kxz5pvhmrltvfh9wuq973pcx35cnq8syn9qd3tzpehgztl4xpzr3tpd67g8af9trnjpc05gh7wu536aq4qt2y8zhsm4tvrfpsfl36qs5fpzysnk3sp9w77qzeg49357xex40v4s2lvt620swyys7u8yxdcnu4rkkwxdmt55gsuc3h5c5swahnegjgqwc60hn085ec3sjztwm45l44y3j2at9t6v9zra4ek3kek6waecqm98yaxl37w0d2zra626nz63jdm5sg59w7lyptw83zm6fntd8d0x03a9z6h9prfgpygzar6zrxjcrt4cdctk2mhf95s4a6v4zklfd49xhpsaeujm57thx2x3e3hwzc86ftfhmq5mkxxz3d6r8ws24xj4qfn73eyezg2wy094e3why592pghz27ruq3vkyegrv80eftnw9wqzwgvnwyseaus0yt84fylzrpzp6x2fguxuqjmgudr8xd33qm30evdpxd3jvjg8qh4q60kyq80jgff369k7nrepdc38grd2dava520excqp0ey0x39khx8ry03yffcatgv84fsx5j49djpapedsy693zute5xv5g2ewzrlj5se7akvkc4g4vmzhputpq8eyj9wz5dz6qtn7g3cfpd95nahw4ytspan0feyye04dcylv24ege7zkaj004gjwcxqxfqu2quawa83sx452jqjn8t48czp0xspwgnmvjyhttzzy6nhq8xzkdwnvsfefkwva6asrqc93zjn4rly5gnlv93xy3uzmr39szvjnf63426qzyeyvguc4vdcquwgsxgq236afcpqz866ny4tn7ckc0umefj242rt5vtvwqzzrvfev2mpvqcufp9pqvefyv4ftyuhgausfzuaadsczeykmft5wv3frzgrcp9ztr93h478ke4t86spp2uhyjkj73mp9g92ddk2fpv7v3njzsqgwhq3789sqrgkskehn0zjscckhwftyq4vet7vrlx2hs5kd9cwnq6t0djffhh3zquh4j3p0yaj9z2rc9wykg0usqw7983rrgur9jg8rnnqypwcz2lyclnnc705fc5g3an93ps60q6mxqp85u0ewtxdjlqcks84yduft0a0g6e7naew3v9u2d08knarvajn8q3gq9pgxde3s7nx94lus48wwvw2xjm7k82tvylec2393jdsuvch2xpe77w8hpv9nvsxfsrs270njpmfvpmgyk2cffl9tjp3qqcc4dfkf5rme2dg0x7ew8g39www5smm705q5da4eqvnqwrkavtq6xje9ss38hnkglz4eddz8f5qruvqmq2ff9l22gwkv8h432rdkysy0grkul8e2fedvkyyapfxt760udcgu92m54wl9yavmj4ga3ph9r5n99cjrq6wj5v33x33fe5vkjvfwnnt40wuv2hyexc9f4ylyqv9ldqq9epd4yuv8vrsfx2qy2kqz08kqhnzspy6s0x8fa5c2xkg5y2q0rvz4vnk7rp0acg6eksc3t7cxnn8y7glkjsqja3p56uz6vvhcw55d3ysad0hvsqxpjnc7svenf2gc5xn5kyr0et2vvyruxlnpqcdpqh9pzplumy5yzjxftyzh9ujfw0jq7ee60zx2x23p0jzyh9dvmly8p9h9ysptlqu7kwnejd65dnr75a0np2fvke8xen38r57w6z3wz3mycjmmn267wwxndfh9jdps7uxtct2wwfgamkpa5ap8s96lhfjztpwcm6fguhphu38yunu2v4vz3syzrvgwtqpemkewzp766nyu6texxvjlaemnhyyqutkcy6a42vqfsz49rw5wr4gt70r4vdaasehqjg46fnyts4sthrxadfllha3avu49wsj2c4jx";

fn with_recipients(lines: &str) -> Setup {
    let setup = Setup::new(1, "");
    std::fs::write(setup.dir.path().join("keys/recipients.txt"), lines).unwrap();
    setup
}

#[test]
fn uploads_are_sealed_to_hardware_and_post_quantum_recipients_and_keys_list_says_which() {
    for (set, kind, pq) in [(TAG, "p256tag", false), (PQ, "mlkem768p256tag", true)] {
        let setup = with_recipients(&format!("# a YubiKey\n{set}\n"));
        let server = setup.start();
        let r = post_form(
            server.addr,
            &form(vec![file("a.txt", bytes(70_000, 3))]),
            "",
        );
        assert_eq!(r.status, 201, "{kind}: {}", r.text());
        let out = std::process::Command::new(bin())
            .args(["keys", "--config", setup.config.to_str().unwrap(), "list"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(kind), "{text}");
        assert_eq!(
            text.contains("The active set is post-quantum"),
            pq,
            "{text}"
        );
        let wellknown = get(server.addr, "/.well-known/age-recipients.txt", "");
        assert!(wellknown.text().contains(set), "{kind}");
    }
}

#[test]
fn a_set_mixing_post_quantum_and_classic_keys_is_refused_at_start_up_and_by_keys_add() {
    let setup = with_recipients(&format!("{PQ}\n{TAG}\n"));
    let log = Server::try_start(&setup, &[]).err().expect("refused");
    assert!(log.contains("mixes post-quantum"), "{log}");

    let setup = Setup::new(1, "");
    let _server = setup.start();
    let out = std::process::Command::new(bin())
        .args([
            "keys",
            "--config",
            setup.config.to_str().unwrap(),
            "add",
            PQ,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mixes post-quantum") && err.contains("keys-refused"),
        "{err}"
    );
}

#[test]
fn a_classic_set_becomes_post_quantum_in_one_reload_without_downtime() {
    let setup = with_recipients(&format!("{TAG}\n"));
    let server = setup.start();
    let before = post_form(server.addr, &form(vec![file("a.txt", bytes(1000, 1))]), "");
    assert_eq!(before.status, 201);
    std::fs::write(
        setup.dir.path().join("keys/recipients.txt"),
        format!("{PQ}\n"),
    )
    .unwrap();
    let keys = |args: &[&str]| {
        std::process::Command::new(bin())
            .args(["keys", "--config", setup.config.to_str().unwrap()])
            .args(args)
            .output()
            .unwrap()
    };
    let reload = keys(&["reload"]);
    assert!(
        reload.status.success(),
        "{}",
        String::from_utf8_lossy(&reload.stderr)
    );
    let list = String::from_utf8_lossy(&keys(&["list"]).stdout).into_owned();
    let line = |kind: &str| {
        list.lines()
            .find(|l| l.contains(kind))
            .unwrap_or_else(|| panic!("{kind} in {list}"))
            .to_owned()
    };
    assert!(line("mlkem768p256tag").contains("active"), "{list}");
    assert!(line(" p256tag").contains("retired"), "{list}");
    assert!(list.contains("The active set is post-quantum"), "{list}");
    let after = post_form(server.addr, &form(vec![file("b.txt", bytes(1000, 2))]), "");
    assert_eq!(after.status, 201);
    let (old, new) = (
        show(&setup, before.json()["case"].as_str().unwrap()),
        show(&setup, after.json()["case"].as_str().unwrap()),
    );
    assert_ne!(
        old["key_ids"], new["key_ids"],
        "each case names the keys that read it"
    );
}

/// The software stand-in for a hardware key (feature `test-plugin`), in a folder of its own
/// that the tests put on the PATH.
struct Plugin {
    dir: TempDir,
}

impl Plugin {
    fn new() -> Plugin {
        let Some(exe) = option_env!("CARGO_BIN_EXE_age-plugin-sealdroptest") else {
            panic!(
                "the test plugin is built with `--features test-plugin` (the README's test command)"
            )
        };
        let dir = TempDir::new("plugin");
        std::os::unix::fs::symlink(exe, dir.path().join("age-plugin-sealdroptest")).unwrap();
        Plugin { dir }
    }

    /// A new identity of `kind` written to `path`; its recipient.
    fn generate(&self, kind: &str, path: &std::path::Path) -> String {
        let out = std::process::Command::new(self.dir.path().join("age-plugin-sealdroptest"))
            .args(["--generate", kind])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("AGE-PLUGIN-SEALDROPTEST-1"), "{text}");
        std::fs::write(path, &text).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix("# recipient: "))
            .unwrap()
            .to_owned()
    }

    /// `sealdrop ARGS` with the plugin on the PATH (or not).
    fn run(&self, on_path: bool, args: &[&str]) -> std::process::Output {
        let path = std::env::var("PATH").unwrap_or_default();
        let path = if on_path {
            format!("{}:{path}", self.dir.path().display())
        } else {
            path
        };
        std::process::Command::new(bin())
            .args(args)
            .env("PATH", path)
            .output()
            .unwrap()
    }
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn exports_to_hardware_keys_open_byte_identical_through_a_plugin_and_inspect_names_every_key() {
    let plugin = Plugin::new();
    let setup = Setup::new(1, "");
    let dir = setup.dir.path();
    let (tag_id, pq_id) = (dir.join("yubikey-alice.txt"), dir.join("yubikey-bob.txt"));
    let tag = plugin.generate("p256tag", &tag_id);
    let pq = plugin.generate("mlkem768p256tag", &pq_id);
    assert!(tag.starts_with("age1tag1") && pq.starts_with("age1tagpq1"));
    let x25519 = setup.recipients[0].clone();
    let recipients = dir.join("keys/recipients.txt");
    std::fs::write(
        &recipients,
        format!("# carol, offline laptop\n{x25519}\n# alice's YubiKey\n{tag}\n"),
    )
    .unwrap();
    let server = setup.start();
    let (big, small) = (bytes(200_000, 7), b"five!".to_vec());
    let upload = |files: Vec<(&str, Vec<u8>)>| {
        let parts = files.into_iter().map(|(n, d)| file(n, d)).collect();
        let r = post_form(server.addr, &form(parts), "");
        assert_eq!(r.status, 201, "{}", r.text());
        r.json()["case"].as_str().unwrap().to_owned()
    };
    let classic_case = upload(vec![("big.bin", big.clone()), ("small.txt", small.clone())]);

    // One edit moves the set to post-quantum, the old lines kept as `keys retire` leaves them.
    std::fs::write(
        &recipients,
        format!(
            "# carol, offline laptop\n# retired 2026-12-04 (post-quantum now): {x25519}\n\
             # alice's YubiKey\n# retired 2026-12-04 (post-quantum now): {tag}\n\
             # bob's YubiKey\n{pq}\n"
        ),
    )
    .unwrap();
    let reload = plugin.run(false, &["keys", "--config", s(&setup.config), "reload"]);
    assert!(reload.status.success(), "{reload:?}");
    let pq_case = upload(vec![("after.bin", bytes(70_000, 9))]);
    let (classic, post_quantum) = (setup.export(&classic_case), setup.export(&pq_case));

    // Opened through the plugin, byte-identical; the plugin's message reaches the terminal.
    let out = dir.join("opened-classic");
    let o = plugin.run(
        true,
        &["open", s(&classic), "-i", s(&tag_id), "-o", s(&out)],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("sealdroptest: key used"));
    let opened = all_files(&out.join("files"));
    let content = |name: &str| {
        let f = opened.iter().find(|p| p.ends_with(name)).unwrap();
        std::fs::read(f).unwrap()
    };
    assert_eq!(content("big.bin"), big);
    assert_eq!(content("small.txt"), small);
    let out = dir.join("opened-pq");
    let o = plugin.run(
        true,
        &["open", s(&post_quantum), "-i", s(&pq_id), "-o", s(&out)],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let opened = all_files(&out.join("files"));
    assert_eq!(std::fs::read(&opened[0]).unwrap(), bytes(70_000, 9));

    // The classic key cannot open the post-quantum case; without its plugin a hardware
    // identity says what is missing.
    let o = plugin.run(
        true,
        &[
            "open",
            s(&post_quantum),
            "-i",
            s(&tag_id),
            "-o",
            s(&dir.join("x")),
        ],
    );
    assert!(!o.status.success());
    let o = plugin.run(
        false,
        &[
            "open",
            s(&classic),
            "-i",
            s(&tag_id),
            "-o",
            s(&dir.join("y")),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("age-plugin-sealdroptest") && err.contains("install the key's plugin"),
        "{err}"
    );

    // rekey and share take a hardware identity too.
    let fresh = dir.join("fresh.txt");
    let fresh_recipient = keygen(&fresh);
    let rekeyed = dir.join("rekeyed.tar");
    let o = plugin.run(
        true,
        &[
            "rekey",
            s(&post_quantum),
            "-i",
            s(&pq_id),
            "-r",
            &fresh_recipient,
            "-o",
            s(&rekeyed),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let shared = dir.join("shared.tar");
    let o = plugin.run(
        true,
        &[
            "share",
            s(&classic),
            "-i",
            s(&tag_id),
            "-r",
            &fresh_recipient,
            "-o",
            s(&shared),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for bundle in [&rekeyed, &shared] {
        let out = dir.join(format!(
            "{}-open",
            bundle.file_stem().unwrap().to_str().unwrap()
        ));
        let o = open(bundle, &[&fresh], &out);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    // Stock age still decrypts every X25519 object of the classic case.
    let raw = std::fs::read(&classic).unwrap();
    let objects: Vec<(String, Vec<u8>)> = tar_entries(&raw)
        .into_iter()
        .filter(|(n, _)| n.ends_with(".age"))
        .collect();
    assert_eq!(objects.len(), 3, "manifest and two files");
    for (name, data) in &objects {
        let path = dir.join(format!("stock-{name}"));
        std::fs::write(&path, data).unwrap();
        let plain = age_decrypt(&setup.identities[0], &path);
        if name == "000.age" {
            assert_eq!(plain, big);
        }
    }

    // inspect, with no key: which key reads each object, before and after the rotation.
    let ids = |c: &str| show(&setup, c)["key_ids"].clone();
    let (old_ids, new_ids) = (ids(&classic_case), ids(&pq_case));
    let inspect = |paths: &[&str], json: bool| {
        let mut args = vec!["inspect"];
        args.extend_from_slice(paths);
        args.extend(["-R", s(&recipients)]);
        if json {
            args.push("--json");
        }
        plugin.run(false, &args)
    };
    let o = inspect(&[s(&classic), s(&post_quantum)], true);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let key_of = |recipient: &str| {
        let listed = plugin.run(
            false,
            &["keys", "--config", s(&setup.config), "list", "--json"],
        );
        let all: serde_json::Value = serde_json::from_slice(&listed.stdout).unwrap();
        all.as_array()
            .unwrap()
            .iter()
            .find(|k| k["recipient"] == recipient)
            .unwrap_or_else(|| panic!("{recipient} in {all}"))["id"]
            .clone()
    };
    let (x_key, tag_key, pq_key) = (key_of(&x25519), key_of(&tag), key_of(&pq));
    assert_eq!(found[0]["bundle"]["key_ids"], old_ids);
    assert_eq!(found[1]["bundle"]["key_ids"], new_ids);
    let old_objects = found[0]["objects"].as_array().unwrap();
    assert_eq!(old_objects.len(), 3);
    for object in old_objects {
        assert_eq!(object["post_quantum"], false, "{object}");
        assert_eq!(object["matches_index"], true, "{object}");
        let stanzas = object["stanzas"].as_array().unwrap();
        let of = |kind: &str| stanzas.iter().find(|s| s["type"] == kind).unwrap().clone();
        assert_eq!(stanzas.len(), 2, "{object}");
        assert_eq!(of("p256tag")["key"], tag_key);
        assert!(
            of("p256tag")["label"]
                .as_str()
                .unwrap()
                .starts_with("alice's YubiKey")
        );
        assert_eq!(
            of("X25519")["key"],
            x_key,
            "the only X25519 key of the index"
        );
    }
    let big_object = old_objects.iter().find(|o| o["name"] == "000.age").unwrap();
    assert_eq!(big_object["content"], 200_000);
    let new_objects = found[1]["objects"].as_array().unwrap();
    for object in new_objects {
        assert_eq!(object["post_quantum"], true, "{object}");
        assert_eq!(object["stanzas"][0]["type"], "mlkem768p256tag");
        assert_eq!(object["stanzas"][0]["key"], pq_key);
    }
    // The text says the same to a person; a single .age file works without its bundle.
    let o = inspect(&[s(&classic), s(&post_quantum)], false);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("No object is post-quantum."), "{text}");
    assert!(text.contains("Every object is post-quantum."), "{text}");
    assert!(
        text.contains(&format!("key {}", tag_key.as_str().unwrap())),
        "{text}"
    );
    let single = dir.join("single.age");
    let pq_raw = std::fs::read(&post_quantum).unwrap();
    let (_, data) = tar_entries(&pq_raw)
        .into_iter()
        .find(|(n, _)| n == "000.age")
        .unwrap();
    std::fs::write(&single, data).unwrap();
    let o = inspect(&[s(&single)], true);
    let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(found[0]["objects"][0]["stanzas"][0]["key"], pq_key);
    assert_eq!(found[0]["objects"][0]["content"], 70_000);
    // A file that is not age at all is refused with a reason.
    let o = inspect(&[s(&recipients)], false);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("recipients.txt") && err.contains("hint:"),
        "{err}"
    );
}

#[test]
fn inspect_defangs_a_hostile_index_and_names_what_a_bundle_lacks() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let r = post_form(
        server.addr,
        &form(vec![
            file("a.txt", bytes(100, 1)),
            file("b.txt", bytes(100, 2)),
        ]),
        "",
    );
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let bundle = setup.export(&case);
    let mut entries = tar_entries(&std::fs::read(&bundle).unwrap());
    let index = entries.iter_mut().find(|(n, _)| n == "index.json").unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&index.1).unwrap();
    v["key_ids"] = serde_json::json!(["\u{1b}]52;c;aGk=\u{7}"]);
    index.1 = serde_json::to_vec(&v).unwrap();
    entries.retain(|(n, _)| n != "001.age");
    let hostile = setup.dir.path().join("hostile.tar");
    std::fs::write(&hostile, tar_build(&entries)).unwrap();
    for json in [false, true] {
        let mut args = vec!["inspect", hostile.to_str().unwrap()];
        if json {
            args.push("--json");
        }
        let o = run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(!o.stdout.contains(&0x1b), "no escape reaches the terminal");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("001.age"), "{text}");
        if !json {
            assert!(text.contains("MISSING"), "{text}");
        }
    }
    // A part twice is refused.
    let twice: Vec<(String, Vec<u8>)> = entries
        .iter()
        .cloned()
        .chain(entries.iter().filter(|(n, _)| n == "000.age").cloned())
        .collect();
    let twice_path = setup.dir.path().join("twice.tar");
    std::fs::write(&twice_path, tar_build(&twice)).unwrap();
    let o = run(&["inspect", twice_path.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("twice"));
}
