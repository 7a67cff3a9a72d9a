//! A synthetic VPN: every poll moves a realistic mix of traffic.

use sockstatlog::{Counters, Label, Snapshot, SourceError};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// The platform's counters, advanced by each poll.
#[derive(Default)]
pub struct SimulatedVpn {
    counters: Mutex<BTreeMap<Label, Counters>>,
    calls: AtomicU64,
    /// Whether the active interface is cellular.
    pub cellular: AtomicBool,
}

impl SimulatedVpn {
    fn add(&self, label: Label, tx: u64, rx: u64) {
        let mut counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        let c = counters.entry(label).or_default();
        c.tx += tx;
        c.rx += rx;
    }

    /// Counts the logger's own upload on its label (11), as the platform's
    /// socket accounting would.
    pub fn own_upload(&self, bytes_sent: u64) {
        self.add(Label::SOCKSTATLOG_LOGGER, bytes_sent + 600, 350);
    }

    /// The counters after one more poll's traffic.
    pub fn snapshot(&self) -> Result<Snapshot, SourceError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        // Steady data-path traffic on IPv4, bursts on IPv6.
        self.add(Label::MAGICSOCK_CONN_UDP4, 1_500, 4_000 + 37 * (n % 11));
        if n % 7 < 2 {
            self.add(Label::MAGICSOCK_CONN_UDP6, 1_280, 9_000);
        }
        // A DNS query every half second, a DERP keepalive every second.
        if n.is_multiple_of(5) {
            self.add(Label::DNS_FORWARDER_UDP, 64, 180);
        }
        if n.is_multiple_of(10) {
            self.add(Label::DERP_HTTP_CLIENT, 40, 40);
        }
        // Control-plane long poll: a map response now and then.
        if n.is_multiple_of(23) {
            self.add(Label::CONTROL_CLIENT_AUTO, 300, 12_000);
        }
        let counters = self.counters.lock().unwrap_or_else(|e| e.into_inner());
        Snapshot::new(
            self.cellular.load(Ordering::SeqCst),
            counters.iter().map(|(l, c)| (*l, *c)),
        )
        .map_err(|e| SourceError(e.to_string()))
    }
}
