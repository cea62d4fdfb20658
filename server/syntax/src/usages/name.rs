//! Identifier texts, shared: every occurrence of a name in the process
//! points at one copy of its text.
//!
//! A workspace's occurrences are mostly the same few names over and over
//! (`self`, `value`, `get`...): as a `String` each, the CPython standard
//! library's 2.5 million occurrences held their names 2.5 million times.
//! A [`Name`] is a pointer to an interned copy. The interner forgets a
//! text once no occurrence holds it any more (it is swept when it has grown
//! to twice its size after the last sweep), so names typed and deleted in
//! an editor do not pile up.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex};

/// An identifier's text: one pointer (an `Arc<str>` is two words, and a
/// workspace holds millions of names).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(Arc<Box<str>>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where the shared text is: two names are the same text exactly when
    /// they have the same address, since every name is made by [`intern`]
    /// and the interner keeps one copy of a text while any name holds it.
    /// Comparing or sorting addresses is cheaper than comparing texts.
    pub fn address(&self) -> usize {
        Arc::as_ptr(&self.0) as usize
    }
}

impl std::ops::Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

/// An interned text, looked up by its `str`.
#[derive(PartialEq, Eq, Hash)]
struct Interned(Arc<Box<str>>);

impl Borrow<str> for Interned {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// The process's interned texts.
struct Interner {
    texts: HashSet<Interned>,
    /// The size after the last sweep: the next sweep comes at twice it.
    swept_at: usize,
}

impl Interner {
    /// Forgets the texts only the interner holds: names no occurrence has
    /// any more.
    fn sweep(&mut self) {
        self.texts.retain(|t| Arc::strong_count(&t.0) > 1);
        self.swept_at = self.texts.len();
    }
}

static INTERNER: Mutex<Option<Interner>> = Mutex::new(None);

/// A sweep is not worth its walk below this many texts.
const MIN_SWEEP: usize = 1 << 16;

/// The shared copy of `text`.
pub fn intern(text: &str) -> Name {
    let mut guard = INTERNER.lock().expect("interner lock");
    let interner = guard.get_or_insert_with(|| Interner {
        texts: HashSet::new(),
        swept_at: 0,
    });
    if let Some(found) = interner.texts.get(text) {
        return Name(found.0.clone());
    }
    if interner.texts.len() >= (interner.swept_at * 2).max(MIN_SWEEP) {
        interner.sweep();
    }
    let shared: Arc<Box<str>> = Arc::new(text.into());
    interner.texts.insert(Interned(shared.clone()));
    Name(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_copy_per_text_and_forgotten_when_unused() {
        let a = intern("zq_unusual_name");
        let b = intern("zq_unusual_name");
        assert!(Arc::ptr_eq(&a.0, &b.0));
        assert_eq!(a, "zq_unusual_name");
        assert_eq!(&*a, "zq_unusual_name");
        let held = intern("zq_held_name");
        let weak = Arc::downgrade(&a.0);
        drop((a, b));
        let mut guard = INTERNER.lock().unwrap();
        guard.as_mut().unwrap().sweep();
        drop(guard);
        assert!(weak.upgrade().is_none(), "an unused name is forgotten");
        assert!(
            Arc::ptr_eq(&held.0, &intern("zq_held_name").0),
            "a held one is kept"
        );
    }
}
