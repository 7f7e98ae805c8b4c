//! `trusted_proxies`: the peers whose `X-Forwarded-For` names the client. Entries are single addresses
//! (`10.0.0.7`) or ranges in CIDR form (`10.0.0.0/8`, `fd00::/8`), as load balancers in a cluster come and
//! go within a subnet.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

/// The configured reverse proxies; cheap to clone into middleware state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Arc<[IpNet]>);

impl TrustedProxies {
    /// Reads the configured entries; each wrong one is named in the problems returned.
    pub fn parse(entries: &[String]) -> Result<Self, Vec<String>> {
        let mut nets = Vec::with_capacity(entries.len());
        let mut problems = Vec::new();
        for entry in entries {
            match parse_entry(entry.trim()) {
                Ok(net) => nets.push(net),
                Err(why) => problems.push(format!("trusted_proxies entry {entry:?} {why}")),
            }
        }
        if problems.is_empty() {
            Ok(Self(nets.into()))
        } else {
            Err(problems)
        }
    }

    /// The proxies of `entries`, for tests; panics on a wrong one.
    #[cfg(test)]
    pub(crate) fn of(entries: &[&str]) -> Self {
        let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
        Self::parse(&entries).unwrap_or_else(|p| panic!("{p:?}"))
    }

    /// Whether `ip` is one of the proxies. IPv4 peers of a dual-stack listener arrive as IPv4-mapped IPv6
    /// addresses (`::ffff:10.0.0.7`); they count as the IPv4 address they carry.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }
}

fn parse_entry(entry: &str) -> Result<IpNet, String> {
    const NOT_AN_ADDRESS: &str = "is not an IP address or a CIDR range like 10.0.0.0/8";
    if !entry.contains('/') {
        let ip: IpAddr = entry.parse().map_err(|_| NOT_AN_ADDRESS.to_string())?;
        return Ok(IpNet::from(ip.to_canonical()));
    }
    let net: IpNet = entry.parse().map_err(|_| NOT_AN_ADDRESS.to_string())?;
    if net.prefix_len() == 0 {
        // every address would be a proxy: any client could then name itself in X-Forwarded-For
        return Err("trusts every address (prefix /0); list the proxies' own range".into());
    }
    if net.network() != net.addr() {
        // `10.0.0.7/8` is one address or `10.0.0.0/8` mistyped: ask rather than guess which
        return Err(format!(
            "has bits set after its prefix: write {} for the range, or the address alone",
            net.trunc()
        ));
    }
    Ok(net)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn single_addresses_and_ranges_match_what_they_cover_and_nothing_else() {
        let p = TrustedProxies::of(&["192.0.2.10", " 10.0.0.0/8 ", "fd00::/8", "2001:db8::1"]);
        for inside in ["192.0.2.10", "10.0.0.1", "10.255.255.255", "fd12:3456::1", "2001:db8::1"] {
            assert!(p.contains(ip(inside)), "{inside}");
        }
        for outside in ["192.0.2.11", "11.0.0.1", "9.255.255.255", "fe80::1", "2001:db8::2", "::1", "127.0.0.1"] {
            assert!(!p.contains(ip(outside)), "{outside}");
        }
        assert!(!TrustedProxies::default().contains(ip("10.0.0.1")), "none configured: nobody is a proxy");
    }

    #[test]
    fn ipv4_mapped_peers_count_as_their_ipv4_address() {
        let p = TrustedProxies::of(&["10.0.0.0/8", "192.0.2.10"]);
        assert!(p.contains(ip("::ffff:10.1.2.3")));
        assert!(p.contains(ip("::ffff:192.0.2.10")));
        assert!(!p.contains(ip("::ffff:192.0.2.11")));
        // and an entry written in the mapped form means the IPv4 address
        assert!(TrustedProxies::of(&["::ffff:192.0.2.10"]).contains(ip("192.0.2.10")));
    }

    #[test]
    fn wrong_entries_are_each_named_with_the_reason() {
        let entries: Vec<String> = ["10.0.0.1", "proxy.internal", "0.0.0.0/0", "::/0", "10.0.0.7/8", "10.0.0.0/33"]
            .iter()
            .map(|e| e.to_string())
            .collect();
        let problems = TrustedProxies::parse(&entries).err().unwrap_or_default();
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems[0].contains("proxy.internal") && problems[0].contains("not an IP address"));
        assert!(problems[1].contains("0.0.0.0/0") && problems[1].contains("every address"));
        assert!(problems[2].contains("::/0") && problems[2].contains("every address"));
        assert!(problems[3].contains("10.0.0.7/8") && problems[3].contains("write 10.0.0.0/8"), "{problems:?}");
        assert!(problems[4].contains("10.0.0.0/33") && problems[4].contains("not an IP address"));
    }
}
