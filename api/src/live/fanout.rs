//! How the feed's batches reach subscribers: one ring of recent batches
//! for the node, and an index of the subscriptions by their filter, so a
//! batch wakes only the subscriptions one of its events matches. An idle
//! subscription (its filter matches nothing being sent) costs nothing per
//! event: it is neither woken nor looked at.
use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
};

use tokio::sync::Notify;

use crate::{graphql::Event, store::events::EventFilter};

/// Events in id order, sent to the subscribers together.
pub(super) type Batch = Arc<[Event]>;

/// One generation of the feed (from a start of its reader to its end).
pub(super) struct Fanout {
    state: Mutex<State>,
    /// Batches kept for subscribers that are behind.
    capacity: usize,
}

#[derive(Default)]
struct State {
    /// The newest batches; `ring[0]` is batch number `first`.
    ring: VecDeque<Batch>,
    first: u64,
    /// The reader has stopped: nothing more comes.
    closed: bool,
    slots: HashMap<u64, Slot>,
    next_slot: u64,
    index: Index,
}

struct Slot {
    filter: Arc<EventFilter>,
    /// The first batch holding an event this subscription matches that it
    /// has not taken yet. Batches before it that it has not taken hold
    /// nothing for it, so it skips them.
    pending: Option<u64>,
    wake: Arc<Notify>,
}

/// What [`Receiver::take`] found.
pub(super) enum Taken {
    /// Every batch from the first one matching onwards; earlier ones hold
    /// nothing for this subscription.
    Batches(Vec<Batch>),
    /// A matching batch has left the ring: the store has it (and all after).
    Lagged,
    /// Nothing matching since the last take.
    Nothing,
    /// The feed's reader stopped, and everything matching was taken.
    Closed,
}

impl Fanout {
    pub(super) fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::default(),
            capacity,
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic holding it leaves the index consistent (every change is
        // one insert or removal).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a subscription; `then` runs under the same lock, so no
    /// batch is published between the two (the feed's head is read there).
    pub(super) fn subscribe<T>(
        self: &Arc<Self>,
        filter: Arc<EventFilter>,
        then: impl FnOnce() -> T,
    ) -> (Receiver, T) {
        let wake = Arc::new(Notify::new());
        let mut state = self.state();
        let id = state.next_slot;
        state.next_slot += 1;
        state.index.insert(id, &filter);
        state.slots.insert(
            id,
            Slot {
                filter,
                pending: None,
                wake: wake.clone(),
            },
        );
        let then = then();
        drop(state);
        let receiver = Receiver {
            fanout: self.clone(),
            id,
            wake,
        };
        (receiver, then)
    }

    /// Adds a batch and wakes each subscription one of its events matches
    /// (once, however many do); `then` runs under the same lock.
    pub(super) fn publish(&self, batch: Batch, then: impl FnOnce()) {
        let mut state = self.state();
        let State {
            ring,
            first,
            slots,
            index,
            ..
        } = &mut *state;
        let number = *first + ring.len() as u64;
        for event in batch.iter() {
            for id in index.candidates(event.row()) {
                let Some(slot) = slots.get_mut(id) else {
                    continue;
                };
                if slot.pending.is_none() && slot.filter.matches(event.row()) {
                    slot.pending = Some(number);
                    slot.wake.notify_one();
                }
            }
        }
        ring.push_back(batch);
        if ring.len() > self.capacity {
            ring.pop_front();
            *first += 1;
        }
        then();
    }

    /// Runs `then` under the lock, so no subscription opens meanwhile, if
    /// none is open; false otherwise.
    pub(super) fn when_idle(&self, then: impl FnOnce()) -> bool {
        let state = self.state();
        let idle = state.slots.is_empty();
        if idle {
            then();
        }
        idle
    }

    /// The reader stopped: every subscription takes what is left, then ends.
    pub(super) fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        for slot in state.slots.values() {
            slot.wake.notify_one();
        }
    }

    #[cfg(test)]
    fn subscribers(&self) -> usize {
        self.state().slots.len()
    }
}

/// One subscription's place in a [`Fanout`]; leaves it when dropped.
pub(super) struct Receiver {
    fanout: Arc<Fanout>,
    id: u64,
    wake: Arc<Notify>,
}

impl Receiver {
    /// What has come for this subscription since its last take. After
    /// `Lagged`, everything published from now on is taken live again.
    pub(super) fn take(&self) -> Taken {
        let mut state = self.fanout.state();
        let pending = state.slots.get_mut(&self.id).and_then(|s| s.pending.take());
        match pending {
            Some(number) if number < state.first => Taken::Lagged,
            Some(number) => {
                let from = (number - state.first) as usize;
                Taken::Batches(state.ring.range(from..).cloned().collect())
            }
            None if state.closed => Taken::Closed,
            None => Taken::Nothing,
        }
    }

    /// Returns once something may have come since the last take.
    pub(super) async fn changed(&self) {
        self.wake.notified().await;
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let mut state = self.fanout.state();
        if let Some(slot) = state.slots.remove(&self.id) {
            state.index.remove(self.id, &slot.filter);
        }
    }
}

/// Subscriptions by the most selective condition of their filter: its
/// account, else its types, else its sources; `all` holds those with none.
/// A filter that matches nothing (an empty list) is in none. Each
/// subscription is under one key per event (an event has one account, one
/// type and one source), so an event's candidates hold it at most once.
#[derive(Default)]
struct Index {
    by_account: HashMap<String, HashSet<u64>>,
    by_type: HashMap<String, HashSet<u64>>,
    by_source: HashMap<String, HashSet<u64>>,
    all: HashSet<u64>,
}

enum Keys<'a> {
    Account(&'a str),
    Types(&'a [String]),
    Sources(&'a [String]),
    All,
    None,
}

fn keys(filter: &EventFilter) -> Keys<'_> {
    let empty = |list: &Option<Vec<String>>| list.as_ref().is_some_and(Vec::is_empty);
    if empty(&filter.types) || empty(&filter.sources) {
        return Keys::None;
    }
    match (&filter.account_id, &filter.types, &filter.sources) {
        (Some(account), _, _) => Keys::Account(account),
        (None, Some(types), _) => Keys::Types(types),
        (None, None, Some(sources)) => Keys::Sources(sources),
        (None, None, None) => Keys::All,
    }
}

impl Index {
    fn insert(&mut self, id: u64, filter: &EventFilter) {
        let under = |map: &mut HashMap<String, HashSet<u64>>, key: &str| {
            map.entry(key.to_owned()).or_default().insert(id);
        };
        match keys(filter) {
            Keys::Account(account) => under(&mut self.by_account, account),
            Keys::Types(types) => types.iter().for_each(|t| under(&mut self.by_type, t)),
            Keys::Sources(sources) => sources.iter().for_each(|s| under(&mut self.by_source, s)),
            Keys::All => {
                self.all.insert(id);
            }
            Keys::None => {}
        }
    }

    fn remove(&mut self, id: u64, filter: &EventFilter) {
        let out = |map: &mut HashMap<String, HashSet<u64>>, key: &str| {
            if let Some(ids) = map.get_mut(key) {
                ids.remove(&id);
                if ids.is_empty() {
                    map.remove(key);
                }
            }
        };
        match keys(filter) {
            Keys::Account(account) => out(&mut self.by_account, account),
            Keys::Types(types) => types.iter().for_each(|t| out(&mut self.by_type, t)),
            Keys::Sources(sources) => sources.iter().for_each(|s| out(&mut self.by_source, s)),
            Keys::All => {
                self.all.remove(&id);
            }
            Keys::None => {}
        }
    }

    /// Every subscription `event` may match (each once); the caller checks
    /// the whole filter.
    fn candidates(&self, event: &entity::events::Model) -> impl Iterator<Item = &u64> {
        let account = event
            .account_id
            .as_ref()
            .and_then(|account| self.by_account.get(account));
        let by_type = self.by_type.get(&event.event_type);
        let by_source = self.by_source.get(&event.source);
        [account, by_type, by_source]
            .into_iter()
            .flatten()
            .flatten()
            .chain(&self.all)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use entity::events;

    use super::*;

    fn event(id: i64, event_type: &str, account: &str) -> Event {
        Event::from(events::Model {
            id,
            source: "canopy".into(),
            event_type: event_type.into(),
            account_id: Some(account.into()),
            dedup_key: None,
            occurred_at: None,
            received_at: Utc::now(),
            payload: "{}".into(),
            content_type: None,
            deliveries: 1,
            follow_up: None,
            purged_at: None,
        })
    }

    fn subscribe(fanout: &Arc<Fanout>, filter: EventFilter) -> Receiver {
        fanout.subscribe(Arc::new(filter), || ()).0
    }

    fn types(types: &[&str]) -> EventFilter {
        EventFilter {
            types: Some(types.iter().map(|t| (*t).to_owned()).collect()),
            ..EventFilter::default()
        }
    }

    /// The ids in what `receiver` takes now (`None`: not batches).
    fn taken_ids(receiver: &Receiver) -> Option<Vec<i64>> {
        match receiver.take() {
            Taken::Batches(batches) => Some(
                batches
                    .iter()
                    .flat_map(|batch| batch.iter().map(|e| e.row().id))
                    .collect(),
            ),
            _ => None,
        }
    }

    #[test]
    fn a_batch_reaches_only_the_subscriptions_it_matches() {
        let fanout = Fanout::new(8);
        let all = subscribe(&fanout, EventFilter::default());
        let by_type = subscribe(&fanout, types(&["b", "c"]));
        let by_account = EventFilter {
            account_id: Some("acct-2".into()),
            types: Some(vec!["a".into()]),
            ..EventFilter::default()
        };
        let by_account = subscribe(&fanout, by_account);
        let by_source = EventFilter {
            sources: Some(vec!["loanpro".into()]),
            ..EventFilter::default()
        };
        let by_source = subscribe(&fanout, by_source);
        let nothing = subscribe(&fanout, types(&[]));
        let idle = subscribe(&fanout, types(&["never_sent"]));

        fanout.publish(Arc::new([event(1, "a", "acct-1")]), || ());
        fanout.publish(Arc::new([event(2, "b", "acct-1")]), || ());
        fanout.publish(Arc::new([event(3, "a", "acct-2")]), || ());

        // From the first batch that matches on: the subscription skips what
        // it does not match itself.
        assert_eq!(taken_ids(&all), Some(vec![1, 2, 3]));
        assert_eq!(taken_ids(&by_type), Some(vec![2, 3]));
        assert_eq!(taken_ids(&by_account), Some(vec![3]));
        for receiver in [&by_source, &nothing, &idle, &all] {
            assert!(matches!(receiver.take(), Taken::Nothing));
        }
        drop(idle);
        assert_eq!(fanout.subscribers(), 5);
    }

    #[test]
    fn a_subscription_whose_batch_left_the_ring_lags_then_follows_again() {
        let fanout = Fanout::new(2);
        let slow = subscribe(&fanout, types(&["a"]));
        fanout.publish(Arc::new([event(1, "a", "x")]), || ());
        for id in 2..=3 {
            fanout.publish(Arc::new([event(id, "b", "x")]), || ());
        }
        assert!(matches!(slow.take(), Taken::Lagged));
        // After the lag it catches up from the store; batches from now on
        // reach it live again.
        fanout.publish(Arc::new([event(4, "a", "x")]), || ());
        assert_eq!(taken_ids(&slow), Some(vec![4]));
    }

    #[test]
    fn a_closed_fanout_hands_over_what_is_left_then_ends() {
        let fanout = Fanout::new(4);
        let receiver = subscribe(&fanout, EventFilter::default());
        fanout.publish(Arc::new([event(1, "a", "x")]), || ());
        fanout.close();
        assert_eq!(taken_ids(&receiver), Some(vec![1]));
        assert!(matches!(receiver.take(), Taken::Closed));
        let late = subscribe(&fanout, EventFilter::default());
        assert!(matches!(late.take(), Taken::Closed));
    }
}
