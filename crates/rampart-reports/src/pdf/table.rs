//! Tables laid out by hand: fixed column widths, cells wrapped to at most a column's
//! line count and cut with `…` beyond it, rows never split across pages, and the
//! header row repeated on every page.

use std::ops::Range;

use krilla::geom::{PathBuilder, Rect};
use krilla::surface::Surface;

use super::text::Face;
use super::{GRID, HEADER_FILL, STRIPE, TEXT, fill};

/// Table text size (points).
pub(crate) const SIZE: f32 = 7.0;
const LINE: f32 = 8.6;
const PAD_X: f32 = 3.0;
const PAD_Y: f32 = 2.6;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Right,
}

/// A column: its header, width in points, the most lines a cell may wrap to.
pub(crate) struct Column {
    pub(crate) title: &'static str,
    pub(crate) width: f32,
    pub(crate) lines: usize,
    pub(crate) align: Align,
}

impl Column {
    pub(crate) const fn left(title: &'static str, width: f32, lines: usize) -> Column {
        Column {
            title,
            width,
            lines,
            align: Align::Left,
        }
    }

    pub(crate) const fn right(title: &'static str, width: f32) -> Column {
        Column {
            title,
            width,
            lines: 1,
            align: Align::Right,
        }
    }
}

struct Row {
    /// Each cell's lines, already wrapped.
    cells: Vec<Vec<String>>,
    height: f32,
}

/// A laid-out table, ready to be cut into pages.
pub(crate) struct Table<'a> {
    columns: &'a [Column],
    header_height: f32,
    rows: Vec<Row>,
}

impl<'a> Table<'a> {
    /// Wraps every cell of `rows` (one string per column).
    pub(crate) fn new(
        face: &Face,
        columns: &'a [Column],
        rows: impl Iterator<Item = Vec<String>>,
    ) -> Table<'a> {
        let inner = |c: &Column| c.width - 2.0 * PAD_X;
        let header_lines = columns
            .iter()
            .map(|c| face.wrap(c.title, inner(c), SIZE, 2).len())
            .max()
            .unwrap_or(1);
        let rows = rows
            .map(|row| {
                let cells: Vec<Vec<String>> = columns
                    .iter()
                    .zip(row)
                    .map(|(c, text)| face.wrap(&text, inner(c), SIZE, c.lines))
                    .collect();
                let lines = cells.iter().map(Vec::len).max().unwrap_or(1);
                Row {
                    cells,
                    height: height(lines),
                }
            })
            .collect();
        Table {
            columns,
            header_height: height(header_lines),
            rows,
        }
    }

    /// Cuts the rows into pages: the first page has `first` points of height available,
    /// the others `rest` (each including the repeated header). Always at least one page,
    /// so an empty table still shows its header.
    pub(crate) fn paginate(&self, first: f32, rest: f32) -> Vec<Range<usize>> {
        let mut pages = Vec::new();
        let mut start = 0;
        let mut room = first - self.header_height;
        for (i, row) in self.rows.iter().enumerate() {
            if row.height > room && i > start {
                pages.push(start..i);
                start = i;
                room = rest - self.header_height;
            }
            room -= row.height;
        }
        pages.push(start..self.rows.len());
        pages
    }

    /// Draws the header and `rows` with the top-left corner at (`x`, `y`).
    pub(crate) fn draw(
        &self,
        surface: &mut Surface<'_>,
        face: &Face,
        x: f32,
        y: f32,
        rows: Range<usize>,
    ) {
        let width: f32 = self.columns.iter().map(|c| c.width).sum();
        // Backgrounds first: the header band and every other row, in one path each.
        let mut stripes = PathBuilder::new();
        let mut top = y + self.header_height;
        for (n, row) in self.rows[rows.clone()].iter().enumerate() {
            if n % 2 == 1
                && let Some(r) = Rect::from_xywh(x, top, width, row.height)
            {
                stripes.push_rect(r);
            }
            top += row.height;
        }
        let bottom = top;
        if let Some(path) = stripes.finish() {
            surface.set_fill(Some(fill(STRIPE)));
            surface.draw_path(&path);
        }
        if let Some(r) = Rect::from_xywh(x, y, width, self.header_height) {
            let mut header = PathBuilder::new();
            header.push_rect(r);
            if let Some(path) = header.finish() {
                surface.set_fill(Some(fill(HEADER_FILL)));
                surface.draw_path(&path);
            }
        }
        // Grid: the outline and the header's bottom edge.
        let mut grid = PathBuilder::new();
        if let Some(r) = Rect::from_xywh(x, y, width, bottom - y) {
            grid.push_rect(r);
        }
        grid.move_to(x, y + self.header_height);
        grid.line_to(x + width, y + self.header_height);
        if let Some(path) = grid.finish() {
            surface.set_fill(None);
            surface.set_stroke(Some(super::stroke(GRID, 0.5)));
            surface.draw_path(&path);
            surface.set_stroke(None);
        }

        surface.set_fill(Some(fill(TEXT)));
        let mut cx = x;
        for c in self.columns {
            let lines = face.wrap(c.title, c.width - 2.0 * PAD_X, SIZE, 2);
            self.draw_cell(surface, face, c, &lines, cx, y);
            cx += c.width;
        }
        let mut top = y + self.header_height;
        for row in &self.rows[rows] {
            let mut cx = x;
            for (c, lines) in self.columns.iter().zip(&row.cells) {
                self.draw_cell(surface, face, c, lines, cx, top);
                cx += c.width;
            }
            top += row.height;
        }
    }

    fn draw_cell(
        &self,
        surface: &mut Surface<'_>,
        face: &Face,
        column: &Column,
        lines: &[String],
        x: f32,
        top: f32,
    ) {
        for (i, line) in lines.iter().enumerate() {
            // Baseline: the line box's top plus the font's ascent (~0.76 em for DejaVu).
            let baseline = top + PAD_Y + i as f32 * LINE + 0.76 * SIZE + 0.3;
            let lx = match column.align {
                Align::Left => x + PAD_X,
                Align::Right => x + column.width - PAD_X - face.width(line, SIZE),
            };
            face.draw(surface, line, lx, baseline, SIZE);
        }
    }
}

fn height(lines: usize) -> f32 {
    lines.max(1) as f32 * LINE + 2.0 * PAD_Y
}
