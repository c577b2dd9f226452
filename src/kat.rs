//! Known-answer vectors for every format that must never change silently: a change to any of
//! them breaks every issued reference, letter or receipt, or every exported bundle, while all
//! round-trip tests still pass. A failure here means a format changed: give it a new version,
//! keep reading the old one, and never edit the vector.

#[cfg(test)]
mod tests {
    use crate::letterbox::Letterbox;
    use crate::receipt::document::{Document, DocumentFile};
    use crate::receipt::signing::{Secret, SigningKey};
    use crate::reference::Reference;

    /// A fixed reference (its check symbol is a vector too), and the portal salt used below.
    const REFERENCE: &str = "K7QD-M2XP-9FHT-3WZA-D";
    const SALT: &[u8; 16] = b"sealdrop-kat-slt";

    /// A receipt key made for these vectors only (it signs nothing else).
    const RECEIPT_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCFDaMPlAzsGCGqy+dEgeYcg6IvLNdswwbdqcFkjdVdVwAAAIjtZr/u7Wa/
7gAAAAtzc2gtZWQyNTUxOQAAACCFDaMPlAzsGCGqy+dEgeYcg6IvLNdswwbdqcFkjdVdVw
AAAEDSWBCI+7Oh4P9/fwo2H8U3vsWwHwo5xmb6xqvVAlLF1YUNow+UDOwYIarL50SB5hyD
oi8s12zDBt2pwWSN1V1XAAAAAAECAwQF
-----END OPENSSH PRIVATE KEY-----
";

    fn reference() -> Reference {
        Reference::parse(REFERENCE).unwrap()
    }

    fn document() -> Document {
        Document {
            portal: "https://portal.example.org".into(),
            case: "2026-0042".into(),
            follow_up_to: None,
            received_at: "2026-12-04T09:00:00Z".into(),
            category: "vulnerability".into(),
            message_sha256: crate::digest::sha256_hex(b"hello"),
            files: vec![DocumentFile {
                name: "poc \"1\".txt".into(),
                size: 5,
                sha256: crate::digest::sha256_hex(b"proof"),
            }],
            key_ids: vec!["f36cce46491d".into()],
            signed_by: "SHA256:x".into(),
        }
    }

    #[test]
    fn the_reference_check_symbol_is_fixed() {
        assert_eq!(reference().to_string(), REFERENCE);
        assert!(Reference::parse("K7QD-M2XP-9FHT-3WZA-E").is_err());
    }

    #[test]
    fn the_stored_reference_keys_are_fixed() {
        let r = reference();
        assert_eq!(
            crate::digest::hex(&r.legacy_hash()),
            "6670e33be502321d706463d002a9d0c3dd26457807ae416e24cdf4d9b092fb1b"
        );
        assert_eq!(
            crate::digest::hex(&r.derive(SALT).lookup),
            "76f33090a059bdfaf733704d43cbae670b8af14bc075a946de88d69762d3d9f7"
        );
    }

    #[test]
    fn the_letterbox_keys_are_fixed() {
        let r = reference();
        assert_eq!(
            Letterbox::from_seed(&r.derive(SALT).letterbox).recipient(),
            "age16tq284mpzue5ps5fhkjjfjym4mhujewvfj5cusf0vludd3cghssqhw90pt"
        );
        assert_eq!(
            Letterbox::legacy(&r).recipient(),
            "age1657fl8mhcunwt3g3qlm6ezu92jkn665tcq7wlvsrs0wl00mxzc9sj9mldt"
        );
    }

    #[test]
    fn the_receipt_text_and_its_signature_are_fixed() {
        let text = document().text();
        assert_eq!(
            text,
            "sealdrop receipt v1\n\
             portal: https://portal.example.org\n\
             case: 2026-0042\n\
             received: 2026-12-04T09:00:00Z\n\
             category: vulnerability\n\
             message-sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n\
             files: 1\n\
             file 1: size=5 sha256=c1cda26362828b69266512052b97cb3729e3b052e4ade47c0a1e3383defe73c7 \
             name=\"poc \\\"1\\\".txt\"\n\
             keys: f36cce46491d\n\
             receipt-key: SHA256:x\n"
        );
        let key = SigningKey::from_openssh(&Secret::new(RECEIPT_KEY.into())).unwrap();
        assert_eq!(
            key.public(),
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIUNow+UDOwYIarL50SB5hyDoi8s12zDBt2pwWSN1V1X"
        );
        let signature = key.sign(&text).unwrap();
        assert_eq!(
            signature,
            "-----BEGIN SSH SIGNATURE-----\n\
             U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAghQ2jD5QM7BghqsvnRIHmHIOiLy\n\
             zXbMMG3anBZI3VXVcAAAAQc2VhbGRyb3AtcmVjZWlwdAAAAAAAAAAGc2hhNTEyAAAAUwAA\n\
             AAtzc2gtZWQyNTUxOQAAAEA22incp+TX5dCN5G1qN7ldPp9MBAYxX5PfJ8ZbtBwFokpDoJ\n\
             56zZHU/Sxdky7Zo9wpYCR2vjHpQvGC4IQizgAH\n\
             -----END SSH SIGNATURE-----\n"
        );
        assert!(crate::receipt::signing::verify(text.as_bytes(), &signature).is_ok());
    }

    #[test]
    fn the_bundle_index_is_fixed() {
        let record: crate::record::Record = serde_json::from_str(
            r#"{"version":1,"id":"0123456789abcdef0123456789abcdef","case":"2026-0042",
            "category":"data-breach","received_at":"2026-12-04T09:00:00Z","status":"received",
            "manifest":{"index":0,"size":300,"digest":"blake3:aa"},
            "files":[{"index":0,"size":1000,"digest":"blake3:bb"},
                     {"index":1,"size":2000,"digest":"cc","piece":1}],
            "key_ids":["f36cce46491d"]}"#,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&crate::bundle::Index::of(&record)).unwrap(),
            r#"{"format":"sealdrop-bundle/1","id":"0123456789abcdef0123456789abcdef","case":"2026-0042","category":"data-breach","received_at":"2026-12-04T09:00:00Z","key_ids":["f36cce46491d"],"manifest":{"index":0,"name":"manifest.age","size":300,"digest":"blake3:aa"},"files":[{"index":0,"name":"000.age","size":1000,"digest":"blake3:bb"},{"index":1,"name":"001.age","size":2000,"digest":"cc"}]}"#
        );
    }
}
