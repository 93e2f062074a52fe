//! Answers of the hot read statements, kept until the next write transaction ends.
//!
//! The key is the statement itself: its SQL text and bound values (and the type the
//! rows decode to). A hit returns exactly what SQLite answered for the same statement
//! against the same database, so there is one filter semantics, SQLite's, and nothing
//! to drift from it. Every write transaction of this process moves the generation when
//! it ends (committed or not, before its answer is sent); an answer read under an
//! older generation is never served. Read-your-writes therefore holds for every client.
//!
//! Another process writing the same database file does not move this generation: a
//! deployment that shares one file between processes runs with `--read-cache-mib 0`.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::sql::Sql;

/// What a cached answer is: the statement it answers and its decoded rows.
struct Entry {
    type_id: TypeId,
    sql: Sql,
    rows: Arc<dyn Any + Send + Sync>,
    bytes: usize,
}

#[derive(Default)]
struct Entries {
    /// The generation every entry was read under.
    generation: u64,
    by_hash: HashMap<u64, Entry>,
    bytes: usize,
}

pub struct ReadCache {
    generation: AtomicU64,
    /// Bytes of stored documents the cache may hold (0: off).
    budget: AtomicU64,
    entries: RwLock<Entries>,
    /// Statements are hashed whole on every lookup: a fast hash, not a DoS-resistant one
    /// (keys are the server's own SQL, values the caller's; a collision is only a miss).
    hasher: foldhash::fast::RandomState,
}

/// The generation a read began under, to store its answer with.
#[derive(Clone, Copy)]
pub struct Ticket(u64);

impl ReadCache {
    pub fn new(budget_bytes: u64) -> ReadCache {
        ReadCache {
            generation: AtomicU64::new(0),
            budget: AtomicU64::new(budget_bytes),
            entries: RwLock::default(),
            hasher: Default::default(),
        }
    }

    pub fn set_budget(&self, bytes: u64) {
        self.budget.store(bytes, Ordering::SeqCst);
        self.invalidate();
    }

    /// Called when a write transaction ends: every answer cached so far may be stale.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn hash<T: 'static>(&self, sql: &Sql) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        TypeId::of::<T>().hash(&mut hasher);
        sql.text().hash(&mut hasher);
        sql.values().hash(&mut hasher);
        hasher.finish()
    }

    /// The rows cached for `sql`, or the ticket to store them with once read.
    pub fn get<T: Send + Sync + 'static>(&self, sql: &Sql) -> Result<Arc<Vec<T>>, Option<Ticket>> {
        if self.budget.load(Ordering::Relaxed) == 0 {
            return Err(None);
        }
        // Taken before the read: an answer read after a commit but stored under the
        // generation before it is discarded, never served.
        let ticket = Ticket(self.generation.load(Ordering::SeqCst));
        let entries = self.entries.read().expect("not poisoned");
        if entries.generation == ticket.0 {
            if let Some(entry) = entries.by_hash.get(&self.hash::<T>(sql)) {
                if entry.type_id == TypeId::of::<T>() && entry.sql == *sql {
                    if let Ok(rows) = entry.rows.clone().downcast::<Vec<T>>() {
                        return Ok(rows);
                    }
                }
            }
        }
        Err(Some(ticket))
    }

    /// Keeps `rows`, read for `sql` under `ticket`, if no write ended since and they fit.
    pub fn put<T: Send + Sync + 'static>(&self, ticket: Ticket, sql: &Sql, rows: &Arc<Vec<T>>, bytes: usize) {
        let budget = self.budget.load(Ordering::Relaxed) as usize;
        // One answer may take a quarter of the budget.
        if bytes > budget / 4 {
            return;
        }
        let hash = self.hash::<T>(sql);
        let mut entries = self.entries.write().expect("not poisoned");
        if ticket.0 != self.generation.load(Ordering::SeqCst) {
            return;
        }
        if entries.generation != ticket.0 || entries.bytes + bytes > budget {
            // A new generation starts empty; a full cache starts over rather than
            // tracking recency on every hit.
            entries.by_hash.clear();
            entries.bytes = 0;
            entries.generation = ticket.0;
        }
        let entry = Entry { type_id: TypeId::of::<T>(), sql: sql.clone(), rows: rows.clone(), bytes };
        entries.bytes += bytes;
        if let Some(replaced) = entries.by_hash.insert(hash, entry) {
            entries.bytes -= replaced.bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(id: &str) -> Sql {
        let mut sql = Sql::new("select doc from image where image_id = ");
        sql.push_bind(id);
        sql
    }

    fn cached(cache: &ReadCache, sql: &Sql) -> Option<Vec<String>> {
        cache.get::<String>(sql).ok().map(|rows| rows.to_vec())
    }

    fn rows(texts: &[&str]) -> Arc<Vec<String>> {
        Arc::new(texts.iter().map(|t| t.to_string()).collect())
    }

    #[test]
    fn an_answer_is_served_until_a_write_ends() {
        let cache = ReadCache::new(1 << 20);
        let sql = statement("ami-1");
        let Err(Some(ticket)) = cache.get::<String>(&sql) else { panic!("empty cache hit") };
        cache.put(ticket, &sql, &rows(&["one"]), 3);
        assert_eq!(cached(&cache, &sql), Some(vec!["one".to_string()]));
        assert_eq!(cached(&cache, &statement("ami-2")), None, "another value is another statement");
        cache.invalidate();
        assert_eq!(cached(&cache, &sql), None);
    }

    #[test]
    fn an_answer_read_across_a_write_is_not_kept() {
        let cache = ReadCache::new(1 << 20);
        let sql = statement("ami-1");
        let Err(Some(ticket)) = cache.get::<String>(&sql) else { panic!() };
        cache.invalidate(); // a write ended while the statement ran
        cache.put(ticket, &sql, &rows(&["old"]), 3);
        assert_eq!(cached(&cache, &sql), None);
    }

    #[test]
    fn rows_of_another_type_are_another_answer() {
        let cache = ReadCache::new(1 << 20);
        let sql = statement("ami-1");
        let Err(Some(ticket)) = cache.get::<String>(&sql) else { panic!() };
        cache.put(ticket, &sql, &rows(&["one"]), 3);
        assert!(cache.get::<u32>(&sql).is_err());
    }

    #[test]
    fn the_budget_bounds_what_is_kept_and_zero_turns_it_off() {
        let cache = ReadCache::new(400);
        let (a, b) = (statement("ami-a"), statement("ami-b"));
        let Err(Some(ticket)) = cache.get::<String>(&a) else { panic!() };
        cache.put(ticket, &a, &rows(&["x"]), 101); // over a quarter of 400
        assert_eq!(cached(&cache, &a), None);
        for _ in 0..4 {
            cache.put(ticket, &a, &rows(&["a"]), 100);
        }
        cache.put(ticket, &b, &rows(&["b"]), 100);
        assert!(cached(&cache, &a).is_some() && cached(&cache, &b).is_some());
        cache.set_budget(0);
        assert!(matches!(cache.get::<String>(&a), Err(None)));
    }
}
