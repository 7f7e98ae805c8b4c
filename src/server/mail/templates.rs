//! Message templates. Each message has a text and an HTML part rendered from files in `src/server/templates/mail/`;
//! the HTML part escapes every value, so text a user typed cannot become markup. askama binds one template
//! file to one struct, hence the Html/Text struct pairs with the same fields.

use askama::Template;
use lettre::message::Mailbox;

use super::{MailError, OutgoingMail};
use crate::i18n::t;

#[derive(Template)]
#[template(path = "mail/test.html")]
struct TestHtml<'a> {
    subject: &'a str,
    body: &'a str,
    note: &'a str,
    footer: &'a str,
    public_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/test.txt")]
struct TestText<'a> {
    subject: &'a str,
    body: &'a str,
    note: &'a str,
    footer: &'a str,
    public_url: &'a str,
}

/// The message `vestibule mail-test` sends to check the mail settings; `note` is free text from the operator.
pub fn test_message(to: Mailbox, note: &str, public_url: &str) -> Result<OutgoingMail, MailError> {
    let subject = t("mail.test.subject");
    let (body, footer) = (t("mail.test.body"), t("mail.footer"));
    Ok(OutgoingMail {
        to,
        subject: subject.to_string(),
        text: TestText { subject, body, note, footer, public_url }.render()?,
        html: TestHtml { subject, body, note, footer, public_url }.render()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_part_escapes_what_a_person_typed_and_text_part_keeps_it() {
        let to: Mailbox = "a@example.com".parse().unwrap_or_else(|e| panic!("{e}"));
        let mail = test_message(to, "<script>alert(1)</script> & \"x\"", "http://localhost:3000")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!mail.html.contains("<script>"), "{}", mail.html);
        assert!(mail.html.contains("&#60;script&#62;alert(1)&#60;/script&#62; &#38;"), "{}", mail.html);
        assert!(mail.text.contains("<script>alert(1)</script> & \"x\""));
        assert!(mail.html.contains(t("mail.test.body")));
    }
}

#[derive(Template)]
#[template(path = "mail/verify.html")]
struct VerifyHtml<'a> {
    subject: &'a str,
    intro: &'a str,
    code: &'a str,
    link_intro: &'a str,
    link: &'a str,
    expiry: &'a str,
    ignore: &'a str,
    footer: &'a str,
    public_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/verify.txt")]
struct VerifyText<'a> {
    subject: &'a str,
    intro: &'a str,
    code: &'a str,
    link_intro: &'a str,
    link: &'a str,
    expiry: &'a str,
    ignore: &'a str,
    footer: &'a str,
    public_url: &'a str,
}

/// The words around a code and a link: which flow they are for and what to do.
pub struct CodeTexts {
    pub subject: &'static str,
    pub intro: &'static str,
    pub link_intro: &'static str,
    pub expiry: &'static str,
    pub ignore: &'static str,
}

/// A code and a link: confirming an address, signing in, recovering the account.
pub fn code_message(
    to: Mailbox,
    texts: &CodeTexts,
    code: &str,
    link: &str,
    public_url: &str,
) -> Result<OutgoingMail, MailError> {
    let CodeTexts { subject, intro, link_intro, expiry, ignore } = *texts;
    let footer = t("mail.footer");
    Ok(OutgoingMail {
        to,
        subject: subject.to_string(),
        text: VerifyText { subject, intro, code, link_intro, link, expiry, ignore, footer, public_url }.render()?,
        html: VerifyHtml { subject, intro, code, link_intro, link, expiry, ignore, footer, public_url }.render()?,
    })
}

/// The info message's template (first written for repeated sign-ups, hence the file name).
#[derive(Template)]
#[template(path = "mail/signup_attempted.html")]
struct AttemptHtml<'a> {
    subject: &'a str,
    body: &'a str,
    advice: &'a str,
    login_link: &'a str,
    footer: &'a str,
    public_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/signup_attempted.txt")]
struct AttemptText<'a> {
    subject: &'a str,
    body: &'a str,
    advice: &'a str,
    login_link: &'a str,
    footer: &'a str,
    public_url: &'a str,
}

/// Something someone asked for with this address, and what to do about it (`path`: the page the advice
/// links to). E.g. a sign-up with an address that already has an account.
pub fn info_message(
    to: Mailbox,
    subject: &str,
    body: &str,
    advice: &str,
    path: &str,
    public_url: &str,
) -> Result<OutgoingMail, MailError> {
    let footer = t("mail.footer");
    let login_link = format!("{}{path}", public_url.trim_end_matches('/'));
    let login_link = login_link.as_str();
    Ok(OutgoingMail {
        to,
        subject: subject.to_string(),
        text: AttemptText { subject, body, advice, login_link, footer, public_url }.render()?,
        html: AttemptHtml { subject, body, advice, login_link, footer, public_url }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/security_notice.html")]
struct NoticeHtml<'a> {
    subject: &'a str,
    body: &'a str,
    when: &'a str,
    advice: &'a str,
    link: &'a str,
    footer: &'a str,
    public_url: &'a str,
}

#[derive(Template)]
#[template(path = "mail/security_notice.txt")]
struct NoticeText<'a> {
    subject: &'a str,
    body: &'a str,
    when: &'a str,
    advice: &'a str,
    link: &'a str,
    footer: &'a str,
    public_url: &'a str,
}

/// A change to how the account signs in, told to its address. `body` already names what changed; `at` is
/// Unix seconds.
pub fn security_notice(
    to: Mailbox,
    subject: &str,
    body: &str,
    at: i64,
    public_url: &str,
) -> Result<OutgoingMail, MailError> {
    security_notice_with_advice(to, subject, body, t("mail.notice.advice"), "/account/security", at, public_url)
}

/// `security_notice` with its own advice, linking to `path` (e.g. when the usual "sign in and review"
/// cannot help: the address itself was changed).
pub fn security_notice_with_advice(
    to: Mailbox,
    subject: &str,
    body: &str,
    advice: &str,
    path: &str,
    at: i64,
    public_url: &str,
) -> Result<OutgoingMail, MailError> {
    let when = time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc2822).ok())
        .map(|t| t.replace("+0000", "UTC"))
        .unwrap_or_default();
    let when = t("mail.notice.when").replace("{when}", &when);
    let footer = t("mail.footer");
    let link = format!("{}{path}", public_url.trim_end_matches('/'));
    let (when, link) = (when.as_str(), link.as_str());
    Ok(OutgoingMail {
        to,
        subject: subject.to_string(),
        text: NoticeText { subject, body, when, advice, link, footer, public_url }.render()?,
        html: NoticeHtml { subject, body, when, advice, link, footer, public_url }.render()?,
    })
}
