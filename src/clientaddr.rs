//! Which address a request comes from, for the per-client limits: the peer, unless the peer is
//! one of `server.trusted_proxies`; then the forwarding header, read from the right, skipping
//! the trusted proxies in it. A header sent by anybody else is ignored, so it cannot be spoofed.

use ipnet::IpNet;
use std::net::IpAddr;

/// The trusted reverse proxies and the header they put the client address in.
#[derive(Debug, Clone, Default)]
pub struct ClientAddr {
    proxies: Vec<IpNet>,
    header: String,
}

/// Parses one `server.trusted_proxies` entry: an address or a CIDR block.
pub fn parse_proxy(text: &str) -> Result<IpNet, String> {
    let t = text.trim();
    t.parse::<IpNet>()
        .or_else(|_| t.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| format!("{t:?} is not an IP address or CIDR block such as 10.0.0.0/8"))
}

impl ClientAddr {
    /// From `server.trusted_proxies` (validated) and `server.client_ip_header`.
    pub fn new(proxies: &[String], header: &str) -> Result<ClientAddr, String> {
        Ok(ClientAddr {
            proxies: proxies
                .iter()
                .map(|p| parse_proxy(p))
                .collect::<Result<_, _>>()?,
            header: if header.is_empty() {
                "X-Forwarded-For".into()
            } else {
                header.to_owned()
            },
        })
    }

    /// The header read from trusted proxies.
    pub fn header(&self) -> &str {
        &self.header
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.proxies.iter().any(|n| n.contains(&ip))
    }

    /// The client of a request from `peer` whose forwarding headers (in order) are `values`.
    pub fn resolve<'a>(
        &self,
        peer: Option<IpAddr>,
        values: impl Iterator<Item = &'a str>,
    ) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusted(peer) {
            return Some(peer);
        }
        let hops: Vec<&str> = values.flat_map(|v| v.split(',')).collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                // Garbage in the chain: the last trusted hop is all we know.
                return Some(client);
            };
            client = ip;
            if !self.trusted(ip) {
                break;
            }
        }
        Some(client)
    }
}

/// One entry of `X-Forwarded-For`: `1.2.3.4`, `2001:db8::1`, `[2001:db8::1]:443` or
/// `1.2.3.4:5678`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let h = hop.trim();
    if let Ok(ip) = h.parse() {
        return Some(ip);
    }
    if let Ok(sa) = h.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    h.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|v| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_header_from_an_untrusted_peer_is_ignored() {
        let c = ClientAddr::new(&["127.0.0.1".into()], "").unwrap();
        assert_eq!(
            c.resolve(ip("203.0.113.5"), ["198.51.100.1"].into_iter()),
            ip("203.0.113.5")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let c = ClientAddr::new(&["127.0.0.1".into(), "10.0.0.0/8".into()], "").unwrap();
        // A spoofed first entry, then the real client as the first proxy saw it, then proxies.
        let chain = ["6.6.6.6, 198.51.100.9", "10.1.2.3"];
        assert_eq!(
            c.resolve(ip("127.0.0.1"), chain.into_iter()),
            ip("198.51.100.9")
        );
        assert_eq!(
            c.resolve(ip("::ffff:127.0.0.1"), ["[2001:db8::7]:443"].into_iter()),
            ip("2001:db8::7")
        );
        assert_eq!(
            c.resolve(ip("127.0.0.1"), std::iter::empty()),
            ip("127.0.0.1"),
            "no header: the proxy itself"
        );
        assert_eq!(
            c.resolve(ip("127.0.0.1"), ["198.51.100.9, garbage"].into_iter()),
            ip("127.0.0.1"),
            "garbage after the client: trust stops at the proxy"
        );
    }

    #[test]
    fn proxies_are_addresses_or_cidr_blocks() {
        assert!(parse_proxy("10.0.0.0/8").is_ok());
        assert!(parse_proxy("::1").is_ok());
        assert!(parse_proxy("fd00::/8").is_ok());
        assert!(parse_proxy("10.0.0.0/33").is_err());
        assert!(parse_proxy("proxy.example").is_err());
    }
}
