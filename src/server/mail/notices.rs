//! The mail each flow's `Notice` becomes: which template, with which words.

use lettre::message::Mailbox;

use super::templates::{self, CodeTexts};
use super::{MailError, OutgoingMail};
use crate::core::accounts::Notice;
use crate::core::roles::Role;
use crate::i18n::t;
use crate::types::EmailFlow;

/// Renders `notice`; `now` (Unix seconds) is the "when" of security notices.
pub fn render(notice: &Notice, public_url: &str, now: i64) -> Result<OutgoingMail, MailError> {
    let security =
        |to: &str, subject: &str, body: &str| templates::security_notice(mailbox(to)?, subject, body, now, public_url);
    match notice {
        Notice::VerifyEmail { to, code, link } => {
            let texts = CodeTexts {
                subject: t("mail.verify.subject"),
                intro: t("mail.verify.intro"),
                link_intro: t("mail.verify.link_intro"),
                expiry: t("mail.verify.expiry"),
                ignore: t("mail.verify.ignore"),
            };
            templates::code_message(mailbox(to)?, &texts, code, link, public_url)
        }
        Notice::EmailCode { to, flow, code, link } => {
            let texts = match flow {
                EmailFlow::SignIn => CodeTexts {
                    subject: t("mail.sign_in_code.subject"),
                    intro: t("mail.sign_in_code.intro"),
                    link_intro: t("mail.email_code.link_intro"),
                    expiry: t("mail.email_code.expiry"),
                    ignore: t("mail.sign_in_code.ignore"),
                },
                EmailFlow::Recover => CodeTexts {
                    subject: t("mail.recover_code.subject"),
                    intro: t("mail.recover_code.intro"),
                    link_intro: t("mail.email_code.link_intro"),
                    expiry: t("mail.email_code.expiry"),
                    ignore: t("mail.recover_code.ignore"),
                },
            };
            templates::code_message(mailbox(to)?, &texts, code, link, public_url)
        }
        Notice::SignUpAttempted { to } => {
            let texts = (t("mail.attempt.subject"), t("mail.attempt.body"), t("mail.attempt.advice"));
            info(to, texts, "/login", public_url)
        }
        Notice::NoAccount { to, flow } => {
            let subject = match flow {
                EmailFlow::SignIn => t("mail.no_account.sign_in.subject"),
                EmailFlow::Recover => t("mail.no_account.recover.subject"),
            };
            let body = match flow {
                EmailFlow::SignIn => t("mail.no_account.sign_in.body"),
                EmailFlow::Recover => t("mail.no_account.recover.body"),
            };
            info(to, (subject, body, t("mail.no_account.advice")), "/signup", public_url)
        }
        Notice::EmailCodeRefused { to, flow: EmailFlow::SignIn } => {
            let texts = (
                t("mail.code_refused.sign_in.subject"),
                t("mail.code_refused.sign_in.body"),
                t("mail.code_refused.sign_in.advice"),
            );
            info(to, texts, "/recover", public_url)
        }
        Notice::EmailCodeRefused { to, flow: EmailFlow::Recover } => {
            let texts = (
                t("mail.code_refused.recover.subject"),
                t("mail.code_refused.recover.body"),
                t("mail.code_refused.recover.advice"),
            );
            info(to, texts, "/login", public_url)
        }
        Notice::PasskeyAdded { to, name } => {
            security(to, t("mail.passkey_added.subject"), &t("mail.passkey_added.body").replace("{name}", name))
        }
        Notice::PasskeyRemoved { to, name } => {
            security(to, t("mail.passkey_removed.subject"), &t("mail.passkey_removed.body").replace("{name}", name))
        }
        Notice::PasswordRemoved { to } => {
            security(to, t("mail.password_removed.subject"), t("mail.password_removed.body"))
        }
        Notice::FactorAdded { to, factor: "security_key" } => {
            security(to, t("mail.security_key_added.subject"), t("mail.security_key_added.body"))
        }
        Notice::FactorAdded { to, .. } => security(to, t("mail.totp_added.subject"), t("mail.totp_added.body")),
        Notice::FactorRemoved { to, factor: "security_key" } => {
            security(to, t("mail.security_key_removed.subject"), t("mail.security_key_removed.body"))
        }
        Notice::FactorRemoved { to, .. } => security(to, t("mail.totp_removed.subject"), t("mail.totp_removed.body")),
        Notice::RecoveryCodesReplaced { to } => {
            security(to, t("mail.recovery_codes_replaced.subject"), t("mail.recovery_codes_replaced.body"))
        }
        Notice::EmailSignInNewBrowser { to, from } => security(
            to,
            t("mail.new_browser.subject"),
            &t("mail.new_browser.body").replace("{from}", from_or_unknown(from)),
        ),
        Notice::PasswordChanged { to, from, first } => {
            let (subject, body) = if *first {
                (t("mail.password_set.subject"), t("mail.password_set.body"))
            } else {
                (t("mail.password_changed.subject"), t("mail.password_changed.body"))
            };
            security(to, subject, &body.replace("{from}", from_or_unknown(from)))
        }
        Notice::PasswordReset { to, from } => security(
            to,
            t("mail.password_reset.subject"),
            &t("mail.password_reset.body").replace("{from}", from_or_unknown(from)),
        ),
        Notice::DeletionScheduled { to, due_at } => {
            let body = t("mail.deletion_scheduled.body").replace("{when}", &mail_date(*due_at));
            let texts = (t("mail.deletion_scheduled.subject"), body.as_str(), t("mail.deletion_scheduled.advice"));
            info(to, texts, "/login", public_url)
        }
        Notice::DeletionCancelled { to } => {
            security(to, t("mail.deletion_cancelled.subject"), t("mail.deletion_cancelled.body"))
        }
        // the person did not do this themselves: the advice is to ask the portal's operators, and the
        // link goes to the account's activity, where the change is listed
        Notice::RoleGranted { to, role: Role::Admin } | Notice::RoleRevoked { to, role: Role::Admin } => {
            let (subject, body) = if matches!(notice, Notice::RoleGranted { .. }) {
                (t("mail.admin_granted.subject"), t("mail.admin_granted.body"))
            } else {
                (t("mail.admin_revoked.subject"), t("mail.admin_revoked.body"))
            };
            let advice = t("mail.role.advice");
            templates::security_notice_with_advice(
                mailbox(to)?,
                subject,
                body,
                advice,
                "/account/activity",
                now,
                public_url,
            )
        }
        Notice::EmailChangeCode { to, code, link } => {
            let texts = CodeTexts {
                subject: t("mail.change_email.subject"),
                intro: t("mail.change_email.intro"),
                link_intro: t("mail.email_code.link_intro"),
                expiry: t("mail.email_code.expiry"),
                ignore: t("mail.change_email.ignore"),
            };
            templates::code_message(mailbox(to)?, &texts, code, link, public_url)
        }
        Notice::EmailChangeTaken { to } => {
            let texts = (
                t("mail.change_email_taken.subject"),
                t("mail.change_email_taken.body"),
                t("mail.change_email_taken.advice"),
            );
            info(to, texts, "/login", public_url)
        }
        Notice::EmailChanged { to, new_masked, from } => {
            let body =
                t("mail.email_changed.body").replace("{new}", new_masked).replace("{from}", from_or_unknown(from));
            let advice = t("mail.email_changed.advice");
            templates::security_notice_with_advice(
                mailbox(to)?,
                t("mail.email_changed.subject"),
                &body,
                advice,
                "/login",
                now,
                public_url,
            )
        }
    }
}

fn mailbox(address: &str) -> Result<Mailbox, MailError> {
    address.parse().map_err(|e: lettre::address::AddressError| MailError::Build(e.to_string()))
}

/// A time in a message: RFC 2822 in UTC, as security notices show theirs.
fn mail_date(at: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc2822).ok())
        .map(|t| t.replace("+0000", "UTC"))
        .unwrap_or_default()
}

fn from_or_unknown(from: &str) -> &str {
    if from.is_empty() {
        t("mail.from_unknown")
    } else {
        from
    }
}

/// An info message: (subject, body, advice), the advice linking to `path`.
fn info(
    to: &str,
    (subject, body, advice): (&str, &str, &str),
    path: &str,
    public_url: &str,
) -> Result<OutgoingMail, MailError> {
    templates::info_message(mailbox(to)?, subject, body, advice, path, public_url)
}
