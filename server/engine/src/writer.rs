//! The one handle that changes a root's index.
//!
//! [`Engine::open`] returns an [`EngineWriter`]: the only value whose
//! methods change the index (`update`, `set_buffer`, `embed_step`,
//! `prepare_usages`...), all taking `&mut self`. It is not `Clone`, and
//! nothing else can make one, so a process has exactly one per index: the
//! workspace host's writer thread owns it, a one-shot CLI command holds it
//! on its own thread. Everyone else holds an `Arc<Engine>` from
//! [`EngineWriter::reader`], whose methods only read: search, usages,
//! similar, context, health, stats.
//!
//! ```compile_fail
//! // A reader cannot change the index: `update` is the writer's.
//! fn reindex(engine: &dowse_engine::Engine) {
//!     engine.update(&dowse_engine::NoProgress);
//! }
//! ```
//!
//! ```compile_fail
//! // Nor can it make a writer of its own: there is one per index.
//! fn second(writer: &dowse_engine::EngineWriter) -> dowse_engine::EngineWriter {
//!     writer.clone()
//! }
//! ```
//!
//! Reads never write: the model and the cached vectors are loaded by the
//! writer ([`EngineWriter::prepare_semantic`]; until then searches are by
//! keywords, and say so), and find usages' occurrences are built and kept
//! up to date by the writer ([`EngineWriter::prepare_usages`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use dowse_index::lexical::LexicalWriter;

use crate::Engine;
use crate::focus::Focus;
use crate::semantic::SemanticState;

/// The writer of one root's index: see the module documentation.
pub struct EngineWriter {
    engine: Arc<Engine>,
    /// The lexical index's writer, created on the first change.
    pub(crate) lexical_writer: Option<LexicalWriter>,
    /// Files open in an editor, which are embedded first (see
    /// [`crate::focus`]).
    pub(crate) focused: BTreeSet<String>,
    /// Bumped when `focused` or the committed index changes.
    pub(crate) focus_version: u64,
    /// The embedding order for `focus_version`, once computed.
    pub(crate) focus: Option<(u64, Arc<Focus>)>,
}

impl std::ops::Deref for EngineWriter {
    type Target = Engine;

    fn deref(&self) -> &Engine {
        &self.engine
    }
}

impl EngineWriter {
    pub(crate) fn new(engine: Engine) -> EngineWriter {
        EngineWriter {
            engine: Arc::new(engine),
            lexical_writer: None,
            focused: BTreeSet::new(),
            focus_version: 1,
            focus: None,
        }
    }

    /// A read-only view of the index, for any thread.
    pub fn reader(&self) -> Arc<Engine> {
        self.engine.clone()
    }

    pub(crate) fn engine(&self) -> &Arc<Engine> {
        &self.engine
    }

    /// The committed generation of the index.
    pub(crate) fn generation(&self) -> u64 {
        self.files.read().expect("file table lock").generation
    }

    /// Loads semantic search's state on first call: the model (shared by
    /// the process's engines), the embedding cache, and the cached vectors
    /// of the committed chunks. Readers see it from then on.
    pub fn prepare_semantic(&mut self) {
        self.load_semantic();
    }

    /// [`EngineWriter::prepare_semantic`], and the state.
    pub(crate) fn load_semantic(&mut self) -> &SemanticState {
        self.engine.semantic.get_or_init(|| {
            let state = SemanticState::load(
                &self.engine.model,
                &self.engine.dir.embeddings(),
                self.engine.read_only.is_some(),
                (
                    &self.engine.config.semantic.vectors,
                    self.engine.config.semantic.recipe(),
                ),
            );
            if let SemanticState::Ready(ready) = &state
                && let Err(err) = ready.sync(&self.engine.lexical)
            {
                tracing::warn!("loading cached vectors: {err}");
            }
            state
        })
    }
}
