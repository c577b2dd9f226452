//! The reference parser: never panics; whatever it accepts prints back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdrop::reference::Reference;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(r) = Reference::parse(text)
    {
        let again = Reference::parse(&r.to_string()).expect("a printed reference parses");
        assert_eq!(r, again);
        assert_eq!(r.legacy_hash(), again.legacy_hash());
    }
});
