//! The entry stage: one record's bytes -> a normalised, borrowed view of a LogEntry
//! (<https://cloud.google.com/logging/docs/reference/v2/rest/v2/LogEntry>).
//! Uses no other stage; nothing here allocates a `serde_json::Value` tree.

mod field;
mod json;
mod pool;
mod resource;
mod severity;
mod time;
mod value;

pub use field::{Field, FIELD_NAMES};
pub use resource::Placement;
pub use severity::Severity;
pub use time::Timestamp;
pub(crate) use value::{key_bit, short_eq};
pub use value::{parse_number_text, Object, Value};

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Where the entry's time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    /// `timestamp`.
    Timestamp,
    /// `receiveTimestamp`, because `timestamp` was missing or unreadable.
    Receive,
    /// Neither could be read.
    None,
}

/// `split`: an entry cut into parts for size.
#[derive(Debug, Clone, PartialEq)]
pub struct Split<'a> {
    /// Shared by all parts.
    pub uid: Cow<'a, str>,
    /// 0-based part number.
    pub index: u64,
    /// Number of parts.
    pub total: u64,
}

/// A normalised, borrowed view of one LogEntry.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The record's JSON text.
    pub raw: &'a str,
    /// UTC time, from `timestamp` or else `receiveTimestamp`.
    pub timestamp: Option<Timestamp>,
    /// Which field gave `timestamp`.
    pub time_source: TimeSource,
    /// Severity (DEFAULT when missing).
    pub severity: Severity,
    /// `resource.type`.
    pub resource_type: Option<Cow<'a, str>>,
    /// `resource.labels`.
    pub resource_labels: Object<'a>,
    /// Service, revision, location, project.
    pub place: Placement<'a>,
    /// `logName`.
    pub log_name: Option<Cow<'a, str>>,
    /// `insertId`.
    pub insert_id: Option<Cow<'a, str>>,
    /// `trace`.
    pub trace: Option<Cow<'a, str>>,
    /// `spanId`.
    pub span_id: Option<Cow<'a, str>>,
    /// `labels`.
    pub labels: Object<'a>,
    /// `httpRequest`.
    pub http: Option<Object<'a>>,
    /// `httpRequest.status` as a number (read once: rules and aggregates all ask).
    pub status: Option<f64>,
    /// `textPayload`.
    pub text_payload: Option<Cow<'a, str>>,
    /// `jsonPayload`.
    pub json_payload: Option<Object<'a>>,
    /// `protoPayload`.
    pub proto_payload: Option<Object<'a>>,
    /// `operation`.
    pub operation: Option<Object<'a>>,
    /// `sourceLocation`.
    pub source_location: Option<Object<'a>>,
    /// `split`.
    pub split: Option<Split<'a>>,
    /// The one message (may be empty).
    pub message: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry<'a> {
    #[serde(borrow, default, deserialize_with = "lossy_str")]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lossy_str")]
    receive_timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    severity: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "lossy_str")]
    log_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    resource: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "lossy_str")]
    insert_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lossy_str")]
    trace: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "lossy_str")]
    span_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    labels: Option<&'a RawValue>,
    #[serde(borrow, default)]
    http_request: Option<&'a RawValue>,
    #[serde(borrow, default)]
    text_payload: Option<&'a RawValue>,
    #[serde(borrow, default)]
    json_payload: Option<&'a RawValue>,
    #[serde(borrow, default)]
    proto_payload: Option<&'a RawValue>,
    #[serde(borrow, default)]
    operation: Option<&'a RawValue>,
    #[serde(borrow, default)]
    source_location: Option<&'a RawValue>,
    #[serde(borrow, default)]
    split: Option<&'a RawValue>,
}

/// A string field (or null) as serde_json reads `Cow<str>`, except that a lone
/// surrogate escape becomes U+FFFD: it failed the whole record before.
fn lossy_str<'de, D>(d: D) -> Result<Option<Cow<'de, str>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::{Error, Unexpected};
    let Some(raw) = Option::<&'de RawValue>::deserialize(d)? else {
        return Ok(None);
    };
    let unexpected = match Value::from_raw(raw.get()) {
        Value::Str(s) => return Ok(Some(s)),
        Value::Bool(b) => Unexpected::Bool(b),
        Value::Num(_) | Value::Float(_) => Unexpected::Other("a number"),
        Value::Null => Unexpected::Unit,
        Value::Raw(r) if r.starts_with('[') => Unexpected::Seq,
        Value::Raw(_) => Unexpected::Map,
    };
    Err(D::Error::invalid_type(unexpected, &"a string"))
}

impl<'a> RawEntry<'a> {
    /// The same parts the fast path gives, split by serde_json.
    fn into_parts(self) -> json::Parts<'a> {
        let raw = |v: Option<&'a RawValue>| v.map(RawValue::get);
        let pairs = |v: Option<&'a RawValue>| {
            v.and_then(|v| Object::from_raw(v.get()))
                .map(|o| o.pairs().to_vec())
        };
        let resource = pairs(self.resource);
        let resource_labels = resource.as_ref().and_then(|r| {
            let o = Object::from_pairs(r.clone());
            o.raw("labels")
                .and_then(Object::from_raw)
                .map(|l| l.pairs().to_vec())
        });
        json::Parts {
            timestamp: self.timestamp,
            receive_timestamp: self.receive_timestamp,
            severity: raw(self.severity),
            log_name: self.log_name,
            insert_id: self.insert_id,
            trace: self.trace,
            span_id: self.span_id,
            text_payload: raw(self.text_payload),
            resource,
            resource_labels,
            labels: pairs(self.labels),
            http: pairs(self.http_request),
            json_payload: pairs(self.json_payload),
            proto_payload: pairs(self.proto_payload),
            operation: pairs(self.operation),
            source_location: pairs(self.source_location),
            split: pairs(self.split),
        }
    }
}

/// Why a record is not a LogEntry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    /// What is wrong.
    pub message: String,
    /// Where in the record: 1-based line and column, when the JSON reader says.
    pub at: Option<(u64, u64)>,
}

impl EntryError {
    fn new(message: impl Into<String>) -> EntryError {
        EntryError {
            message: message.into(),
            at: None,
        }
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        match self.at {
            Some((line, column)) => write!(f, " at line {line} column {column}"),
            None => Ok(()),
        }
    }
}

impl std::error::Error for EntryError {}

/// Keys of jsonPayload that hold the message, in order of preference.
const MESSAGE_KEYS: [&str; 8] = [
    "message",
    "msg",
    "textPayload",
    "error",
    "exception",
    "err",
    "log",
    "text",
];

/// Read after [`MESSAGE_KEYS`]: structlog's `event`, Serilog's `@m` (compact JSON) and
/// `RenderedMessage`.
const LATE_MESSAGE_KEYS: [&str; 3] = ["event", "@m", "RenderedMessage"];

/// Keys of jsonPayload holding an error object whose `message` is the message (pino's
/// `err`, Elastic's `error`), tried last.
const ERROR_OBJECT_KEYS: [&str; 2] = ["error", "err"];

/// The key filter bits of [`LATE_MESSAGE_KEYS`] and [`ERROR_OBJECT_KEYS`]: a payload
/// with none of them (most of those without a common key) skips those lookups.
static LATE_KEYS_MASK: std::sync::LazyLock<u64> = std::sync::LazyLock::new(|| {
    LATE_MESSAGE_KEYS
        .iter()
        .chain(ERROR_OBJECT_KEYS.iter())
        .fold(0, |acc, k| acc | key_bit(k))
});

impl<'a> Entry<'a> {
    /// Parses one record. Invalid UTF-8 fails here; see [`lossy_text`].
    pub fn parse(text: &'a str) -> Result<Entry<'a>, EntryError> {
        // One validating pass that also splits the objects the view needs; anything
        // unusual (or wrong) goes the serde_json way, which decides and words errors.
        if let Some(parts) = json::parse(text) {
            return Ok(Entry::from_parts(text, parts));
        }
        Entry::parse_slow(text)
    }

    /// Parses one record onto the end of `out`, as [`Entry::parse`] does. The entry is
    /// built where it goes: returned through a `Result` it was moved (~600 bytes) three
    /// more times on its way into a block.
    pub fn parse_onto(text: &'a str, out: &mut Vec<Entry<'a>>) -> Result<(), EntryError> {
        match json::parse(text) {
            Some(parts) => out.push(Entry::from_parts(text, parts)),
            None => out.push(Entry::parse_slow(text)?),
        }
        Ok(())
    }

    #[cold]
    fn parse_slow(text: &'a str) -> Result<Entry<'a>, EntryError> {
        let t = text.trim_start();
        if !t.starts_with('{') {
            return Err(EntryError::new("not a JSON object"));
        }
        let raw: RawEntry<'a> =
            serde_json::from_str(text).map_err(|e| short_json_error(text, &e))?;
        Ok(Entry::from_parts(text, raw.into_parts()))
    }

    fn from_parts(text: &'a str, r: json::Parts<'a>) -> Entry<'a> {
        let obj = |v: Option<json::Pairs<'a>>| v.map(Object::from_pairs);
        let mut time_source = TimeSource::Timestamp;
        let mut timestamp = r.timestamp.as_deref().and_then(Timestamp::parse);
        if timestamp.is_none() {
            timestamp = r.receive_timestamp.as_deref().and_then(Timestamp::parse);
            time_source = if timestamp.is_some() {
                TimeSource::Receive
            } else {
                TimeSource::None
            };
        }
        let severity = match r.severity.map(Value::from_raw) {
            Some(Value::Str(s)) => Severity::parse(&s).unwrap_or_default(),
            Some(Value::Num(n)) => n.parse().map(Severity::from_number).unwrap_or_default(),
            _ => Severity::Default,
        };
        let resource = obj(r.resource).unwrap_or_default();
        let resource_type = resource.str("type");
        let resource_labels = obj(r.resource_labels).unwrap_or_default();
        let labels = obj(r.labels).unwrap_or_default();
        let place = resource::place(
            resource_type.as_deref().unwrap_or(""),
            &resource_labels,
            &labels,
        );
        let text_payload = match r.text_payload.map(Value::from_raw) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        };
        let json_payload = obj(r.json_payload);
        let proto_payload = obj(r.proto_payload);
        let message = pick_message(
            json_payload.as_ref(),
            text_payload.as_ref(),
            proto_payload.as_ref(),
        );
        let split = obj(r.split).and_then(|s| {
            Some(Split {
                uid: s.str("uid")?,
                index: s.get("index").and_then(|v| v.as_f64()).unwrap_or(0.0) as u64,
                total: s.get("totalSplits").and_then(|v| v.as_f64()).unwrap_or(1.0) as u64,
            })
        });
        let http = obj(r.http);
        let status = http.as_ref().and_then(|h| h.get("status")?.as_f64());
        Entry {
            raw: text,
            timestamp,
            time_source,
            severity,
            resource_type,
            resource_labels,
            place,
            log_name: r.log_name,
            insert_id: r.insert_id,
            trace: r.trace,
            span_id: r.span_id,
            labels,
            http,
            status,
            text_payload,
            json_payload,
            proto_payload,
            operation: obj(r.operation),
            source_location: obj(r.source_location),
            split,
            message,
        }
    }

    /// The log id: the part of `logName` after `/logs/`, URL-decoded.
    pub fn log_id(&self) -> Option<Cow<'_, str>> {
        let name = self.log_name.as_deref()?;
        let id = match name.find("/logs/") {
            Some(i) => &name[i + 6..],
            None => name,
        };
        Some(percent_decode(id))
    }

    /// `httpRequest.status` as a number (numbers and numeric strings).
    pub fn http_status(&self) -> Option<u16> {
        let v = self.status?;
        (0.0..1000.0).contains(&v).then_some(v as u16)
    }

    /// `httpRequest.latency` in seconds.
    pub fn http_latency(&self) -> Option<f64> {
        self.http.as_ref()?.get("latency")?.as_f64()
    }

    /// True for request logs (an `httpRequest` with a status).
    pub fn is_request(&self) -> bool {
        self.http_status().is_some()
    }

    /// Reads any field of the view.
    pub fn get(&self, field: &Field) -> Option<Value<'_>> {
        fn s<'x>(c: &'x Option<Cow<'_, str>>) -> Option<Value<'x>> {
            c.as_deref().map(|s| Value::Str(Cow::Borrowed(s)))
        }
        match field {
            Field::Message => Some(Value::Str(Cow::Borrowed(&self.message))),
            Field::Severity => Some(Value::Str(Cow::Borrowed(self.severity.name()))),
            Field::Timestamp => self
                .timestamp
                .map(|t| Value::Str(Cow::Owned(t.to_rfc3339()))),
            Field::Service => s(&self.place.service),
            Field::Revision => s(&self.place.revision),
            Field::Location => s(&self.place.location),
            Field::Project => s(&self.place.project),
            Field::ResourceType => s(&self.resource_type),
            Field::ResourceLabel(k) => self.resource_labels.get(k),
            Field::LogName => s(&self.log_name),
            Field::LogId => self.log_id().map(Value::Str),
            Field::InsertId => s(&self.insert_id),
            Field::Trace => s(&self.trace),
            Field::SpanId => s(&self.span_id),
            Field::Label(k) => self.labels.get(k),
            Field::Http(k) if k == "latency" => self.http_latency().map(Value::Float),
            Field::Http(k) => self.http.as_ref()?.get(k),
            Field::TextPayload => s(&self.text_payload),
            Field::Json(p) => self.json_payload.as_ref()?.path(p),
            Field::Proto(p) => self.proto_payload.as_ref()?.path(p),
            Field::Operation(k) => self.operation.as_ref()?.get(k),
            Field::SourceLocation(k) => self.source_location.as_ref()?.get(k),
        }
    }

    /// The key that marks repeats: log, insertId and timestamp. `None` when the entry
    /// has no insertId, or an empty one (nothing to compare).
    pub fn dedup_key(&self) -> Option<u64> {
        // `"insertId": ""` (hand-made or relayed logs) made distinct entries of one
        // log and second look like repeats of the first.
        let id = self.insert_id.as_deref().filter(|id| !id.is_empty())?;
        let mut h = KeyHasher(0);
        self.log_name.hash(&mut h);
        id.hash(&mut h);
        self.timestamp.hash(&mut h);
        Some(h.finish())
    }

    /// False for a JSON object with none of a LogEntry's fields (another tool's
    /// output piped in by mistake): read as an entry it would make an empty input
    /// look like healthy logs.
    pub fn looks_like_log_entry(&self) -> bool {
        self.timestamp.is_some()
            || self.log_name.is_some()
            || self.insert_id.is_some()
            || self.resource_type.is_some()
            || !self.resource_labels.is_empty()
            || self.text_payload.is_some()
            || self.json_payload.is_some()
            || self.proto_payload.is_some()
            || self.http.is_some()
    }

    /// True for the second and later parts of a split entry (counted once, by part 0).
    pub fn is_split_continuation(&self) -> bool {
        self.split.as_ref().is_some_and(|s| s.index > 0)
    }

    /// The message, or for an entry without one what it holds instead, so that a list
    /// of errors never shows an empty line: `(no message) jsonPayload keys: a, b`.
    /// Keys only, never values (which may be secrets); at most eight, each cut short.
    pub fn message_or_keys(&self) -> Cow<'_, str> {
        if !self.message.is_empty() {
            return Cow::Borrowed(&self.message);
        }
        let payload = [
            ("jsonPayload", self.json_payload.as_ref()),
            ("protoPayload", self.proto_payload.as_ref()),
        ]
        .into_iter()
        .find_map(|(name, o)| o.filter(|o| !o.is_empty()).map(|o| (name, o)));
        let Some((name, o)) = payload else {
            return Cow::Borrowed("(no message, no payload)");
        };
        const MAX_KEYS: usize = 8;
        let mut out = format!("(no message) {name} keys: ");
        for (i, (k, _)) in o.pairs().iter().take(MAX_KEYS).enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(crate::text::cut_chars(k, 40));
        }
        if o.pairs().len() > MAX_KEYS {
            out.push_str(", ...");
        }
        Cow::Owned(out)
    }
}

/// A fast 64-bit hash for dedup keys (fixed seed, so keys are the same every run):
/// eight bytes per multiply, finished with murmur3's mixer.
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        // The length tells "ab" from "ab\0".
        self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w) ^ ((rest.len() as u64) << 56))
            .wrapping_mul(K);
    }

    fn finish(&self) -> u64 {
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 33;
        x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        x ^ (x >> 33)
    }
}

/// Parses a record that may hold invalid UTF-8: invalid bytes become U+FFFD in `buf`.
pub fn lossy_text<'b>(bytes: &'b [u8], buf: &'b mut String) -> &'b str {
    match simdutf8::basic::from_utf8(bytes) {
        Ok(s) => s,
        Err(_) => {
            *buf = String::from_utf8_lossy(bytes).into_owned();
            buf.as_str()
        }
    }
}

fn pick_message<'a>(
    json: Option<&Object<'a>>,
    text: Option<&Cow<'a, str>>,
    proto: Option<&Object<'a>>,
) -> Cow<'a, str> {
    if let Some(j) = json {
        for k in MESSAGE_KEYS {
            if let Some(Value::Str(s)) = j.get(k) {
                if !s.is_empty() {
                    return s;
                }
            }
        }
        if j.key_filter() & *LATE_KEYS_MASK != 0 {
            for k in LATE_MESSAGE_KEYS {
                if let Some(Value::Str(s)) = j.get(k) {
                    if !s.is_empty() {
                        return s;
                    }
                }
            }
            for k in ERROR_OBJECT_KEYS {
                let inner = j.raw(k).and_then(Object::from_raw);
                if let Some(s) = inner.and_then(|o| o.str("message")) {
                    if !s.is_empty() {
                        return s;
                    }
                }
            }
        }
    }
    if let Some(t) = text {
        return t.clone();
    }
    if let Some(p) = proto {
        let status_msg = p
            .raw("status")
            .and_then(Object::from_raw)
            .and_then(|s| s.str("message"))
            .filter(|s| !s.is_empty());
        if let Some(m) = status_msg.or_else(|| p.str("methodName")) {
            return m;
        }
        // App Engine's request log holds the app's own lines in `line[]`; without them
        // a failed request read as "GET / -> 500" and no rule saw the error (review s27).
        if p.str("@type").as_deref() == Some(APPENGINE_REQUEST_LOG) {
            if let Some(m) = appengine_line(p) {
                return m;
            }
        }
    }
    Cow::Borrowed("")
}

/// `@type` of an App Engine request log (`appengine.googleapis.com/request_log`).
const APPENGINE_REQUEST_LOG: &str = "type.googleapis.com/google.appengine.logging.v1.RequestLog";

/// The most severe non-empty `line[].logMessage` of an App Engine request log (the
/// first of equals), or `None` when it has no lines.
fn appengine_line<'a>(p: &Object<'a>) -> Option<Cow<'a, str>> {
    let lines: Vec<&'a RawValue> = serde_json::from_str(p.raw("line")?).ok()?;
    let mut best: Option<(Severity, Cow<'a, str>)> = None;
    for raw in lines {
        let Some(line) = Object::from_raw(raw.get()) else {
            continue;
        };
        let Some(msg) = line.str("logMessage").filter(|m| !m.is_empty()) else {
            continue;
        };
        let sev = line
            .str("severity")
            .and_then(|s| Severity::parse(&s))
            .unwrap_or_default();
        if best.as_ref().is_none_or(|(b, _)| sev > *b) {
            best = Some((sev, msg));
        }
    }
    best.map(|(_, m)| m)
}

fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// serde_json's message, its position kept apart (the caller makes it the file's),
/// and for a wrong type the field it was found in.
fn short_json_error(text: &str, e: &serde_json::Error) -> EntryError {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Eof => "truncated JSON",
        Category::Syntax => "invalid JSON",
        Category::Data => "not a LogEntry",
        Category::Io => "read error",
    };
    let full = e.to_string();
    let at = (e.line() > 0).then(|| (e.line() as u64, e.column() as u64));
    let bare = match at {
        Some((l, c)) => full
            .strip_suffix(&format!(" at line {l} column {c}"))
            .unwrap_or(&full),
        None => &full,
    };
    // Column 0 is the end of the line before (a value ended by the newline).
    let at = at.map(
        |(l, c)| match usize::try_from(l - 1).ok().filter(|_| c == 0 && l > 1) {
            Some(prev) => {
                let len = text.split('\n').nth(prev - 1).map_or(0, str::len);
                (l - 1, len as u64)
            }
            None => (l, c),
        },
    );
    let mut message = format!("{what}: {bare}");
    let mut at = at;
    if let (Category::Data, Some((l, c))) = (e.classify(), at) {
        if let Some((key, key_at)) = key_before(text, l, c) {
            message.push_str(&format!(" (in `{key}`)"));
            // The key's position: the reader's is after the value, maybe a line on.
            at = Some(key_at);
        }
    }
    EntryError { message, at }
}

/// The object key whose value ends at 1-based `line`, `column` of `text`: the last
/// `"key":` before that point outside the value itself (a map or list skipped
/// whole), with the key's own line and column. For messages only.
fn key_before(text: &str, line: u64, column: u64) -> Option<(String, (u64, u64))> {
    let start = if line <= 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(usize::try_from(line - 2).ok()?)
            .map(|(i, _)| i + 1)?
    };
    let end = start
        .saturating_add(usize::try_from(column).ok()?)
        .min(text.len());
    let head = text.get(..end).or_else(|| text.get(..start))?.as_bytes();
    // Back over the value: brackets closed after the key are the value's.
    let outside = || {
        let mut depth = 0i32;
        let mut at = head.len();
        loop {
            at = at.checked_sub(1)?;
            match head[at] {
                b'}' | b']' => depth += 1,
                b'{' | b'[' => depth -= 1,
                b':' if depth <= 0 && at > 0 && head[at - 1] == b'"' => return Some(at - 1),
                _ => {}
            }
        }
    };
    // The reader may stop past the enclosing object's `}`: then the last key at all.
    let colon = outside().or_else(|| head.windows(2).rposition(|w| w == b"\":"))?;
    let key_start = head[..colon].iter().rposition(|&b| b == b'"')? + 1;
    let key = std::str::from_utf8(&head[key_start..colon]).ok()?;
    if key.is_empty() || key.len() > 64 || key.contains(['\\', '{', '}']) {
        return None;
    }
    let before = &head[..key_start];
    let key_line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
    let key_col = (key_start
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |n| n + 1)) as u64;
    Some((key.to_string(), (key_line, key_col)))
}

#[cfg(test)]
mod tests;
