//! Any UTF-8 string through `Arn::from_str`: an ARN that parses formats back to exactly the
//! input and parses again to an equal value; recognizing it in the catalog and listing its
//! permissions do not panic, whatever the resource part holds.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xacct_policy::{Arn, catalog, permissions};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    // Patterns from policies go through this without being ARNs first.
    let _ = catalog::recognize_pattern(input);
    let Ok(arn) = input.parse::<Arn>() else {
        return;
    };
    let text = arn.to_string();
    assert_eq!(text, input, "formatting a parsed ARN changed it");
    let again: Arn = text.parse().expect("a formatted ARN parses again");
    assert_eq!(again, arn, "parse(format(arn)) != arn");

    let _ = arn.resource_type_and_id();
    let _ = arn.resource_name();
    let _ = arn.account_id();
    let _ = catalog::recognize(&arn);
    let _ = permissions::permissions_for(&arn);
});
