//! Property tests of everything a server sends: arbitrary listing pages, Keystone answers and
//! header values never panic, and well-formed ones are understood.

use openstack_dest::fuzzing;
use proptest::prelude::*;
use serde_json::{json, Value};

/// JSON values of any shape, with the field names a real answer has more often than not.
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("name".to_string()),
        Just("subdir".to_string()),
        Just("bytes".to_string()),
        Just("hash".to_string()),
        Just("last_modified".to_string()),
        Just("token".to_string()),
        Just("access".to_string()),
        Just("catalog".to_string()),
        Just("serviceCatalog".to_string()),
        Just("endpoints".to_string()),
        Just("type".to_string()),
        Just("url".to_string()),
        Just("publicURL".to_string()),
        Just("interface".to_string()),
        Just("region".to_string()),
        Just("expires_at".to_string()),
        Just("issued_at".to_string()),
        Just("id".to_string()),
        "\\PC{0,6}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        Just(json!("object-store")),
        Just(json!("public")),
        Just(json!("2026-11-27T09:00:00.123456Z")),
        Just(json!("9999-99-99T99:99:99")),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn listing_pages_never_panic(page in any_json(), raw in proptest::collection::vec(any::<u8>(), 0..64), prefix in "\\PC{0,6}") {
        let _ = fuzzing::listing_page(page.to_string().as_bytes(), &prefix);
        let _ = fuzzing::listing_page(&raw, &prefix);
        let rows = json!([page]);
        let _ = fuzzing::listing_page(rows.to_string().as_bytes(), &prefix);
    }

    #[test]
    fn keystone_answers_never_panic(answer in any_json(), region in proptest::option::of("\\PC{0,8}")) {
        let v2 = json!({"access": answer.clone()});
        let v3 = json!({"token": answer.clone()});
        for body in [answer.to_string(), v2.to_string(), v3.to_string()] {
            fuzzing::v2_token_answer(body.as_bytes(), region.as_deref());
            fuzzing::v3_token_answer(Some("tok"), body.as_bytes(), region.as_deref());
            fuzzing::v3_token_answer(None, body.as_bytes(), region.as_deref());
        }
    }

    #[test]
    fn header_values_never_panic(values in proptest::collection::vec(prop_oneof![
        "\\PC{0,30}",
        "[0-9eE.+-]{0,30}",
        "[0-9]{10,20}(\\.[0-9]{0,9})?",
        Just("inf".to_string()), Just("NaN".to_string()), Just("-1".to_string()),
        Just("1e400".to_string()), Just("99999999999999999999999999".to_string()),
        Just("1000000000000".to_string()), Just("18446744073709552".to_string()),
        Just("253402300800".to_string()), Just("Fri, 31 Dec 9999 23:59:59 GMT".to_string()),
    ], 12)) {
        // Every time among them must come out unknown or as one every binding can show
        // (fuzzing::headers checks it).
        let names: [&[u8]; 12] = [b"retry-after", b"x-timestamp", b"content-length", b"etag", b"date", b"last-modified",
            b"x-object-meta-mtime", b"x-delete-at", b"x-account-bytes-used", b"x-account-object-count",
            b"x-account-meta-quota-bytes", b"x-object-meta-color"];
        let pairs: Vec<(&[u8], &[u8])> = names.iter().zip(&values).map(|(n, v)| (*n, v.as_bytes())).collect();
        fuzzing::headers(&pairs);
    }

    #[test]
    fn odd_fields_of_listing_rows_are_unknown_not_a_failed_page(
        names in proptest::collection::vec("[a-z]{1,8}", 1..10),
        fields in proptest::collection::vec((any_json(), any_json(), any_json(), any_json()), 10),
        times in proptest::collection::vec(prop_oneof![
            "[0-9]{1,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?([+-][0-9]{2}:[0-9]{2}|Z)?",
            Just("9999-12-31T23:59:59.999999".to_string()),
        ], 10),
    ) {
        // bytes, hash, slo_etag and last_modified of any JSON type or range: the row is still
        // read (fuzzing::listing_page checks that every time is one every binding can show).
        let rows: Vec<Value> = names.iter().zip(&fields).zip(&times).enumerate().map(|(i, ((n, (b, h, e, t)), text))| {
            let last = if i % 2 == 0 { json!(text) } else { t.clone() };
            json!({"name": format!("p/{n}"), "bytes": b, "hash": h, "slo_etag": e, "last_modified": last})
        }).collect();
        let got = fuzzing::listing_page(Value::Array(rows).to_string().as_bytes(), "p/");
        prop_assert_eq!(got, Some(names.len()));
    }

    #[test]
    fn well_formed_listing_rows_are_all_read(names in proptest::collection::vec("[a-z]{1,8}(/[a-z]{1,8})?", 0..20)) {
        let rows: Vec<Value> = names.iter().map(|n| json!({"name": format!("p/{n}"), "bytes": 1, "hash": "ab", "last_modified": "2026-01-01T00:00:00"})).collect();
        let got = fuzzing::listing_page(Value::Array(rows).to_string().as_bytes(), "p/");
        prop_assert_eq!(got, Some(names.len()));
    }
}
