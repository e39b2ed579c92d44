//! Who may change an issuer's deadline rule: the issuing organisation itself
//! or an operator; another organisation is refused (403), an anonymous
//! caller asked for a token (401), and nothing is stored either way.

use concord_app::{AppError, Principal, RuleChange, RuleOrigin, Services};
use concord_domain::OrgCode;

fn code(s: &str) -> OrgCode {
    OrgCode::parse(s).unwrap()
}

#[test]
fn only_the_issuer_itself_or_an_operator_changes_its_rule() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/t.db", dir.path().display());
        let svc = Services::open(&url).await.unwrap();
        let op = svc.as_principal(Principal::Operator { label: "t".into() });
        let token = |org: &'static str| {
            let op = &op;
            async move { op.create_token(&code(org), "t").await.unwrap().secret }
        };
        let hssib = svc.authenticate_token(&token("HSSIB").await).await.unwrap();
        let nhse = svc.authenticate_token(&token("NHSE").await).await.unwrap();
        let change = || RuleChange {
            days_to_respond: 30,
            ..Default::default()
        };
        let before = op.response_rules().await.unwrap();

        match svc
            .as_principal(nhse.clone())
            .set_response_rule(&code("HSSIB"), change())
            .await
        {
            Err(AppError::Forbidden(m)) => assert!(m.contains("only HSSIB itself"), "{m}"),
            other => panic!("another organisation: {other:?}"),
        }
        match svc
            .as_principal(nhse)
            .reset_response_rule(&code("HSSIB"))
            .await
        {
            Err(AppError::Forbidden(_)) => {}
            other => panic!("another organisation's reset: {other:?}"),
        }
        match svc
            .as_principal(Principal::Anonymous)
            .set_response_rule(&code("HSSIB"), change())
            .await
        {
            Err(AppError::Unauthenticated(_)) => {}
            other => panic!("anonymous: {other:?}"),
        }
        assert_eq!(op.response_rules().await.unwrap(), before, "nothing stored");

        // Anyone reads the rules.
        let public = svc.as_principal(Principal::Anonymous);
        assert_eq!(public.response_rules().await.unwrap(), before);

        // The issuer itself.
        let own = svc
            .as_principal(hssib)
            .set_response_rule(&code("HSSIB"), change())
            .await
            .unwrap();
        assert_eq!(own.origin, RuleOrigin::Installation);
        assert_eq!(own.rules.days_to_respond, 30);
        // Kept in memory and read again: the same answer from another
        // process opening the database.
        let other = Services::open(&url).await.unwrap();
        let seen = other
            .as_principal(Principal::Anonymous)
            .response_rule(&code("HSSIB"))
            .await
            .unwrap();
        assert_eq!(seen, own);
        // An unknown issuer is not found, by name.
        match op.response_rule(&code("NOPE")).await {
            Err(AppError::NotFound(m)) => assert!(m.contains("issuer: NOPE"), "{m}"),
            other => panic!("unknown issuer: {other:?}"),
        }
    });
}
