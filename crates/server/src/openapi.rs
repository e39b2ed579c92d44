//! The OpenAPI document's frame: title, tags, the bearer scheme. The paths
//! and schemas come from the handlers themselves (see `api/`).

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ErrorBody;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Concord API",
        description = "A register of NHS patient-safety recommendations: who recommended what, to whom, \
                       and where each answer stands.\n\n\
                       Anonymous callers read what is published. Every change needs an API token \
                       (`Authorization: Bearer TOKEN`) and is limited to the token's organisation and to \
                       what its roles allow (author, approver, respondent, assessor, oversight, \
                       administrator; a refusal is 403 and is kept in the audit trail). A signed-in \
                       browser's `concord_session` cookie is accepted as well; changes made with it \
                       also need the session's CSRF token in the `X-CSRF-Token` header.\n\n\
                       Every error has the body `{\"error\": {\"code\": \"stable_code\", \"message\": \"...\"}}`.",
        license(name = "MIT", identifier = "MIT"),
    ),
    tags(
        (name = "recommendations", description = "Recommendations, their addressees, responses and links"),
        (name = "lifecycle", description = "After publication, per addressee: responses, action plans, progress, the issuer's assessment, closure and escalation"),
        (name = "search", description = "Ranked full-text search with facet counts"),
        (name = "dashboard", description = "Oversight figures: open, overdue, answered and implemented by issuer, addressee, theme, setting and year; response times; the oldest overdue; open recommendations and cost by kind of provider"),
        (name = "organisations", description = "Bodies that issue and receive recommendations"),
        (name = "quality", description = "Quality criteria: pass / warn / fail per criterion for draft recommendations"),
        (name = "similarity", description = "Recommendations that duplicate, support, contradict or relate to a text"),
        (name = "workstreams", description = "The register of ongoing work at each body, and what new work overlaps"),
    ),
    components(schemas(ErrorBody)),
    modifiers(&BearerScheme),
)]
pub struct ApiDoc;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some(
            "An API token for one organisation with some roles (by default every role but administrator), \
             issued by an operator (`concord token create --org CODE [--role R]`) or by the organisation's \
             administrator on the /admin page. Shown once; only its hash is stored."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}
