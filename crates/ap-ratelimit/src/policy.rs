//! The contract's tiers, their quotas, the key a request counts under, and the client
//! address behind trusted proxies.

use std::net::IpAddr;
use std::time::Duration;

/// A rate-limit tier. The tier follows the endpoint, not the caller: signing in never
/// lowers a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    /// GET/HEAD of an endpoint with no or optional authentication, by user when signed
    /// in, else by client IP.
    PublicRead,
    /// GET/HEAD of an endpoint that requires authentication, by user.
    AuthenticatedRead,
    /// POST/PATCH/PUT/DELETE, by user or (anonymous) client IP.
    Write,
    /// Bearer tokens this instance must look up in the store (not recently seen), by
    /// client IP, checked before the lookup: a flood of made-up tokens costs no queries.
    TokenLookup,
    /// GET/HEAD of signed file links (`/v1/files/…`), by client IP: generous, since one
    /// install fetches several files, but bounded, so a leaked link cannot be replayed
    /// without limit.
    Files,
    /// Every request to `/v1/admin/…`, by user: its own budget, so administration is
    /// neither starved by nor counted against the caller's other budgets.
    Admin,
}

impl Tier {
    /// Short name used in storage keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::PublicRead => "public",
            Tier::AuthenticatedRead => "auth",
            Tier::Write => "write",
            Tier::TokenLookup => "lookup",
            Tier::Files => "files",
            Tier::Admin => "admin",
        }
    }
}

/// Requests per period of each tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Public reads per period (60).
    pub public_read: u32,
    /// Authenticated reads per period (10).
    pub authenticated_read: u32,
    /// Writes per period (20).
    pub write: u32,
    /// Token lookups per period and client IP (60).
    pub token_lookup: u32,
    /// Signed file link reads per period and client IP (600).
    pub files: u32,
    /// Administration requests per period and user (120).
    pub admin: u32,
    /// The period (one minute).
    pub period: Duration,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            public_read: 60,
            authenticated_read: 10,
            write: 20,
            token_lookup: 60,
            files: 600,
            admin: 120,
            period: Duration::from_secs(60),
        }
    }
}

impl Quotas {
    /// Requests per period of `tier`.
    pub fn limit(&self, tier: Tier) -> u32 {
        match tier {
            Tier::PublicRead => self.public_read,
            Tier::AuthenticatedRead => self.authenticated_read,
            Tier::Write => self.write,
            Tier::TokenLookup => self.token_lookup,
            Tier::Files => self.files,
            Tier::Admin => self.admin,
        }
        .max(1)
    }
}

/// What a request is counted under.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// Its tier.
    pub tier: Tier,
    /// `user:<id>` or `ip:<address>`.
    pub subject: String,
}

impl Key {
    /// The key of a request in `tier`: by user when authenticated, else by IP. An
    /// authenticated user's budget never depends on their IP, nor shares the anonymous
    /// budget of their IP.
    pub fn new(tier: Tier, user_id: Option<&str>, client_ip: IpAddr) -> Key {
        let subject = match user_id {
            Some(id) => format!("user:{id}"),
            None => format!("ip:{client_ip}"),
        };
        Key { tier, subject }
    }

    /// The storage key: `<tier>:<subject>`.
    pub fn storage_key(&self) -> String {
        format!("{}:{}", self.tier.as_str(), self.subject)
    }
}

/// A network in CIDR notation (`10.0.0.0/8`, `::1/128`) or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address, or an IPv6 network.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
            None => {
                let a = text.trim().parse::<IpAddr>().ok()?;
                (a, if a.is_ipv4() { 32 } else { 128 })
            }
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(Cidr { network: addr, prefix })
    }

    /// Whether `ip` is inside this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The client address: the socket peer, unless the peer is a trusted proxy; then the
/// right-most `X-Forwarded-For` address that is not itself a trusted proxy.
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let Some(header) = forwarded_for else { return peer };
    let mut client = peer;
    for hop in header.rsplit(',') {
        match parse_hop(hop.trim()) {
            Some(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            None => break,
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn keys_follow_the_tiers() {
        let a = ip("1.2.3.4");
        assert_eq!(Key::new(Tier::PublicRead, None, a).storage_key(), "public:ip:1.2.3.4");
        assert_eq!(Key::new(Tier::PublicRead, Some("u1"), a).storage_key(), "public:user:u1");
        assert_eq!(Key::new(Tier::AuthenticatedRead, Some("u1"), a).storage_key(), "auth:user:u1");
        assert_eq!(Key::new(Tier::Write, Some("u1"), a).storage_key(), "write:user:u1");
        assert_eq!(Key::new(Tier::Write, None, a).storage_key(), "write:ip:1.2.3.4");
        assert_eq!(
            Key::new(Tier::PublicRead, Some("u1"), ip("9.9.9.9")),
            Key::new(Tier::PublicRead, Some("u1"), a)
        );
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let trusted = [Cidr::parse("10.0.0.0/8").expect("cidr"), Cidr::parse("::1").expect("cidr")];
        assert_eq!(client_ip(ip("8.8.8.8"), Some("1.1.1.1"), &trusted), ip("8.8.8.8"), "spoofed");
        assert_eq!(client_ip(ip("10.1.2.3"), Some("1.1.1.1"), &trusted), ip("1.1.1.1"));
        assert_eq!(
            client_ip(ip("10.1.2.3"), Some("6.6.6.6, 1.1.1.1, 10.0.0.9"), &trusted),
            ip("1.1.1.1")
        );
        assert_eq!(client_ip(ip("10.1.2.3"), Some("garbage"), &trusted), ip("10.1.2.3"));
        assert_eq!(client_ip(ip("10.1.2.3"), None, &trusted), ip("10.1.2.3"));
        assert_eq!(client_ip(ip("::1"), Some("2001:db8::1"), &trusted), ip("2001:db8::1"));
        assert_eq!(client_ip(ip("10.1.2.3"), Some("1.1.1.1:5678"), &trusted), ip("1.1.1.1"));
        assert_eq!(
            client_ip(ip("10.1.2.3"), Some("[2001:db8::2]:443"), &trusted),
            ip("2001:db8::2")
        );
        assert!(Cidr::parse("10.0.0.0/33").is_none());
        assert!(Cidr::parse("0.0.0.0/0").expect("cidr").contains(ip("4.4.4.4")));
    }
}
