//! The queue in front of the scanner. At most one scan per core runs at once (each may
//! inflate up to the scan's caps, so memory stays bounded), and at most a bounded number
//! wait for their turn; beyond that a scan is refused at once (503 with `Retry-After`)
//! instead of holding its staged upload and its connection for an unbounded wait. A
//! waiter that goes away (its client hung up) gives its place back.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::{Semaphore, SemaphorePermit};

/// Scans that may wait per running slot.
pub const WAITING_PER_SLOT: usize = 8;

/// The queue is full: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// Running slots and a bounded waiting line.
#[derive(Debug)]
pub struct ScanQueue {
    running: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// A place in the waiting line, given back when dropped (served or abandoned).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ScanQueue {
    /// `slots` scans at once, `max_waiting` more in line.
    pub fn new(slots: usize, max_waiting: usize) -> Self {
        Self { running: Semaphore::new(slots.max(1)), waiting: AtomicUsize::new(0), max_waiting }
    }

    /// One slot per core, [`WAITING_PER_SLOT`] waiting per slot.
    pub fn per_core() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::new(cores, cores * WAITING_PER_SLOT)
    }

    /// A running slot for background work (a rescan): it waits its turn however long the
    /// line is, without taking a place in it, so uploads are never refused for it.
    pub async fn enter_patiently(&self) -> Result<SemaphorePermit<'_>, Full> {
        self.running.acquire().await.map_err(|_| Full)
    }

    /// A running slot, at once or after the scans ahead; [`Full`] when the line is.
    pub async fn enter(&self) -> Result<SemaphorePermit<'_>, Full> {
        if let Ok(permit) = self.running.try_acquire() {
            return Ok(permit);
        }
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(Full);
        }
        let _place = Waiting(&self.waiting);
        self.running.acquire().await.map_err(|_| Full)
    }
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    use super::*;

    fn poll<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_full_line_refuses_at_once_and_places_come_back() {
        let queue = ScanQueue::new(1, 1);
        let running = match poll(pin!(queue.enter())) {
            Poll::Ready(Ok(permit)) => permit,
            other => panic!("the free slot is taken at once: {:?}", other.map(|r| r.is_ok())),
        };
        let mut waiter = Box::pin(queue.enter());
        assert!(poll(waiter.as_mut()).is_pending(), "the second waits in line");
        assert!(
            matches!(poll(pin!(queue.enter())), Poll::Ready(Err(Full))),
            "the third finds the line full"
        );
        // The waiter hangs up: its place comes back.
        drop(waiter);
        let mut next = Box::pin(queue.enter());
        assert!(poll(next.as_mut()).is_pending(), "waits in the freed place");
        drop(running);
        assert!(matches!(poll(next.as_mut()), Poll::Ready(Ok(_))), "served when the slot frees");
    }
}
