//! Bar charts as SVG geometry computed on the server: the template only draws the
//! rectangles and labels given here, so a chart needs no JavaScript and no image
//! library, and is escaped like any other text.

/// One bar: a label under it, its value, and optionally where clicking it leads.
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: u64,
    pub(crate) href: Option<String>,
    /// Drawn geometry, in the chart's user units.
    pub(crate) x: u32,
    pub(crate) y: u32,
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// Centre of the bar, for the labels.
    pub(crate) mid: u32,
    /// Baseline of the value label above the bar.
    pub(crate) value_y: u32,
}

/// A titled bar chart ready to draw (`templates/chart.html`).
pub(crate) struct BarChart {
    /// Element id, for links and tests.
    pub(crate) id: &'static str,
    pub(crate) title: String,
    /// What the chart shows, for screen readers (`<title>` / `aria-label`).
    pub(crate) description: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
    /// The x-axis line's y.
    pub(crate) baseline: u32,
    /// Baseline of the category labels.
    pub(crate) label_y: u32,
    pub(crate) bars: Vec<Bar>,
}

const WIDTH: u32 = 640;
const HEIGHT: u32 = 240;
const TOP: u32 = 24;
const BOTTOM: u32 = 36;
const SIDE: u32 = 16;
const GAP: u32 = 12;

impl BarChart {
    /// Lays `data` (label, value, link) out as bars scaled to the largest value; an
    /// all-zero chart draws empty bars rather than dividing by zero.
    pub(crate) fn new(
        id: &'static str,
        title: impl Into<String>,
        description: impl Into<String>,
        data: Vec<(String, u64, Option<String>)>,
    ) -> BarChart {
        let n = data.len().max(1) as u32;
        let plot_height = HEIGHT - TOP - BOTTOM;
        let baseline = HEIGHT - BOTTOM;
        let slot = (WIDTH - 2 * SIDE) / n;
        let width = slot.saturating_sub(GAP).max(1);
        let max = data.iter().map(|d| d.1).max().unwrap_or(0);
        let bars = data
            .into_iter()
            .enumerate()
            .map(|(i, (label, value, href))| {
                let height = if max == 0 {
                    0
                } else {
                    // At least one unit for a non-zero value, so it stays visible.
                    ((value as u128 * plot_height as u128 / max as u128) as u32)
                        .max(u32::from(value > 0))
                };
                let x = SIDE + i as u32 * slot + GAP / 2;
                BarChart::bar(label, value, href, x, width, height, baseline)
            })
            .collect();
        BarChart {
            id,
            title: title.into(),
            description: description.into(),
            width: WIDTH,
            height: HEIGHT,
            baseline,
            label_y: baseline + 18,
            bars,
        }
    }

    fn bar(
        label: String,
        value: u64,
        href: Option<String>,
        x: u32,
        width: u32,
        height: u32,
        baseline: u32,
    ) -> Bar {
        Bar {
            label,
            value,
            href,
            x,
            y: baseline - height,
            width,
            height,
            mid: x + width / 2,
            value_y: baseline - height - 6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(values: &[u64]) -> BarChart {
        BarChart::new(
            "c",
            "t",
            "d",
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("b{i}"), *v, None))
                .collect(),
        )
    }

    #[test]
    fn bars_scale_to_the_largest_value_and_stay_inside() {
        let c = chart(&[0, 50, 100, 1]);
        let heights: Vec<u32> = c.bars.iter().map(|b| b.height).collect();
        let full = c.height - TOP - BOTTOM;
        assert_eq!(heights, [0, full / 2, full, 1]);
        for b in &c.bars {
            assert_eq!(b.y + b.height, c.baseline);
            assert!(b.x + b.width <= c.width - SIDE);
            assert!(b.value_y < b.y);
        }
        // Bars do not overlap.
        for pair in c.bars.windows(2) {
            assert!(pair[0].x + pair[0].width < pair[1].x);
        }
    }

    #[test]
    fn empty_and_all_zero_charts_draw_nothing_tall() {
        assert!(chart(&[]).bars.is_empty());
        assert!(chart(&[0, 0]).bars.iter().all(|b| b.height == 0));
        let huge = chart(&[u64::MAX, u64::MAX / 2]);
        assert_eq!(huge.bars[0].height, HEIGHT - TOP - BOTTOM);
    }
}
