//! The recipients-file parser and its edits: never panic; retiring a key of an accepted file
//! leaves an accepted file with one key fewer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdrop::keys::{self, KeyRing};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(ring) = KeyRing::parse(&text, "fuzz") {
        assert!(!ring.keys().is_empty());
        if ring.keys().len() > 1 {
            let out = keys::retire_recipient(&text, &ring.keys()[0].id, "2026-01-01", "fuzz")
                .expect("retiring one of several keys works");
            let after = KeyRing::parse(&out, "fuzz").expect("the edited file parses");
            assert_eq!(after.keys().len(), ring.keys().len() - 1);
        }
    }
});
