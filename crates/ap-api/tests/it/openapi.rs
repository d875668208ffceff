//! `GET /openapi.json`: an OpenAPI 3.1 document whose paths are exactly the routes the
//! app registers, each with exactly the methods it answers.

use std::collections::BTreeSet;

use crate::support::TestApp;

/// Every method a route might answer.
const METHODS: [&str; 6] = ["get", "head", "post", "patch", "put", "delete"];

/// `path` with each `{parameter}` filled in.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').map_or(rest.len(), |i| start + i + 1);
        out.push_str("probe");
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[actix_web::test]
async fn the_document_lists_every_route_the_app_registers() {
    let app = TestApp::sqlite().await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status, 200, "{}", res.text);
    assert!(res.header("content-type").is_some_and(|ct| ct.starts_with("application/json")));
    assert_eq!(res.json["openapi"], "3.1.0");
    assert_eq!(res.json["servers"][0]["url"], app.base.as_str());
    assert!(res.json["components"]["schemas"]["ErrorBody"].is_object());

    let paths = res.json["paths"].as_object().expect("paths");
    let documented: BTreeSet<String> = paths.keys().cloned().collect();
    let registered: BTreeSet<String> = ap_api::routes::paths().into_iter().collect();
    let missing: Vec<_> = registered.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&registered).collect();
    assert!(missing.is_empty(), "registered but not documented: {missing:?}");
    assert!(extra.is_empty(), "documented but not registered: {extra:?}");

    let mut operation_ids = BTreeSet::new();
    for (path, item) in paths {
        let url = format!("{}{}", app.base, concrete(path));
        for method in METHODS {
            let operation = &item[method];
            let answer = app
                .send(app.client.request(method.to_uppercase().parse().expect("method"), &url))
                .await;
            if operation.is_object() {
                assert_ne!(answer.status, 405, "{method} {path} is documented but not routed");
                let id = operation["operationId"].as_str().expect("operationId");
                assert!(operation_ids.insert(id.to_owned()), "operationId {id} twice");
                assert!(operation["responses"]["default"].is_object(), "{method} {path}");
            } else {
                assert_eq!(answer.status, 405, "{method} {path} answers but is not documented");
            }
        }
    }
}
