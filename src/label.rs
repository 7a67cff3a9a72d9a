//! Labels: which part of the app a byte counter belongs to.
//!
//! A label is a number from 0 to 255. The numbers are persisted in logs and are
//! never renumbered; the well-known ones below are the original's numbering.

use std::fmt;

/// Which part of the app a byte counter belongs to (0–255).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(pub u8);

impl Label {
    /// The control client's automatic connection.
    pub const CONTROL_CLIENT_AUTO: Label = Label(0);
    /// The control client's dialer.
    pub const CONTROL_CLIENT_DIALER: Label = Label(1);
    /// The DERP relay's HTTP client.
    pub const DERP_HTTP_CLIENT: Label = Label(2);
    /// The main logtail logger's uploads.
    pub const LOGTAIL_LOGGER: Label = Label(3);
    /// DNS forwarding over HTTPS.
    pub const DNS_FORWARDER_DOH: Label = Label(4);
    /// DNS forwarding over UDP.
    pub const DNS_FORWARDER_UDP: Label = Label(5);
    /// The netcheck client.
    pub const NETCHECK_CLIENT: Label = Label(6);
    /// The port-mapping client.
    pub const PORTMAPPER_CLIENT: Label = Label(7);
    /// The IPv4 UDP socket of the data path.
    pub const MAGICSOCK_CONN_UDP4: Label = Label(8);
    /// The IPv6 UDP socket of the data path.
    pub const MAGICSOCK_CONN_UDP6: Label = Label(9);
    /// The network flow logger.
    pub const NETLOG_LOGGER: Label = Label(10);
    /// This library's own uploads.
    pub const SOCKSTATLOG_LOGGER: Label = Label(11);
    /// DNS forwarding over TCP.
    pub const DNS_FORWARDER_TCP: Label = Label(12);

    /// The well-known labels, in numeric order, with their names.
    pub const WELL_KNOWN: [(Label, &'static str); 13] = [
        (Label(0), "ControlClientAuto"),
        (Label(1), "ControlClientDialer"),
        (Label(2), "DERPHTTPClient"),
        (Label(3), "LogtailLogger"),
        (Label(4), "DNSForwarderDoH"),
        (Label(5), "DNSForwarderUDP"),
        (Label(6), "NetcheckClient"),
        (Label(7), "PortmapperClient"),
        (Label(8), "MagicsockConnUDP4"),
        (Label(9), "MagicsockConnUDP6"),
        (Label(10), "NetlogLogger"),
        (Label(11), "SockstatlogLogger"),
        (Label(12), "DNSForwarderTCP"),
    ];

    /// The well-known name of this label, if it has one.
    pub fn name(self) -> Option<&'static str> {
        Self::WELL_KNOWN
            .get(usize::from(self.0))
            .map(|(_, name)| *name)
    }

    /// Position of this label when labels are sorted by their decimal text
    /// ("10" before "2"), which is the order the original's JSON encoder writes
    /// map keys in.
    pub fn text_rank(self) -> u8 {
        TEXT_RANK[usize::from(self.0)]
    }
}

impl fmt::Display for Label {
    /// Well-known labels print their name; others print as `Label(N)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Label({})", self.0),
        }
    }
}

/// Decimal digits of `n` as a fixed array and the number of digits used.
const fn decimal(n: u8) -> ([u8; 3], usize) {
    if n >= 100 {
        ([b'0' + n / 100, b'0' + (n / 10) % 10, b'0' + n % 10], 3)
    } else if n >= 10 {
        ([b'0' + n / 10, b'0' + n % 10, 0], 2)
    } else {
        ([b'0' + n, 0, 0], 1)
    }
}

/// Whether the decimal text of `a` sorts before that of `b`.
const fn text_less(a: u8, b: u8) -> bool {
    let (da, la) = decimal(a);
    let (db, lb) = decimal(b);
    let mut i = 0;
    while i < la && i < lb {
        if da[i] != db[i] {
            return da[i] < db[i];
        }
        i += 1;
    }
    la < lb
}

/// `TEXT_RANK[n]` is the rank of label `n` in decimal-text order.
const TEXT_RANK: [u8; 256] = {
    let mut rank = [0u8; 256];
    let mut n = 0;
    while n < 256 {
        let mut below = 0;
        let mut m = 0;
        while m < 256 {
            if text_less(m as u8, n as u8) {
                below += 1;
            }
            m += 1;
        }
        rank[n] = below as u8;
        n += 1;
    }
    rank
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_labels_print_their_names_and_others_their_number() {
        assert_eq!(Label::SOCKSTATLOG_LOGGER.to_string(), "SockstatlogLogger");
        assert_eq!(Label(0).to_string(), "ControlClientAuto");
        assert_eq!(Label(12).to_string(), "DNSForwarderTCP");
        assert_eq!(Label(13).to_string(), "Label(13)");
        assert_eq!(Label(255).to_string(), "Label(255)");
    }

    #[test]
    fn text_rank_orders_labels_as_decimal_strings() {
        let mut labels: Vec<u8> = (0..=255).collect();
        labels.sort_by_key(|&n| Label(n).text_rank());
        let mut as_text: Vec<String> = (0..=255u8).map(|n| n.to_string()).collect();
        as_text.sort();
        let ranked: Vec<String> = labels.iter().map(|n| n.to_string()).collect();
        assert_eq!(ranked, as_text);
        assert!(Label(10).text_rank() < Label(2).text_rank());
        assert_eq!(Label(0).text_rank(), 0);
        assert_eq!(Label(99).text_rank(), 255);
    }
}
