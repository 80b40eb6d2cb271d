//! Mail: one way to send, through SES v2 `SendEmail`.
//!
//! Only the mail job calls [`Mailer::send`]; routes enqueue an [`Email`] instead of sending it, so an HTTP answer
//! never waits for SES and a failed send is retried by the queue.

use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::aws::describe;

/// One outgoing mail.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Email {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
}

/// The `send-email` job's payload: one mail.
impl crate::jobs::Payload for Email {
    const KIND: crate::jobs::JobKind = crate::jobs::JobKind::SendEmail;
}

#[derive(Debug, thiserror::Error)]
#[error("mail: {0}")]
pub struct MailError(pub String);

#[derive(Clone)]
pub struct Mailer {
    ses: crate::aws::LazyClient<aws_sdk_sesv2::Client>,
    from: String,
}

impl Mailer {
    pub fn new(sdk: &aws_config::SdkConfig, from: impl Into<String>) -> Self {
        Self { ses: crate::aws::LazyClient::new(sdk), from: from.into() }
    }

    fn ses(&self) -> &aws_sdk_sesv2::Client {
        self.ses.get_or_make(aws_sdk_sesv2::Client::new)
    }

    /// Sends the mail; returns SES's message id.
    pub async fn send(&self, email: &Email) -> Result<String, MailError> {
        let utf8 =
            |text: &str| Content::builder().data(text).charset("UTF-8").build().map_err(|e| MailError(e.to_string()));
        let mut body = Body::builder().text(utf8(&email.text)?);
        if let Some(html) = &email.html {
            body = body.html(utf8(html)?);
        }
        let message = Message::builder().subject(utf8(&email.subject)?).body(body.build()).build();
        let mut request = self
            .ses()
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().set_to_addresses(Some(email.to.clone())).build())
            .content(EmailContent::builder().simple(message).build());
        if let Some(reply_to) = &email.reply_to {
            request = request.reply_to_addresses(reply_to);
        }
        let sent = request.send().await.map_err(|e| MailError(describe(&e)))?;
        Ok(sent.message_id.unwrap_or_default())
    }
}
