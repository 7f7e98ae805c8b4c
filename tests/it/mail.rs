//! Mail over real SMTP: a minimal sink on loopback that speaks enough of RFC 5321 to accept one message.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use vestibule::server::config::{SmtpConfig, SmtpSecurity};
use vestibule::server::mail::{templates, Mailer};

use crate::support::base_config;

async fn smtp_sink() -> (u16, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 sink ESMTP\r\n").await.unwrap();
        let mut data = String::new();
        let mut in_data = false;
        while let Some(line) = lines.next_line().await.unwrap() {
            if in_data {
                if line == "." {
                    in_data = false;
                    write.write_all(b"250 queued\r\n").await.unwrap();
                } else {
                    data.push_str(&line);
                    data.push('\n');
                }
                continue;
            }
            let verb = line.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 sink\r\n",
                "DATA" => {
                    in_data = true;
                    b"354 go ahead\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"250 ok\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
        data
    });
    (port, task)
}

#[tokio::test]
async fn mail_goes_through_smtp_when_configured() {
    let (port, sink) = smtp_sink().await;
    let dir = tempfile::tempdir().unwrap();
    let mut raw = base_config(&dir);
    raw.smtp = Some(SmtpConfig {
        host: "127.0.0.1".into(),
        port: Some(port),
        security: SmtpSecurity::Plain,
        username: None,
        password: None,
        from: "Vestibule <no-reply@example.com>".into(),
    });
    let config = raw.validate().unwrap_or_else(|e| panic!("{e}"));
    let mailer = Mailer::from_config(&config).unwrap();
    assert!(mailer.outbox().is_none());
    let to = "bob@example.com".parse().unwrap();
    mailer.send(templates::test_message(to, "<i>ticket 42</i>", "http://localhost:3000").unwrap()).await.unwrap();
    drop(mailer); // closes the pooled connection so the sink sees QUIT or EOF
    let data = sink.await.unwrap();
    assert!(data.contains("Subject: Vestibule test message"), "{data}");
    assert!(data.contains("To: bob@example.com"), "{data}");
    assert!(data.contains("From: Vestibule <no-reply@example.com>"), "{data}");
    assert!(data.contains("&#60;i&#62;ticket 42&#60;/i&#62;"), "HTML part escaped: {data}");
    assert!(!dir.path().join("data/outbox").exists(), "nothing written to the outbox");
}
