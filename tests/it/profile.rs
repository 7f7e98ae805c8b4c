//! The profile at /account with operator-defined attributes, and progressive profiling
//! (/account/complete-profile): only the signed-in owner's own row is ever written, every field's rule is
//! enforced at the server, attributes only operators set and unknown ones are refused, the audit log names
//! changed fields and never values, and a sign-in that leaves a required attribute missing asks for it
//! once, after any second-factor setup the MFA policy wants first.

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::mfa::{account_id, audit, enrol, password_sign_in, redirected_to, refusal};
use crate::support::{app_with, body_text, header, profile_attributes, Backend, Browser, TestApp};
use vestibule::db::accounts::{find_by_email, update_profile, AccountRow, ProfileUpdate};
use vestibule::error::{AppError, ErrorKind};
use vestibule::server::config::MfaPolicy;
use vestibule::types::{AccountPageLoad, AttributeKind, CompleteProfileState, ProfilePageState};

const ATTRIBUTES: &str = r#"
[[profile.attributes]]
key = "company"
label = "Company"
type = "text"
pattern = "[A-Za-z0-9 .&-]+"
max_length = 40
hint = "As on your invoices."

[[profile.attributes]]
key = "seats"
label = "Seats"
type = "number"
min = 1
max = 500
integer = true

[[profile.attributes]]
key = "newsletter"
label = "Send me the newsletter"
type = "boolean"

[[profile.attributes]]
key = "birthday"
label = "Birthday"
type = "date"
min = "1900-01-01"
max = "2020-12-31"

[[profile.attributes]]
key = "size"
label = "T-shirt size"
type = "choice"
choices = [{ value = "s", label = "Small" }, { value = "m", label = "Medium" }]

[[profile.attributes]]
key = "tier"
label = "Customer tier"
type = "text"
editable = false
"#;

const REQUIRED: &str = r#"
[[profile.attributes]]
key = "employee_id"
label = "Employee number"
type = "text"
required = true
pattern = "E[0-9]{4}"
"#;

async fn profile_app(backend: Backend) -> TestApp {
    app_with(backend, |c| c.profile.attributes = profile_attributes(ATTRIBUTES), axum::Router::new()).await
}

async fn prompt_app(backend: Backend, policy: MfaPolicy) -> TestApp {
    let toml = format!("{ATTRIBUTES}{REQUIRED}");
    app_with(
        backend,
        |c| {
            c.profile.attributes = profile_attributes(&toml);
            c.mfa.policy = policy;
        },
        axum::Router::new(),
    )
    .await
}

async fn load(b: &mut Browser<'_>) -> Option<AccountPageLoad> {
    let res = b.post("/api/account/profile", &[]).await;
    assert_eq!(res.status(), 200);
    let body = body_text(res).await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

async fn profile(b: &mut Browser<'_>) -> ProfilePageState {
    match load(b).await {
        Some(AccountPageLoad::Profile(state)) => *state,
        other => panic!("not the profile: {other:?}"),
    }
}

async fn row(app: &TestApp, email: &str) -> AccountRow {
    find_by_email(&app.state.db.pool, email).await.unwrap().expect("the account")
}

fn attrs(row: &AccountRow) -> serde_json::Value {
    serde_json::from_str(&row.attributes).unwrap()
}

/// What a back-office would do: set attributes the user cannot.
async fn set_attributes(app: &TestApp, email: &str, json: &str) {
    let r = row(app, email).await;
    let update = ProfileUpdate {
        display_name: r.display_name.as_deref(),
        given_name: r.given_name.as_deref(),
        family_name: r.family_name.as_deref(),
        locale: r.locale.as_deref(),
        time_zone: r.time_zone.as_deref(),
        attributes: json,
    };
    update_profile(&app.state.db.pool, &r.id, &update, 1).await.unwrap();
}

/// A full, valid form for the profile.
fn full_form<'a>(display_name: &'a str, company: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("display_name", display_name),
        ("given_name", "Ann"),
        ("family_name", "Lee"),
        ("locale", "de"),
        ("time_zone", "Europe/Berlin"),
        ("attributes[company]", company),
        ("attributes[seats]", "12"),
        ("attributes[newsletter]", "true"),
        ("attributes[birthday]", "1990-05-17"),
        ("attributes[size]", "m"),
    ]
}

async fn problems(res: http::Response<axum::body::Body>) -> Vec<(String, String)> {
    let status = res.status().as_u16();
    let body = body_text(res).await;
    let err: AppError = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {status} {body}"));
    assert_eq!((status, err.kind), (422, ErrorKind::Validation), "{body}");
    err.problems.into_iter().map(|p| (p.field, p.message)).collect()
}

async fn the_owner_edits_the_profile_and_custom_attributes(backend: Backend) {
    let app = profile_app(backend).await;
    let email = "ann@example.com";
    verified_account(&app, email).await;
    set_attributes(&app, email, r#"{"tier": "gold", "retired_key": "kept"}"#).await;
    let (mut b, _) = password_sign_in(&app, email).await;

    let before = profile(&mut b).await;
    assert_eq!(before.email, email);
    assert!(before.email_verified);
    let keys: Vec<(&str, AttributeKind, bool)> =
        before.attributes.iter().map(|a| (a.key.as_str(), a.kind, a.editable)).collect();
    assert_eq!(
        keys,
        [
            ("company", AttributeKind::Text, true),
            ("seats", AttributeKind::Number, true),
            ("newsletter", AttributeKind::Boolean, true),
            ("birthday", AttributeKind::Date, true),
            ("size", AttributeKind::Choice, true),
            ("tier", AttributeKind::Text, false),
        ],
        "configuration order; keys no longer defined are not shown"
    );
    assert_eq!(before.attributes[5].value, "gold");
    assert_eq!(before.attributes[0].hint.as_deref(), Some("As on your invoices."));
    assert!(before.time_zones.iter().any(|z| z == "Europe/Berlin"));
    assert!(before.languages.iter().any(|l| l.value == "de" && l.label == "Deutsch"));

    let res = b.post("/api/account/update-profile", &full_form("Ann L.", "Acme & Co.")).await;
    assert_eq!(redirected_to(res).await, "/account?saved=1");

    let after = profile(&mut b).await;
    assert_eq!(
        (after.values.display_name.as_str(), after.values.locale.as_str(), after.values.time_zone.as_str()),
        ("Ann L.", "de", "Europe/Berlin")
    );
    let shown: Vec<&str> = after.attributes.iter().map(|a| a.value.as_str()).collect();
    assert_eq!(shown, ["Acme & Co.", "12", "true", "1990-05-17", "m", "gold"]);
    let r = row(&app, email).await;
    assert_eq!((r.given_name.as_deref(), r.family_name.as_deref()), (Some("Ann"), Some("Lee")));
    assert_eq!(
        attrs(&r),
        serde_json::json!({
            "tier": "gold", "retired_key": "kept", "company": "Acme & Co.", "seats": 12,
            "newsletter": true, "birthday": "1990-05-17", "size": "m"
        }),
        "typed JSON values; the operator's and the retired attribute kept"
    );

    // the audit log names the fields, never their values
    let events = audit(&app, "profile_updated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].account_id.as_deref(), Some(row(&app, email).await.id.as_str()));
    let detail: serde_json::Value = serde_json::from_str(events[0].detail.as_deref().unwrap()).unwrap();
    assert_eq!(
        detail["fields"],
        serde_json::json!([
            "display_name",
            "given_name",
            "family_name",
            "locale",
            "time_zone",
            "attributes.birthday",
            "attributes.company",
            "attributes.newsletter",
            "attributes.seats",
            "attributes.size"
        ])
    );
    let raw = events[0].detail.clone().unwrap();
    assert!(!raw.contains("Acme") && !raw.contains("Ann") && !raw.contains("Berlin"), "{raw}");

    // emptying optional fields removes them; an absent checkbox is unticked
    let form = [("display_name", ""), ("attributes[company]", ""), ("attributes[size]", "")];
    assert_eq!(redirected_to(b.post("/api/account/update-profile", &form).await).await, "/account?saved=1");
    let r = row(&app, email).await;
    assert_eq!(attrs(&r), serde_json::json!({"tier": "gold", "retired_key": "kept", "newsletter": false}));
    assert_eq!((r.display_name, r.given_name, r.locale, r.time_zone), (None, None, None, None));

    // saving the same again changes nothing and records nothing
    assert_eq!(redirected_to(b.post("/api/account/update-profile", &form).await).await, "/account?saved=1");
    assert_eq!(audit(&app, "profile_updated").await.len(), 2);
}
both!(owner_edits, the_owner_edits_the_profile_and_custom_attributes);

/// Without JavaScript: the browser posts `attributes%5Bkey%5D=value` (brackets percent-encoded), an
/// unticked checkbox posts nothing; success answers 302 to /account?saved=1, a refusal 302 back to the form,
/// which shows the problems at their fields and what was typed.
async fn a_plain_form_post_saves_and_a_refused_one_comes_back_with_errors_and_values(backend: Backend) {
    let app = profile_app(backend).await;
    let email = "bo@example.com";
    verified_account(&app, email).await;
    let (mut b, _) = password_sign_in(&app, email).await;

    let res = b.post_html("/api/account/update-profile", &full_form("Bo", "Initech"), "/account").await;
    assert_eq!((res.status().as_u16(), header(&res, "location")), (302, "/account?saved=1"));
    let r = row(&app, email).await;
    assert_eq!(attrs(&r)["company"], "Initech");
    assert_eq!(attrs(&r)["newsletter"], true);
    let html = body_text(b.get("/account?saved=1").await).await;
    assert!(html.contains("Your profile was saved."), "{html}");
    assert!(html.contains(r#"value="Initech""#), "{html}");

    // the box unticked: the form posts no field for it
    let mut form = full_form("Bo", "Initech");
    form.retain(|(k, _)| *k != "attributes[newsletter]");
    let res = b.post_html("/api/account/update-profile", &form, "/account").await;
    assert_eq!(header(&res, "location"), "/account?saved=1");
    assert_eq!(attrs(&row(&app, email).await)["newsletter"], false);

    // refused: back to the form, problems at their fields, typed values kept, nothing saved
    let mut form = full_form("Bo Typed", "Not/Valid");
    form.retain(|(k, _)| *k != "attributes[seats]");
    form.push(("attributes[seats]", "0"));
    let res = b.post_html("/api/account/update-profile", &form, "/account").await;
    assert_eq!(res.status(), 302);
    assert!(header(&res, "location").starts_with("http://localhost:3000/account?"), "back to the form");
    let html = body_text(b.get("/account").await).await;
    assert!(html.contains("This is not in the expected format."), "{html}");
    assert!(html.contains("Enter 1 or more."), "{html}");
    assert!(html.contains(r#"value="Not/Valid""#) && html.contains(r#"value="Bo Typed""#), "{html}");
    assert!(html.contains(r#"id="field-attributes-company" name="attributes[company]""#), "{html}");
    assert!(html.contains(r#"aria-invalid="true""#), "{html}");
    assert_eq!(row(&app, email).await.display_name.as_deref(), Some("Bo"));
    // shown once: the next visit shows the saved values again
    let html = body_text(b.get("/account").await).await;
    assert!(!html.contains("This is not in the expected format.") && html.contains(r#"value="Initech""#));
}
both!(plain_form, a_plain_form_post_saves_and_a_refused_one_comes_back_with_errors_and_values);

async fn signed_out_visitors_get_nothing_and_change_nothing(backend: Backend) {
    let app = profile_app(backend).await;
    verified_account(&app, "cy@example.com").await;
    let mut b = Browser::new(&app);
    assert_eq!(load(&mut b).await, None);
    let res = b.post("/api/account/update-profile", &full_form("Mallory", "Evil")).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::SignInRequired));
    let res = b.post("/api/account/complete-profile", &[("attributes[company]", "Evil")]).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::SignInRequired));
    let res = b.post("/api/account/complete-profile-state", &[]).await;
    assert_eq!(body_text(res).await, "null");
    assert_eq!(header(&b.get("/account").await, "location"), "/login");
    assert_eq!(header(&b.get("/account/complete-profile").await, "location"), "/login");
    assert_eq!(row(&app, "cy@example.com").await.display_name, None);
    assert!(audit(&app, "profile_updated").await.is_empty());
}
both!(signed_out, signed_out_visitors_get_nothing_and_change_nothing);

/// There is no account parameter to aim at someone else: a request naming another account in every way a
/// crafted form could still writes only the caller's row.
async fn a_crafted_request_changes_only_the_callers_own_row(backend: Backend) {
    let app = profile_app(backend).await;
    verified_account(&app, "dee@example.com").await;
    verified_account(&app, "eli@example.com").await;
    set_attributes(&app, "dee@example.com", r#"{"company": "Dee's"}"#).await;
    let dee_before = row(&app, "dee@example.com").await;
    let dee_id = account_id(&app, "dee@example.com").await;
    let (mut eli, _) = password_sign_in(&app, "eli@example.com").await;

    let mut form = full_form("Owned", "Hijacked");
    form.extend([("id", dee_id.as_str()), ("account_id", dee_id.as_str()), ("email", "dee@example.com")]);
    let res = eli.post("/api/account/update-profile", &form).await;
    assert_eq!(redirected_to(res).await, "/account?saved=1");
    let dee = row(&app, "dee@example.com").await;
    assert_eq!((dee.display_name.clone(), dee.attributes.clone()), (dee_before.display_name, dee_before.attributes));
    assert_eq!(dee.email, "dee@example.com");
    let eli_row = row(&app, "eli@example.com").await;
    assert_eq!(eli_row.display_name.as_deref(), Some("Owned"));
    assert_eq!(eli_row.email, "eli@example.com");
    let events = audit(&app, "profile_updated").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].account_id.as_deref(), Some(eli_row.id.as_str()));
    // and Dee's page still shows Dee's profile
    let (mut dee_browser, _) = password_sign_in(&app, "dee@example.com").await;
    assert_eq!(profile(&mut dee_browser).await.attributes[0].value, "Dee's");
}
both!(crafted_request, a_crafted_request_changes_only_the_callers_own_row);

async fn attributes_only_operators_set_and_unknown_keys_are_refused(backend: Backend) {
    let app = profile_app(backend).await;
    let email = "fay@example.com";
    verified_account(&app, email).await;
    set_attributes(&app, email, r#"{"tier": "bronze"}"#).await;
    let (mut b, _) = password_sign_in(&app, email).await;

    let mut form = full_form("Fay", "Fay Ltd");
    form.push(("attributes[tier]", "platinum"));
    let found = problems(b.post("/api/account/update-profile", &form).await).await;
    assert_eq!(found, [("attributes[tier]".to_string(), "Only the site can change this.".to_string())]);

    let mut form = full_form("Fay", "Fay Ltd");
    form.push(("attributes[is_admin]", "true"));
    let found = problems(b.post("/api/account/update-profile", &form).await).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "attributes[is_admin]");

    let r = row(&app, email).await;
    assert_eq!((attrs(&r), r.display_name), (serde_json::json!({"tier": "bronze"}), None), "nothing saved");
    assert!(audit(&app, "profile_updated").await.is_empty());
}
both!(fixed_and_unknown, attributes_only_operators_set_and_unknown_keys_are_refused);

async fn every_rule_is_enforced_and_all_problems_are_reported_at_once(backend: Backend) {
    let app = profile_app(backend).await;
    let email = "gus@example.com";
    verified_account(&app, email).await;
    let (mut b, _) = password_sign_in(&app, email).await;
    let long = "x".repeat(101);
    let long_company = "a".repeat(41);
    let cases: &[(&str, &str, &str)] = &[
        ("display_name", long.as_str(), "Use at most 100 characters for your name."),
        ("given_name", "Ann\u{7}", "Use a single line without control characters."),
        ("family_name", long.as_str(), "Use at most 100 characters."),
        ("locale", "tlh", "Choose one of the languages."),
        ("time_zone", "Europe/Atlantis", "Choose a time zone from the list."),
        ("attributes[company]", "<script>", "This is not in the expected format."),
        ("attributes[seats]", "2.5", "Enter a whole number."),
        ("attributes[newsletter]", "perhaps", "Tick the box or leave it empty."),
        ("attributes[birthday]", "2021-01-01", "Enter 2020-12-31 or earlier."),
        ("attributes[size]", "xxl", "Choose one of the options."),
    ];
    let form: Vec<(&str, &str)> = cases.iter().map(|(f, v, _)| (*f, *v)).collect();
    let found = problems(b.post("/api/account/update-profile", &form).await).await;
    let expected: Vec<(String, String)> = cases.iter().map(|(f, _, m)| (f.to_string(), m.to_string())).collect();
    assert_eq!(found, expected);

    // and each further rule on its own
    let more: &[(&str, &str, &str)] = &[
        ("attributes[company]", long_company.as_str(), "Use at most 40 characters."),
        ("attributes[seats]", "501", "Enter 500 or less."),
        ("attributes[seats]", "twelve", "Enter a number, like 42 or 3.5."),
        ("attributes[birthday]", "1899-12-31", "Enter 1900-01-01 or later."),
        ("attributes[birthday]", "17.05.1990", "Enter a date as YYYY-MM-DD."),
        ("attributes[birthday]", "2019-02-29", "Enter a date as YYYY-MM-DD."),
    ];
    for (field, value, message) in more {
        let found = problems(b.post("/api/account/update-profile", &[(*field, *value)]).await).await;
        assert_eq!(found, [(field.to_string(), message.to_string())], "{field} = {value}");
    }
    let r = row(&app, email).await;
    assert_eq!((attrs(&r), r.display_name), (serde_json::json!({}), None), "nothing saved");
}
both!(rules, every_rule_is_enforced_and_all_problems_are_reported_at_once);

/// Progressive profiling: after each sign-in the account that lacks a required attribute is asked once;
/// "Not now" continues; filling it in saves and ends the questions.
async fn a_missing_required_attribute_is_asked_for_once_after_each_sign_in(backend: Backend) {
    let app = prompt_app(backend, MfaPolicy::Optional).await;
    let email = "hal@example.com";
    verified_account(&app, email).await;
    let (mut b, next) = password_sign_in(&app, email).await;
    assert_eq!(next, "/account");
    assert_eq!(load(&mut b).await, Some(AccountPageLoad::CompleteProfileFirst));
    assert_eq!(header(&b.get("/account").await, "location"), "/account/complete-profile");

    // the question: just the missing required attribute
    let res = b.get("/account/complete-profile").await;
    assert_eq!(res.status(), 200);
    let html = body_text(res).await;
    assert!(html.contains("Employee number") && html.contains(r#"name="attributes[employee_id]""#), "{html}");
    assert!(!html.contains("attributes[company]"), "only the missing required attributes");
    assert!(html.contains(r#"href="/account""#) && html.contains("Not now"), "{html}");
    // asked once: "Not now" (a plain link to /account) continues to the profile
    let res = b.get("/account").await;
    assert_eq!(res.status(), 200);
    assert!(body_text(res).await.contains("data-account-email"));
    assert!(matches!(load(&mut b).await, Some(AccountPageLoad::Profile(_))));
    // the profile form itself asks for it too, as required
    let state = profile(&mut b).await;
    let field = state.attributes.iter().find(|a| a.key == "employee_id").unwrap();
    assert!(field.required && field.editable);
    let found = problems(b.post("/api/account/update-profile", &[("display_name", "Hal")]).await).await;
    assert_eq!(found, [("attributes[employee_id]".to_string(), "This is required.".to_string())]);

    // the next sign-in asks again
    let (mut b, _) = password_sign_in(&app, email).await;
    assert_eq!(load(&mut b).await, Some(AccountPageLoad::CompleteProfileFirst));
    let state: CompleteProfileState =
        serde_json::from_str(&body_text(b.post("/api/account/complete-profile-state", &[]).await).await).unwrap();
    assert_eq!(state.missing.iter().map(|f| f.key.as_str()).collect::<Vec<_>>(), ["employee_id"]);
    assert!(matches!(load(&mut b).await, Some(AccountPageLoad::Profile(_))), "showing it answered it");

    // saving there: validated like the profile form; only required attributes may be posted there
    let found = problems(b.post("/api/account/complete-profile", &[("attributes[employee_id]", "")]).await).await;
    assert_eq!(found, [("attributes[employee_id]".to_string(), "This is required.".to_string())]);
    let found = problems(b.post("/api/account/complete-profile", &[("attributes[employee_id]", "12")]).await).await;
    assert_eq!(found, [("attributes[employee_id]".to_string(), "This is not in the expected format.".to_string())]);
    let form = [("attributes[employee_id]", "E1234"), ("attributes[company]", "Acme")];
    let found = problems(b.post("/api/account/complete-profile", &form).await).await;
    assert_eq!(found.iter().map(|p| p.0.as_str()).collect::<Vec<_>>(), ["attributes[company]"]);
    // without JavaScript, a refusal comes back to the question with the message and the typed value
    let form = [("attributes[employee_id]", "X99")];
    let res = b.post_html("/api/account/complete-profile", &form, "/account/complete-profile").await;
    assert!(header(&res, "location").starts_with("http://localhost:3000/account/complete-profile?"));
    let html = body_text(b.get("/account/complete-profile").await).await;
    assert!(html.contains("This is not in the expected format.") && html.contains(r#"value="X99""#), "{html}");
    let form = [("attributes[employee_id]", " E1234 ")];
    let res = b.post_html("/api/account/complete-profile", &form, "/account/complete-profile").await;
    assert_eq!((res.status().as_u16(), header(&res, "location")), (302, "/account?saved=1"));
    assert_eq!(attrs(&row(&app, email).await), serde_json::json!({"employee_id": "E1234"}));
    assert_eq!(audit(&app, "profile_updated").await.len(), 1);
    // nothing left to ask: the page continues to /account, and later sign-ins are not asked
    assert_eq!(header(&b.get("/account/complete-profile").await, "location"), "/account");
    let (mut b, _) = password_sign_in(&app, email).await;
    assert!(matches!(load(&mut b).await, Some(AccountPageLoad::Profile(_))));
    assert_eq!(b.get("/account").await.status(), 200);
}
both!(prompt, a_missing_required_attribute_is_asked_for_once_after_each_sign_in);

/// An account that has every required attribute is never asked; neither is anyone when none is required.
async fn nobody_is_asked_when_nothing_required_is_missing(backend: Backend) {
    let app = prompt_app(backend, MfaPolicy::Optional).await;
    verified_account(&app, "ida@example.com").await;
    set_attributes(&app, "ida@example.com", r#"{"employee_id": "E0001"}"#).await;
    let (mut b, _) = password_sign_in(&app, "ida@example.com").await;
    assert!(matches!(load(&mut b).await, Some(AccountPageLoad::Profile(_))));
    assert_eq!(b.get("/account").await.status(), 200);

    // an unanswered question of an earlier sign-in in this browser (another account's) does not carry over
    verified_account(&app, "jo@example.com").await;
    let res = b.post("/api/auth/login", &[("email", "jo@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/account");
    assert_eq!(load(&mut b).await, Some(AccountPageLoad::CompleteProfileFirst));
    let res = b.post("/api/auth/login", &[("email", "ida@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/account");
    assert!(matches!(load(&mut b).await, Some(AccountPageLoad::Profile(_))));

    // without required attributes nobody is asked
    let app = profile_app(backend).await;
    verified_account(&app, "kai@example.com").await;
    let (mut b, _) = password_sign_in(&app, "kai@example.com").await;
    assert!(matches!(load(&mut b).await, Some(AccountPageLoad::Profile(_))));
}
both!(no_prompt, nobody_is_asked_when_nothing_required_is_missing);

/// Under `mfa.policy = "required"` setting up a second factor comes first; the question comes after.
async fn the_mfa_setup_comes_before_the_question(backend: Backend) {
    let app = prompt_app(backend, MfaPolicy::Required).await;
    let email = "lea@example.com";
    verified_account(&app, email).await;
    let (mut b, next) = password_sign_in(&app, email).await;
    assert_eq!(next, "/account/security");
    let res = b.post("/api/account/profile", &[]).await;
    assert_eq!(refusal(res).await, (403, ErrorKind::MfaSetupRequired));
    for page in ["/account", "/account/complete-profile"] {
        assert_eq!(header(&b.get(page).await, "location"), "/account/security", "{page}");
    }
    let res = b.post("/api/account/update-profile", &[("attributes[employee_id]", "E1234")]).await;
    assert_eq!(refusal(res).await, (403, ErrorKind::MfaSetupRequired));
    let res = b.post("/api/account/complete-profile", &[("attributes[employee_id]", "E1234")]).await;
    assert_eq!(refusal(res).await, (403, ErrorKind::MfaSetupRequired));
    assert_eq!(attrs(&row(&app, email).await), serde_json::json!({}));

    // the factor set up, the question that waited is asked
    enrol(&mut b).await;
    assert_eq!(header(&b.get("/account").await, "location"), "/account/complete-profile");
    assert_eq!(b.get("/account/complete-profile").await.status(), 200);
    assert_eq!(b.get("/account").await.status(), 200);
}
both!(mfa_first, the_mfa_setup_comes_before_the_question);
