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
