//! Where the chaos run's simulated users connect from: each user, and each
//! extra account's sign-up, its own address of this machine, so that the
//! per-address limits (sign-ups per hour, failures) of one never touch
//! another's, and a new set every run (the sign-up allowance of an earlier
//! run's addresses lasts an hour).

use std::net::IpAddr;

/// The source address of each simulated user and of each extra account's
/// sign-up: consecutive addresses of `--sources` from a place chosen by
/// the run's random seed (wrapping round), past the network's first two
/// addresses (127.0.0.1 is everyone else's).
#[derive(Clone, Copy)]
pub struct UserAddresses {
    base: u32,
    span: u32,
    offset: u32,
}

impl UserAddresses {
    pub fn new(net: ipnet::Ipv4Net, seed: u32, users: usize) -> Result<UserAddresses, String> {
        let span = (1u64 << (32 - u32::from(net.prefix_len()))).saturating_sub(2);
        // Room for the users and as many sign-ups again.
        if span < 2 * users as u64 {
            return Err(format!(
                "--sources {net} has too few addresses for {users} users"
            ));
        }
        let span = span.min(u64::from(u32::MAX)) as u32;
        Ok(UserAddresses {
            base: u32::from(net.network()) + 2,
            span,
            offset: seed % span,
        })
    }

    /// The `k`th address: the users' are 0 .. workers, the sign-ups' after.
    pub fn of(&self, k: usize) -> IpAddr {
        let k = (k as u64 % u64::from(self.span)) as u32;
        let i = (u64::from(self.offset) + u64::from(k)) % u64::from(self.span);
        IpAddr::V4(std::net::Ipv4Addr::from(self.base + i as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_distinct_inside_the_network_and_past_its_first_two() {
        let net: ipnet::Ipv4Net = "10.231.128.0/17".parse().unwrap();
        for seed in [0, 1, 32_765, u32::MAX] {
            let a = UserAddresses::new(net, seed, 100).unwrap();
            let all: std::collections::HashSet<IpAddr> = (0..200).map(|k| a.of(k)).collect();
            assert_eq!(all.len(), 200, "seed {seed}");
            for ip in all {
                let IpAddr::V4(v4) = ip else { panic!("{ip}") };
                assert!(net.contains(&v4), "{v4} outside {net}");
                assert!(u32::from(v4) >= u32::from(net.network()) + 2, "{v4}");
            }
        }
    }

    #[test]
    fn loopback_never_gets_127_0_0_1() {
        let net: ipnet::Ipv4Net = "127.0.0.0/8".parse().unwrap();
        let a = UserAddresses::new(net, 0, 8).unwrap();
        assert_eq!(a.of(0), IpAddr::from([127, 0, 0, 2]));
    }

    #[test]
    fn a_network_too_small_for_the_users_is_refused() {
        let net: ipnet::Ipv4Net = "10.0.0.0/29".parse().unwrap();
        assert!(UserAddresses::new(net, 0, 4).is_err());
        assert!(UserAddresses::new(net, 0, 3).is_ok());
    }
}
