//! Opening a source (gzip by magic bytes, BOM, format sniffing) and the
//! [`ChunkReader`] iterator that reads in blocks and frames incrementally.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::GzDecoder;

use super::array::Array;
use super::entries::Entries;
use super::frame::Frame;
use super::ndjson::Ndjson;
use super::objects::Objects;
use super::sniff::{bom_len, sniff, unsupported, Sniff, MAGIC_LEN};
use super::{BufferPool, Chunk, Format, IngestOptions, InputError, Origin, ProblemKind, Source};

/// Bytes asked of the input per read. Every chunk buffer has a block of room past
/// its chunk, so this is part of what each chunk in flight costs (was 1 MiB).
pub(crate) const DEFAULT_BLOCK: usize = 256 << 10;

/// Buffer between the raw input and the gzip decoder.
const GZIP_BUFFER: usize = 256 << 10;

/// Most bytes asked of the gzip decoder per read. When it finds corrupt data it
/// drops what it inflated in that same read (flate2 returns only the error), so this
/// bounds what is lost before the damage; inflating 64 KiB per call costs nothing
/// measurable.
const GZIP_READ: usize = 64 << 10;

/// Reads at most [`GZIP_READ`] bytes at a time from the decoder.
struct Capped<R>(R);

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(GZIP_READ);
        self.0.read(&mut buf[..n])
    }
}

/// Gzip members one after another, as `gzip -d` reads them: zero bytes after a
/// member are padding (tape blocks, preallocated files) and end the stream quietly;
/// anything else there must be a member (else "invalid gzip header").
/// `MultiGzDecoder` took the padding for a member and failed the input.
struct Members<R: BufRead> {
    /// The member being read; `None` once the stream has ended.
    member: Option<GzDecoder<R>>,
}

impl<R: BufRead> Members<R> {
    fn new(input: R) -> Self {
        Members {
            member: Some(GzDecoder::new(input)),
        }
    }
}

/// Consumes the zero bytes at the front of `input`; true when the input ends with them.
fn only_zeros_left(input: &mut impl BufRead) -> io::Result<bool> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(true);
        }
        let zeros = buf.iter().take_while(|&&b| b == 0).count();
        let more = zeros < buf.len();
        input.consume(zeros);
        if more {
            return Ok(false);
        }
    }
}

impl<R: BufRead> Read for Members<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let Some(member) = &mut self.member else {
                return Ok(0);
            };
            let n = member.read(buf)?;
            if n > 0 || buf.is_empty() {
                return Ok(n);
            }
            // The member ended with its trailer: next member, padding or the end.
            let Some(done) = self.member.take() else {
                return Ok(0);
            };
            let mut input = done.into_inner();
            if only_zeros_left(&mut input)? {
                continue;
            }
            // Said at once: a few bytes of text read as a header cut short.
            if input.fill_buf()?.first() != Some(&0x1f) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "invalid gzip header",
                ));
            }
            self.member = Some(GzDecoder::new(input));
        }
    }
}

/// Opens `sources[index]`: sniffs gzip (magic `1f 8b`, multi-member), a UTF-8
/// BOM, then the format from the first non-blank bytes.
pub fn open(
    sources: &[Source],
    index: usize,
    opts: &IngestOptions,
) -> Result<ChunkReader, InputError> {
    open_with_block(sources, index, opts, DEFAULT_BLOCK, None)
}

/// [`open`], taking chunk buffers from `pool` (the consumer hands each chunk's
/// `data` back with [`BufferPool::put`]).
pub fn open_pooled(
    sources: &[Source],
    index: usize,
    opts: &IngestOptions,
    pool: &Arc<BufferPool>,
) -> Result<ChunkReader, InputError> {
    open_with_block(sources, index, opts, DEFAULT_BLOCK, Some(Arc::clone(pool)))
}

pub(crate) fn open_with_block(
    sources: &[Source],
    index: usize,
    opts: &IngestOptions,
    block: usize,
    pool: Option<Arc<BufferPool>>,
) -> Result<ChunkReader, InputError> {
    let source = sources
        .get(index)
        .ok_or(InputError::UnknownSource { index })?;
    let raw: Box<dyn Read + Send> = match &source.origin {
        Origin::File(path) => {
            Box::new(File::open(path).map_err(|e| InputError::from_open(path.clone(), e))?)
        }
        // Not `stdin().lock()`: the lock is not `Send`, and a reader may move to
        // another thread; with 256 KiB reads the per-read lock costs nothing.
        Origin::Stdin => {
            grow_pipe();
            Box::new(io::stdin())
        }
    };
    ChunkReader::new_pooled(&source.display, index, raw, opts, block, pool)
}

/// A pipe's buffer size asked for on stdin.
#[cfg(target_os = "linux")]
const PIPE_BUFFER: usize = 1 << 20;

/// Asks for a bigger pipe buffer on stdin: with the default 64 KiB the writer and the
/// reader wake each other every 64 KiB (`cat 1GB | logtriage report`: 25,000 context
/// switches, 2,700 with 1 MiB). Not a pipe, or over the user's pipe limit: nothing
/// changes.
fn grow_pipe() {
    #[cfg(target_os = "linux")]
    grow(io::stdin());
}

/// [`grow_pipe`] for any descriptor; the size it has afterwards, when it is a pipe.
#[cfg(target_os = "linux")]
fn grow(fd: impl std::os::fd::AsFd) -> Option<usize> {
    let size = rustix::pipe::fcntl_getpipe_size(&fd).ok()?;
    if size >= PIPE_BUFFER {
        return Some(size);
    }
    Some(rustix::pipe::fcntl_setpipe_size(&fd, PIPE_BUFFER).unwrap_or(size))
}

/// Frames any byte stream (handy for tests and embedding); `source` is copied into each chunk.
pub fn open_reader<R: Read + Send + 'static>(
    display: &str,
    source: usize,
    input: R,
    opts: &IngestOptions,
) -> Result<ChunkReader, InputError> {
    ChunkReader::new(display, source, Box::new(input), opts, DEFAULT_BLOCK)
}

/// Counts the raw bytes read from the source.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The framer for the sniffed format.
enum Framer {
    Empty,
    Ndjson(Ndjson),
    Array(Array),
    Objects(Objects),
    Entries(Entries),
}

/// Iterator over the [`Chunk`]s of one source. Never panics; a read error
/// ends the iteration with a problem in the last chunk.
pub struct ChunkReader {
    source: usize,
    input: Box<dyn Read + Send>,
    raw_bytes: Arc<AtomicU64>,
    compressed: bool,
    format: Format,
    framer: Framer,
    frame: Frame,
    seq: u64,
    eof: bool,
    /// A read error, reported once the bytes before it are framed.
    failure: Option<ProblemKind>,
    done: bool,
}

impl ChunkReader {
    pub(crate) fn new(
        display: &str,
        source: usize,
        raw: Box<dyn Read + Send>,
        opts: &IngestOptions,
        block: usize,
    ) -> Result<ChunkReader, InputError> {
        Self::new_pooled(display, source, raw, opts, block, None)
    }

    pub(crate) fn new_pooled(
        display: &str,
        source: usize,
        raw: Box<dyn Read + Send>,
        opts: &IngestOptions,
        block: usize,
        pool: Option<Arc<BufferPool>>,
    ) -> Result<ChunkReader, InputError> {
        let raw_bytes = Arc::new(AtomicU64::new(0));
        let mut raw = Counting {
            inner: raw,
            count: Arc::clone(&raw_bytes),
        };
        let mut magic = Vec::with_capacity(2);
        (&mut raw)
            .take(2)
            .read_to_end(&mut magic)
            .map_err(|source| InputError::Unreadable {
                path: PathBuf::from(display),
                source,
            })?;
        let compressed = magic == [0x1f, 0x8b];
        let raw = Cursor::new(magic).chain(raw);
        let input: Box<dyn Read + Send> = if compressed {
            let buffered = BufReader::with_capacity(GZIP_BUFFER, raw);
            Box::new(Capped(Members::new(buffered)))
        } else {
            Box::new(raw)
        };
        let mut reader = ChunkReader {
            source,
            input,
            raw_bytes,
            compressed,
            format: Format::Empty,
            framer: Framer::Empty,
            frame: Frame::new(opts.chunk_size, opts.max_record, block, pool),
            seq: 0,
            eof: false,
            failure: None,
            done: false,
        };
        reader.sniff(display)?;
        Ok(reader)
    }

    /// Reads until the format is known and positions the frame after any BOM and blank lines.
    fn sniff(&mut self, display: &str) -> Result<(), InputError> {
        let bom = loop {
            if let Some(n) = bom_len(self.frame.data(), self.eof) {
                break n;
            }
            self.fill();
        };
        self.frame.pos = bom;
        // Magic numbers stand at the very start of the stream, before any blank.
        while !self.eof && self.frame.len() < bom + MAGIC_LEN {
            self.fill();
        }
        if let Some((what, fix)) = unsupported(self.frame.data().get(bom..).unwrap_or_default()) {
            return Err(InputError::Unsupported {
                display: display.to_string(),
                what,
                fix,
            });
        }
        loop {
            let rest = self.frame.data().get(self.frame.pos..).unwrap_or_default();
            match sniff(rest, self.eof, self.frame.max_record) {
                Sniff::Yaml => {
                    return Err(InputError::Yaml {
                        display: display.to_string(),
                    })
                }
                Sniff::GcloudError => {
                    return Err(InputError::Unsupported {
                        display: display.to_string(),
                        what: "a gcloud error message (`ERROR: (gcloud. ...`)",
                        fix: "the gcloud command that wrote it failed; read the message, \
                              fix the cause (e.g. `gcloud auth login`, a missing \
                              permission) and run it again",
                    })
                }
                Sniff::More { skip } => {
                    self.frame.pos += skip;
                    self.frame.compact();
                    self.fill();
                }
                Sniff::Format { format, skip } => {
                    self.frame.pos += skip;
                    let pos = self.frame.pos;
                    self.frame.line_at(pos);
                    self.format = format;
                    self.framer = match format {
                        Format::Empty => Framer::Empty,
                        Format::Ndjson => Framer::Ndjson(Ndjson::default()),
                        Format::Array => Framer::Array(Array::new()),
                        Format::Objects => Framer::Objects(Objects::new()),
                        Format::EntriesList => Framer::Entries(Entries::new()),
                    };
                    return Ok(());
                }
            }
        }
    }

    /// Reads one block; at the end of input or on an error sets `eof`.
    fn fill(&mut self) {
        if self.eof {
            return;
        }
        loop {
            match self.input.read(self.frame.spare()) {
                Ok(0) => {
                    self.eof = true;
                    return;
                }
                Ok(n) => {
                    self.frame.grow(n);
                    return;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.failure = Some(self.classify(&e));
                    self.eof = true;
                    return;
                }
            }
        }
    }

    fn classify(&self, e: &io::Error) -> ProblemKind {
        if !self.compressed {
            return ProblemKind::Io(e.to_string());
        }
        if e.kind() == io::ErrorKind::UnexpectedEof {
            ProblemKind::Truncated(format!("truncated gzip stream: {e}"))
        } else {
            ProblemKind::Io(format!("corrupt gzip stream: {e}"))
        }
    }

    /// The sniffed format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// True when the source is gzip-compressed.
    pub fn compressed(&self) -> bool {
        self.compressed
    }

    /// Raw (possibly compressed) bytes read from the source so far.
    pub fn bytes_read(&self) -> u64 {
        self.raw_bytes.load(Ordering::Relaxed)
    }

    /// Bytes held by the framing buffer (for memory-bound tests).
    #[cfg(test)]
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.frame.capacity()
    }

    /// Frames what is buffered; true when the chunk is full, false when more input is needed.
    fn step(&mut self) -> bool {
        let f = &mut self.frame;
        match &mut self.framer {
            Framer::Empty => {
                f.pos = f.len();
                false
            }
            Framer::Ndjson(n) => n.step(f),
            Framer::Array(a) => a.step(f),
            Framer::Objects(o) => o.step(f),
            Framer::Entries(e) => e.step(f),
        }
    }

    /// End of input: report what is left open, or the read error that cut it.
    fn finish(&mut self) {
        let f = &mut self.frame;
        if let Some(kind) = self.failure.take() {
            // A partial record before the error is cut off: drop it quietly,
            // except an array element whose brackets all closed.
            match &mut self.framer {
                Framer::Array(a) => a.salvage(f),
                Framer::Entries(e) => e.salvage(f),
                _ => {}
            }
            let pos = f.pos;
            let line = f.line_at(pos);
            f.open = None;
            f.push_problem(line, None, kind);
            return;
        }
        match &mut self.framer {
            Framer::Empty => {}
            Framer::Ndjson(n) => n.finish(f),
            Framer::Array(a) => a.finish(f),
            Framer::Objects(o) => o.finish(f),
            Framer::Entries(e) => e.finish(f),
        }
    }

    fn emit(&mut self) -> Chunk {
        let chunk = self.frame.split(self.source, self.seq);
        self.seq += 1;
        chunk
    }
}

impl Iterator for ChunkReader {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        if self.done {
            return None;
        }
        loop {
            if self.frame.full() {
                return Some(self.emit());
            }
            if self.step() {
                continue;
            }
            if self.eof {
                self.finish();
                self.done = true;
                return self.frame.has_results().then(|| self.emit());
            }
            self.frame.compact();
            self.fill();
        }
    }
}

impl std::fmt::Debug for ChunkReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkReader")
            .field("source", &self.source)
            .field("format", &self.format)
            .field("compressed", &self.compressed)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_grows_and_a_file_is_left_alone() {
        let (reader, _writer) = rustix::pipe::pipe().unwrap();
        let max: usize = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let size = grow(&reader).unwrap();
        if max >= PIPE_BUFFER {
            assert_eq!(size, PIPE_BUFFER);
        } else {
            assert!(size >= 4096, "{size}");
        }
        let file = tempfile::tempfile().unwrap();
        assert_eq!(grow(&file), None);
    }
}
