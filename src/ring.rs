//! Fixed-capacity record rings, read back the way DL/T 645 addresses records: "last 1" is the
//! most recent, "last 2" the one before it, and so on.
//!
//! A [`Ring`] keeps the `N` most recent records; pushing into a full ring overwrites the oldest.
//! It also counts every record ever pushed ([`Ring::pushed`]), because DL/T 645 reports event
//! totals (trip count `1D000001`, purchase count) beside the last few records.
//!
//! ```
//! use prepaid_meter::ring::Ring;
//! let mut ring: Ring<u32, 3> = Ring::new();
//! for n in 1..=5 {
//!     ring.push(n);
//! }
//! assert_eq!(ring.last(1), Some(&5)); // "last 1": the most recent
//! assert_eq!(ring.last(3), Some(&3));
//! assert_eq!(ring.last(4), None); // overwritten
//! assert_eq!(ring.last(0), None); // DL/T 645 counts from 1
//! assert_eq!(ring.pushed(), 5);
//! assert_eq!(ring.iter().copied().collect::<Vec<_>>(), [5, 4, 3]);
//! ```

use heapless::Vec;

use crate::snapshot::{Field, Reader, SnapshotError, Writer};

/// The `N` most recent records of type `T`, newest addressed as "last 1".
///
/// Plain data: `Clone`, comparable, and serialisable behind the `serde` feature, so it can be
/// snapshotted and restored with the rest of a meter's state. A ring of capacity 0 keeps no
/// records but still counts them. Deserializing checks that the snapshot is one a ring could
/// have been in.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        try_from = "RingState<T, N>",
        bound(deserialize = "T: serde::Deserialize<'de>")
    )
)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Ring<T, const N: usize> {
    items: Vec<T, N>,
    /// Index in `items` of the oldest record once the ring is full (the next to overwrite).
    oldest: usize,
    pushed: u32,
}

/// The state of a [`Ring`] as plain data: the records in storage order, the index of the oldest
/// one once the ring is full, and the count of records ever pushed.
///
/// Binary form ([`Field`]): a `u16` record count, the records, `oldest` as a `u16`, `pushed` as
/// a `u32`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RingState<T, const N: usize> {
    /// The records held, in storage order (push order starting at `oldest`).
    pub items: Vec<T, N>,
    /// Index in `items` of the oldest record once the ring is full; 0 before.
    pub oldest: usize,
    /// How many records were ever pushed (saturating).
    pub pushed: u32,
}

/// Why a [`RingState`] was refused: it is not a state a ring can be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RingError;

impl core::fmt::Display for RingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("not a state a record ring can be in")
    }
}

impl core::error::Error for RingError {}

#[cfg(feature = "serde")]
impl<T, const N: usize> TryFrom<RingState<T, N>> for Ring<T, N> {
    type Error = RingError;
    fn try_from(state: RingState<T, N>) -> Result<Self, RingError> {
        Ring::restore(state)
    }
}

/// Read without the ring's checks: those are [`Ring::restore`]'s.
impl<T: Field, const N: usize> Field for RingState<T, N> {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.items.write_to(w)?;
        w.count(self.oldest)?;
        self.pushed.write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        Ok(RingState {
            items: Field::read_from(r)?,
            oldest: usize::from(u16::read_from(r)?),
            pushed: Field::read_from(r)?,
        })
    }
}

/// The same bytes as the ring's [`RingState`], written from the ring itself (no copy of its
/// records); reading checks what [`Ring::restore`] checks and refuses an impossible state with
/// [`SnapshotError::InvalidField`]. [`Field::read_into`] reads the records straight into the
/// ring.
impl<T: Field, const N: usize> Field for Ring<T, N> {
    fn write_to(&self, w: &mut Writer<'_>) -> Result<(), SnapshotError> {
        self.items.write_to(w)?;
        w.count(self.oldest)?;
        self.pushed.write_to(w)
    }
    fn read_from(r: &mut Reader<'_>) -> Result<Self, SnapshotError> {
        let mut ring = Ring::new();
        ring.read_into(r)?;
        Ok(ring)
    }
    fn read_into(&mut self, r: &mut Reader<'_>) -> Result<(), SnapshotError> {
        self.items.read_into(r)?;
        self.oldest = usize::from(u16::read_from(r)?);
        self.pushed = u32::read_from(r)?;
        if possible::<N>(self.items.len(), self.oldest, self.pushed) {
            Ok(())
        } else {
            Err(SnapshotError::InvalidField)
        }
    }
}

/// Whether a ring of capacity `N` can hold `len` records with its oldest at `oldest` after
/// `pushed` pushes: `oldest` moves only once the ring is full and stays inside it, and at
/// least as many records were pushed as are held.
fn possible<const N: usize>(len: usize, oldest: usize, pushed: u32) -> bool {
    let oldest_ok = oldest == 0 || (len == N && oldest < N);
    let count_ok = usize::try_from(pushed).map_or(true, |p| p >= len);
    oldest_ok && count_ok
}

impl<T, const N: usize> Default for Ring<T, N> {
    fn default() -> Self {
        Ring::new()
    }
}

impl<T, const N: usize> Ring<T, N> {
    /// An empty ring.
    pub const fn new() -> Self {
        Ring {
            items: Vec::new(),
            oldest: 0,
            pushed: 0,
        }
    }

    /// The ring's state as plain data.
    pub fn state(&self) -> RingState<T, N>
    where
        T: Clone,
    {
        RingState {
            items: self.items.clone(),
            oldest: self.oldest,
            pushed: self.pushed,
        }
    }

    /// A ring in `state`, checked: `oldest` moves only once the ring is full and stays inside
    /// it, and at least as many records were pushed as are held.
    ///
    /// Error: [`RingError`] for a state no ring can be in.
    pub fn restore(state: RingState<T, N>) -> Result<Self, RingError> {
        if !possible::<N>(state.items.len(), state.oldest, state.pushed) {
            return Err(RingError);
        }
        Ok(Ring {
            items: state.items,
            oldest: state.oldest,
            pushed: state.pushed,
        })
    }

    /// Adds `item` as the most recent record; returns the record it overwrote, if the ring was
    /// full (with capacity 0, `item` itself comes back).
    pub fn push(&mut self, item: T) -> Option<T> {
        self.pushed = self.pushed.saturating_add(1);
        let item = match self.items.push(item) {
            Ok(()) => return None,
            Err(item) => item,
        };
        let Some(slot) = self.items.get_mut(self.oldest) else {
            return Some(item);
        };
        let evicted = core::mem::replace(slot, item);
        self.oldest = if self.oldest + 1 >= N {
            0
        } else {
            self.oldest + 1
        };
        Some(evicted)
    }

    /// The `n`-th most recent record: `last(1)` is the newest. `None` for `n == 0` or when fewer
    /// than `n` records are held.
    pub fn last(&self, n: usize) -> Option<&T> {
        let len = self.items.len();
        if n == 0 || n > len {
            return None;
        }
        // Records are in push order starting at `oldest` (which is 0 until the ring is full).
        let newest = (self.oldest + len - 1) % len;
        let index = (newest + len - (n - 1)) % len;
        self.items.get(index)
    }

    /// The records held, newest first (`last(1)`, `last(2)`, ...).
    pub fn iter(&self) -> Iter<'_, T, N> {
        Iter {
            ring: self,
            front: 1,
            back: self.items.len(),
        }
    }

    /// How many records are held (at most `N`).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// `true` if no record is held.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// How many records were ever pushed, including overwritten ones (saturates at `u32::MAX`).
    pub fn pushed(&self) -> u32 {
        self.pushed
    }

    /// Forgets every record and resets the count.
    pub fn clear(&mut self) {
        self.items.clear();
        self.oldest = 0;
        self.pushed = 0;
    }
}

/// Iterator over a [`Ring`], newest first; see [`Ring::iter`].
#[derive(Clone, Debug)]
pub struct Iter<'a, T, const N: usize> {
    ring: &'a Ring<T, N>,
    /// Next "last n" to yield from the front; the range `front..=back` is still to come.
    front: usize,
    back: usize,
}

impl<'a, T, const N: usize> Iterator for Iter<'a, T, N> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        if self.front > self.back {
            return None;
        }
        let item = self.ring.last(self.front);
        self.front += 1;
        item
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = (self.back + 1).saturating_sub(self.front);
        (n, Some(n))
    }
}

impl<T, const N: usize> DoubleEndedIterator for Iter<'_, T, N> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front > self.back {
            return None;
        }
        let item = self.ring.last(self.back);
        self.back -= 1;
        item
    }
}

impl<T, const N: usize> ExactSizeIterator for Iter<'_, T, N> {}

impl<'a, T, const N: usize> IntoIterator for &'a Ring<T, N> {
    type Item = &'a T;
    type IntoIter = Iter<'a, T, N>;
    fn into_iter(self) -> Iter<'a, T, N> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_addresses_newest_first_across_wraps() {
        let mut r: Ring<u32, 4> = Ring::new();
        assert_eq!(r.last(1), None);
        for n in 1..=11u32 {
            let evicted = r.push(n);
            assert_eq!(evicted, n.checked_sub(4).filter(|v| *v > 0));
            for k in 1..=4usize {
                let expect = (n as usize).checked_sub(k - 1).filter(|v| *v >= 1);
                let expect = expect.filter(|_| k <= n as usize);
                assert_eq!(r.last(k).copied(), expect.map(|v| v as u32), "n={n} k={k}");
            }
            assert_eq!(r.last(5), None);
            let all: std::vec::Vec<u32> = r.iter().copied().collect();
            let want: std::vec::Vec<u32> = (n.saturating_sub(3).max(1)..=n).rev().collect();
            assert_eq!(all, want);
            assert_eq!(r.iter().len(), want.len());
            let oldest_first: std::vec::Vec<u32> = r.iter().rev().copied().collect();
            let mut want_rev = want.clone();
            want_rev.reverse();
            assert_eq!(oldest_first, want_rev);
        }
        assert_eq!(r.pushed(), 11);
        assert_eq!(r.len(), 4);
        r.clear();
        assert!(r.is_empty());
        assert_eq!(r.pushed(), 0);
    }

    #[test]
    fn zero_capacity_counts_but_keeps_nothing() {
        let mut r: Ring<u8, 0> = Ring::new();
        assert_eq!(r.push(7), Some(7));
        assert_eq!(r.pushed(), 1);
        assert_eq!(r.last(1), None);
        assert_eq!(r.iter().count(), 0);
        assert_eq!(r.capacity(), 0);
    }

    #[test]
    fn capacity_one() {
        let mut r: Ring<u8, 1> = Ring::new();
        assert_eq!(r.push(1), None);
        assert_eq!(r.push(2), Some(1));
        assert_eq!(r.last(1), Some(&2));
        assert_eq!(r.last(2), None);
    }

    #[test]
    fn binary_form_round_trips_and_refuses_impossible_states() {
        use crate::snapshot::{Field, Reader, SnapshotError, Writer};
        let mut ring: Ring<u32, 3> = Ring::new();
        for n in 1..=5 {
            ring.push(n);
        }
        let mut buf = [0u8; 32];
        let mut w = Writer::new(&mut buf);
        ring.state().write_to(&mut w).unwrap();
        let n = w.position();
        // count, three records, oldest, pushed
        assert_eq!(n, 2 + 12 + 2 + 4);
        let read = RingState::<u32, 3>::read_from(&mut Reader::new(&buf[..n], 1)).unwrap();
        let back = Ring::restore(read).unwrap();
        assert_eq!(back, ring);
        assert_eq!(back.state(), ring.state());
        // `oldest` outside the ring, and fewer pushed than held.
        let mut bad = buf;
        bad[14] = 3;
        let read = RingState::<u32, 3>::read_from(&mut Reader::new(&bad[..n], 1)).unwrap();
        assert_eq!(Ring::restore(read), Err(RingError));
        let mut state = ring.state();
        state.pushed = 2;
        assert_eq!(Ring::restore(state), Err(RingError));
        // The ring's own form: the same bytes, read with the same checks, in place too.
        let mut own = [0u8; 32];
        let mut w = Writer::new(&mut own);
        ring.write_to(&mut w).unwrap();
        let written = w.position();
        assert_eq!(&own[..written], &buf[..n]);
        let read = Ring::<u32, 3>::read_from(&mut Reader::new(&buf[..n], 1)).unwrap();
        assert_eq!(read, ring);
        let mut into: Ring<u32, 3> = Ring::new();
        into.push(9);
        into.read_into(&mut Reader::new(&buf[..n], 1)).unwrap();
        assert_eq!(into, ring);
        assert_eq!(
            Ring::<u32, 3>::read_from(&mut Reader::new(&bad[..n], 1)),
            Err(SnapshotError::InvalidField)
        );
        assert_eq!(
            into.read_into(&mut Reader::new(&bad[..n], 1)),
            Err(SnapshotError::InvalidField)
        );
    }
}
