//! The address of the client behind a request. A forwarding header (`X-Forwarded-For`) is
//! believed only when the peer is one of `http.trusted_proxies`, and then only the right-most
//! entry that none of them added: everything left of it was written by the client and can be
//! anything.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// How to find the client's address.
#[derive(Debug, Clone)]
pub struct ClientIp {
    header: Option<String>,
    trusted: Vec<IpNet>,
}

impl ClientIp {
    /// Reads `header` (when set) from peers in `trusted`.
    pub fn new(header: Option<&str>, trusted: &[IpNet]) -> Self {
        Self {
            header: header.map(str::to_ascii_lowercase),
            trusted: trusted.to_vec(),
        }
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy and the header
    /// names someone behind it.
    pub fn resolve(&self, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
        let peer = canonical(peer.ip());
        let Some(name) = &self.header else {
            return peer;
        };
        if !self.trusts(peer) {
            return peer;
        }
        // Each proxy appends the address it received from; several headers count as one list.
        let entries: Vec<&str> = headers
            .get_all(name.as_str())
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for entry in entries.iter().rev() {
            let Some(ip) = parse_entry(entry) else {
                // Garbage in the chain: the last hop we could believe is the answer.
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// An IPv4 address mapped into IPv6 (`::ffff:1.2.3.4`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    entry.parse::<SocketAddr>().ok().map(|s| canonical(s.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append("x-forwarded-for", v.parse().unwrap());
        }
        map
    }

    fn peer(ip: &str) -> SocketAddr {
        SocketAddr::new(ip.parse().unwrap(), 40000)
    }

    fn resolver(trusted: &[&str]) -> ClientIp {
        let nets: Vec<IpNet> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        ClientIp::new(Some("X-Forwarded-For"), &nets)
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let r = resolver(&["10.0.0.0/8"]);
        let ip = r.resolve(&headers(&["1.1.1.1"]), peer("203.0.113.9"));
        assert_eq!(ip.to_string(), "203.0.113.9");
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_entry_is_the_client() {
        let r = resolver(&["10.0.0.0/8"]);
        // The client wrote "6.6.6.6" itself; the proxy appended the address it saw.
        let ip = r.resolve(&headers(&["6.6.6.6, 198.51.100.7"]), peer("10.1.2.3"));
        assert_eq!(ip.to_string(), "198.51.100.7");
        // Two proxies in the chain.
        let ip = r.resolve(
            &headers(&["6.6.6.6", "198.51.100.7, 10.0.0.5"]),
            peer("10.1.2.3"),
        );
        assert_eq!(ip.to_string(), "198.51.100.7");
    }

    #[test]
    fn without_a_header_or_with_garbage_the_nearest_believable_hop_is_used() {
        let r = resolver(&["10.0.0.0/8"]);
        assert_eq!(
            r.resolve(&HeaderMap::new(), peer("10.1.2.3")).to_string(),
            "10.1.2.3"
        );
        let ip = r.resolve(&headers(&["not-an-ip, 10.0.0.5"]), peer("10.1.2.3"));
        assert_eq!(ip.to_string(), "10.0.0.5");
        let ip = r.resolve(&headers(&["[2001:db8::1]:443"]), peer("::ffff:10.1.2.3"));
        assert_eq!(ip.to_string(), "2001:db8::1");
    }

    #[test]
    fn no_trusted_proxies_means_the_header_is_ignored() {
        let r = resolver(&[]);
        let ip = r.resolve(&headers(&["1.1.1.1"]), peer("127.0.0.1"));
        assert_eq!(ip.to_string(), "127.0.0.1");
    }
}
