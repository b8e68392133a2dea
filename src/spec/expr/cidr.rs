//! IP prefix arithmetic behind `cidrsubnet`, `cidrsubnets`, `cidrhost` and `cidrnetmask`, with
//! Terraform's results and error texts (users compare our addresses with theirs).
//!
//! Addresses of both families are held in a `u128` with the family's width beside it, so one
//! piece of arithmetic serves IPv4 and IPv6.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::IpNet;

/// A network prefix; `addr` always has its host bits cleared (Terraform normalizes them too).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Net {
    pub addr: u128,
    pub prefix: u32,
    /// 32 for IPv4, 128 for IPv6.
    pub bits: u32,
}

impl Net {
    pub fn parse(text: &str) -> Option<Net> {
        let net = IpNet::from_str(text.trim()).ok()?;
        let (addr, bits) = match net {
            IpNet::V4(v4) => (u128::from(u32::from(v4.addr())), 32),
            IpNet::V6(v6) => (u128::from(v6.addr()), 128),
        };
        let prefix = u32::from(net.prefix_len());
        Some(Net {
            addr: addr & net_mask(prefix, bits),
            prefix,
            bits,
        })
    }

    fn host_mask(&self) -> u128 {
        full(self.bits) & !net_mask(self.prefix, self.bits)
    }

    fn last(&self) -> u128 {
        self.addr | self.host_mask()
    }

    fn contains(&self, addr: u128) -> bool {
        addr & net_mask(self.prefix, self.bits) == self.addr
    }

    fn with_prefix(&self, addr: u128, prefix: u32) -> Net {
        Net {
            addr: addr & net_mask(prefix, self.bits),
            prefix,
            bits: self.bits,
        }
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", format_addr(self.addr, self.bits), self.prefix)
    }
}

pub(super) fn format_addr(addr: u128, bits: u32) -> String {
    if bits == 32 {
        Ipv4Addr::from(addr as u32).to_string()
    } else {
        Ipv6Addr::from(addr).to_string()
    }
}

fn full(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// The mask with the top `prefix` of `bits` bits set.
fn net_mask(prefix: u32, bits: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        full(bits) & !(full(bits - prefix.min(bits)))
    }
}

/// `cidrsubnet(prefix, newbits, netnum)`.
pub(super) fn subnet(net: Net, newbits: i64, netnum: i64) -> Result<Net, String> {
    if newbits < 0 {
        return Err(format!(
            "cannot extend a prefix by a negative number of bits ({newbits})"
        ));
    }
    if newbits > 32 {
        return Err("may not extend prefix by more than 32 bits".to_string());
    }
    let new_prefix = net.prefix + newbits as u32;
    if new_prefix > net.bits {
        return Err(format!(
            "insufficient address space to extend prefix of {} by {newbits}",
            net.prefix
        ));
    }
    if netnum < 0 || (netnum as u128) >> newbits != 0 {
        return Err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        ));
    }
    let shift = net.bits - new_prefix;
    let addr = if shift >= 128 {
        0
    } else {
        (netnum as u128) << shift
    };
    Ok(Net {
        addr: net.addr | addr,
        prefix: new_prefix,
        bits: net.bits,
    })
}

/// `cidrhost(prefix, hostnum)`: a negative number counts back from the last address.
pub(super) fn host(net: Net, hostnum: i64) -> Result<String, String> {
    let host_bits = net.bits - net.prefix;
    let max = full(host_bits);
    let number = if hostnum < 0 {
        let back = hostnum.unsigned_abs() as u128 - 1;
        max.checked_sub(back)
    } else {
        Some(hostnum as u128).filter(|n| *n <= max)
    };
    match number {
        Some(n) => Ok(format_addr(net.addr | n, net.bits)),
        None => Err(format!(
            "prefix of {} does not accommodate a host numbered {hostnum}",
            net.prefix
        )),
    }
}

/// `cidrnetmask(prefix)`: IPv4 only, as in Terraform.
pub(super) fn netmask(net: Net) -> Result<String, String> {
    if net.bits != 32 {
        return Err(format!("IPv6 addresses cannot have a netmask: {net}"));
    }
    Ok(format_addr(net_mask(net.prefix, 32), 32))
}

/// `cidrsubnets(prefix, newbits...)`: consecutive subnets, each aligned to its own size and
/// starting after the previous one. An error names the index of the offending `newbits`.
pub(super) fn subnets(net: Net, newbits: &[i64]) -> Result<Vec<Net>, (usize, String)> {
    let Some(&first) = newbits.first() else {
        return Ok(Vec::new());
    };
    let wrap = full(net.bits);
    // Start just before the prefix so the first "next subnet" is the prefix's first one.
    let first_prefix = (net.prefix as i64 + first.clamp(0, 128)).min(net.bits as i64) as u32;
    let mut current = net.with_prefix(net.addr.wrapping_sub(1) & wrap, first_prefix);
    let mut out = Vec::with_capacity(newbits.len());
    for (i, &bits) in newbits.iter().enumerate() {
        if bits < 1 {
            return Err((i, "must extend prefix by at least one bit".to_string()));
        }
        if bits > 32 {
            return Err((i, "may not extend prefix by more than 32 bits".to_string()));
        }
        let length = net.prefix + bits as u32;
        if length > net.bits {
            let family = if net.bits == 32 { "IPv4" } else { "IPv6" };
            return Err((
                i,
                format!(
                    "would extend prefix to {length} bits, which is too long for an {family} address"
                ),
            ));
        }
        let containing = current.with_prefix(current.last(), length);
        let start = containing.last().wrapping_add(1) & wrap;
        let next = current.with_prefix(start, length);
        if start == 0 || !net.contains(next.addr) {
            return Err((
                i,
                format!(
                    "not enough remaining address space for a subnet with a prefix of {length} bits after {current}"
                ),
            ));
        }
        current = next;
        out.push(next);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sub(prefix: &str, newbits: i64, netnum: i64) -> Result<String, String> {
        subnet(Net::parse(prefix).unwrap(), newbits, netnum).map(|n| n.to_string())
    }

    #[test]
    fn cidrsubnet_matches_terraform_documentation() {
        assert_eq!(sub("172.16.0.0/12", 4, 2).unwrap(), "172.18.0.0/16");
        assert_eq!(sub("10.1.2.0/24", 4, 15).unwrap(), "10.1.2.240/28");
        assert_eq!(
            sub("fd00:fd12:3456:7890::/56", 16, 162).unwrap(),
            "fd00:fd12:3456:7800:a200::/72"
        );
    }

    #[test]
    fn cidrsubnet_clears_host_bits_of_the_prefix() {
        assert_eq!(sub("10.1.2.77/24", 8, 3).unwrap(), "10.1.2.3/32");
    }

    #[test]
    fn cidrsubnet_refuses_what_does_not_fit() {
        assert_eq!(
            sub("10.1.2.0/24", 10, 0).unwrap_err(),
            "insufficient address space to extend prefix of 24 by 10"
        );
        assert_eq!(
            sub("10.1.2.0/24", 4, 16).unwrap_err(),
            "prefix extension of 4 does not accommodate a subnet numbered 16"
        );
        assert_eq!(
            sub("::/0", 33, 0).unwrap_err(),
            "may not extend prefix by more than 32 bits"
        );
    }

    #[test]
    fn cidrsubnets_allocates_consecutively_like_terraform() {
        let net = Net::parse("10.1.0.0/16").unwrap();
        let got: Vec<String> = subnets(net, &[4, 4, 8, 4])
            .unwrap()
            .iter()
            .map(Net::to_string)
            .collect();
        assert_eq!(
            got,
            [
                "10.1.0.0/20",
                "10.1.16.0/20",
                "10.1.32.0/24",
                "10.1.48.0/20"
            ]
        );
        let v6 = Net::parse("fd00:fd12:3456:7890::/56").unwrap();
        let got: Vec<String> = subnets(v6, &[16, 16, 16, 32])
            .unwrap()
            .iter()
            .map(Net::to_string)
            .collect();
        assert_eq!(
            got,
            [
                "fd00:fd12:3456:7800::/72",
                "fd00:fd12:3456:7800:100::/72",
                "fd00:fd12:3456:7800:200::/72",
                "fd00:fd12:3456:7800:300::/88"
            ]
        );
    }

    #[test]
    fn cidrsubnets_stops_at_the_end_of_the_prefix() {
        let net = Net::parse("10.0.0.0/30").unwrap();
        let err = subnets(net, &[1, 1, 1]).unwrap_err();
        assert_eq!(
            err,
            (2, "not enough remaining address space for a subnet with a prefix of 31 bits after 10.0.0.2/31".to_string())
        );
    }

    #[test]
    fn cidrhost_counts_from_either_end() {
        let net = Net::parse("10.12.112.0/20").unwrap();
        assert_eq!(host(net, 16).unwrap(), "10.12.112.16");
        assert_eq!(host(net, 268).unwrap(), "10.12.113.12");
        assert_eq!(host(net, -1).unwrap(), "10.12.127.255");
        assert_eq!(
            host(net, 4096).unwrap_err(),
            "prefix of 20 does not accommodate a host numbered 4096"
        );
        let v6 = Net::parse("fd00:fd12:3456:7890:00a2::/72").unwrap();
        assert_eq!(host(v6, 34).unwrap(), "fd00:fd12:3456:7890::22");
    }

    #[test]
    fn cidrnetmask_is_ipv4_only() {
        assert_eq!(
            netmask(Net::parse("172.16.0.0/12").unwrap()).unwrap(),
            "255.240.0.0"
        );
        assert_eq!(
            netmask(Net::parse("0.0.0.0/0").unwrap()).unwrap(),
            "0.0.0.0"
        );
        assert!(
            netmask(Net::parse("fd00::/8").unwrap())
                .unwrap_err()
                .starts_with("IPv6")
        );
    }
}
