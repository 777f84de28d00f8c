//! The html report's three charts as inline SVG, drawn by hand from a few rectangles, lines and
//! texts: no chart library, no script, nothing fetched. Each chart is one `<svg class="chart"
//! data-chart="months|streets|age-bands" role="img">` with a `<title>`; each bar is a
//! `<rect class="bar …">` carrying its exact figure in a `<title>` (a tooltip in a browser).
//! Colours and fonts are attributes, not page styles, so a chart copied out of the page still
//! reads the same.
//!
//! Every printed figure (value labels, ticks, tooltips) is a `Decimal` or an integer printed
//! exactly, as the tables print it. Floats appear only for geometry (where a bar ends on the
//! page), which needs no more precision than a pixel.
//!
//! A chart with nothing to draw (no payment, or only zeros) is a one-line note, 无发放 / no
//! payments, instead of bars: no scale is ever made from a zero.

use super::html::esc;
use super::{AgeBandFigures, MonthFigures, StreetFigures};
use crate::money::{format_yuan, wan};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

/// Font list for every text of the page and its charts: CJK faces first, so that Chinese labels
/// never fall back to a font without them (tofu boxes). Single quotes: it goes into attributes.
pub(super) const FONTS: &str =
    "'Noto Sans CJK SC', 'Noto Sans SC', 'Source Han Sans SC', 'PingFang SC', 'Microsoft YaHei', sans-serif";

/// The lottery fund's colour (市级彩票公益金), in the charts and the page's legend.
pub(super) const LOTTERY: &str = "#d9822b";
/// The district budget's colour (区财政配套).
pub(super) const DISTRICT: &str = "#2f6db5";
/// Bars counting persons.
const PERSONS: &str = "#3f8f5a";
const INK: &str = "#222222";
const MUTED: &str = "#666666";
const GRID: &str = "#dddddd";

/// Width of every chart's drawing in SVG units; the page scales it to its column.
const WIDTH: f64 = 640.0;

/// The unit a value axis and its bars' labels are printed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    /// Yuan, for small amounts (a district's first payments).
    Yuan,
    /// 万元, once the tallest bar reaches 10,000 yuan: the seed report's unit.
    Wan,
    /// Persons.
    Persons,
}

impl Unit {
    /// The unit for amounts up to `max` yuan.
    fn of_amount(max: Decimal) -> Unit {
        if max >= Decimal::from(10_000) {
            Unit::Wan
        } else {
            Unit::Yuan
        }
    }

    /// A bar's figure, exact.
    fn figure(self, v: Decimal) -> String {
        match self {
            Unit::Yuan => format_yuan(v),
            Unit::Wan => wan(v).to_string(),
            Unit::Persons => v.to_string(),
        }
    }

    /// A tick's label: `v` whole yuan or persons.
    fn tick(self, v: i64) -> String {
        match self {
            Unit::Wan => wan(Decimal::from(v)).to_string(),
            Unit::Yuan | Unit::Persons => v.to_string(),
        }
    }

    /// The axis title.
    fn title(self) -> &'static str {
        match self {
            Unit::Yuan => "元 / yuan",
            Unit::Wan => "万元 / 10,000 yuan",
            Unit::Persons => "人 / persons",
        }
    }
}

/// A value axis from 0 to `top` in steps of `step`, both whole yuan or persons: 1, 2 or 5 times
/// a power of ten, about five steps, so that the ticks print short and exact.
#[derive(Debug, PartialEq, Eq)]
struct Axis {
    step: i64,
    top: i64,
}

impl Axis {
    /// The axis for bars up to `max`; at least 1, so that `top` is never zero.
    fn up_to(max: Decimal) -> Axis {
        let max = max.ceil().to_i64().unwrap_or(i64::MAX / 100).max(1);
        let rough = (max + 4) / 5;
        let mut magnitude = 1;
        while magnitude * 10 <= rough {
            magnitude *= 10;
        }
        let step = [1, 2, 5, 10].into_iter().map(|m| m * magnitude).find(|s| *s >= rough).unwrap_or(10 * magnitude);
        Axis { step, top: step * ((max + step - 1) / step) }
    }

    /// How far `v` reaches along an axis `length` units long. Geometry only, so a float; a
    /// negative figure (recoveries over payments) draws nothing: the table prints it exactly.
    fn reach(&self, v: Decimal, length: f64) -> f64 {
        v.max(Decimal::ZERO).to_f64().unwrap_or(0.0) / self.top as f64 * length
    }

    /// The ticks, from 0 to `top`.
    fn ticks(&self) -> impl Iterator<Item = i64> + '_ {
        (0..=self.top / self.step).map(|i| i * self.step)
    }
}

/// What a stacked bar is made of: the lottery share under the district's, negatives drawn as 0.
fn stack_height(lottery: Decimal, district: Decimal) -> Decimal {
    lottery.max(Decimal::ZERO) + district.max(Decimal::ZERO)
}

/// Per service month, the amount paid as a stacked bar: the lottery fund under the district
/// budget, the month's total printed above.
pub(super) fn months(months: &[MonthFigures]) -> String {
    let (zh, en) = ("按月发放金额（按资金来源）", "amount paid per service month, by fund");
    let max = months.iter().map(|m| stack_height(m.total.lottery, m.total.district)).max().unwrap_or_default();
    if max.is_zero() {
        return empty("months", zh, en);
    }
    let (unit, axis) = (Unit::of_amount(max), Axis::up_to(max));
    let (left, top, plot_w, plot_h) = (64.0, 48.0, WIDTH - 64.0 - 12.0, 220.0);
    let base = top + plot_h;
    let mut s = open("months", base + 48.0, zh, en);
    s += &legend(left, 20.0);
    s += &horizontal_grid(&axis, unit, left, top, plot_w, plot_h);
    // One slot per month; `months` is not empty here (its largest bar is above zero).
    let slot = plot_w / months.len() as f64;
    let bar_w = (slot * 0.62).min(44.0);
    let one_year = months.iter().all(|m| m.month.year() == months[0].month.year());
    for (i, m) in months.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let lottery = axis.reach(m.total.lottery, plot_h);
        let district = axis.reach(m.total.district, plot_h);
        let tip = |fund: &str, v: Decimal| format!("{} {fund}：{} 元 / yuan", m.month, format_yuan(v));
        s += &bar(
            x,
            base - lottery,
            bar_w,
            lottery,
            LOTTERY,
            "lottery",
            &tip("彩票公益金 lottery fund", m.total.lottery),
        );
        s += &bar(
            x,
            base - lottery - district,
            bar_w,
            district,
            DISTRICT,
            "district",
            &tip("区财政 district budget", m.total.district),
        );
        let mid = x + bar_w / 2.0;
        s += &text(mid, base - lottery - district - 5.0, "middle", 10.0, INK, &unit.figure(m.total.amount));
        let label = if one_year && months.len() > 1 { format!("{:02}", m.month.month()) } else { m.month.to_string() };
        s += &text(mid, base + 16.0, "middle", 11.0, INK, &label);
    }
    let x_title = if one_year && months.len() > 1 {
        format!("{} 年服务月 / service months of {}", months[0].month.year(), months[0].month.year())
    } else {
        "服务月 / service month".to_string()
    };
    s += &text(left + plot_w / 2.0, base + 38.0, "middle", 11.0, MUTED, &x_title);
    s + "</svg>\n"
}

/// Per street, the amount paid as a horizontal stacked bar, named on its left, its total on its
/// right.
pub(super) fn streets(streets: &[StreetFigures]) -> String {
    let (zh, en) = ("各街道发放金额（按资金来源）", "amount paid per street, by fund");
    let max = streets.iter().map(|st| stack_height(st.total.lottery, st.total.district)).max().unwrap_or_default();
    if max.is_zero() {
        return empty("streets", zh, en);
    }
    let (unit, axis) = (Unit::of_amount(max), Axis::up_to(max));
    let (left, top, row) = (178.0, 44.0, 24.0);
    let (plot_w, plot_h) = (WIDTH - left - 84.0, row * streets.len() as f64);
    let base = top + plot_h;
    let mut s = open("streets", base + 46.0, zh, en);
    s += &legend(left, 20.0);
    for v in axis.ticks() {
        let x = left + axis.reach(Decimal::from(v), plot_w);
        s += &line(x, top, x, base, if v == 0 { MUTED } else { GRID });
        s += &text(x, base + 15.0, "middle", 10.0, MUTED, &unit.tick(v));
    }
    s += &text(left + plot_w / 2.0, base + 34.0, "middle", 11.0, MUTED, unit.title());
    for (i, st) in streets.iter().enumerate() {
        let (y, bar_h) = (top + row * i as f64 + 5.0, row - 10.0);
        let mid = y + bar_h / 2.0;
        let lottery = axis.reach(st.total.lottery, plot_w);
        let district = axis.reach(st.total.district, plot_w);
        let place = if st.name.is_empty() { st.street_code.clone() } else { format!("{} {}", st.name, st.street_code) };
        let tip = |fund: &str, v: Decimal| format!("{place} {fund}：{} 元 / yuan", format_yuan(v));
        s += &bar(left, y, lottery, bar_h, LOTTERY, "lottery", &tip("彩票公益金 lottery fund", st.total.lottery));
        s += &bar(
            left + lottery,
            y,
            district,
            bar_h,
            DISTRICT,
            "district",
            &tip("区财政 district budget", st.total.district),
        );
        s += &street_label(left - 8.0, mid, st);
        s += &text(left + lottery + district + 5.0, mid, "start", 10.0, INK, &unit.figure(st.total.amount));
    }
    s + "</svg>\n"
}

/// A street's name (when the policy lists it) and code, right-aligned before its bar.
fn street_label(x: f64, y: f64, st: &StreetFigures) -> String {
    format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" dy=\"0.35em\" text-anchor=\"end\" font-size=\"12\" fill=\"{INK}\">{} \
         <tspan font-size=\"10\" fill=\"{MUTED}\">{}</tspan></text>\n",
        esc(&st.name),
        esc(&st.street_code)
    )
}

/// Per age band (age reached in the year), the persons paid.
pub(super) fn age_bands(bands: &[AgeBandFigures]) -> String {
    let (zh, en) = ("各年龄段领取人数", "recipients per age band (age reached in the year)");
    let max = bands.iter().map(|b| b.recipients).max().unwrap_or_default();
    if max <= 0 {
        return empty("age-bands", zh, en);
    }
    let (unit, axis) = (Unit::Persons, Axis::up_to(Decimal::from(max)));
    let (left, top, plot_w, plot_h) = (64.0, 24.0, WIDTH - 64.0 - 12.0, 180.0);
    let base = top + plot_h;
    let mut s = open("age-bands", base + 44.0, zh, en);
    s += &horizontal_grid(&axis, unit, left, top, plot_w, plot_h);
    // One slot per band; `bands` is not empty here (its largest count is above zero).
    let slot = plot_w / bands.len() as f64;
    let bar_w = (slot * 0.5).min(64.0);
    for (i, b) in bands.iter().enumerate() {
        let x = left + slot * i as f64 + (slot - bar_w) / 2.0;
        let h = axis.reach(Decimal::from(b.recipients), plot_h);
        let (band_zh, band_en) = b.band.label();
        let tip = format!("{band_zh} / {band_en}：{} 人 / persons", b.recipients);
        s += &bar(x, base - h, bar_w, h, PERSONS, "persons", &tip);
        let mid = x + bar_w / 2.0;
        s += &text(mid, base - h - 5.0, "middle", 11.0, INK, &b.recipients.to_string());
        s += &text(mid, base + 16.0, "middle", 11.0, INK, band_zh);
        s += &text(mid, base + 31.0, "middle", 10.0, MUTED, band_en);
    }
    s + "</svg>\n"
}

/// The chart's opening tag and title; `height` in SVG units.
fn open(kind: &str, height: f64, zh: &str, en: &str) -> String {
    format!(
        "<svg class=\"chart\" data-chart=\"{kind}\" role=\"img\" viewBox=\"0 0 {WIDTH} {height:.0}\" \
         width=\"{WIDTH}\" height=\"{height:.0}\" font-family=\"{FONTS}\">\n<title>{} / {}</title>\n",
        esc(zh),
        esc(en)
    )
}

/// A chart with nothing to draw: its note, 无发放 / no payments.
fn empty(kind: &str, zh: &str, en: &str) -> String {
    open(kind, 48.0, zh, en) + &text(WIDTH / 2.0, 24.0, "middle", 13.0, MUTED, "无发放 / no payments") + "</svg>\n"
}

/// The two funds' swatches, from `x` on the line `y`.
fn legend(x: f64, y: f64) -> String {
    let mut s = String::new();
    for (i, (colour, label)) in
        [(LOTTERY, "彩票公益金 / lottery fund"), (DISTRICT, "区财政配套 / district budget")].into_iter().enumerate()
    {
        let x = x + 200.0 * i as f64;
        s += &format!(
            "<rect class=\"swatch\" x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\n",
            y - 6.0
        );
        s += &text(x + 17.0, y, "start", 11.0, INK, label);
    }
    s
}

/// Lines across a plot of vertical bars at each tick, labelled on the left, with the unit above.
fn horizontal_grid(axis: &Axis, unit: Unit, left: f64, top: f64, width: f64, height: f64) -> String {
    let mut s = String::new();
    for v in axis.ticks() {
        let y = top + height - axis.reach(Decimal::from(v), height);
        s += &line(left, y, left + width, y, if v == 0 { MUTED } else { GRID });
        s += &text(left - 6.0, y, "end", 10.0, MUTED, &unit.tick(v));
    }
    // The unit from the drawing's left edge: right-aligned over the ticks it would be cut off.
    s + &text(4.0, top - 14.0, "start", 10.0, MUTED, unit.title())
}

/// One bar, with its exact figure as a tooltip; nothing when it has no length.
fn bar(x: f64, y: f64, w: f64, h: f64, colour: &str, class: &str, tip: &str) -> String {
    if w <= 0.0 || h <= 0.0 {
        return String::new();
    }
    format!(
        "<rect class=\"bar {class}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{colour}\">\
         <title>{}</title></rect>\n",
        esc(tip)
    )
}

/// A line of text, centred vertically on `y`.
fn text(x: f64, y: f64, anchor: &str, size: f64, colour: &str, content: &str) -> String {
    format!(
        "<text x=\"{x:.1}\" y=\"{y:.1}\" dy=\"0.35em\" text-anchor=\"{anchor}\" font-size=\"{size}\" \
         fill=\"{colour}\">{}</text>\n",
        esc(content)
    )
}

/// A one-pixel line.
fn line(x1: f64, y1: f64, x2: f64, y2: f64, colour: &str) -> String {
    format!(
        "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{colour}\" stroke-width=\"1\"/>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn axes_step_by_one_two_or_five_and_cover_the_tallest_bar() {
        assert_eq!(Axis::up_to(dec!(216000.00)), Axis { step: 50_000, top: 250_000 });
        assert_eq!(Axis::up_to(dec!(636)), Axis { step: 200, top: 800 });
        assert_eq!(Axis::up_to(dec!(200.00)), Axis { step: 50, top: 200 });
        assert_eq!(Axis::up_to(dec!(2)), Axis { step: 1, top: 2 });
        assert_eq!(Axis::up_to(dec!(0.01)), Axis { step: 1, top: 1 });
        assert_eq!(Axis::up_to(dec!(0)), Axis { step: 1, top: 1 }, "never a zero scale");
    }

    #[test]
    fn ticks_and_figures_print_exactly_in_their_unit() {
        assert_eq!(Unit::of_amount(dec!(9999.99)), Unit::Yuan);
        assert_eq!(Unit::of_amount(dec!(10000)), Unit::Wan);
        assert_eq!(Unit::Wan.tick(50_000), "5");
        assert_eq!(Unit::Wan.figure(dec!(181300.55)), "18.130055");
        assert_eq!(Unit::Yuan.figure(dec!(100)), "100.00");
    }

    #[test]
    fn a_negative_figure_reaches_nowhere() {
        let axis = Axis::up_to(dec!(100));
        assert_eq!(axis.reach(dec!(-50), 200.0), 0.0);
        assert_eq!(axis.reach(dec!(50), 200.0), 100.0);
        assert_eq!(bar(0.0, 0.0, 10.0, 0.0, LOTTERY, "lottery", "x"), "");
    }
}
