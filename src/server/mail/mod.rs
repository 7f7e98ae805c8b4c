//! Outgoing mail: SMTP through lettre when `[smtp]` is configured, otherwise the outbox, which writes each
//! message as an .eml file under `<data_dir>/outbox` (listed at `/dev/outbox` in dev mode).

pub mod notices;
mod outbox;
pub mod templates;

use lettre::message::{header::ContentType, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

pub use outbox::Outbox;

use crate::server::config::{Config, SmtpSecurity};

/// A rendered message, ready to send.
pub struct OutgoingMail {
    pub to: Mailbox,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("could not build the message: {0}")]
    Build(String),
    #[error("SMTP delivery failed: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("writing to the outbox failed: {0}")]
    Outbox(#[from] std::io::Error),
    #[error("rendering the template failed: {0}")]
    Template(#[from] askama::Error),
}

#[derive(Clone)]
pub enum Mailer {
    Smtp { transport: AsyncSmtpTransport<Tokio1Executor>, from: Mailbox },
    Outbox { outbox: Outbox, from: Mailbox },
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Self, MailError> {
        let Some(smtp) = &config.smtp else {
            let from: Mailbox =
                "Vestibule <no-reply@localhost>".parse().map_err(|e| MailError::Build(format!("{e}")))?;
            return Ok(Mailer::Outbox { outbox: Outbox::new(config.data_dir.join("outbox")), from });
        };
        let from: Mailbox = smtp.from.parse().map_err(|e| MailError::Build(format!("smtp.from: {e}")))?;
        let mut builder = match smtp.security {
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
            SmtpSecurity::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        };
        if let Some(port) = smtp.port {
            builder = builder.port(port);
        }
        if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_string()));
        }
        Ok(Mailer::Smtp { transport: builder.build(), from })
    }

    /// The outbox, when mail goes there.
    pub fn outbox(&self) -> Option<&Outbox> {
        match self {
            Mailer::Outbox { outbox, .. } => Some(outbox),
            Mailer::Smtp { .. } => None,
        }
    }

    /// Sends one message. Failures are returned, never swallowed: callers tell the user to try again.
    #[tracing::instrument(skip_all)]
    pub async fn send(&self, mail: OutgoingMail) -> Result<(), MailError> {
        let (from, to, subject) = (self.from().clone(), mail.to.clone(), mail.subject.clone());
        let message = Message::builder()
            .from(from)
            .to(to.clone())
            .subject(subject.clone())
            .message_id(None)
            .multipart(
                MultiPart::alternative()
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text))
                    .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html)),
            )
            .map_err(|e| MailError::Build(e.to_string()))?;
        match self {
            Mailer::Smtp { transport, .. } => {
                transport.send(message).await?;
            }
            Mailer::Outbox { outbox, .. } => outbox.write(&message, &to, &subject).await?,
        }
        tracing::info!("mail sent");
        Ok(())
    }

    fn from(&self) -> &Mailbox {
        match self {
            Mailer::Smtp { from, .. } | Mailer::Outbox { from, .. } => from,
        }
    }
}
