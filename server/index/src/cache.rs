//! The embedding cache: every vector dowse ever computed for this index,
//! on disk.
//!
//! Content-addressed (the key is the engine's key of what was embedded),
//! append-only, one checksummed record per chunk, one file per model: no
//! text is ever embedded twice across edits or restarts, and a torn or
//! corrupt record costs that one vector. A record holds the chunk's two
//! vectors ([`Embedding`]): its body (`i8`, searched) and its name (4 bits).
//! (The engine stores the further vectors of a chunk read in several
//! windows as records of their own, under keys it derives.)
//! Once written, a record is read back from the file when asked (its
//! checksum checked again) rather than kept in memory: its body is in the
//! vector index already, and its name vector is read only for the few
//! hundred candidates a query scores, each already read from the file for
//! its body.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use crate::quantize::{Embedding, Quantized, Quantized4};

const CACHE_MAGIC: &[u8; 8] = b"DOWSEEMB";
/// 2: a name vector beside the body vector in every record.
const CACHE_VERSION: u32 = 2;

/// Content-addressed vectors of one model, persisted append-only.
///
/// New records are kept in memory until [`EmbeddingCache::flush`] writes
/// them, so that embedding an editor's unsaved text touches no disk; the
/// writer flushes at its commits and when idle. A cache opened read-only
/// (another process writes the index) never writes at all.
pub struct EmbeddingCache {
    path: PathBuf,
    dims: usize,
    model_id: String,
    inner: RwLock<CacheData>,
    /// The file, appended to on flush; `None` when read-only.
    file: Mutex<Option<File>>,
    /// Encoded records not yet written.
    pending: Mutex<Vec<u8>>,
    header_len: u64,
}

#[derive(Default)]
struct CacheData {
    slots: HashMap<u64, u32>,
    scales: Vec<f32>,
    /// Slots below this have their vectors in the file (record `slot`),
    /// read back when asked for: the vector index holds every body vector
    /// already, so a second copy here cost 25 MB for the CPython stdlib,
    /// and the name vectors another 12.
    on_disk: usize,
    /// Body values of the slots from `on_disk` on, not yet in the file.
    values: Vec<i8>,
    /// Name vectors of the slots from `on_disk` on, not yet in the file.
    name_scales: Vec<f32>,
    name_values: Vec<u8>,
    /// Reads written records back from the file: beside the slots it
    /// numbers, as [`EmbeddingCache::retain`] replaces both at once.
    reader: Option<File>,
}

/// A cache file rewritten by [`EmbeddingCache::retain`]: the records it
/// kept (their slot in the old file, their key), and handles on it.
struct Rewritten {
    kept: Vec<(u32, u64)>,
    append: File,
    read: File,
}

/// What [`EmbeddingCache::retain`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Retained {
    pub kept: usize,
    pub dropped: usize,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// What opening a cache found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheLoad {
    pub vectors: usize,
    /// Bytes cut off the end: a torn last write, or records from the first
    /// one whose checksum failed.
    pub dropped_bytes: u64,
    /// The file belonged to another model (or format) and was started anew.
    pub discarded_other_model: bool,
}

impl EmbeddingCache {
    /// Opens the cache at `path` for `model_id`, creating it if needed. A
    /// file written for another model or format is replaced.
    pub fn open(
        path: &Path,
        model_id: &str,
        dims: usize,
    ) -> io::Result<(EmbeddingCache, CacheLoad)> {
        EmbeddingCache::open_with(path, model_id, dims, false)
    }

    /// Loads what the cache at `path` holds without ever writing to it:
    /// for a process that only reads an index another one writes.
    pub fn open_read_only(
        path: &Path,
        model_id: &str,
        dims: usize,
    ) -> io::Result<(EmbeddingCache, CacheLoad)> {
        EmbeddingCache::open_with(path, model_id, dims, true)
    }

    fn open_with(
        path: &Path,
        model_id: &str,
        dims: usize,
        read_only: bool,
    ) -> io::Result<(EmbeddingCache, CacheLoad)> {
        let mut load = CacheLoad::default();
        let mut data = CacheData::default();
        let header = header_bytes(model_id, dims);
        // How much of the file is a good header and whole good records.
        let mut valid_len = 0u64;
        match crate::store::no_follow().read(true).open(path) {
            Ok(file) => {
                let file_len = file.metadata()?.len();
                let mut reader = BufReader::new(file);
                let mut found = vec![0u8; header.len()];
                if reader.read_exact(&mut found).is_ok() && found == header {
                    valid_len = header.len() as u64;
                    let mut record = vec![0u8; record_len(dims)];
                    // A bad record stops the scan: what follows may be
                    // misaligned, so the tail is dropped and re-embedded.
                    while reader.read_exact(&mut record).is_ok() {
                        let Some((key, embedding)) = decode_record(&record, dims) else {
                            break;
                        };
                        insert(&mut data, dims, key, &embedding);
                        data.on_disk += 1;
                        data.values.clear();
                        data.name_scales.clear();
                        data.name_values.clear();
                        valid_len += record.len() as u64;
                    }
                    load.dropped_bytes = file_len - valid_len;
                } else if file_len > 0 {
                    load.discarded_other_model = true;
                }
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        load.vectors = data.slots.len();
        let cache = |file: Option<File>, mut data: CacheData| {
            data.reader = match crate::store::no_follow().read(true).open(path) {
                Ok(reader) => Some(reader),
                Err(err) if err.kind() == io::ErrorKind::NotFound => None,
                Err(err) => return Err(err),
            };
            Ok(EmbeddingCache {
                path: path.to_path_buf(),
                dims,
                model_id: model_id.to_owned(),
                inner: RwLock::new(data),
                file: Mutex::new(file),
                pending: Mutex::new(Vec::new()),
                header_len: header.len() as u64,
            })
        };
        if read_only {
            return Ok((cache(None, data)?, load));
        }
        let file = crate::store::no_follow()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)?;
        if valid_len == 0 {
            file.set_len(0)?;
            let mut writer = BufWriter::new(&file);
            writer.write_all(&header)?;
            writer.flush()?;
            drop(writer);
            file.sync_all()?;
        } else if load.dropped_bytes > 0 {
            file.set_len(valid_len)?;
            file.sync_all()?;
        }
        let file = crate::store::no_follow().append(true).open(path)?;
        Ok((cache(Some(file), data)?, load))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn model_id(&self) -> &str {
        &self.model_id
    }

    pub fn dims(&self) -> usize {
        self.dims
    }

    pub fn len(&self) -> usize {
        self.inner.read().expect("cache lock").slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, key: u64) -> bool {
        self.inner
            .read()
            .expect("cache lock")
            .slots
            .contains_key(&key)
    }

    /// The body vector of `key`.
    pub fn get(&self, key: u64) -> Option<Quantized> {
        self.get_embedding(key).map(|e| e.body)
    }

    /// Both vectors of `key`: from the file for a written slot (a read from
    /// the page cache, about a microsecond), else from memory.
    pub fn get_embedding(&self, key: u64) -> Option<Embedding> {
        let data = self.inner.read().expect("cache lock");
        let slot = *data.slots.get(&key)? as usize;
        if slot >= data.on_disk {
            let i = slot - data.on_disk;
            let half = self.dims.div_ceil(2);
            return Some(Embedding {
                body: Quantized {
                    scale: data.scales[slot],
                    values: data
                        .values
                        .get(i * self.dims..(i + 1) * self.dims)?
                        .to_vec(),
                },
                name: Quantized4 {
                    scale: *data.name_scales.get(i)?,
                    packed: data.name_values.get(i * half..(i + 1) * half)?.to_vec(),
                },
            });
        }
        // The whole record, so that its checksum is checked again: a file
        // damaged since it was opened gives no vector (the chunk is
        // embedded again), never a wrong one.
        use std::os::unix::fs::FileExt;
        let len = record_len(self.dims);
        let mut record = vec![0u8; len];
        let offset = self.header_len + (slot * len) as u64;
        data.reader
            .as_ref()?
            .read_exact_at(&mut record, offset)
            .ok()?;
        let (found, embedding) = decode_record(&record, self.dims)?;
        (found == key).then_some(embedding)
    }

    /// Adds embeddings (already-present keys are skipped). They are written
    /// to the file by the next [`EmbeddingCache::flush`].
    pub fn put(&self, entries: &[(u64, Embedding)]) {
        let writable = self.file.lock().expect("cache file lock").is_some();
        let mut data = self.inner.write().expect("cache lock");
        let mut pending = self.pending.lock().expect("cache pending lock");
        for (key, embedding) in entries {
            if data.slots.contains_key(key)
                || embedding.body.values.len() != self.dims
                || embedding.name.packed.len() != self.dims.div_ceil(2)
            {
                continue;
            }
            insert(&mut data, self.dims, *key, embedding);
            if writable {
                pending.extend_from_slice(&encode_record(*key, embedding));
            }
        }
    }

    /// Records added but not yet written to the file.
    pub fn unflushed_bytes(&self) -> usize {
        self.pending.lock().expect("cache pending lock").len()
    }

    /// Writes the records added since the last flush and fsyncs the file.
    /// A no-op for a read-only cache and when nothing is pending.
    pub fn flush(&self) -> io::Result<()> {
        let mut file = self.file.lock().expect("cache file lock");
        let Some(file) = file.as_mut() else {
            return Ok(());
        };
        let records = std::mem::take(&mut *self.pending.lock().expect("cache pending lock"));
        if records.is_empty() {
            return Ok(());
        }
        if let Err(err) = file.write_all(&records).and_then(|()| file.sync_data()) {
            // Keep them for the next try; a torn tail is cut off on open.
            let mut pending = self.pending.lock().expect("cache pending lock");
            let newer = std::mem::replace(&mut *pending, records);
            pending.extend_from_slice(&newer);
            return Err(err);
        }
        // The written slots are the first in memory (records are queued in
        // slot order): read them from the file from now on.
        let written = records.len() / record_len(self.dims);
        let mut data = self.inner.write().expect("cache lock");
        if data.reader.is_some() {
            data.on_disk += written;
            data.values.drain(..written * self.dims);
            data.name_scales.drain(..written);
            data.name_values.drain(..written * self.dims.div_ceil(2));
        }
        Ok(())
    }

    /// Bytes on disk.
    pub fn disk_bytes(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// Rewrites the file with only the written records whose key `keep`
    /// accepts, and forgets the others: a new file beside it (a leftover
    /// of a crash is replaced), fsync, rename over the old one, so that a
    /// crash leaves one whole file or the other. Records added since the
    /// last flush stay, whatever their key, and are written by the next
    /// one. Queries wait while it runs (they read records by slot, which
    /// it renumbers): well under a second for a workspace's cache. `None`
    /// for a read-only cache, which never writes.
    pub fn retain(&self, keep: impl Fn(u64) -> bool) -> io::Result<Option<Retained>> {
        use std::os::unix::fs::FileExt;
        let mut file = self.file.lock().expect("cache file lock");
        let mut data = self.inner.write().expect("cache lock");
        let (Some(_), Some(reader)) = (file.as_ref(), data.reader.as_ref()) else {
            return Ok(None);
        };
        let bytes_before = reader.metadata()?.len();
        // (slot, key) in slot order: those in the file, then those not yet.
        let mut written: Vec<(u32, u64)> = data.slots.iter().map(|(&k, &s)| (s, k)).collect();
        written.sort_unstable();
        let unwritten =
            written.split_off(written.partition_point(|&(s, _)| (s as usize) < data.on_disk));
        let total = written.len();
        written.retain(|&(_, key)| keep(key));

        let (dir, temporary) = crate::store::beside(&self.path, "retained");
        let len = record_len(self.dims);
        // The kept records, in their order, each checked again on the way: a
        // record damaged since the cache opened is dropped, not copied.
        let copy = || -> io::Result<Rewritten> {
            let mut out = BufWriter::new(crate::store::create_new(&temporary)?);
            out.write_all(&header_bytes(&self.model_id, self.dims))?;
            let mut record = vec![0u8; len];
            let mut kept = Vec::with_capacity(written.len());
            for &(slot, key) in &written {
                let offset = self.header_len + slot as u64 * len as u64;
                if reader.read_exact_at(&mut record, offset).is_ok()
                    && decode_record(&record, self.dims).is_some_and(|(found, _)| found == key)
                {
                    out.write_all(&record)?;
                    kept.push((slot, key));
                }
            }
            let out = out.into_inner().map_err(|err| err.into_error())?;
            out.sync_all()?;
            // Both handles before the rename: they follow the new file.
            let append = crate::store::no_follow().append(true).open(&temporary)?;
            let read = crate::store::no_follow().read(true).open(&temporary)?;
            std::fs::rename(&temporary, &self.path)?;
            Ok(Rewritten { kept, append, read })
        };
        let Rewritten { kept, append, read } = match copy() {
            Ok(done) => done,
            Err(err) => {
                let _ = std::fs::remove_file(&temporary);
                return Err(err);
            }
        };
        let dropped = total - kept.len();
        // Renumbered: the kept records first, then those not yet written, in
        // their order (the pending bytes append them in that order).
        let mut slots = HashMap::with_capacity(kept.len() + unwritten.len());
        let mut scales = Vec::with_capacity(kept.len() + unwritten.len());
        for &(slot, key) in kept.iter().chain(&unwritten) {
            slots.insert(key, scales.len() as u32);
            scales.push(data.scales[slot as usize]);
        }
        data.slots = slots;
        data.scales = scales;
        data.on_disk = kept.len();
        data.reader = Some(read);
        *file = Some(append);
        let bytes_after = self.header_len + (kept.len() * len) as u64;
        crate::store::sync_dir(dir)?;
        Ok(Some(Retained {
            kept: kept.len(),
            dropped,
            bytes_before,
            bytes_after,
        }))
    }
}

fn insert(data: &mut CacheData, dims: usize, key: u64, embedding: &Embedding) {
    debug_assert_eq!(embedding.body.values.len(), dims);
    let slot = data.scales.len() as u32;
    data.slots.insert(key, slot);
    data.scales.push(embedding.body.scale);
    data.values.extend_from_slice(&embedding.body.values);
    data.name_scales.push(embedding.name.scale);
    data.name_values.extend_from_slice(&embedding.name.packed);
}

fn header_bytes(model_id: &str, dims: usize) -> Vec<u8> {
    let mut header = Vec::with_capacity(64);
    header.extend_from_slice(CACHE_MAGIC);
    header.extend_from_slice(&CACHE_VERSION.to_le_bytes());
    header.extend_from_slice(&(dims as u32).to_le_bytes());
    header.extend_from_slice(&(model_id.len() as u32).to_le_bytes());
    header.extend_from_slice(model_id.as_bytes());
    header
}

/// key (8) + body scale (4) + body values (dims) + name scale (4) + name
/// values (dims / 2) + checksum (4).
fn record_len(dims: usize) -> usize {
    8 + 4 + dims + 4 + dims.div_ceil(2) + 4
}

fn encode_record(key: u64, embedding: &Embedding) -> Vec<u8> {
    let dims = embedding.body.values.len();
    let mut record = Vec::with_capacity(record_len(dims));
    record.extend_from_slice(&key.to_le_bytes());
    record.extend_from_slice(&embedding.body.scale.to_le_bytes());
    record.extend(embedding.body.values.iter().map(|&v| v as u8));
    record.extend_from_slice(&embedding.name.scale.to_le_bytes());
    record.extend_from_slice(&embedding.name.packed);
    let checksum = checksum(&record);
    record.extend_from_slice(&checksum.to_le_bytes());
    record
}

/// The key and embedding of a record whose checksum holds.
fn decode_record(record: &[u8], dims: usize) -> Option<(u64, Embedding)> {
    let (bytes, stored) = record.split_at(record.len() - 4);
    if checksum(bytes) != u32::from_le_bytes(stored.try_into().ok()?) {
        return None;
    }
    let key = u64::from_le_bytes(bytes[..8].try_into().ok()?);
    let scale = f32::from_le_bytes(bytes[8..12].try_into().ok()?);
    let values = bytes[12..12 + dims].iter().map(|&b| b as i8).collect();
    let at = 12 + dims;
    let name_scale = f32::from_le_bytes(bytes[at..at + 4].try_into().ok()?);
    let packed = bytes[at + 4..at + 4 + dims.div_ceil(2)].to_vec();
    Some((
        key,
        Embedding {
            body: Quantized { scale, values },
            name: Quantized4 {
                scale: name_scale,
                packed,
            },
        },
    ))
}

fn checksum(bytes: &[u8]) -> u32 {
    let hash = blake3::hash(bytes);
    u32::from_le_bytes(hash.as_bytes()[..4].try_into().expect("4 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantize::quantize;
    use crate::quantize::testing::{clustered, embedding};

    #[test]
    fn cache_persists_and_drops_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("embeddings.bin");
        let vs = clustered(10, 3, 8, 1);
        {
            let (cache, load) = EmbeddingCache::open(&path, "m1", 8).unwrap();
            assert_eq!(load, CacheLoad::default());
            let entries: Vec<(u64, Embedding)> = vs
                .iter()
                .enumerate()
                .map(|(i, v)| (i as u64, embedding(v)))
                .collect();
            cache.put(&entries);
            assert!(
                cache.unflushed_bytes() > 0,
                "nothing is written before a flush"
            );
            cache.flush().unwrap();
            assert_eq!(cache.unflushed_bytes(), 0);
        }
        let (cache, load) = EmbeddingCache::open(&path, "m1", 8).unwrap();
        assert_eq!((load.vectors, load.dropped_bytes), (10, 0));
        assert_eq!(cache.get(3), Some(quantize(&vs[3])));
        assert_eq!(cache.get_embedding(3), Some(embedding(&vs[3])));
        assert!(cache.inner.read().unwrap().name_values.is_empty());
        drop(cache);

        // Tear the last record: it is dropped, the rest survive, and the file
        // is cut back so that appends stay aligned.
        let len = std::fs::metadata(&path).unwrap().len();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(len - 5).unwrap();
        let (cache, load) = EmbeddingCache::open(&path, "m1", 8).unwrap();
        assert_eq!(load.vectors, 9);
        assert!(load.dropped_bytes > 0);
        assert!(!cache.contains(9));
        cache.put(&[(9, embedding(&vs[9]))]);
        cache.flush().unwrap();
        drop(cache);
        let (cache, load) = EmbeddingCache::open(&path, "m1", 8).unwrap();
        assert_eq!((load.vectors, load.dropped_bytes), (10, 0));
        drop(cache);

        // A flipped byte inside a record fails its checksum.
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 3 * record_len(8) + 10;
        bytes[at] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let (_, load) = EmbeddingCache::open(&path, "m1", 8).unwrap();
        assert_eq!(load.vectors, 7);

        // A read-only cache loads what is there and never writes, not even
        // to cut a torn tail.
        let len = std::fs::metadata(&path).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(len - 5)
            .unwrap();
        let (cache, load) = EmbeddingCache::open_read_only(&path, "m1", 8).unwrap();
        assert_eq!(load.vectors, 6);
        cache.put(&[(42, embedding(&vs[0]))]);
        cache.flush().unwrap();
        assert!(cache.contains(42));
        assert_eq!(std::fs::metadata(&path).unwrap().len(), len - 5);

        // Another model's cache is started anew.
        let (cache, load) = EmbeddingCache::open(&path, "m2", 8).unwrap();
        assert!(load.discarded_other_model);
        assert!(cache.is_empty());
    }

    #[test]
    fn written_vectors_are_read_back_from_the_file_and_damage_gives_none() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("embeddings.bin");
        let vs = clustered(30, 3, 8, 5);
        let entry = |i: usize| (i as u64, embedding(&vs[i]));
        let (cache, _) = EmbeddingCache::open(&path, "m1", 8).unwrap();
        cache.put(&(0..10).map(entry).collect::<Vec<_>>());
        cache.flush().unwrap();
        // Ten in the file, five only in memory, one a key put twice.
        cache.put(&(10..15).map(entry).collect::<Vec<_>>());
        cache.put(&[entry(3)]);
        assert_eq!(cache.inner.read().unwrap().on_disk, 10);
        for (i, v) in vs.iter().enumerate().take(15) {
            assert_eq!(cache.get(i as u64), Some(quantize(v)), "slot {i}");
            assert_eq!(cache.get_embedding(i as u64), Some(embedding(v)));
        }
        cache.flush().unwrap();
        assert_eq!(cache.inner.read().unwrap().on_disk, 15);
        {
            // Nothing of a written record stays in memory but its slot.
            let data = cache.inner.read().unwrap();
            assert!(data.values.is_empty());
            assert!(data.name_values.is_empty() && data.name_scales.is_empty());
        }
        assert_eq!(cache.get(12), Some(quantize(&vs[12])));
        assert_eq!(cache.get_embedding(12), Some(embedding(&vs[12])));

        // A record damaged after the cache was opened is not read as a
        // vector: the chunk is embedded again instead.
        let mut bytes = std::fs::read(&path).unwrap();
        let header = header_bytes("m1", 8).len();
        bytes[header + 4 * record_len(8) + 14] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(cache.get(4), None);
        assert_eq!(cache.get(5), Some(quantize(&vs[5])));

        // A read-only cache reads the same file.
        let (reader, load) = EmbeddingCache::open_read_only(&path, "m1", 8).unwrap();
        assert_eq!(load.vectors, 4, "the scan stops at the damaged record");
        assert_eq!(reader.get(2), Some(quantize(&vs[2])));
    }

    #[test]
    fn retain_keeps_the_chosen_records_and_what_is_not_yet_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("embeddings.bin");
        let vs = clustered(20, 3, 8, 7);
        let entry = |i: usize| (i as u64, embedding(&vs[i]));
        let (cache, _) = EmbeddingCache::open(&path, "m1", 8).unwrap();
        cache.put(&(0..12).map(entry).collect::<Vec<_>>());
        cache.flush().unwrap();
        // Two only in memory: kept whatever their key.
        cache.put(&(12..14).map(entry).collect::<Vec<_>>());
        // A process that opened the file before keeps reading it.
        let (earlier, _) = EmbeddingCache::open_read_only(&path, "m1", 8).unwrap();
        let before = cache.disk_bytes();

        let retained = cache.retain(|key| key % 3 == 0).unwrap().unwrap();
        assert_eq!((retained.kept, retained.dropped), (4, 8));
        assert_eq!(retained.bytes_before, before);
        assert_eq!(cache.disk_bytes(), retained.bytes_after);
        assert!(retained.bytes_after < before);
        assert_eq!(cache.len(), 6);
        for (i, v) in vs.iter().enumerate().take(14) {
            let expected = (i % 3 == 0 || i >= 12).then(|| embedding(v));
            assert_eq!(cache.get_embedding(i as u64), expected, "key {i}");
        }
        assert_eq!(earlier.get_embedding(1), Some(embedding(&vs[1])));

        // What comes next is appended after the kept records; all of it is
        // there when the file is opened again, and no temporary file is left.
        cache.put(&[entry(14)]);
        cache.flush().unwrap();
        assert_eq!(cache.get_embedding(13), Some(embedding(&vs[13])));
        drop(cache);
        let (cache, load) = EmbeddingCache::open(&path, "m1", 8).unwrap();
        assert_eq!((load.vectors, load.dropped_bytes), (7, 0));
        for i in [0, 3, 6, 9, 12, 13, 14] {
            assert_eq!(cache.get_embedding(i as u64), Some(embedding(&vs[i])));
        }
        assert!(!cache.contains(1));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["embeddings.bin"]);

        // A read-only cache never rewrites.
        let (reader, _) = EmbeddingCache::open_read_only(&path, "m1", 8).unwrap();
        assert_eq!(reader.retain(|_| false).unwrap(), None);
        assert_eq!(reader.len(), 7);
    }
}
