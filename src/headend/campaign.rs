//! Tariff campaigns: new TOU prices for a set of meters from an instant, and which meters
//! have accepted them.

use alloc::vec::Vec;
use core::fmt;

use crate::address::Address;
use crate::time::Timestamp;
use crate::units::Price;

/// A campaign's number, in the order the head-end scheduled them (from 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CampaignId(pub u32);

impl fmt::Display for CampaignId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "campaign {}", self.0)
    }
}

/// One meter of a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CampaignMeter {
    /// The meter.
    pub address: Address,
    /// How many of the campaign's prices it has accepted.
    pub accepted: u8,
    /// When it accepted the last of them (`None`: not all yet).
    pub confirmed_at: Option<Timestamp>,
}

/// Where a campaign stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CampaignStatus {
    /// The campaign.
    pub id: CampaignId,
    /// The instant its prices apply from (no write is sent before).
    pub at: Timestamp,
    /// Its prices, tariffs 1, 2, ...
    pub prices: Vec<Price>,
    /// Its meters, in the order given.
    pub meters: Vec<CampaignMeter>,
}

impl CampaignStatus {
    /// How many meters have accepted every price.
    pub fn confirmed(&self) -> usize {
        self.meters
            .iter()
            .filter(|m| m.confirmed_at.is_some())
            .count()
    }

    /// Every meter has accepted every price.
    pub fn is_complete(&self) -> bool {
        self.confirmed() == self.meters.len()
    }
}

/// A meter's progress, with the write in flight.
#[derive(Clone, Debug)]
struct Target {
    meter: CampaignMeter,
    /// When the last write went out, while it is unanswered or refused.
    sent_at: Option<Timestamp>,
}

/// A campaign (the head-end's own book of it).
#[derive(Clone, Debug)]
pub(super) struct Campaign {
    id: CampaignId,
    at: Timestamp,
    prices: Vec<Price>,
    targets: Vec<Target>,
}

impl Campaign {
    pub(super) fn new(
        id: CampaignId,
        at: Timestamp,
        prices: &[Price],
        meters: &[Address],
    ) -> Campaign {
        let mut targets: Vec<Target> = Vec::with_capacity(meters.len());
        for &address in meters {
            if targets.iter().all(|t| t.meter.address != address) {
                targets.push(Target {
                    meter: CampaignMeter {
                        address,
                        accepted: 0,
                        confirmed_at: None,
                    },
                    sent_at: None,
                });
            }
        }
        Campaign {
            id,
            at,
            prices: prices.to_vec(),
            targets,
        }
    }

    pub(super) fn id(&self) -> CampaignId {
        self.id
    }

    pub(super) fn status(&self) -> CampaignStatus {
        CampaignStatus {
            id: self.id,
            at: self.at,
            prices: self.prices.clone(),
            meters: self.targets.iter().map(|t| t.meter).collect(),
        }
    }

    fn target(&self, address: Address) -> Option<&Target> {
        self.targets.iter().find(|t| t.meter.address == address)
    }

    fn target_mut(&mut self, address: Address) -> Option<&mut Target> {
        self.targets.iter_mut().find(|t| t.meter.address == address)
    }

    /// The next price write due for `address` at `now`: its tariff number (1, 2, ...) and
    /// price. None before the campaign's instant, when the meter has them all, or while the
    /// last write waits less than `retry_secs` for an answer or after a refusal.
    pub(super) fn next_write(
        &self,
        address: Address,
        now: Timestamp,
        retry_secs: i64,
    ) -> Option<(u8, Price)> {
        if now < self.at {
            return None;
        }
        let t = self.target(address)?;
        if let Some(sent) = t.sent_at
            && sent
                .checked_add_secs(retry_secs)
                .is_some_and(|due| due > now)
        {
            return None;
        }
        let price = *self.prices.get(usize::from(t.meter.accepted))?;
        Some((t.meter.accepted.checked_add(1)?, price))
    }

    /// A write to `address` went out at `now`.
    pub(super) fn sent(&mut self, address: Address, now: Timestamp) {
        if let Some(t) = self.target_mut(address) {
            t.sent_at = Some(now);
        }
    }

    /// `address` accepted tariff `index`'s price at `now`: the price, if that was the write
    /// due (an answer to a write already accepted changes nothing and gives `None`).
    pub(super) fn accepted(
        &mut self,
        address: Address,
        index: u8,
        now: Timestamp,
    ) -> Option<Price> {
        let total = self.prices.len();
        let price = *self.prices.get(usize::from(index).checked_sub(1)?)?;
        let t = self.target_mut(address)?;
        if t.meter.accepted.checked_add(1) != Some(index) {
            return None;
        }
        t.meter.accepted = index;
        t.sent_at = None;
        if usize::from(index) == total {
            t.meter.confirmed_at = Some(now);
        }
        Some(price)
    }

    /// `address` has accepted every price.
    pub(super) fn is_confirmed(&self, address: Address) -> bool {
        self.target(address)
            .is_some_and(|t| t.meter.confirmed_at.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u64) -> Address {
        Address::from_number(n).unwrap()
    }

    #[test]
    fn writes_each_price_in_turn_from_the_instant_on() {
        let at = Timestamp::from_unix(1_000);
        let prices = [Price::from_minor_per_kwh(10), Price::from_minor_per_kwh(20)];
        let mut c = Campaign::new(CampaignId(0), at, &prices, &[addr(1), addr(1), addr(2)]);
        assert_eq!(
            c.status().meters.len(),
            2,
            "a meter named twice is one target"
        );
        assert_eq!(c.next_write(addr(1), Timestamp::from_unix(999), 60), None);
        assert_eq!(c.next_write(addr(1), at, 60), Some((1, prices[0])));
        c.sent(addr(1), at);
        // Waiting for the answer, then due again.
        assert_eq!(c.next_write(addr(1), Timestamp::from_unix(1_059), 60), None);
        assert_eq!(
            c.next_write(addr(1), Timestamp::from_unix(1_060), 60),
            Some((1, prices[0]))
        );
        assert_eq!(
            c.accepted(addr(1), 1, Timestamp::from_unix(1_061)),
            Some(prices[0])
        );
        assert_eq!(
            c.accepted(addr(1), 1, Timestamp::from_unix(1_062)),
            None,
            "answered twice"
        );
        assert!(!c.is_confirmed(addr(1)));
        assert_eq!(
            c.next_write(addr(1), Timestamp::from_unix(1_062), 60),
            Some((2, prices[1]))
        );
        assert_eq!(
            c.accepted(addr(1), 2, Timestamp::from_unix(1_063)),
            Some(prices[1])
        );
        assert!(c.is_confirmed(addr(1)));
        assert_eq!(c.next_write(addr(1), Timestamp::from_unix(2_000), 60), None);
        let s = c.status();
        assert_eq!((s.confirmed(), s.is_complete()), (1, false));
        assert_eq!(s.meters[0].confirmed_at, Some(Timestamp::from_unix(1_063)));
        assert_eq!(c.next_write(addr(3), at, 60), None, "not in the campaign");
    }
}
