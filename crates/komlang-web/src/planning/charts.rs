//! Bar charts drawn as SVG on the server (no script; no inline style, for the CSP).

use std::fmt::Write as _;

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// One bar of a chart: what is there, what is needed.
pub struct ChartBar {
    pub label: String,
    pub value: f64,
    /// The target drawn as an outline (e.g. posts required).
    pub target: Option<f64>,
    pub href: Option<String>,
}

/// A horizontal bar chart as SVG (presentation attributes only: the
/// content security policy allows no inline style).
pub fn bar_chart(title: &str, value_label: &str, target_label: &str, bars: &[ChartBar]) -> String {
    let row = 22.0;
    let label_w = 210.0;
    let bar_w = 420.0;
    let num_w = 90.0;
    let width = label_w + bar_w + num_w;
    let height = 30.0 + row * bars.len() as f64 + 24.0;
    let max = bars.iter().map(|b| b.value.max(b.target.unwrap_or(0.0))).fold(0.0, f64::max).max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 {width} {height}\" \
         width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" aria-labelledby=\"chart-title\">\
         <title id=\"chart-title\">{}</title>",
        xml(title)
    );
    // Legend.
    let _ = write!(
        s,
        "<rect x=\"{label_w}\" y=\"4\" width=\"12\" height=\"12\" fill=\"#0b5d8c\"/>\
         <text x=\"{}\" y=\"14\" font-size=\"12\" fill=\"#1b2330\">{}</text>\
         <rect x=\"{}\" y=\"4\" width=\"12\" height=\"12\" fill=\"none\" stroke=\"#a31515\" stroke-width=\"1.5\"/>\
         <text x=\"{}\" y=\"14\" font-size=\"12\" fill=\"#1b2330\">{}</text>",
        label_w + 16.0,
        xml(value_label),
        label_w + 170.0,
        label_w + 186.0,
        xml(target_label)
    );
    for (n, b) in bars.iter().enumerate() {
        let y = 30.0 + row * n as f64;
        let w = (b.value / max * bar_w).max(0.0);
        let label = xml(&b.label);
        let label_el = format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1b2330\">{label}</text>",
            label_w - 6.0,
            y + 14.0
        );
        match &b.href {
            Some(h) => {
                let _ = write!(s, "<a href=\"{}\">{label_el}</a>", xml(h));
            }
            None => s.push_str(&label_el),
        }
        let _ = write!(
            s,
            "<rect x=\"{label_w}\" y=\"{}\" width=\"{w:.1}\" height=\"14\" fill=\"#0b5d8c\"><title>{label}: {}</title></rect>",
            y + 3.0,
            b.value
        );
        if let Some(t) = b.target {
            let tw = (t / max * bar_w).max(1.0);
            let _ = write!(
                s,
                "<rect x=\"{label_w}\" y=\"{}\" width=\"{tw:.1}\" height=\"18\" fill=\"none\" stroke=\"#a31515\" stroke-width=\"1.5\"/>",
                y + 1.0
            );
        }
        let text = match b.target {
            Some(t) => format!("{} / {}", b.value, t),
            None => b.value.to_string(),
        };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#1b2330\">{}</text>",
            label_w + bar_w + 6.0,
            y + 14.0,
            xml(&text)
        );
    }
    s.push_str("</svg>");
    s
}
