//! The summary chart: vertical bars drawn as vector paths, each labelled with its
//! category below and its value above (as text, so the numbers are extractable too).

use krilla::geom::{PathBuilder, Rect};
use krilla::surface::Surface;

use super::text::Face;
use super::{GRID, MUTED, Rgb, TEXT, fill, stroke};

/// One bar.
pub(crate) struct Bar {
    pub(crate) label: &'static str,
    pub(crate) value: u64,
    pub(crate) color: Rgb,
}

/// Draws a titled bar chart in the box (`x`, `y`, `w`, `h`), bars scaled to the largest
/// value (all bars flat when every value is zero).
pub(crate) fn bars(
    surface: &mut Surface<'_>,
    face: &Face,
    (x, y, w, h): (f32, f32, f32, f32),
    title: &str,
    bars: &[Bar],
) {
    surface.set_fill(Some(fill(TEXT)));
    face.draw(surface, title, x, y + 11.0, 11.0);

    let label_size = 7.5;
    let value_size = 8.5;
    let plot_top = y + 22.0 + value_size + 4.0;
    let baseline = y + h - 2.0 * label_size - 6.0;
    let plot_h = (baseline - plot_top).max(1.0);
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1) as f32;
    let slot = w / bars.len().max(1) as f32;
    let bar_w = slot * 0.6;

    for (i, bar) in bars.iter().enumerate() {
        let cx = x + slot * (i as f32 + 0.5);
        let bh = plot_h * bar.value as f32 / max;
        if bh > 0.0
            && let Some(r) = Rect::from_xywh(cx - bar_w / 2.0, baseline - bh, bar_w, bh)
        {
            let mut p = PathBuilder::new();
            p.push_rect(r);
            if let Some(path) = p.finish() {
                surface.set_fill(Some(fill(bar.color)));
                surface.draw_path(&path);
            }
        }
        surface.set_fill(Some(fill(TEXT)));
        let value = bar.value.to_string();
        let vw = face.width(&value, value_size);
        face.draw(
            surface,
            &value,
            cx - vw / 2.0,
            baseline - bh - 3.0,
            value_size,
        );
        surface.set_fill(Some(fill(MUTED)));
        let label = face.fit(bar.label, slot - 2.0, label_size);
        let lw = face.width(&label, label_size);
        face.draw(
            surface,
            &label,
            cx - lw / 2.0,
            baseline + label_size + 3.0,
            label_size,
        );
    }

    let mut axis = PathBuilder::new();
    axis.move_to(x, baseline);
    axis.line_to(x + w, baseline);
    if let Some(path) = axis.finish() {
        surface.set_fill(None);
        surface.set_stroke(Some(stroke(GRID, 0.8)));
        surface.draw_path(&path);
        surface.set_stroke(None);
    }
}
