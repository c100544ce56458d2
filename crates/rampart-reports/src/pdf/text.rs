//! The one embedded font and the little text layout the tables need: glyphs and widths
//! from the font's own tables, truncation with an ellipsis and greedy word wrapping.
//!
//! No shaping engine: report text is hostnames, versions, ids and short sentences, where
//! one character is one glyph; this keeps ten thousand rows cheap and needs no C or
//! complex-script support. Every glyph carries the byte range of its character, so the
//! PDF's text stays extractable (`pdftotext`) and searchable.

use krilla::geom::Point;
use krilla::surface::Surface;
use krilla::text::{Font, GlyphId, KrillaGlyph};
use skrifa::instance::{LocationRef, Size};
use skrifa::metrics::GlyphMetrics;
use skrifa::{FontRef, MetadataProvider};

use crate::Error;

/// DejaVu Sans Condensed (Bitstream Vera licence, `fonts/LICENSE`): narrow enough for
/// wide tables, with glyphs for most Latin, Greek and Cyrillic text.
const FONT_BYTES: &[u8] = include_bytes!("../../fonts/DejaVuSansCondensed.ttf");

const ELLIPSIS: char = '…';

/// The font for drawing and measuring.
pub(crate) struct Face {
    pub(crate) font: Font,
    font_ref: FontRef<'static>,
    metrics: GlyphMetrics<'static>,
    units_per_em: f32,
    /// (glyph id, advance in em) of ASCII characters, looked up once.
    ascii: [(u32, f32); 128],
}

impl Face {
    pub(crate) fn new() -> Result<Face, Error> {
        let bad = || Error::Pdf("the embedded font cannot be read".to_owned());
        let font = Font::new(FONT_BYTES.into(), 0).ok_or_else(bad)?;
        let font_ref = FontRef::new(FONT_BYTES).map_err(|_| bad())?;
        let metrics = font_ref.glyph_metrics(Size::unscaled(), LocationRef::default());
        let units_per_em = f32::from(
            font_ref
                .metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        );
        let mut face = Face {
            font,
            font_ref,
            metrics,
            units_per_em,
            ascii: [(0, 0.0); 128],
        };
        for c in 0..128u8 {
            face.ascii[usize::from(c)] = face.lookup(char::from(c));
        }
        Ok(face)
    }

    fn lookup(&self, c: char) -> (u32, f32) {
        let c = if c.is_control() { ' ' } else { c };
        let id = self.font_ref.charmap().map(c).unwrap_or_default();
        let advance = self.metrics.advance_width(id).unwrap_or(0.0) / self.units_per_em;
        (id.to_u32(), advance)
    }

    fn glyph(&self, c: char) -> (u32, f32) {
        match self.ascii.get(c as usize) {
            Some(g) => *g,
            None => self.lookup(c),
        }
    }

    /// Width of `s` at `size` points.
    pub(crate) fn width(&self, s: &str, size: f32) -> f32 {
        s.chars().map(|c| self.glyph(c).1).sum::<f32>() * size
    }

    /// Draws `s` with its baseline starting at (`x`, `y`) in the current fill.
    pub(crate) fn draw(&self, surface: &mut Surface<'_>, s: &str, x: f32, y: f32, size: f32) {
        if s.is_empty() {
            return;
        }
        let glyphs: Vec<KrillaGlyph> = s
            .char_indices()
            .map(|(i, c)| {
                let (id, advance) = self.glyph(c);
                KrillaGlyph::new(
                    GlyphId::new(id),
                    advance,
                    0.0,
                    0.0,
                    0.0,
                    i..i + c.len_utf8(),
                    None,
                )
            })
            .collect();
        surface.draw_glyphs(
            Point::from_xy(x, y),
            &glyphs,
            self.font.clone(),
            s,
            size,
            false,
        );
    }

    /// `s` if it fits in `width`, else its longest prefix that fits with `…` appended.
    pub(crate) fn fit(&self, s: &str, width: f32, size: f32) -> String {
        if self.width(s, size) <= width {
            return s.to_owned();
        }
        let room = width - self.glyph(ELLIPSIS).1 * size;
        let mut used = 0.0;
        let mut out = String::new();
        for c in s.chars() {
            used += self.glyph(c).1 * size;
            if used > room {
                break;
            }
            out.push(c);
        }
        let mut out = out.trim_end().to_owned();
        out.push(ELLIPSIS);
        out
    }

    /// `s` broken into lines no wider than `width`: at spaces where possible, after
    /// `.`, `-`, `_`, `/`, `:` or `,` inside a word too long for a line (hostnames,
    /// versions), and anywhere only when a piece alone is too wide. At most `max_lines`
    /// lines; the last one ends in `…` when text was cut.
    pub(crate) fn wrap(&self, s: &str, width: f32, size: f32, max_lines: usize) -> Vec<String> {
        if max_lines <= 1 || self.width(s, size) <= width {
            return vec![self.fit(s, width, size)];
        }
        let space = self.glyph(' ').1 * size;
        let mut lines: Vec<String> = Vec::new();
        let mut line = String::new();
        let mut used = 0.0;
        for word in s.split_whitespace() {
            let mut first = true;
            for piece in word.split_inclusive(['.', '-', '_', '/', ':', ',']) {
                let gap = if first && !line.is_empty() {
                    space
                } else {
                    0.0
                };
                first = false;
                let w = self.width(piece, size);
                if used + gap + w <= width {
                    if gap > 0.0 {
                        line.push(' ');
                    }
                    line.push_str(piece);
                    used += gap + w;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                    used = 0.0;
                }
                // A piece wider than the column: hard breaks.
                for c in piece.chars() {
                    let cw = self.glyph(c).1 * size;
                    if used + cw > width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                        used = 0.0;
                    }
                    line.push(c);
                    used += cw;
                }
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        if lines.len() > max_lines {
            let rest = lines.split_off(max_lines - 1).join(" ");
            let mut last = self.fit(&rest, width, size);
            if !last.ends_with(ELLIPSIS) {
                last.push(ELLIPSIS);
            }
            lines.push(last);
        }
        lines
    }
}
