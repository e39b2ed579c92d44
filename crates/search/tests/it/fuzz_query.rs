//! The query parser with arbitrary text (issue #14): it never fails and
//! never panics, whatever a visitor types.

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn any_text_parses(text in any::<String>()) {
        let _ = concord_search::query::parse(&text);
    }

    #[test]
    fn query_like_text_parses(text in r#"[a-z "\-:()*~^0-9é]{0,80}"#) {
        let _ = concord_search::query::parse(&text);
    }
}
