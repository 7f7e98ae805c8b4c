//! "Where from" in words, for security notices ("Chrome on Linux, IP 198.51.100.7") and, later, the
//! sessions page. User-agent strings are parsed by woothee (a maintained, data-driven parser): hand-written
//! matching would rot as browsers change.

use crate::core::audit::RequestMeta;

/// Browser and operating system of a user-agent string, e.g. "Chrome on Linux"; `None` when unknown.
pub fn browser_and_os(user_agent: &str) -> Option<String> {
    let parsed = woothee::parser::Parser::new().parse(user_agent)?;
    let known = |s: &str| !s.is_empty() && s != woothee::woothee::VALUE_UNKNOWN;
    match (known(parsed.name), known(parsed.os)) {
        (true, true) => Some(format!("{} on {}", parsed.name, parsed.os)),
        (true, false) => Some(parsed.name.to_string()),
        (false, true) => Some(parsed.os.to_string()),
        (false, false) => None,
    }
}

/// The request's origin for a notice: browser, operating system and IP address, as far as known.
pub fn describe(meta: &RequestMeta) -> String {
    let browser = meta.user_agent.as_deref().and_then(browser_and_os);
    match (browser, meta.ip.as_deref()) {
        (Some(browser), Some(ip)) => format!("{browser}, IP {ip}"),
        (Some(browser), None) => browser,
        (None, Some(ip)) => format!("IP {ip}"),
        (None, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 \
                      Safari/537.36";
        assert_eq!(browser_and_os(chrome).as_deref(), Some("Chrome on Linux"));
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like \
                      Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(browser_and_os(safari).as_deref(), Some("Safari on iPhone"));
        assert_eq!(browser_and_os("curl-ish nonsense"), None);
    }

    #[test]
    fn origins_combine_what_is_known() {
        let meta = |ua: Option<&str>, ip: Option<&str>| RequestMeta {
            user_agent: ua.map(str::to_owned),
            ip: ip.map(str::to_owned),
            operation_id: None,
        };
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
        assert_eq!(describe(&meta(Some(firefox), Some("192.0.2.1"))), "Firefox on Windows 10, IP 192.0.2.1");
        assert_eq!(describe(&meta(None, Some("192.0.2.1"))), "IP 192.0.2.1");
        assert_eq!(describe(&meta(None, None)), "");
    }
}
