//! Any bytes through `PolicyDocument::from_json`: a document that parses serializes to JSON
//! that parses back to an equal document (and serializes the same way again); validating it
//! as a permissions policy and as a trust policy does not panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xacct_policy::{PolicyDocument, validate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = PolicyDocument::from_json(text) else {
        return;
    };
    let json = doc.to_json();
    let again = PolicyDocument::from_json(&json)
        .unwrap_or_else(|e| panic!("to_json output does not parse: {e}\n{json}"));
    assert_eq!(again, doc, "from_json(to_json(doc)) != doc\n{json}");
    assert_eq!(again.to_json(), json, "to_json is not stable");

    let _ = doc.size();
    let _ = validate::permissions_policy(&doc);
    let _ = validate::trust_policy(&doc);
});
