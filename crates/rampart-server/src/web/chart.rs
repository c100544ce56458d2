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

/// One line of a [`LineChart`].
pub(crate) struct Series {
    /// `data-series` attribute and CSS class (`non_compliant`, `critical`).
    pub(crate) id: &'static str,
    pub(crate) label: &'static str,
    /// The polyline's `points` attribute.
    pub(crate) points: String,
    pub(crate) dots: Vec<Dot>,
    /// The most recent value (`None` when the window has no data).
    pub(crate) last: Option<u64>,
}

/// One day's value on a [`Series`].
pub(crate) struct Dot {
    pub(crate) x: u32,
    pub(crate) y: u32,
    pub(crate) date: String,
    pub(crate) value: u64,
}

/// A trend over a window of days, as lines drawn on the server
/// (`templates/trend.html`). Days without data are gaps in the dots, not zeros.
pub(crate) struct LineChart {
    pub(crate) id: &'static str,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) baseline: u32,
    pub(crate) top: u32,
    pub(crate) left: u32,
    pub(crate) right: u32,
    /// The value at the top gridline.
    pub(crate) max: u64,
    /// Dates under the first and last day.
    pub(crate) first_label: String,
    pub(crate) last_label: String,
    pub(crate) label_y: u32,
    pub(crate) series: Vec<Series>,
    /// No series has a point: the template says so instead of drawing.
    pub(crate) empty: bool,
}

/// A series to lay out: (id, label, points as (day, value)).
pub(crate) type SeriesData = (&'static str, &'static str, Vec<(i64, u64)>);

/// Left margin of a line chart (room for the scale).
const LEFT: u32 = 48;

impl LineChart {
    /// Lays out `series` (id, label, points as (day, value)) over the `days` days from
    /// `first_day`; `date(day)` labels the ends. Points outside the window are dropped.
    pub(crate) fn new(
        id: &'static str,
        title: impl Into<String>,
        description: impl Into<String>,
        first_day: i64,
        days: u32,
        series: Vec<SeriesData>,
        date: impl Fn(i64) -> String,
    ) -> LineChart {
        let baseline = HEIGHT - BOTTOM;
        let plot_height = HEIGHT - TOP - BOTTOM;
        let right = WIDTH - SIDE;
        let span = days.saturating_sub(1).max(1);
        let last_day = first_day + i64::from(days.max(1)) - 1;
        let in_window = |d: &i64| (first_day..=last_day).contains(d);
        let max = series
            .iter()
            .flat_map(|(_, _, points)| points.iter().filter(|(d, _)| in_window(d)))
            .map(|(_, v)| *v)
            .max()
            .unwrap_or(0)
            .max(1);
        let series: Vec<Series> = series
            .into_iter()
            .map(|(id, label, points)| {
                let dots: Vec<Dot> = points
                    .into_iter()
                    .filter(|(d, _)| in_window(d))
                    .map(|(day, value)| {
                        let offset = (day - first_day) as u64;
                        Dot {
                            x: LEFT + (offset * u64::from(right - LEFT) / u64::from(span)) as u32,
                            y: baseline
                                - (u128::from(value) * u128::from(plot_height) / u128::from(max))
                                    as u32,
                            date: date(day),
                            value,
                        }
                    })
                    .collect();
                Series {
                    id,
                    label,
                    points: dots
                        .iter()
                        .map(|d| format!("{},{}", d.x, d.y))
                        .collect::<Vec<_>>()
                        .join(" "),
                    last: dots.last().map(|d| d.value),
                    dots,
                }
            })
            .collect();
        LineChart {
            id,
            title: title.into(),
            description: description.into(),
            width: WIDTH,
            height: HEIGHT,
            baseline,
            top: TOP,
            left: LEFT,
            right,
            max,
            first_label: date(first_day),
            last_label: date(last_day),
            label_y: baseline + 18,
            empty: series.iter().all(|s| s.dots.is_empty()),
            series,
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
    fn trend_lines_place_days_left_to_right_and_skip_days_outside() {
        let c = LineChart::new(
            "t",
            "t",
            "d",
            100,
            30,
            vec![
                ("a", "A", vec![(99, 7), (100, 0), (114, 5), (129, 10)]),
                ("b", "B", vec![]),
            ],
            |d| format!("day {d}"),
        );
        let a = &c.series[0];
        assert_eq!(a.dots.len(), 3, "day 99 is before the window");
        assert_eq!(a.dots[0].x, LEFT);
        assert_eq!(a.dots[2].x, c.right);
        assert_eq!(a.dots[0].y, c.baseline);
        assert_eq!(a.dots[2].y, c.top, "the largest value reaches the top");
        assert_eq!(a.dots[1].y, c.baseline - (c.baseline - c.top) / 2);
        assert!(a.dots.windows(2).all(|w| w[0].x < w[1].x));
        assert_eq!(a.last, Some(10));
        assert_eq!(c.series[1].last, None);
        assert_eq!(
            (c.first_label.as_str(), c.last_label.as_str()),
            ("day 100", "day 129")
        );
        assert!(!c.empty);
        let none = LineChart::new("e", "e", "e", 0, 90, vec![("a", "A", vec![])], |d| {
            d.to_string()
        });
        assert!(none.empty);
        assert_eq!(none.max, 1, "no division by zero");
    }

    #[test]
    fn empty_and_all_zero_charts_draw_nothing_tall() {
        assert!(chart(&[]).bars.is_empty());
        assert!(chart(&[0, 0]).bars.iter().all(|b| b.height == 0));
        let huge = chart(&[u64::MAX, u64::MAX / 2]);
        assert_eq!(huge.bars[0].height, HEIGHT - TOP - BOTTOM);
    }
}
