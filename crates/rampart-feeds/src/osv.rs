//! OSV 1.x records (the schema every distribution feed Rampart reads is published in),
//! read with our own serde structs so that an ecosystem we do not know, a field added by
//! a later schema version, or `null` where a list was expected does not cost the record.
//!
//! What is kept is what the matcher and a finding's explanation need; see
//! [`Advisory`]. Versions are validated here, with the release's own rules, so the
//! matcher can compare pre-validated strings; a bad version costs only its affected
//! entry, never the record.

use std::collections::HashSet;
use std::fmt;

use rampart_core::advisory::{Advisory, Affected, Event, Range, RangeKind};
use rampart_core::distro::Release;
use rampart_core::severity::Severity;
use rampart_core::version::VersionKind;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::feed::Problem;
use crate::severity::Evidence;

/// Ids and aliases longer than this are not identifiers.
const MAX_ID_LEN: usize = 256;
/// Package names, ecosystems, versions and timestamps longer than this are refused.
const MAX_FIELD_LEN: usize = 1024;
/// Summaries are display text: longer ones are cut, not refused.
const MAX_SUMMARY_LEN: usize = 2048;

/// One record converted, with what was noticed on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedRecord {
    pub advisory: Advisory,
    pub notes: RecordNotes,
}

/// What converting a record left out, so the load can count and report it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecordNotes {
    /// Non-fatal problems: dropped affected entries, ignored vectors or range types.
    pub problems: Vec<Problem>,
    /// Affected entries whose ecosystem is not a distribution release Rampart matches.
    pub affected_outside: u32,
    /// Affected entries dropped for a bad version or field.
    pub affected_dropped: u32,
    /// `GIT` ranges ignored.
    pub git_ranges: u32,
    /// Every affected entry was outside the supported distributions, so the record is of
    /// no use to Rampart (a PyPI record in a mixed zip, say).
    pub outside_distros: bool,
}

/// Parses one OSV record (a JSON object). `location` names it in problems.
pub fn parse_record(bytes: &[u8], location: &str) -> Result<ParsedRecord, Problem> {
    // serde would also accept a struct written as a JSON array; a record is an object.
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first.is_some_and(|b| b != b'{') {
        return Err(Problem::new(
            location,
            "not a valid OSV record: expected a JSON object",
        ));
    }
    let raw: RawRecord = serde_json::from_slice(bytes)
        .map_err(|e| Problem::new(location, format!("not a valid OSV record: {e}")))?;
    convert(raw, location)
}

/// Parses a JSON document holding one record or an array of records. Array elements
/// are located as `location#index`; an element larger than `max_record_bytes` is
/// refused with a problem.
pub fn parse_document(
    bytes: &[u8],
    location: &str,
    max_record_bytes: u64,
) -> Vec<Result<ParsedRecord, Problem>> {
    match split_document(bytes, location) {
        Ok(Document::Single) => vec![parse_record(bytes, location)],
        Ok(Document::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_element(item, location, i, max_record_bytes))
            .collect(),
        Err(problem) => vec![Err(problem)],
    }
}

/// A JSON document: one record, or the elements of an array not yet parsed.
pub(crate) enum Document<'a> {
    Single,
    Array(Vec<&'a RawValue>),
}

/// Tells a single record from an array, splitting the array without converting its
/// elements so they can be parsed in parallel.
pub(crate) fn split_document<'a>(bytes: &'a [u8], location: &str) -> Result<Document<'a>, Problem> {
    let first = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first != Some(b'[') {
        return Ok(Document::Single);
    }
    serde_json::from_slice::<Vec<&RawValue>>(bytes)
        .map(Document::Array)
        .map_err(|e| {
            Problem::new(
                location,
                format!("not a valid JSON array of OSV records: {e}"),
            )
        })
}

/// Parses element `index` of an array document.
pub(crate) fn parse_element(
    item: &RawValue,
    location: &str,
    index: usize,
    max_record_bytes: u64,
) -> Result<ParsedRecord, Problem> {
    let location = format!("{location}#{index}");
    let text = item.get();
    if text.len() as u64 > max_record_bytes {
        return Err(too_large(&location, text.len() as u64, max_record_bytes));
    }
    parse_record(text.as_bytes(), &location)
}

pub(crate) fn too_large(location: &str, size: u64, limit: u64) -> Problem {
    Problem::new(
        location,
        format!("record is {size} bytes, over the per-record limit of {limit} bytes; skipped"),
    )
}

fn convert(raw: RawRecord, location: &str) -> Result<ParsedRecord, Problem> {
    let id = raw.id.trim();
    if id.is_empty() {
        return Err(Problem::new(location, "OSV record has no id"));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Problem::new(
            location,
            format!(
                "OSV record id is {} bytes long; not an identifier",
                id.len()
            ),
        ));
    }
    let id = id.to_owned();
    let mut notes = RecordNotes::default();
    let note = |notes: &mut RecordNotes, reason: String| {
        notes.problems.push(Problem::new(location, reason))
    };

    let mut seen = HashSet::new();
    let mut aliases = Vec::new();
    for alias in raw.aliases.into_iter().chain(raw.upstream) {
        let alias = alias.trim();
        if alias.is_empty() || alias == id {
            continue;
        }
        if alias.len() > MAX_ID_LEN {
            note(
                &mut notes,
                format!("{id}: alias of {} bytes ignored", alias.len()),
            );
            continue;
        }
        if seen.insert(alias.to_owned()) {
            aliases.push(alias.to_owned());
        }
    }

    let mut timestamp = |name: &str, value: Option<String>| {
        let value = value
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())?;
        if value.len() > MAX_FIELD_LEN {
            notes.problems.push(Problem::new(
                location,
                format!("{id}: `{name}` of {} bytes ignored", value.len()),
            ));
            return None;
        }
        Some(value)
    };
    let published = timestamp("published", raw.published);
    let modified = timestamp("modified", raw.modified);
    let withdrawn = timestamp("withdrawn", raw.withdrawn);

    let mut record_evidence = Evidence::default();
    for s in &raw.severity {
        if let Err(e) = add_severity(&mut record_evidence, s) {
            note(&mut notes, format!("{id}: severity ignored: {e}"));
        }
    }
    raw.database_specific.offer_to(&mut record_evidence);

    let mut affected = Vec::with_capacity(raw.affected.len());
    for (index, a) in raw.affected.into_iter().enumerate() {
        match convert_affected(a, &record_evidence, &mut notes, location, &id) {
            Ok(Some(a)) => affected.push(a),
            Ok(None) => {}
            Err(reason) => {
                notes.affected_dropped += 1;
                note(
                    &mut notes,
                    format!("{id}: affected[{index}] dropped: {reason}"),
                );
            }
        }
    }
    notes.outside_distros =
        notes.affected_outside > 0 && affected.is_empty() && notes.affected_dropped == 0;

    let severity = if record_evidence.is_empty() {
        strongest(affected.iter().filter_map(|a| a.severity.as_ref()))
    } else {
        record_evidence.resolve(&Evidence::default())
    };

    let summary = raw
        .summary
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .or_else(|| {
            raw.details
                .as_deref()
                .and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()))
        })
        .map(|s| truncate(s, MAX_SUMMARY_LEN).to_owned());

    let advisory = Advisory {
        id,
        aliases,
        summary,
        published,
        modified,
        withdrawn,
        severity,
        affected,
    };
    Ok(ParsedRecord { advisory, notes })
}

/// `Ok(None)` for an entry outside the supported distributions (counted), `Err` with a
/// reason for an entry that must be dropped.
fn convert_affected(
    a: RawAffected,
    record: &Evidence,
    notes: &mut RecordNotes,
    location: &str,
    id: &str,
) -> Result<Option<Affected>, String> {
    // Counted wherever they appear: a record whose entries are all commit ranges is
    // worth noticing even though Rampart can do nothing with it.
    notes.git_ranges += a.ranges.iter().filter(|r| r.kind == "GIT").count() as u32;
    let Some(package) = a.package else {
        notes.affected_outside += 1;
        return Ok(None);
    };
    let ecosystem = package.ecosystem.trim();
    let Some(release) = Release::from_osv_ecosystem(ecosystem) else {
        notes.affected_outside += 1;
        return Ok(None);
    };
    let name = package.name.trim();
    if name.is_empty() {
        return Err(format!("{ecosystem}: package has no name"));
    }
    if name.len() > MAX_FIELD_LEN || ecosystem.len() > MAX_FIELD_LEN {
        return Err(format!("{ecosystem}: package name of {} bytes", name.len()));
    }
    let what = format!("{ecosystem} {name}");
    let kind = release.distro.version_kind();

    let mut ranges = Vec::with_capacity(a.ranges.len());
    for r in a.ranges {
        let (range_kind, ordering) = match r.kind.as_str() {
            "ECOSYSTEM" => (RangeKind::Ecosystem, kind),
            "SEMVER" => (RangeKind::Semver, VersionKind::Semver),
            "GIT" => continue,
            other => {
                let shown = truncate(other, 64);
                notes.problems.push(Problem::new(
                    location,
                    format!("{id}: {what}: range type {shown:?} ignored"),
                ));
                continue;
            }
        };
        let mut events = Vec::with_capacity(r.events.len());
        for e in r.events {
            let event = e
                .into_event()
                .map_err(|reason| format!("{what}: {reason}"))?;
            check_version(&event, ordering).map_err(|reason| format!("{what}: {reason}"))?;
            events.push(event);
        }
        if !events.is_empty() {
            ranges.push(Range {
                kind: range_kind,
                events,
            });
        }
    }

    let mut versions = Vec::with_capacity(a.versions.len());
    for v in a.versions {
        let v = v.trim();
        validate(kind, v).map_err(|reason| format!("{what}: versions[]: {reason}"))?;
        versions.push(v.to_owned());
    }

    let mut evidence = Evidence::default();
    for s in &a.severity {
        add_severity(&mut evidence, s).map_err(|e| format!("{what}: {e}"))?;
    }
    a.ecosystem_specific.offer_to(&mut evidence);
    a.database_specific.offer_to(&mut evidence);
    let severity = (!evidence.is_empty()).then(|| evidence.resolve(record));

    Ok(Some(Affected {
        ecosystem: ecosystem.to_owned(),
        release: Some(release),
        package: name.to_owned(),
        ranges,
        versions,
        severity,
    }))
}

fn check_version(event: &Event, kind: VersionKind) -> Result<(), String> {
    match event {
        Event::Introduced(v) if v == "0" => Ok(()),
        Event::Limit(v) if v == "*" => Ok(()),
        e => validate(kind, e.version()),
    }
}

fn validate(kind: VersionKind, v: &str) -> Result<(), String> {
    if v.len() > MAX_FIELD_LEN {
        return Err(format!("{kind} version of {} bytes", v.len()));
    }
    kind.validate(v).map_err(|e| e.to_string())
}

/// CVSS types carry a vector; any other type (`Ubuntu`, …) carries a rating word.
fn add_severity(
    evidence: &mut Evidence,
    s: &RawSeverity,
) -> Result<(), crate::severity::CvssError> {
    if s.kind.starts_with("CVSS_") {
        evidence.add_vector(&s.score)
    } else {
        evidence.add_rating(&s.score);
        Ok(())
    }
}

/// The record-level summary when only affected entries carry severity: the worst level,
/// then the highest score.
fn strongest<'a>(severities: impl Iterator<Item = &'a Severity>) -> Severity {
    severities
        .max_by(|a, b| {
            a.level
                .cmp(&b.level)
                .then(a.cvss.unwrap_or(-1.0).total_cmp(&b.cvss.unwrap_or(-1.0)))
        })
        .cloned()
        .unwrap_or_default()
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

// ---------------------------------------------------------------------------------------
// The wire shape. Every list tolerates `null`; unknown fields are ignored by serde.

#[derive(Deserialize)]
struct RawRecord {
    #[serde(default, deserialize_with = "nullable")]
    id: String,
    #[serde(default, deserialize_with = "nullable")]
    aliases: Vec<String>,
    /// Ubuntu lists the CVEs a USN fixes here.
    #[serde(default, deserialize_with = "nullable")]
    upstream: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    affected: Vec<RawAffected>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<RawSeverity>,
    #[serde(default)]
    database_specific: Ratings,
}

#[derive(Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default, deserialize_with = "nullable")]
    ranges: Vec<RawRange>,
    #[serde(default, deserialize_with = "nullable")]
    versions: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<RawSeverity>,
    #[serde(default)]
    ecosystem_specific: Ratings,
    #[serde(default)]
    database_specific: Ratings,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default, deserialize_with = "nullable")]
    ecosystem: String,
    #[serde(default, deserialize_with = "nullable")]
    name: String,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    kind: String,
    #[serde(default, deserialize_with = "nullable")]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(default)]
    introduced: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    last_affected: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

impl RawEvent {
    fn into_event(self) -> Result<Event, String> {
        let mut set = [
            self.introduced.map(Event::Introduced),
            self.fixed.map(Event::Fixed),
            self.last_affected.map(Event::LastAffected),
            self.limit.map(Event::Limit),
        ]
        .into_iter()
        .flatten();
        match (set.next(), set.next()) {
            (Some(e), None) => Ok(trim_event(e)),
            (None, _) => {
                Err("event with none of introduced, fixed, last_affected, limit".to_owned())
            }
            (Some(_), Some(_)) => Err(
                "event with more than one of introduced, fixed, last_affected, limit".to_owned(),
            ),
        }
    }
}

fn trim_event(e: Event) -> Event {
    let t = |v: String| {
        if v.trim().len() == v.len() {
            v
        } else {
            v.trim().to_owned()
        }
    };
    match e {
        Event::Introduced(v) => Event::Introduced(t(v)),
        Event::Fixed(v) => Event::Fixed(t(v)),
        Event::LastAffected(v) => Event::LastAffected(t(v)),
        Event::Limit(v) => Event::Limit(t(v)),
    }
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    kind: String,
    #[serde(default, deserialize_with = "nullable")]
    score: String,
}

fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The distribution rating words found in an `ecosystem_specific` or
/// `database_specific` object, most telling key first. These objects are free-form, so
/// anything that is not a map of strings is ignored rather than costing the record.
#[derive(Default)]
struct Ratings(Vec<(usize, String)>);

/// Debian writes `urgency`, Ubuntu `priority`, Red Hat-derived feeds `severity` or
/// `impact`.
const RATING_KEYS: [&str; 4] = ["urgency", "priority", "severity", "impact"];

impl Ratings {
    fn offer_to(&self, evidence: &mut Evidence) {
        let mut found: Vec<&(usize, String)> = self.0.iter().collect();
        found.sort_by_key(|(rank, _)| *rank);
        for (_, word) in found {
            evidence.add_rating(word);
        }
    }
}

impl<'de> Deserialize<'de> for Ratings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RatingsVisitor)
    }
}

struct RatingsVisitor;

impl<'de> Visitor<'de> for RatingsVisitor {
    type Value = Ratings;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ratings, A::Error> {
        let mut found = Vec::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match RATING_KEYS.iter().position(|k| *k == key) {
                Some(rank) => {
                    if let Some(word) = map.next_value::<AnyText>()?.0 {
                        found.push((rank, word));
                    }
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Ratings(found))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ratings, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Ratings::default())
    }

    fn visit_unit<E: de::Error>(self) -> Result<Ratings, E> {
        Ok(Ratings::default())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Ratings, E> {
        Ok(Ratings::default())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Ratings, E> {
        Ok(Ratings::default())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Ratings, E> {
        Ok(Ratings::default())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Ratings, E> {
        Ok(Ratings::default())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Ratings, E> {
        Ok(Ratings::default())
    }
}

/// A string, or nothing for any other JSON value.
struct AnyText(Option<String>);

impl<'de> Deserialize<'de> for AnyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyTextVisitor)
    }
}

struct AnyTextVisitor;

impl<'de> Visitor<'de> for AnyTextVisitor {
    type Value = AnyText;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<AnyText, E> {
        Ok(AnyText((v.len() <= MAX_FIELD_LEN).then(|| v.to_owned())))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AnyText, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(AnyText(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AnyText, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(AnyText(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<AnyText, E> {
        Ok(AnyText(None))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<AnyText, E> {
        Ok(AnyText(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<AnyText, E> {
        Ok(AnyText(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<AnyText, E> {
        Ok(AnyText(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<AnyText, E> {
        Ok(AnyText(None))
    }
}

#[cfg(test)]
mod tests;
